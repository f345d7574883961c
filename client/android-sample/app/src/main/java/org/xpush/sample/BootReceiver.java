/* BootReceiver: start the push service after a reboot, so notifications flow without the
 * user opening the app (the ledger keeps everything queued meanwhile). */
package org.xpush.sample;

import android.content.BroadcastReceiver;
import android.content.Context;
import android.content.Intent;

public final class BootReceiver extends BroadcastReceiver {
    @Override
    public void onReceive(Context ctx, Intent intent) {
        if (Intent.ACTION_BOOT_COMPLETED.equals(intent.getAction()))
            ctx.startForegroundService(new Intent(ctx, PushService.class));
    }
}
