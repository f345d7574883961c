/* service: sd_notify's datagram protocol, the watchdog timer and the
 * readiness state of xpushd (service.h). */
#include "service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "num.h"

struct service {
	struct loop *loop;
	struct loop_timer watchdog;
	uint64_t watchdog_ms;
	int xmpp_up, pg_up;
	int announced; /* READY=1 sent once */
	char status[128];
};

int service_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t plen;
	socklen_t salen;
	ssize_t n;
	int fd;

	if (!path || !*path)
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof sa.sun_path) {
		errno = EINVAL;
		return -1;
	}
	memcpy(sa.sun_path, path, plen);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	close(fd);
	return n == (ssize_t)strlen(state) ? 1 : -1;
}

uint64_t service_watchdog_ms(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	unsigned long long p, us;

	/* systemd sets both; a malformed value disables the watchdog. */
	if (num_parse_uint(usec, 1, UINT64_MAX, &us) < 0)
		return 0;
	if (pid && *pid && (num_parse_uint(pid, 1, INT32_MAX, &p) < 0 || (pid_t)p != getpid()))
		return 0;
	return us < 2000 ? 1 : us / 2000;
}

static void say(const char *state)
{
	if (service_notify(state) < 0)
		log_warn("service manager notification failed", "state=%s error=%s", log_q(state),
		         log_q(strerror(errno)));
}

static void on_watchdog(struct loop_timer *t)
{
	struct service *s = t->ud;

	say("WATCHDOG=1");
	loop_timer_arm(&s->watchdog, s->watchdog_ms);
}

struct service *service_new(struct loop *l)
{
	struct service *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	s->loop = l;
	loop_timer_init(l, &s->watchdog, on_watchdog, s);
	s->watchdog_ms = service_watchdog_ms();
	if (s->watchdog_ms) {
		log_info("service watchdog enabled", "interval_ms=%llu",
		         (unsigned long long)s->watchdog_ms);
		loop_timer_arm(&s->watchdog, 0);
	}
	service_update(s, 0, 0);
	return s;
}

void service_free(struct service *s)
{
	if (!s)
		return;
	loop_timer_remove(s->loop, &s->watchdog);
	free(s);
}

int service_ready(const struct service *s, char *why, size_t len)
{
	if (s->xmpp_up && s->pg_up)
		return 1;
	snprintf(why, len, "%s%s%s", s->xmpp_up ? "" : "component not connected",
	         !s->xmpp_up && !s->pg_up ? "; " : "", s->pg_up ? "" : "postgres down");
	return 0;
}

void service_update(struct service *s, int xmpp_up, int pg_up)
{
	char why[96], text[sizeof s->status], msg[sizeof s->status + 32];
	int ready;

	s->xmpp_up = xmpp_up;
	s->pg_up = pg_up;
	ready = service_ready(s, why, sizeof why);
	snprintf(text, sizeof text, "%s%s", ready ? "ready" : "not ready: ", ready ? "" : why);
	if (strcmp(text, s->status) == 0)
		return;
	memcpy(s->status, text, sizeof text);
	if (ready && !s->announced) {
		s->announced = 1;
		log_info("service ready", NULL);
		snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s", s->status);
	} else {
		snprintf(msg, sizeof msg, "STATUS=%s", s->status);
	}
	say(msg);
}

void service_reloading(struct service *s)
{
	(void)s;
	say("RELOADING=1\nSTATUS=reloading");
}

void service_reloaded(struct service *s)
{
	char msg[sizeof s->status + 32];

	snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s", s->status);
	say(msg);
}

void service_stopping(struct service *s)
{
	(void)s;
	say("STOPPING=1\nSTATUS=stopping");
}
