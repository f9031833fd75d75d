// SPDX-License-Identifier: GPL-2.0
/*
 * thawd: the worker-host agent (thawd.h has the map).  The main thread
 * starts the pool's reaper, the async workers and the HTTP daemons, then
 * waits for a signal: SIGTERM or SIGINT drains (no new work; running
 * invocations finish, up to their timeout; queued events stay on disk)
 * and exits.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "thaw-version.h"
#include "tools/lib/proc.h"
#include "tools/lib/util.h"
#include "tools/thawd/thawd.h"

#define DRAIN_MAX_MS	(910 * 1000)	/* the longest invocation, and some */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: thawd [--config FILE] [--check-config] [--verbose]\n"
		"       thawd function create|update|delete|show|list ...\n"
		"Serve AWS Lambda's Invoke API for the functions of the catalogue,\n"
		"on VMs restored from their snapshots (Documentation/admin-guide/thawd.rst).\n"
		"  --config FILE     the configuration (default: built-in defaults)\n"
		"  --check-config    check the configuration and the programs, and exit\n"
		"  --verbose         log every VM started and stopped\n"
		"  --version\n"
		"SIGTERM drains: no new work, running invocations finish, queued\n"
		"Event invocations stay on disk for the next start.\n");
}

static int mkdir_if(const char *path, mode_t mode)
{
	if (mkdir(path, mode) && errno != EEXIST) {
		fprintf(stderr, "thawd: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int check_programs(void)
{
	char p[PATH_MAX];
	int bad = 0;

	if (proc__find(p, sizeof(p), "thawvm", thawd.cfg.thawvm, "THAWVM")) {
		fprintf(stderr, "thawd: %s\n", p);
		bad++;
	}
	if (proc__find(p, sizeof(p), "thaw-uffd-handler",
		       thawd.cfg.uffd_handler, "THAW_UFFD_HANDLER") &&
	    !thawd.cfg.backend_auto && thawd.cfg.backend == CLONE_UFFD) {
		fprintf(stderr, "thawd: %s\n", p);
		bad++;
	}
	return bad;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *config = NULL;
	bool check = false, verbose = false;
	char err[512], path[PATH_MAX];
	sigset_t set;
	int c, sig;

	if (argc > 1 && !strcmp(argv[1], "function"))
		return thawd__function_cmd(argc - 1, argv + 1);
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'C': check = true; break;
		case 'v': verbose = true; break;
		case 'V': printf("thawd %s\n", THAW_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (config__load(&thawd.cfg, config, err, sizeof(err))) {
		fprintf(stderr, "thawd: %s\n", err);
		return 1;
	}
	if (check) {
		int bad = check_programs();

		printf("thawd: %s: %s; listen %s%s%s; state %s; run %s; max_concurrency %u; max_vms %u; %zu credentials\n",
		       config ? config : "built-in defaults",
		       bad ? "errors above" : "ok",
		       thawd.cfg.listen[0] ? thawd.cfg.listen : "-",
		       thawd.cfg.unix_socket ? ", " : "",
		       thawd.cfg.unix_socket ? thawd.cfg.unix_socket : "",
		       thawd.cfg.state_dir, thawd.cfg.run_dir,
		       thawd.cfg.max_concurrency, thawd.cfg.max_vms,
		       thawd.cfg.n_keys);
		config__free(&thawd.cfg);
		return bad ? 1 : 0;
	}
	log__set_program("thawd", verbose ? LOG_DEBUG : LOG_INFO);
	if (check_programs())
		return 1;
	snprintf(path, sizeof(path), "%s/logs", thawd.cfg.state_dir);
	if (mkdir_if(thawd.cfg.state_dir, 0750) || mkdir_if(path, 0750) ||
	    mkdir_if(thawd.cfg.run_dir, 0750))
		return 1;

	/* Every thread after this one has these blocked; main waits. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	thawd.started_ms = util__now_ms();

	if (pool__start()) {
		fprintf(stderr, "thawd: cannot start the pool\n");
		return 1;
	}
	if (queue__start(err, sizeof(err)) || http__start(err, sizeof(err))) {
		fprintf(stderr, "thawd: %s\n", err);
		pool__stop_all();
		return 1;
	}
	pr_info("serving the Invoke API on %s%s%s (backend %s, state %s)",
		thawd.cfg.listen[0] ? thawd.cfg.listen : "",
		thawd.cfg.unix_socket ? " and " : "",
		thawd.cfg.unix_socket ? thawd.cfg.unix_socket : "",
		thawd.cfg.backend_auto ?
		(thawd.have_thaw ? "Thaw (auto)" : "File (auto)") :
		clone__backend_name(thawd.cfg.backend), thawd.cfg.state_dir);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	pr_info("draining: %u invocations running", thawd.running);
	pthread_mutex_lock(&thawd.lock);
	thawd.draining = true;
	pthread_cond_broadcast(&thawd.changed);
	pthread_mutex_unlock(&thawd.lock);
	http__quiesce();
	if (!pool__wait_idle(DRAIN_MAX_MS))
		pr_warn("drain: invocations still running after %d s",
			DRAIN_MAX_MS / 1000);
	queue__stop();
	http__stop();
	pool__stop_all();
	pr_info("stopped");
	config__free(&thawd.cfg);
	return 0;
}
