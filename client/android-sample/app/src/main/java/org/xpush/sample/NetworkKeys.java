/* NetworkKeys: the key of the network the device is on, and a callback when it changes, for
 * XPushClient.networkChanged(key) (the library learns a heartbeat interval per key; xpush.h,
 * xpush_client_set_network). A key names the path out of the device, stable across visits:
 * "wifi:" + a hash of the SSID ("wifi" when the SSID is not readable: API 29+ needs location),
 * "cell:" + MCC-MNC (+ ":roaming"), "ethernet", "vpn", "other".
 *
 * ConnectivityManager's default-network callback runs on its own thread; networkChanged only
 * sets a flag in the library, so it is called straight from there. A change is reported when
 * the default network or its key changes (not on signal-strength updates); a new network with
 * the same key (back on the same Wi-Fi) is reported too: the old socket is gone either way. */
package org.xpush.sample;

import android.content.Context;
import android.net.ConnectivityManager;
import android.net.Network;
import android.net.NetworkCapabilities;
import android.net.wifi.WifiInfo;
import android.net.wifi.WifiManager;
import android.os.Build;
import android.telephony.TelephonyManager;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

final class NetworkKeys {
    interface Sink {
        void networkChanged(String key);
    }

    private final ConnectivityManager cm;
    private final TelephonyManager tm;
    private final WifiManager wm;
    private Network last;
    private String lastKey;
    private ConnectivityManager.NetworkCallback callback;

    NetworkKeys(Context ctx) {
        cm = ctx.getSystemService(ConnectivityManager.class);
        tm = ctx.getSystemService(TelephonyManager.class);
        wm = ctx.getApplicationContext().getSystemService(WifiManager.class);
        last = cm.getActiveNetwork();
        lastKey = keyOf(last == null ? null : cm.getNetworkCapabilities(last));
    }

    /* The key now, for the "network" configuration key. */
    synchronized String currentKey() {
        return lastKey;
    }

    void start(Sink sink) {
        callback = Build.VERSION.SDK_INT >= 31
                ? new Callback(ConnectivityManager.NetworkCallback.FLAG_INCLUDE_LOCATION_INFO, sink)
                : new Callback(sink);
        cm.registerDefaultNetworkCallback(callback);
    }

    void stop() {
        if (callback != null)
            cm.unregisterNetworkCallback(callback);
        callback = null;
    }

    private final class Callback extends ConnectivityManager.NetworkCallback {
        private final Sink sink;

        Callback(Sink sink) {
            this.sink = sink;
        }

        Callback(int flags, Sink sink) {
            super(flags);
            this.sink = sink;
        }

        @Override
        public void onCapabilitiesChanged(Network network, NetworkCapabilities caps) {
            String key = keyOf(caps);
            synchronized (NetworkKeys.this) {
                if (network.equals(last) && key.equals(lastKey))
                    return;
                last = network;
                lastKey = key;
            }
            sink.networkChanged(key);
        }
    }

    private String keyOf(NetworkCapabilities caps) {
        if (caps == null)
            return "other";
        if (caps.hasTransport(NetworkCapabilities.TRANSPORT_VPN))
            return "vpn";
        if (caps.hasTransport(NetworkCapabilities.TRANSPORT_WIFI)) {
            String ssid = ssid(caps);
            return ssid == null ? "wifi" : "wifi:" + shortHash(ssid);
        }
        if (caps.hasTransport(NetworkCapabilities.TRANSPORT_CELLULAR)) {
            String op = tm.getNetworkOperator(); /* MCC+MNC, no permission needed */
            String key = "cell:" + (op == null || op.isEmpty() ? "unknown" : op);
            return caps.hasCapability(NetworkCapabilities.NET_CAPABILITY_NOT_ROAMING)
                    ? key : key + ":roaming";
        }
        if (caps.hasTransport(NetworkCapabilities.TRANSPORT_ETHERNET))
            return "ethernet";
        return "other";
    }

    @SuppressWarnings("deprecation")
    private String ssid(NetworkCapabilities caps) {
        WifiInfo info = null;
        if (Build.VERSION.SDK_INT >= 31) {
            if (caps.getTransportInfo() instanceof WifiInfo)
                info = (WifiInfo) caps.getTransportInfo();
        } else {
            info = wm.getConnectionInfo();
        }
        String s = info == null ? null : info.getSSID();
        if (s == null || s.isEmpty() || s.equals(WifiManager.UNKNOWN_SSID))
            return null;
        return s;
    }

    /* The SSID stays on the device, but there is no need to keep it in clear. */
    private static String shortHash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < 8; i++)
                b.append(String.format("%02x", d[i] & 0xff));
            return b.toString();
        } catch (NoSuchAlgorithmException e) {
            return Integer.toHexString(s.hashCode());
        }
    }
}
