/* MainActivity: start and stop the push service, ask for the notification permission
 * (API 33+) and, optionally, location (to tell Wi-Fi networks apart for the heartbeat). */
package org.xpush.sample;

import android.Manifest;
import android.app.Activity;
import android.content.Intent;
import android.content.pm.PackageManager;
import android.os.Build;
import android.os.Bundle;
import android.widget.TextView;

public final class MainActivity extends Activity {
    private TextView statusView;

    @Override
    protected void onCreate(Bundle saved) {
        super.onCreate(saved);
        setContentView(R.layout.activity_main);
        statusView = findViewById(R.id.status);
        findViewById(R.id.start).setOnClickListener(v -> {
            startForegroundService(new Intent(this, PushService.class));
            refresh();
        });
        findViewById(R.id.stop).setOnClickListener(v -> {
            startService(new Intent(this, PushService.class).setAction(PushService.ACTION_STOP));
            refresh();
        });
        if (Build.VERSION.SDK_INT >= 33
                && checkSelfPermission(Manifest.permission.POST_NOTIFICATIONS)
                != PackageManager.PERMISSION_GRANTED)
            requestPermissions(new String[] { Manifest.permission.POST_NOTIFICATIONS,
                    Manifest.permission.ACCESS_FINE_LOCATION }, 1);
    }

    @Override
    protected void onResume() {
        super.onResume();
        refresh();
    }

    private void refresh() {
        statusView.setText("xpush: " + PushService.status);
    }
}
