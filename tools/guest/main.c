// SPDX-License-Identifier: GPL-2.0
/*
 * thaw-init: PID 1 of a function VM (see init.h for the map).
 *
 * As PID 1 it sets the system up, serves the Lambda Runtime API, runs the
 * function's bootstrap and bridges invocations from vsock; on SIGTERM or
 * SIGINT (Ctrl-Alt-Del) it stops the runtime, syncs and powers off.
 * Started as any other PID (tests, development) it skips the system setup
 * and the power-off and takes its settings from --config and --cmdline.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "thaw-version.h"
#include "tools/guest/init.h"

static bool log_quiet;
static bool log_plain;		/* --check: messages without the uptime */

uint64_t init__now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void vlog(const char *fmt, va_list ap)
{
	uint64_t up = init__now_ns(CLOCK_BOOTTIME) / 1000;
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_plain) {
		fprintf(stderr, "thaw-init: %s\n", buf);
		return;
	}
	fprintf(stderr, "[%5llu.%06llu] thaw-init: %s\n",
		(unsigned long long)(up / 1000000),
		(unsigned long long)(up % 1000000), buf);
}

void init__log(const struct init *init, const char *fmt, ...)
{
	va_list ap;

	if (log_quiet)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void init__err(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	errno = saved;
	vlog(fmt, ap);
	va_end(ap);
}

static void __attribute__((noreturn)) fatal(struct init *init)
{
	if (init->pid1) {
		init__err("cannot continue: powering off");
		system__power_off();
	}
	exit(1);
}

void init__stopped(struct init *init)
{
	if (init->pid1) {
		init__err("runtime stopped: powering off");
		system__power_off();
	}
	event_base_loopexit(init->base, NULL);
}

static void shutdown_cb(evutil_socket_t sig, short what, void *arg)
{
	struct init *init = arg;

	if (init->stopping)
		return;
	init__err("%s: stopping the runtime", strsignal(sig));
	init->stopping = true;
	bridge__stop(init);
	runtime__stop(init);
}

static void sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	runtime__reap(arg);
}

static unsigned int cmdline_warnings;

static void warn_cmdline(const char *msg)
{
	cmdline_warnings++;
	init__err("kernel command line: %s", msg);
}

void init__random(uint8_t *buf, size_t len)
{
	ssize_t n = getrandom(buf, len, GRND_INSECURE);

	/* Names and trace ids, not secrets: never wait for the CRNG. */
	if (n < 0)
		n = getrandom(buf, len, GRND_NONBLOCK);
	if (n == (ssize_t)len)
		return;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(init__now_ns(CLOCK_MONOTONIC) >> (i % 8)) ^
			 (uint8_t)(getpid() >> (i % 4));
}

/* A whole small file, NUL-terminated; NULL if it is absent. */
static char *read_file(const char *path, size_t max, size_t *len, int *err)
{
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd;

	*err = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = errno == ENOENT ? 0 : -errno;
		return NULL;
	}
	buf = malloc(max + 1);
	if (!buf) {
		*err = -ENOMEM;
		close(fd);
		return NULL;
	}
	while (got < max && (n = read(fd, buf + got, max - got)) > 0)
		got += n;
	if (got == max && read(fd, &(char){ 0 }, 1) > 0) {
		*err = -EFBIG;
		free(buf);
		buf = NULL;
	} else {
		buf[got] = '\0';
		*len = got;
	}
	close(fd);
	return buf;
}

static int load_config(struct init *init, const char *path,
		       const char *cmdline)
{
	char err[160], *text, *proc = NULL;
	size_t len;
	int ret;

	text = read_file(path, 64 * 1024, &len, &ret);
	if (ret) {
		init__err("%s: %s", path, strerror(-ret));
		return ret;
	}
	if (text) {
		ret = guest_config__apply_json(&init->cfg, text, len, err,
					       sizeof(err));
		free(text);
		if (ret) {
			init__err("%s: %s", path, err);
			return ret;
		}
	}
	if (!cmdline && init->pid1) {
		proc = read_file("/proc/cmdline", 64 * 1024, &len, &ret);
		cmdline = proc;
	}
	if (cmdline)
		guest_config__apply_cmdline(&init->cfg, cmdline, warn_cmdline);
	free(proc);
	log_quiet = init->cfg.quiet;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thaw-init [--config FILE] [--cmdline 'thaw.KEY=VALUE ...'] [--check]\n"
		"       thaw-init --version\n"
		"As PID 1 it reads %s and /proc/cmdline; see\n"
		"Documentation/admin-guide/functions.rst.  --check: read the\n"
		"settings, say what is wrong with them and exit (1 if anything).\n",
		GUEST_CONFIG_PATH);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "cmdline", required_argument, NULL, 'k' },
		{ "check", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	const char *config = GUEST_CONFIG_PATH, *cmdline = NULL;
	struct event *sigs[3] = {};
	struct init init = { .kmsg_fd = -1 };
	bool check = false;
	int opt;

	init.pid1 = getpid() == 1;
	/* The kernel passes unknown boot options to init: ignore them. */
	while (!init.pid1 &&
	       (opt = getopt_long(argc, argv, "c:k:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			cmdline = optarg;
			break;
		case 'C':
			check = true;
			log_plain = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("thaw-init %s\n", THAW_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}

	guest_config__init(&init.cfg);
	if (init.pid1 && system__setup(&init))
		fatal(&init);
	if (check) {
		int bad = access(config, R_OK);

		if (bad)
			init__err("%s: %m", config);
		else
			bad = load_config(&init, config, cmdline) ||
				cmdline_warnings;
		guest_config__free(&init.cfg);
		return bad ? 1 : 0;
	}
	if (load_config(&init, config, cmdline))
		fatal(&init);
	if (init.pid1 && system__mount_disks(&init))
		fatal(&init);
	init.memory_mb = init.cfg.memory_size ?: system__memory_mb();
	signal(SIGPIPE, SIG_IGN);

	init.base = event_base_new();
	if (!init.base)
		fatal(&init);
	sigs[0] = evsignal_new(init.base, SIGCHLD, sigchld_cb, &init);
	sigs[1] = evsignal_new(init.base, SIGTERM, shutdown_cb, &init);
	sigs[2] = evsignal_new(init.base, SIGINT, shutdown_cb, &init);
	for (int i = 0; i < 3; i++)
		if (!sigs[i] || event_add(sigs[i], NULL))
			fatal(&init);
	if (runtime__init(&init) || runtime_api__start(&init) ||
	    generation__start(&init) || bridge__start(&init))
		fatal(&init);
	if (init.pid1)
		system__boot_done();
	init__log(&init, "up: Runtime API on 127.0.0.1:%u, invocations on vsock port %u, %u MiB",
		  init.cfg.api_port, init.cfg.invoke_port, init.memory_mb);
	runtime__start(&init);

	event_base_dispatch(init.base);

	/* Only a non-PID-1 thaw-init gets here. */
	bridge__free(&init);
	generation__free(&init);
	runtime_api__free(&init);
	runtime__free(&init);
	for (int i = 0; i < 3; i++)
		event_free(sigs[i]);
	event_base_free(init.base);
	guest_config__free(&init.cfg);
	return 0;
}
