/* Display: xpush notifications in the Android notification shade.
 *
 * One Android notification per tag: the collapse key when there is one (a newer notification
 * with the same key replaces the displayed one, as xpush.h asks), else "n:" + the id. The
 * numeric id is the same for all, so the tag alone names a notification. A retract cancels the
 * notification it names, unless a newer one has replaced it under the same collapse key since.
 * Showing the same notification again (XPushClient.Notification.maybeShown after a crash)
 * replaces it: display is idempotent. Called on XPushClient's loop thread. */
package org.xpush.sample;

import android.app.Notification;
import android.app.NotificationChannel;
import android.app.NotificationManager;
import android.app.PendingIntent;
import android.content.Context;
import android.content.Intent;
import android.content.SharedPreferences;
import android.net.Uri;

import java.time.Instant;
import java.time.format.DateTimeParseException;

import org.xpush.XPushClient;

final class Display {
    static final String CHANNEL_NORMAL = "push", CHANNEL_HIGH = "push_high",
            CHANNEL_SERVICE = "service";
    private static final int ID = 1;

    private final Context ctx;
    private final NotificationManager nm;
    /* collapse tags only: "tag:<tag>" -> id on screen, "id:<id>" -> tag */
    private final SharedPreferences shown;

    Display(Context ctx) {
        this.ctx = ctx.getApplicationContext();
        nm = ctx.getSystemService(NotificationManager.class);
        shown = ctx.getSharedPreferences("xpush_shown", Context.MODE_PRIVATE);
        nm.createNotificationChannel(new NotificationChannel(CHANNEL_NORMAL,
                ctx.getString(R.string.channel_push), NotificationManager.IMPORTANCE_DEFAULT));
        nm.createNotificationChannel(new NotificationChannel(CHANNEL_HIGH,
                ctx.getString(R.string.channel_push_high), NotificationManager.IMPORTANCE_HIGH));
        nm.createNotificationChannel(new NotificationChannel(CHANNEL_SERVICE,
                ctx.getString(R.string.channel_service), NotificationManager.IMPORTANCE_MIN));
    }

    void show(XPushClient.Notification n) {
        long ttlMs = 0;
        if (n.expires != null) {
            try {
                ttlMs = Instant.parse(n.expires).toEpochMilli() - System.currentTimeMillis();
                if (ttlMs <= 0)
                    return; /* arrived after its expiry: acked, not shown */
            } catch (DateTimeParseException e) {
                ttlMs = 0;
            }
        }
        String tag = n.collapse != null ? "c:" + n.collapse : "n:" + n.id;
        Notification.Builder b = new Notification.Builder(ctx,
                "high".equals(n.priority) ? CHANNEL_HIGH : CHANNEL_NORMAL)
                .setSmallIcon(android.R.drawable.stat_notify_chat)
                .setContentTitle(n.title != null ? n.title : ctx.getString(R.string.app_name))
                .setAutoCancel(true)
                .setContentIntent(tap(n, tag));
        if (n.body != null)
            b.setContentText(n.body).setStyle(new Notification.BigTextStyle().bigText(n.body));
        if (ttlMs > 0)
            b.setTimeoutAfter(ttlMs);
        nm.notify(tag, ID, b.build());
        if (n.collapse != null) {
            String replaced = shown.getString("tag:" + tag, null);
            SharedPreferences.Editor e = shown.edit();
            if (replaced != null)
                e.remove("id:" + replaced);
            e.putString("tag:" + tag, n.id).putString("id:" + n.id, tag).commit();
        }
    }

    void retract(String id, boolean seen) {
        String tag = shown.getString("id:" + id, null);
        if (tag == null) {
            if (seen)
                nm.cancel("n:" + id, ID);
            return;
        }
        SharedPreferences.Editor e = shown.edit().remove("id:" + id);
        if (id.equals(shown.getString("tag:" + tag, null))) {
            nm.cancel(tag, ID);
            e.remove("tag:" + tag);
        }
        e.commit();
    }

    /* Tap: open the notification's uri, or the app. */
    private PendingIntent tap(XPushClient.Notification n, String tag) {
        Intent i = n.uri != null ? new Intent(Intent.ACTION_VIEW, Uri.parse(n.uri))
                : new Intent(ctx, MainActivity.class);
        i.addFlags(Intent.FLAG_ACTIVITY_NEW_TASK);
        return PendingIntent.getActivity(ctx, tag.hashCode(), i,
                PendingIntent.FLAG_IMMUTABLE | PendingIntent.FLAG_UPDATE_CURRENT);
    }
}
