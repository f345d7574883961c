/* cli_exec.c: xpush-client's --exec runner (cli_exec.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_exec.h"

extern char **environ;

static int env_is_ours(const char *e)
{
	static const char *const ours[] = { "XPUSH_ID=",      "XPUSH_APP=", "XPUSH_TITLE=",
		                            "XPUSH_BODY=",    "XPUSH_URI=", "XPUSH_PAYLOAD=",
		                            "XPUSH_PASSWORD=" };
	for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
		if (strncmp(e, ours[i], strlen(ours[i])) == 0)
			return 1;
	return 0;
}

static char *env_pair(const char *k, const char *v)
{
	size_t lk = strlen(k), lv = strlen(v);
	char *s = malloc(lk + lv + 2);

	if (s) {
		memcpy(s, k, lk);
		s[lk] = '=';
		memcpy(s + lk + 1, v, lv + 1);
	}
	return s;
}

const char *cli_exec_run(const char *cmd, const struct xpush_notification *n, int *status)
{
	const char *keys[] = { "XPUSH_ID",   "XPUSH_APP", "XPUSH_TITLE",
		               "XPUSH_BODY", "XPUSH_URI", "XPUSH_PAYLOAD" };
	const char *vals[] = { n->id, n->app, n->title, n->body, n->uri, n->payload };
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)cmd, NULL };
	const char *fail = NULL;
	size_t nenv = 0, k = 0;
	char **envp, **mine;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	sigset_t def, none;
	pid_t pid;
	int rc;

	*status = 0;
	while (environ && environ[nenv])
		nenv++;
	envp = calloc(nenv + 7, sizeof *envp);
	mine = calloc(7, sizeof *mine);
	if (!envp || !mine) {
		free(envp);
		free(mine);
		return "out of memory";
	}
	for (size_t i = 0; i < nenv; i++)
		if (!env_is_ours(environ[i]))
			envp[k++] = environ[i];
	for (size_t i = 0, m = 0; i < 6; i++)
		if (vals[i] && (mine[m] = env_pair(keys[i], vals[i])))
			envp[k++] = mine[m++];
	envp[k] = NULL;

	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	posix_spawn_file_actions_init(&fa);
	/* stdout belongs to the notification lines: the command writes to stderr */
	posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		fail = "spawn failed";
		*status = rc;
	} else {
		while (waitpid(pid, status, 0) < 0 && errno == EINTR)
			;
		if (WIFSIGNALED(*status))
			fail = "killed by signal";
		else if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
			fail = "non-zero exit";
	}
	for (size_t i = 0; i < 6; i++)
		free(mine[i]);
	free(mine);
	free(envp);
	return fail;
}
