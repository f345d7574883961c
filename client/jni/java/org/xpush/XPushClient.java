/* XPushClient: the Java API of libxpush (client/include/xpush.h), for Android
 * apps and host JVMs. The native side (xpush_jni.c) only marshals; the
 * threading rules live here:
 *
 *  - start() creates one loop thread ("xpush-loop") that creates the native
 *    client, runs xpush_client_run() and frees it: every libstrophe call
 *    happens on that thread, and every Listener method is called on it.
 *  - stop() and networkChanged() may be called from any thread: they only
 *    set the library's thread-safe flags (xpush_client_stop,
 *    xpush_client_set_network), under this object's lock so that they never
 *    race the native client being freed.
 *
 * Text crosses JNI as UTF-8 byte arrays, decoded and encoded here with
 * StandardCharsets.UTF_8: JNI's own string functions use "modified UTF-8",
 * which mangles characters outside the BMP (emoji). */
package org.xpush;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

public final class XPushClient {
	static {
		System.loadLibrary("xpush-jni");
		nativeInit();
	}

	/**
	 * Client states; the same order as enum xpush_state in xpush.h. REGISTERED is passed
	 * through on the way to ONLINE: onStateChanged sees it, ONLINE follows at once.
	 */
	public enum State {
		IDLE, CONNECTING, ACCOUNT_SETUP, CONNECTED, REGISTERED, ONLINE, DISCONNECTED, WAITING,
		STOPPING, STOPPED, FAILED;

		static State of(int v) {
			State[] all = values();
			return v >= 0 && v < all.length ? all[v] : FAILED;
		}
	}

	/** Return codes of xpush.h (enum xpush_error). */
	public static final int OK = 0, EINVAL = -1, ENOMEM = -2, EIO = -3, EBUSY = -4, ESTATE = -5,
		ECONN = -6, EAUTH = -7, ETLS = -8, EREJECTED = -9;

	/** Log levels of xpush.h (enum xpush_log_level). */
	public static final int LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3;

	/** A received notification (struct xpush_notification). Absent fields are null. */
	public static final class Notification {
		public final String id, app, priority, collapse, expires, created;
		public final String title, body, uri, payload, from, iqId;
		/**
		 * The process died while this notification was being displayed: it may be on
		 * screen already. Replace it (same tag and id), never add a second one.
		 */
		public final boolean maybeShown;

		/** f holds the fields in the order they are declared above (xpush_jni.c). */
		Notification(String[] f, boolean maybeShown) {
			id = f[0]; app = f[1]; priority = f[2]; collapse = f[3]; expires = f[4]; created = f[5];
			title = f[6]; body = f[7]; uri = f[8]; payload = f[9]; from = f[10]; iqId = f[11];
			this.maybeShown = maybeShown;
		}
	}

	/**
	 * What the app is told. Every method runs on the client's loop thread and must return
	 * quickly: the ack of a notification is sent when onNotification returns. A method that
	 * throws is reported through onLog (LOG_ERROR) and otherwise ignored; in particular a
	 * notification whose onNotification threw still counts as displayed and is acked.
	 */
	public interface Listener {
		/**
		 * Display n, once per id. A notification with the same collapse key as one on
		 * screen replaces it (Android: NotificationManager.notify(tag = collapse key)).
		 */
		void onNotification(Notification n);

		/**
		 * The producer withdrew notification id: remove it if it is on screen (seen: it
		 * did arrive here). A late copy of it is never passed to onNotification. May be
		 * repeated after a crash: make it idempotent.
		 */
		void onRetract(String id, boolean seen);

		/** State change; error is OK or a code above, reason may be null. */
		void onStateChanged(State state, State previous, int error, String reason);

		/** A notification's ack was queued (duplicate: a redelivery, not displayed again). */
		default void onAcked(String id, boolean duplicate) {
		}

		/** A library log line (key=value text), at or above the configured log_level. */
		default void onLog(int level, String message) {
		}
	}

	/**
	 * Configuration: the keys of xpush_config_set() (xpush.h), e.g. jid, password, host,
	 * port, direct_tls (recommended: TLS from the first byte, docs/android.md), ca_file,
	 * component, app, device, state_dir, alias, tag (repeatable), platform, register_token
	 * (the app's registration token, docs/apps.md), network,
	 * log_level, heartbeat_*, reconnect_*.
	 */
	public static final class Config {
		private final List<String> pairs = new ArrayList<>();

		public Config set(String key, String value) {
			if (key == null)
				throw new IllegalArgumentException("key is null");
			pairs.add(key);
			pairs.add(value);
			return this;
		}

		public Config tag(String tag) {
			return set("tag", tag);
		}

		byte[][] encode() {
			byte[][] out = new byte[pairs.size()][];
			for (int i = 0; i < out.length; i++)
				out[i] = utf8(pairs.get(i));
			return out;
		}
	}

	private final byte[][] config;
	private final Listener listener;
	private Thread thread;
	private long handle;          /* the native xpush_client while it exists, else 0 */
	private boolean stopRequested;
	private String pendingNetwork;
	private volatile int result = 1;
	private volatile String lastError;
	private State lastState = State.IDLE; /* loop thread only */
	private boolean sawTerminal;          /* loop thread only */

	/**
	 * Checks every key and value now (IllegalArgumentException with the library's reason);
	 * missing required keys and the state directory are checked by start's loop thread and
	 * reported as onStateChanged(FAILED, ...).
	 */
	public XPushClient(Config config, Listener listener) {
		if (config == null || listener == null)
			throw new IllegalArgumentException("config and listener are required");
		this.config = config.encode();
		this.listener = listener;
		byte[] err = nativeValidate(this.config);
		if (err != null)
			throw new IllegalArgumentException(str(err));
	}

