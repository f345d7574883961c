/* fuzz_config: libFuzzer target for xpushd's configuration parser
 * (component/config.c): the file loader, the `-o key=value` setter and the
 * cross-key checks, i.e. everything an operator's (or an attacker's, if the
 * file is writable) bytes reach before xpushd starts. Besides crashes, leaks
 * and sanitizer reports it traps on broken properties:
 *   - an error is exactly one non-empty line (no CR/LF: the operator reads
 *     "xpushd: error: ..." as one line, and a log collector splits on LF);
 *   - a file error names the file;
 *   - a loaded configuration survives config_finish/config_dump, and the
 *     dump never prints the secret;
 *   - what the loader accepted, the setter accepts line by line too.
 *
 * The input is the file's text. The secret file is always our own temp file
 * (whatever the input sets), so the fuzzer never reads arbitrary paths. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ASSERT(c) do { if (!(c)) { \
	fprintf(stderr, "property failed: %s (%s:%d)\n", #c, __FILE__, __LINE__); \
	abort(); } } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "fuzz-secret-3f7a1c9e0b5d2468"

static char secret_path[64];
static int memfd = -1;
static char memfd_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	snprintf(secret_path, sizeof secret_path, "/tmp/xpush-fuzz-secret-XXXXXX");
	fd = mkstemp(secret_path);
	ASSERT(fd >= 0);
	ASSERT(write(fd, SECRET "\n", sizeof SECRET) == (ssize_t)sizeof SECRET);
	close(fd);
	memfd = memfd_create("xpushd.conf", 0);
	ASSERT(memfd >= 0);
	snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
	unsetenv(CONFIG_SECRET_ENV);
	return 0;
}

static void one_line(const char *err)
{
	ASSERT(err[0] != '\0');
	if (strchr(err, '\n') || strchr(err, '\r'))
		fprintf(stderr, "multi-line error: [%s]\n", err);
	ASSERT(!strchr(err, '\n') && !strchr(err, '\r'));
}

/* config_finish with our secret file, then the dump must hide the secret. */
static void finish_and_dump(struct config *c, const uint8_t *data, size_t size)
{
	char err[512] = "";
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	ASSERT(config_set(c, "component_secret_file", secret_path, err, sizeof err) == 0);
	if (config_finish(c, err, sizeof err) < 0) {
		one_line(err);
		return;
	}
	ASSERT(c->component_jid && *c->component_jid);
	ASSERT(c->user_domains && *c->user_domains);
	ASSERT(c->instance_id && *c->instance_id);
	ASSERT(c->component_secret && strcmp(c->component_secret, SECRET) == 0);
	ASSERT(c->reconnect_min_ms <= c->reconnect_max_ms);
	f = open_memstream(&out, &outlen);
	ASSERT(f);
	config_dump(c, f);
	fclose(f);
	/* Unless the operator typed the secret into another key's value. */
	ASSERT(out && (!memmem(out, outlen, SECRET, sizeof SECRET - 1) ||
	               memmem(data, size, SECRET, sizeof SECRET - 1)));
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char err[512] = "";
	int rc;

	/* 1. The file loader, on a memfd holding exactly the input. */
	ASSERT(ftruncate(memfd, 0) == 0);
	ASSERT(pwrite(memfd, data, size, 0) == (ssize_t)size);
	ASSERT(config_init(&c) == 0);
	rc = config_load_file(&c, memfd_path, err, sizeof err);
	ASSERT(rc == 0 || rc == -1);
	if (rc < 0) {
		one_line(err);
		ASSERT(strncmp(err, memfd_path, strlen(memfd_path)) == 0);
	} else {
		finish_and_dump(&c, data, size);
	}
	config_free(&c);

	/* 2. The same text, line by line, through the -o setter. A file the
	 * loader accepted has no line the setter refuses (comments and blank
	 * lines aside). */
	{
		char *copy = malloc(size + 1), *save = NULL;
		int n = 0;

		ASSERT(copy);
		memcpy(copy, data, size);
		copy[size] = '\0';
		ASSERT(config_init(&c) == 0);
		for (char *line = strtok_r(copy, "\n", &save); line && n < 64;
		     line = strtok_r(NULL, "\n", &save), n++) {
			const char *s = line;
			int r;

			while (*s == ' ' || *s == '\t')
				s++;
			if (*s == '#' || *s == '\0' || *s == '\r')
				continue;
			err[0] = '\0';
			r = config_set_pair(&c, line, err, sizeof err);
			ASSERT(r == 0 || r == -1);
			if (r < 0) {
				one_line(err);
				/* The loader stops at a NUL byte inside a line; the
				 * setter sees the line up to it as well. */
				ASSERT(rc < 0 || memchr(data, '\0', size));
			}
		}
		config_free(&c);
		free(copy);
	}
	return 0;
}
