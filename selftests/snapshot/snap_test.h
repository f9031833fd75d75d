/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the snapshot selftests: a scratch folder, a memory file with
 * a known pattern, and the real thaw-uffd-handler run as a child process.
 */
#ifndef THAW_SNAP_SELFTEST_H
#define THAW_SNAP_SELFTEST_H

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ST_PAGE		4096ul

/* Page @i of the test memory file: a hole when i % 4 == 3, else a pattern
 * that names the page (never all zero). */
static inline bool st_is_hole(uint64_t i)
{
	return i % 4 == 3;
}

static inline uint8_t st_byte(uint64_t page, uint64_t k)
{
	return (uint8_t)(page * 131 + k * 7 + 1) | 1;
}

static inline void st_fill(uint8_t *p, uint64_t page)
{
	for (uint64_t k = 0; k < ST_PAGE; k++)
		p[k] = st_byte(page, k);
}

/* Does @p hold what page @page of the test file holds? */
static inline bool st_check(const uint8_t *p, uint64_t page)
{
	for (uint64_t k = 0; k < ST_PAGE; k++)
		if (p[k] != (st_is_hole(page) ? 0 : st_byte(page, k)))
			return false;
	return true;
}

/* Write the test memory file of @pages pages; 0 or -errno. */
static inline int st_make_memfile(const char *path, uint64_t pages)
{
	uint8_t buf[ST_PAGE];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	for (uint64_t i = 0; i < pages; i++) {
		if (st_is_hole(i))
			continue;
		st_fill(buf, i);
		if (pwrite(fd, buf, ST_PAGE, (off_t)(i * ST_PAGE)) != ST_PAGE) {
			close(fd);
			return -EIO;
		}
	}
	if (ftruncate(fd, (off_t)(pages * ST_PAGE))) {
		close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

/* build/bin/NAME, next to build/selftests/snapshot/ where the test is. */
static inline void st_bin(char *out, size_t len, const char *name)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = 0;
	snprintf(out, len, "%s/../../bin/%s", dirname(exe), name);
}

static inline uint64_t st_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct st_handler {
	pid_t pid;
	int out;			/* its stdout */
	char err_path[PATH_MAX];	/* its stderr */
	char output[16384];		/* stdout, after st_handler_wait() */
};

/*
 * Start thaw-uffd-handler SOCK MEM ARGS... and wait until it listens.
 * @args: NULL-terminated extra arguments.  0 or -errno.
 */
static inline int st_handler_start(struct st_handler *h, const char *dir,
				   const char *sock, const char *mem,
				   const char *const *args)
{
	char bin[PATH_MAX];
	const char *argv[16];
	int pfd[2], n = 0;
	uint64_t t0;

	st_bin(bin, sizeof(bin), "thaw-uffd-handler");
	snprintf(h->err_path, sizeof(h->err_path), "%s/handler.err", dir);
	h->output[0] = 0;
	argv[n++] = bin;
	argv[n++] = sock;
	argv[n++] = mem;
	for (int i = 0; args && args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	h->pid = fork();
	if (h->pid < 0)
		return -errno;
	if (!h->pid) {
		int efd = open(h->err_path,
			       O_WRONLY | O_CREAT | O_APPEND, 0600);

		/* Never outlive a test that the harness killed. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pfd[1], 1);
		if (efd >= 0)
			dup2(efd, 2);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	h->out = pfd[0];
	for (t0 = st_now_ms(); st_now_ms() - t0 < 10000; usleep(5000)) {
		struct stat st;
		int status;

		if (!stat(sock, &st) && S_ISSOCK(st.st_mode))
			return 0;
		if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
			h->pid = -1;
			return -ECHILD;
		}
	}
	return -ETIMEDOUT;
}

/* Wait (at most @ms) for the handler to exit; its exit status, or -1 if
 * it had to be killed.  Its stdout lands in h->output. */
static inline int st_handler_wait(struct st_handler *h, int ms)
{
	size_t len = 0;
	uint64_t t0 = st_now_ms();
	int status = 0, ret = -1;

	while (h->pid > 0) {
		pid_t p = waitpid(h->pid, &status, WNOHANG);

		if (p == h->pid) {
			ret = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
			break;
		}
		if (st_now_ms() - t0 > (uint64_t)ms) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, &status, 0);
			break;
		}
		usleep(5000);
	}
	h->pid = -1;
	for (;;) {
		ssize_t n = read(h->out, h->output + len,
				 sizeof(h->output) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	h->output[len] = 0;
	close(h->out);
	return ret;
}

static inline int st_handler_stop(struct st_handler *h, int ms)
{
	if (h->pid > 0)
		kill(h->pid, SIGTERM);
	return st_handler_wait(h, ms);
}

/* The handler's stdout as TAP diagnostics, one "# " line each. */
static inline void st_show_output(const struct st_handler *h)
{
	const char *p = h->output;

	while (*p) {
		const char *eol = strchr(p, '\n');
		int n = eol ? (int)(eol - p) : (int)strlen(p);

		fprintf(stderr, "# %.*s\n", n, p);
		p += n + (eol ? 1 : 0);
	}
}

/* A key=value count from the handler's line that contains @line. */
static inline long long st_count(const char *out, const char *line,
				 const char *key)
{
	const char *l = strstr(out, line), *eol, *k;
	char pat[64];

	if (!l)
		return -1;
	eol = strchr(l, '\n');
	snprintf(pat, sizeof(pat), " %s=", key);
	k = strstr(l, pat);
	if (!k || (eol && k > eol))
		return -1;
	return strtoll(k + strlen(pat), NULL, 10);
}

/* Does the handler's stderr so far contain @needle?  Waits up to @ms. */
static inline bool st_log_has(const struct st_handler *h, const char *needle,
			      int ms)
{
	uint64_t t0 = st_now_ms();
	char buf[16384];

	do {
		int fd = open(h->err_path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = 0;
			if (strstr(buf, needle))
				return true;
		}
		usleep(5000);
	} while (st_now_ms() - t0 < (uint64_t)ms);
	return false;
}

/* Count the lines of the handler's stderr that contain @needle. */
static inline int st_log_count(const struct st_handler *h, const char *needle)
{
	char buf[32768], *p = buf;
	int fd = open(h->err_path, O_RDONLY | O_CLOEXEC), n = 0;
	ssize_t len = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (len <= 0)
		return 0;
	buf[len] = 0;
	while ((p = strstr(p, needle))) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* Is userfaultfd usable here (root, or /dev/userfaultfd)? */
static inline bool st_have_userfaultfd(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);

	if (fd < 0)
		fd = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Free 2 MiB huge pages (HugePages_Free), -1 if unknown. */
static inline long st_huge_free(void)
{
	char line[128];
	long n = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

/*
 * Inside vmtest (THAW_VMTEST), where the machine is ours, make @n more
 * huge pages free.  Returns the previous nr_hugepages to restore, or -1
 * when nothing was changed (elsewhere the test uses what is there).
 */
static inline long st_huge_reserve(long n)
{
	const char *knob = "/proc/sys/vm/nr_hugepages";
	long had = -1, ret = -1;
	FILE *f;

	if (st_huge_free() >= n || !getenv("THAW_VMTEST"))
		return -1;
	f = fopen(knob, "r");
	if (f && fscanf(f, "%ld", &had) == 1) {
		fclose(f);
		f = fopen(knob, "w");
		if (f && fprintf(f, "%ld\n", had + n) > 0)
			ret = had;
	}
	if (f)
		fclose(f);
	return ret;
}

static inline void st_huge_restore(long had)
{
	FILE *f = had >= 0 ? fopen("/proc/sys/vm/nr_hugepages", "w") : NULL;

	if (f) {
		fprintf(f, "%ld\n", had);
		fclose(f);
	}
}

#endif