	/** Start the loop thread (once). */
	public synchronized void start() {
		if (thread != null)
			throw new IllegalStateException("already started");
		thread = new Thread(this::loop, "xpush-loop");
		thread.start();
	}

	/**
	 * Ask the client to stop (any thread, does not block): it sends unavailable presence,
	 * closes the stream and the loop thread ends. See awaitTermination.
	 */
	public synchronized void stop() {
		stopRequested = true;
		if (handle != 0)
			nativeStop(handle);
	}

	/**
	 * The device is now on network networkKey (any thread, does not block): the client
	 * reconnects at once and uses the heartbeat interval learned for that key. Keys are
	 * stable per path, e.g. "wifi:" + SSID, "cell:" + MCC-MNC (see xpush.h). null or ""
	 * keeps the current key and only reconnects. An invalid key is refused with
	 * IllegalArgumentException.
	 */
	public synchronized void networkChanged(String networkKey) {
		String key = networkKey == null ? "" : networkKey;
		if (handle != 0) {
			if (nativeSetNetwork(handle, utf8(key)) != OK)
				throw new IllegalArgumentException("invalid network key");
		} else {
			pendingNetwork = key;
		}
	}

	/**
	 * Wait up to timeoutMs for the loop thread to end (0: do not wait, just check); true if
	 * it has ended or was never started.
	 */
	public boolean awaitTermination(long timeoutMs) throws InterruptedException {
		Thread t;
		synchronized (this) {
			t = thread;
		}
		if (t == null)
			return true;
		if (timeoutMs > 0)
			t.join(timeoutMs);
		return !t.isAlive();
	}

	/** 1 while running; then OK (stopped) or the final error code. */
	public int result() {
		return result;
	}

	public static String strerror(int code) {
		return str(nativeStrerror(code));
	}

	public static String version() {
		return str(nativeVersion());
	}

	private void loop() {
		int rc;
		try {
			rc = nativeRun(config);
		} catch (Throwable t) {
			rc = ENOMEM;
			lastError = String.valueOf(t);
		}
		result = rc;
		if (rc < 0 && !sawTerminal)
			safeState(State.FAILED, lastState, rc, reasonOf(lastError));
	}

	/* The reason="..." of a key=value log line, else the whole line. */
	private static String reasonOf(String line) {
		if (line == null)
			return null;
		int i = line.indexOf("reason=\"");
		int j = line.lastIndexOf('"');
		return i >= 0 && j > i + 7 ? line.substring(i + 8, j) : line;
	}

	/* ---- called by the native side, on the loop thread ----------------------------- */

	/* The native client exists: publish it for stop()/networkChanged(). */
	private synchronized void attach(long h) {
		handle = h;
		if (pendingNetwork != null) {
			nativeSetNetwork(h, utf8(pendingNetwork));
			pendingNetwork = null;
		}
		if (stopRequested)
			nativeStop(h);
	}

	/* The native client is about to be freed. */
	private synchronized void detach() {
		handle = 0;
	}

	private void onNotification(byte[][] f, boolean maybeShown) {
		String[] s = new String[f.length];
		for (int i = 0; i < f.length; i++)
			s[i] = str(f[i]);
		try {
			listener.onNotification(new Notification(s, maybeShown));
		} catch (Throwable t) {
			report("onNotification", t);
		}
	}

	private void onRetract(byte[] id, boolean seen) {
		try {
			listener.onRetract(str(id), seen);
		} catch (Throwable t) {
			report("onRetract", t);
		}
	}

	/* type: enum xpush_event_type (1 state, 2 acked, 3 duplicate, 4 refused, 5 retract acked) */
	private void onEvent(int type, int state, int old, int error, byte[] reason, byte[] id,
	                     boolean duplicate) {
		try {
			if (type == 1) {
				lastState = State.of(state);
				sawTerminal |= lastState == State.STOPPED || lastState == State.FAILED;
				listener.onStateChanged(State.of(state), State.of(old), error, str(reason));
			} else if (type == 2) {
				listener.onAcked(str(id), duplicate);
			}
		} catch (Throwable t) {
			report("onStateChanged/onAcked", t);
		}
	}

	private void onLog(int level, byte[] msg) {
		String m = str(msg);
		if (level >= LOG_ERROR)
			lastError = m;
		try {
			listener.onLog(level, m);
		} catch (Throwable t) {
			/* nothing sensible left to tell */
		}
	}

	private void safeState(State s, State old, int error, String reason) {
		try {
			listener.onStateChanged(s, old, error, reason);
		} catch (Throwable t) {
			report("onStateChanged", t);
		}
	}

	private void report(String where, Throwable t) {
		try {
			listener.onLog(LOG_ERROR, "topic=jni msg=listener_threw where=" + where + " error=\"" + t + "\"");
		} catch (Throwable ignored) {
			/* nothing sensible left to tell */
		}
	}

	static byte[] utf8(String s) {
		return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
	}

	static String str(byte[] b) {
		return b == null ? null : new String(b, StandardCharsets.UTF_8);
	}

	private static native void nativeInit();
	private static native byte[] nativeValidate(byte[][] kv);
	private native int nativeRun(byte[][] kv);
	private static native void nativeStop(long handle);
	private static native int nativeSetNetwork(long handle, byte[] key);
	private static native byte[] nativeStrerror(int code);
	private static native byte[] nativeVersion();
}
