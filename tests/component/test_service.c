/* Unit tests for component/service (the notify datagram, the watchdog
 * interval, readiness and its reason) and component/reload (SIGHUP's table:
 * live keys applied, the others kept and counted, a broken file changes
 * nothing). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "reload.h"
#include "service.h"
#include "test.h"

static char tmpdir[] = "/tmp/xpush-test-service-XXXXXX";

static const char *path_of(const char *name)
{
	static char path[256];

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	return path;
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "w");

	fputs(text, f);
	fclose(f);
}

/* A datagram socket standing in for systemd's; the message it got, or "". */
static void notify_datagram(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[256] = "";
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ssize_t n;
	const char *p = path_of("notify");

	CHECK(strlen(p) < sizeof sa.sun_path);
	memcpy(sa.sun_path, p, strlen(p) + 1);
	CHECK_INT(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	unsetenv("NOTIFY_SOCKET");
	CHECK_INT(service_notify("READY=1"), 0); /* no socket: nothing sent */
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	CHECK_INT(service_notify("READY=1\nSTATUS=ready"), 1);
	n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
	CHECK_INT(n, 20);
	buf[n > 0 ? n : 0] = '\0';
	CHECK_STR(buf, "READY=1\nSTATUS=ready");
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	CHECK_INT(service_notify("READY=1"), -1);
	setenv("NOTIFY_SOCKET", path_of("nobody-listens"), 1);
	CHECK_INT(service_notify("READY=1"), -1);
	unsetenv("NOTIFY_SOCKET");
	close(fd);
}

static void watchdog_interval(void)
{
	char pid[16];

	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	CHECK_INT(service_watchdog_ms(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	CHECK_INT(service_watchdog_ms(), 15000); /* half the timeout */
	setenv("WATCHDOG_USEC", "30s", 1);
	CHECK_INT(service_watchdog_ms(), 0); /* malformed: off */
	setenv("WATCHDOG_USEC", "1000", 1);
	CHECK_INT(service_watchdog_ms(), 1);
	setenv("WATCHDOG_USEC", "400000", 1);
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	CHECK_INT(service_watchdog_ms(), 200);
	setenv("WATCHDOG_PID", "1", 1); /* another process's watchdog */
	CHECK_INT(service_watchdog_ms(), 0);
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
}

static void readiness(void)
{
	struct loop *l = loop_new(NULL, NULL);
	struct service *s = service_new(l);
	char why[96];

	CHECK_INT(service_ready(s, why, sizeof why), 0);
	CHECK_STR(why, "component not connected; postgres down");
	service_update(s, 1, 0);
	CHECK_INT(service_ready(s, why, sizeof why), 0);
	CHECK_STR(why, "postgres down");
	service_update(s, 0, 1);
	CHECK_INT(service_ready(s, why, sizeof why), 0);
	CHECK_STR(why, "component not connected");
	service_update(s, 1, 1);
	CHECK_INT(service_ready(s, why, sizeof why), 1);
	service_free(s);
	loop_free(l);
}

static const char base[] = "component_jid = push.example.org\n"
			   "component_secret_file = %s\n"
			   "server_port = 5347\n"
			   "pg_conninfo = dbname=a password=hunter2\n";

static void reload_applies_live_keys(void)
{
	struct config run;
	struct config_source src = { NULL, NULL, 0 };
	struct reload_result r;
	const char *sets[] = { "log_level=debug" };
	char text[1024], err[256];

	write_file("secret", "0123456789abcdef0123\n");
	snprintf(text, sizeof text, base, path_of("secret"));
	write_file("x.conf", text);
	src.file = path_of("x.conf");
	CHECK_INT(config_read(&run, &src, 1, err, sizeof err), 0);
	/* Nothing changed: nothing applied. */
	CHECK_INT(reload_config(&run, &src, &r, err, sizeof err), 0);
	CHECK_INT(r.changed + r.restart + (int)r.groups, 0);
	/* Live keys of three groups, and two keys that need a restart. */
	snprintf(text, sizeof text, base, path_of("secret"));
	strcat(text, "rate_burst = 7\nmax_tags = 2\nbatch_size = 9\nserver_port = 5348\n"
	             "pg_conninfo = dbname=b\n");
	write_file("x.conf", text);
	src.sets = sets;
	src.nsets = 1;
	CHECK_INT(reload_config(&run, &src, &r, err, sizeof err), 0);
	CHECK_INT(r.changed, 4);
	CHECK_INT(r.restart, 2);
	CHECK_INT(r.groups, RELOAD_LOG | RELOAD_RATE | RELOAD_LIMITS);
	CHECK_INT(run.rate_burst, 7);
	CHECK_INT(run.max_tags, 2);
	CHECK_INT(run.batch_size, 9);
	CHECK_INT(run.log_level, LOG_DEBUG); /* the -o override is read again */
	CHECK_INT(run.server_port, 5347);    /* needs a restart: kept */
	CHECK_STR(run.pg_conninfo, "dbname=a password=hunter2");
	/* A broken file: an error naming the key, nothing changed. */
	write_file("x.conf", "max_tags = lots\n");
	CHECK_INT(reload_config(&run, &src, &r, err, sizeof err), -1);
	CHECK(strstr(err, "max_tags") != NULL);
	CHECK_INT(run.max_tags, 2);
	config_free(&run);
}

static void setup(void)
{
	CHECK(mkdtemp(tmpdir) != NULL);
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	CHECK_INT(system(cmd), 0);
}

TEST_MAIN(T(setup), T(notify_datagram), T(watchdog_interval), T(readiness),
          T(reload_applies_live_keys), T(teardown))
