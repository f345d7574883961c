/* PushService: the foreground service that owns the one XPushClient of the app.
 *
 * XPushClient runs its own loop thread ("xpush-loop"); the listener methods below run on it
 * and return quickly (NotificationManager calls are cheap). Calls from other threads (the main
 * thread here, ConnectivityManager's thread in NetworkKeys) only use stop() and
 * networkChanged(), which set the library's thread-safe flags. */
package org.xpush.sample;

import android.app.Notification;
import android.app.PendingIntent;
import android.app.Service;
import android.content.Intent;
import android.content.pm.ServiceInfo;
import android.os.Build;
import android.os.Handler;
import android.os.IBinder;
import android.os.Looper;
import android.util.Log;

import java.io.File;

import org.xpush.XPushClient;

public final class PushService extends Service implements XPushClient.Listener {
    static final String ACTION_STOP = "org.xpush.sample.STOP";
    private static final String TAG = "xpush";
    private static final int FOREGROUND_ID = 0x7870; /* the service's own notification */

    /* What MainActivity shows. */
    static volatile String status = "stopped";
    /* A client still closing after onDestroy: its state dir stays locked until it ends. */
    private static volatile XPushClient closing;

    private final Handler main = new Handler(Looper.getMainLooper());
    private XPushClient client;
    private NetworkKeys network;
    private Display display;

    @Override
    public void onCreate() {
        super.onCreate();
        display = new Display(this);
        Notification n = new Notification.Builder(this, Display.CHANNEL_SERVICE)
                .setSmallIcon(android.R.drawable.stat_notify_sync)
                .setContentTitle(getString(R.string.app_name))
                .setContentText(getString(R.string.service_text))
                .setContentIntent(PendingIntent.getActivity(this, 0,
                        new Intent(this, MainActivity.class), PendingIntent.FLAG_IMMUTABLE))
                .setOngoing(true)
                .build();
        if (Build.VERSION.SDK_INT >= 34)
            startForeground(FOREGROUND_ID, n, ServiceInfo.FOREGROUND_SERVICE_TYPE_REMOTE_MESSAGING);
        else
            startForeground(FOREGROUND_ID, n);
    }

    @Override
    public int onStartCommand(Intent intent, int flags, int startId) {
        if (intent != null && ACTION_STOP.equals(intent.getAction())) {
            stopSelf();
            return START_NOT_STICKY;
        }
        if (client == null)
            startClient();
        return START_STICKY;
    }

    private void startClient() {
        XPushClient old = closing;
        try {
            if (old != null && !old.awaitTermination(0)) {
                main.postDelayed(this::startClient, 500); /* the old one still holds the state dir */
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        closing = null;
        Account account = Account.load(this);
        network = new NetworkKeys(this);
        XPushClient.Config cfg = new XPushClient.Config()
                .set("jid", account.jid)
                .set("password", account.password)
                .set("host", getString(R.string.xpush_host))
                .set("direct_tls", getResources().getBoolean(R.bool.xpush_direct_tls) ? "true" : "false")
                .set("port", getString(R.string.xpush_port))
                .set("component", getString(R.string.xpush_component))
                .set("app", getString(R.string.xpush_app))
                .set("device", account.device)
                .set("platform", "android")
                .set("state_dir", new File(getFilesDir(), "xpush").getPath())
                .set("network", network.currentKey());
        if (account.createOnServer)
            cfg.set("register_account", "true");
        String ca = Account.caFile(this);
        if (ca != null)
            cfg.set("ca_file", ca);
        try {
            client = new XPushClient(cfg, this);
        } catch (IllegalArgumentException e) {
            status = "bad configuration: " + e.getMessage();
            Log.e(TAG, status);
            stopSelf();
            return;
        }
        final XPushClient c = client;
        network.start(c::networkChanged);
        c.start();
    }

    @Override
    public void onDestroy() {
        if (network != null)
            network.stop();
        if (client != null) {
            client.stop(); /* does not block: the loop thread closes the stream and ends */
            closing = client;
            client = null;
        }
        status = "stopped";
        super.onDestroy();
    }

    @Override
    public IBinder onBind(Intent intent) {
        return null;
    }

    /* ---- XPushClient.Listener: on the loop thread ------------------------------------- */

    @Override
    public void onNotification(XPushClient.Notification n) {
        display.show(n);
    }

    @Override
    public void onRetract(String id, boolean seen) {
        display.retract(id, seen);
    }

    @Override
    public void onStateChanged(XPushClient.State state, XPushClient.State previous, int error,
                               String reason) {
        status = state.name().toLowerCase() + (reason != null ? " (" + reason + ")" : "");
        Log.i(TAG, "state " + status);
        if (state == XPushClient.State.FAILED) /* authentication, TLS, or a refused registration */
            main.post(this::stopSelf);
    }

    @Override
    public void onLog(int level, String message) {
        if (level >= XPushClient.LOG_WARN)
            Log.w(TAG, message);
    }
}
