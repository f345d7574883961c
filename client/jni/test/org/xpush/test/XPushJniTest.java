/* XPushJniTest: a device on the host JVM through org.xpush.XPushClient, driven
 * by tests/e2e/32_jni.sh against the real stack (Postgres + Prosody + xpushd).
 *
 *   java -Djava.library.path=DIR -cp xpush.jar:xpush-jni-test.jar \
 *        org.xpush.test.XPushJniTest --password-file F --set key=value...
 *
 * stdout (UTF-8, one line per event, flushed):
 *   state NAME error=E          every state change
 *   notification id=N collapse=K|- maybe_shown=B title_hex=HEX title=TEXT
 *   retract id=N seen=B
 *   acked id=N duplicate=B
 *   violation TEXT              a listener call off the loop thread, or a bad state
 *   exit result=R
 * stdin, one command a line: "network KEY" (networkChanged from this, the main
 * thread), "stop" (stop, wait for the loop thread, exit). End of input = stop.
 * Exit status: 0 when the client stopped cleanly (result 0) and nothing was
 * violated, 1 otherwise, 2 on usage errors. */
package org.xpush.test;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;

import org.xpush.XPushClient;

public final class XPushJniTest {
	private static final PrintStream out =
		new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
	private static volatile boolean violated;
	private static volatile Thread loopThread;

	private static synchronized void line(String s) {
		out.println(s);
		out.flush();
	}

	private static void onLoopThread(String what) {
		Thread t = Thread.currentThread();
		if (loopThread == null && "xpush-loop".equals(t.getName()))
			loopThread = t;
		if (t != loopThread) {
			violated = true;
			line("violation " + what + " called on thread " + t.getName());
		}
	}

	private static String hex(String s) {
		StringBuilder b = new StringBuilder();
		for (byte x : s.getBytes(StandardCharsets.UTF_8))
			b.append(String.format("%02x", x & 0xff));
		return b.toString();
	}

	public static void main(String[] args) throws Exception {
		XPushClient.Config cfg = new XPushClient.Config();
		for (int i = 0; i < args.length; i++) {
			if (args[i].equals("--set") && i + 1 < args.length) {
				String kv = args[++i];
				int eq = kv.indexOf('=');
				if (eq <= 0) {
					System.err.println("XPushJniTest: --set KEY=VALUE");
					System.exit(2);
				}
				cfg.set(kv.substring(0, eq), kv.substring(eq + 1));
			} else if (args[i].equals("--password-file") && i + 1 < args.length) {
				String pw = new String(Files.readAllBytes(Paths.get(args[++i])), StandardCharsets.UTF_8);
				cfg.set("password", pw.split("\r?\n", 2)[0]);
			} else {
				System.err.println("XPushJniTest: unknown argument " + args[i]);
				System.exit(2);
			}
		}
		try {
			new XPushClient(new XPushClient.Config().set("port", "0"), new Quiet());
			line("violation port=0 was accepted");
			violated = true;
		} catch (IllegalArgumentException e) {
			line("config_error " + e.getMessage());
		}

		XPushClient client = new XPushClient(cfg, new XPushClient.Listener() {
			@Override
			public void onNotification(XPushClient.Notification n) {
				onLoopThread("onNotification");
				line("notification id=" + n.id + " collapse=" + (n.collapse == null ? "-" : n.collapse)
				     + " maybe_shown=" + n.maybeShown + " title_hex=" + hex(n.title == null ? "" : n.title)
				     + " title=" + n.title);
			}

			@Override
			public void onRetract(String id, boolean seen) {
				onLoopThread("onRetract");
				line("retract id=" + id + " seen=" + seen);
			}

			@Override
			public void onStateChanged(XPushClient.State state, XPushClient.State previous, int error,
			                           String reason) {
				onLoopThread("onStateChanged");
				line("state " + state.name().toLowerCase() + " error=" + error
				     + (reason == null ? "" : " reason=\"" + reason + "\""));
			}

			@Override
			public void onAcked(String id, boolean duplicate) {
				onLoopThread("onAcked");
				line("acked id=" + id + " duplicate=" + duplicate);
			}

			@Override
			public void onLog(int level, String message) {
				if (level >= XPushClient.LOG_WARN)
					System.err.println("xpush level=" + level + " " + message);
			}
		});
		client.start();

		BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
		String cmd;
		while ((cmd = in.readLine()) != null) {
			if (cmd.startsWith("network ")) {
				client.networkChanged(cmd.substring(8));
				line("network_changed " + cmd.substring(8));
			} else if (cmd.equals("stop")) {
				break;
			}
		}
		if (client.awaitTermination(0)) {
			line("violation the loop thread ended before stop()");
			violated = true;
		}
		client.stop();
		if (!client.awaitTermination(15000)) {
			line("violation the loop thread did not end within 15 s of stop()");
			System.exit(1);
		}
		line("exit result=" + client.result());
		System.exit(client.result() == 0 && !violated ? 0 : 1);
	}

	private static final class Quiet implements XPushClient.Listener {
		@Override
		public void onNotification(XPushClient.Notification n) {
		}

		@Override
		public void onRetract(String id, boolean seen) {
		}

		@Override
		public void onStateChanged(XPushClient.State s, XPushClient.State p, int e, String r) {
		}
	}
}
