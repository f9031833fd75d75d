// SPDX-License-Identifier: GPL-2.0
/* thawvm: command line, the API server and the machine's lifetime. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/api.h"
#include "thaw-version.h"
#include "vmm/exit.h"
#include "vmm/seccomp.h"
#include "vmm/vmm.h"

#define CONFIG_FILE_MAX	(1 << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thawvm [--api-sock PATH] [--config-file FILE] [--no-api]\n"
		"              [--id ID] [--level LEVEL] [--no-seccomp] [--version]\n"
		"              [--start-time-us US] [--start-time-cpu-us US]\n"
		"  --api-sock PATH     serve the HTTP API on this Unix socket\n"
		"                      (default /run/thawvm.socket)\n"
		"  --config-file FILE  configure from FILE (Firecracker's schema)\n"
		"                      and start the VM at once\n"
		"  --no-api            no API socket (needs --config-file)\n"
		"  --id ID             instance id, reported by GET /\n"
		"  --level LEVEL       log level: Error, Warning, Info, Debug\n"
		"  --no-seccomp        no seccomp filter on any thread\n"
		"  --start-time-us US, --start-time-cpu-us US\n"
		"                      when a jailer began, on CLOCK_MONOTONIC, and\n"
		"                      the CPU time it used (logged)\n"
		"  --seccomp-filter    refused: thawvm builds each thread's filter\n"
		"Exit status: 0 guest powered off, 1 error, 2 bad arguments or\n"
		"configuration, 3 guest reset, 4 guest crashed (triple fault).\n");
}

static char *read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > CONFIG_FILE_MAX) {
		close(fd);
		errno = st.st_size > CONFIG_FILE_MAX ? EFBIG : EINVAL;
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return NULL;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

static int parse_us(const char *s, unsigned long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/* CLOCK_MONOTONIC, as the jailer's --start-time-us is. */
static unsigned long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000 +
	       (unsigned long long)ts.tv_nsec / 1000;
}

struct sig_ctx {
	sigset_t set;
	pthread_mutex_t lock;
	struct vmm *vmm;	/* protected by @lock; NULL once freed */
	bool no_seccomp;
};

