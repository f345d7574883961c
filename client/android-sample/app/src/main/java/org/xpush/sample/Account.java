/* Account: who this device is. The install id (the xpush "device") is a UUID made on first
 * start and kept in private storage. The XMPP account comes from res/values/xpush.xml, or, when
 * xpush_jid is empty, is created on first start the Androidpn way: a random user on
 * xpush_domain with a random password, registered in-band by libxpush (register_account). */
package org.xpush.sample;

import android.content.Context;
import android.content.SharedPreferences;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.util.UUID;

final class Account {
    final String jid, password, device;
    final boolean createOnServer;

    private Account(String jid, String password, String device, boolean create) {
        this.jid = jid;
        this.password = password;
        this.device = device;
        this.createOnServer = create;
    }

    static Account load(Context ctx) {
        SharedPreferences p = ctx.getSharedPreferences("xpush_account", Context.MODE_PRIVATE);
        String device = p.getString("device", null);
        if (device == null) {
            device = UUID.randomUUID().toString();
            p.edit().putString("device", device).commit();
        }
        String jid = ctx.getString(R.string.xpush_jid);
        if (!jid.isEmpty())
            return new Account(jid, ctx.getString(R.string.xpush_password), device, false);
        String user = p.getString("user", null), pw = p.getString("password", null);
        if (user == null || pw == null) {
            byte[] r = new byte[18];
            new SecureRandom().nextBytes(r);
            StringBuilder b = new StringBuilder();
            for (byte x : r)
                b.append(String.format("%02x", x & 0xff));
            user = UUID.randomUUID().toString().replace("-", "");
            pw = b.toString();
            p.edit().putString("user", user).putString("password", pw).commit();
        }
        return new Account(user + "@" + ctx.getString(R.string.xpush_domain), pw, device, true);
    }

    /* The CA certificate(s) of the XMPP server, PEM, from res/raw/xpush_ca.pem when the app
     * has one (README.md): copied to private storage because libxpush reads a file path.
     * Without it OpenSSL has no trust store on Android and every TLS handshake fails. */
    static String caFile(Context ctx) {
        int res = ctx.getResources().getIdentifier("xpush_ca", "raw", ctx.getPackageName());
        if (res == 0)
            return null;
        File f = new File(ctx.getFilesDir(), "xpush_ca.pem");
        try (InputStream in = ctx.getResources().openRawResource(res);
             OutputStream out = new FileOutputStream(f)) {
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0)
                out.write(buf, 0, n);
        } catch (IOException e) {
            return null;
        }
        return f.getPath();
    }
}