/* SIGINT/SIGTERM/SIGHUP: stop the VM and exit through the normal path. */
static void *signal_thread(void *arg)
{
	struct sig_ctx *sc = arg;
	int sig;

	pthread_setname_np(pthread_self(), "signals");
	if (!sc->no_seccomp && seccomp__apply(SECCOMP_SIGNALS))
		exit(VMM_EXIT_ERROR);
	for (;;) {
		if (sigwait(&sc->set, &sig))
			continue;
		pr_warn("signal %d: stopping the VM", sig);
		pthread_mutex_lock(&sc->lock);
		if (sc->vmm)
			vmm__stop(sc->vmm);
		pthread_mutex_unlock(&sc->lock);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-sock", required_argument, NULL, 'a' },
		{ "config-file", required_argument, NULL, 'c' },
		{ "no-api", no_argument, NULL, 'n' },
		{ "id", required_argument, NULL, 'i' },
		{ "level", required_argument, NULL, 'l' },
		{ "no-seccomp", no_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ "start-time-us", required_argument, NULL, 'T' },
		{ "start-time-cpu-us", required_argument, NULL, 'C' },
		{ "seccomp-filter", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *api_sock = "/run/thawvm.socket", *config_file = NULL;
	const char *id = "anonymous-instance";
	struct vm_config cfg;
	struct api *api = NULL;
	/*
	 * Static: the detached signal thread outlives main(), and a second
	 * SIGTERM while exit() runs must not find its lock on a dead stack
	 * (seen: a GP fault in pthread_mutex_lock at shutdown).
	 */
	static struct sig_ctx sc;
	struct vmm *vmm;
	pthread_t sig_thread;
	unsigned long long start_us = 0, start_cpu_us = 0;
	bool no_api = false, no_seccomp = false;
	char err[512] = "";
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			api_sock = optarg;
			break;
		case 'c':
			config_file = optarg;
			break;
		case 'n':
			no_api = true;
			break;
		case 'i':
			id = optarg;
			break;
		case 'l': {
			struct log_config lc = { .level = optarg };

			if (log__configure(&lc, err, sizeof(err))) {
				fprintf(stderr, "thawvm: %s\n", err);
				return VMM_EXIT_BAD_ARGS;
			}
			break;
		}
		case 's':
			no_seccomp = true;
			break;
		case 'T':
		case 'C':
			if (parse_us(optarg, c == 'T' ? &start_us :
				     &start_cpu_us)) {
				fprintf(stderr, "thawvm: --%s '%s': microseconds\n",
					c == 'T' ? "start-time-us" :
					"start-time-cpu-us", optarg);
				return VMM_EXIT_BAD_ARGS;
			}
			break;
		case 'F':
			/* Each thread's filter is built in (vmm/seccomp.c). */
			fprintf(stderr,
				"thawvm: --seccomp-filter is not supported: thawvm builds its own filter for each thread (--no-seccomp turns them off)\n");
			return VMM_EXIT_BAD_ARGS;
		case 'V':
			printf("thawvm %s\n", THAW_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return VMM_EXIT_BAD_ARGS;
		}
	}
	if (optind < argc || (no_api && !config_file)) {
		fprintf(stderr, "thawvm: %s\n", optind < argc ?
			"unexpected arguments" : "--no-api needs --config-file");
		usage(stderr);
		return VMM_EXIT_BAD_ARGS;
	}

	if (start_us)
		pr_info("started by a jailer: %llu us after it began, which used %llu us of CPU",
			now_us() - start_us, start_cpu_us);

	vm_config__init(&cfg);
	cfg.no_seccomp = no_seccomp;
	if (config_file) {
		size_t len;
		char *text = read_file(config_file, &len);

		if (!text) {
			fprintf(stderr, "thawvm: cannot read %s: %s\n",
				config_file, strerror(errno));
			return VMM_EXIT_BAD_ARGS;
		}
		rc = vm_config__parse_file(&cfg, text, len, err, sizeof(err));
		free(text);
		if (rc) {
			fprintf(stderr, "thawvm: %s: %s\n", config_file, err);
			vm_config__free(&cfg);
			return VMM_EXIT_BAD_ARGS;
		}
		if (cfg.logger.present &&
		    log__configure(&cfg.logger, err, sizeof(err))) {
			fprintf(stderr, "thawvm: %s\n", err);
			vm_config__free(&cfg);
			return VMM_EXIT_BAD_ARGS;
		}
	}

	/* Every thread created from here on inherits the blocked set. */
	sigemptyset(&sc.set);
	sigaddset(&sc.set, SIGINT);
	sigaddset(&sc.set, SIGTERM);
	sigaddset(&sc.set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sc.set, NULL);
	signal(SIGPIPE, SIG_IGN);

	vmm = vmm__new();
	if (!vmm) {
		fprintf(stderr, "thawvm: %s\n", strerror(errno));
		vm_config__free(&cfg);
		return VMM_EXIT_ERROR;
	}
	pthread_mutex_init(&sc.lock, NULL);
	sc.vmm = vmm;
	sc.no_seccomp = no_seccomp;
	/*
	 * Start-up is over (the configuration read, the device loop's ring
	 * made): the control plane's filter, before any thread exists, so
	 * that every thread runs under it (vmm/seccomp.h).
	 */
	if (no_seccomp) {
		vmm__no_seccomp(vmm);
	} else if (seccomp__init() || seccomp__apply(SECCOMP_CONTROL)) {
		rc = VMM_EXIT_ERROR;
		goto out;
	}
	if (pthread_create(&sig_thread, NULL, signal_thread, &sc)) {
		rc = VMM_EXIT_ERROR;
		goto out;
	}
	pthread_detach(sig_thread);

	if (!no_api) {
		rc = api__start(&api, api_sock, id, vmm, &cfg,
				config_file != NULL);
		if (rc) {
			fprintf(stderr, "thawvm: cannot serve the API on %s: %s\n",
				api_sock, strerror(-rc));
			rc = VMM_EXIT_ERROR;
			goto out;
		}
	}
	if (config_file) {
		rc = vmm__start(vmm, &cfg, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "thawvm: cannot start the VM: %s\n",
				err[0] ? err : strerror(-rc));
			rc = VMM_EXIT_ERROR;
			goto out;
		}
	}
	rc = vmm__wait(vmm);
out:
	api__stop(api);
	pthread_mutex_lock(&sc.lock);
	sc.vmm = NULL;
	pthread_mutex_unlock(&sc.lock);
	vmm__free(vmm);
	vm_config__free(&cfg);
	return rc;
}
