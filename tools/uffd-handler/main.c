// SPDX-License-Identifier: GPL-2.0
/*
 * thaw-uffd-handler SOCKET MEMFILE [--wset FILE] [--record FILE] [--once]
 *                   [--max-vms N] [--handshake-ms MS]
 *
 * The page-fault handler of the Uffd memory backend (Firecracker's
 * protocol): listens on SOCKET; each VMM that connects sends its regions
 * and its userfaultfd, and from then on its page faults are served from
 * MEMFILE (UFFDIO_COPY; holes with UFFDIO_ZEROPAGE).  One process serves
 * many VMs, one thread each: clones of one snapshot share the handler,
 * its memory-file mapping and so the page cache.
 *
 *   --wset FILE     prefetch this working set into every VM, in touch
 *                   order, before serving its faults
 *   --record FILE   record the first VM's working set (prefetched pages,
 *                   then faults, in order) to FILE when that VM ends, on
 *                   SIGUSR1, and at exit
 *   --once          exit after the first VM's session (tests, benches)
 *
 * Counts go to stdout, one line per VM and a total at exit, as key=value
 * pairs; diagnostics go to stderr.  SIGINT/SIGTERM end every session and
 * exit.  Exit status: 0; 1 on a setup error, or with --once when that
 * VM's session was refused or failed; 2 on bad arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "thaw-version.h"
#include "lib/wset.h"
#include "tools/uffd-handler/handler.h"

#define DEFAULT_MAX_VMS		64
#define DEFAULT_HANDSHAKE_MS	5000

struct conn_arg {
	struct handler *h;
	int conn;
	unsigned int id;
};

static pthread_mutex_t active_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t active_cond = PTHREAD_COND_INITIALIZER;
static unsigned int active;		/* sessions running */
static unsigned int finished;		/* sessions that ended */
static int first_status = -1;		/* --once: the first session's */
static int done_fd = -1;		/* eventfd: a session ended */

static void usage(void)
{
	fprintf(stderr,
		"usage: thaw-uffd-handler SOCKET MEMFILE [--wset FILE] [--record FILE]\n"
		"                         [--once] [--max-vms N] [--handshake-ms MS]\n"
		"       thaw-uffd-handler --version\n");
	exit(2);
}

static void print_stats(const char *what, const struct vm_stats *st)
{
	printf("thaw-uffd-handler: %s faults=%llu pages_copied=%llu zero_pages=%llu prefetched=%llu removed=%llu already_present=%llu retries=%llu\n",
	       what, (unsigned long long)st->faults,
	       (unsigned long long)st->pages_copied,
	       (unsigned long long)st->zero_pages,
	       (unsigned long long)st->prefetched,
	       (unsigned long long)st->removed,
	       (unsigned long long)st->already_present,
	       (unsigned long long)st->retries);
	fflush(stdout);
}

static int handler__write_record(struct handler *h)
{
	char err[512];
	int ret = 0;

	pthread_mutex_lock(&h->lock);
	if (h->record) {
		ret = wset__write(h->record, h->record_path, err, sizeof(err));
		if (ret)
			fprintf(stderr, "thaw-uffd-handler: recording: %s\n",
				err);
		else
			fprintf(stderr, "thaw-uffd-handler: recorded %zu pages to %s\n",
				wset__count(h->record), h->record_path);
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

static void *conn_thread(void *p)
{
	struct conn_arg *a = p;
	struct handler *h = a->h;
	struct session_result res;
	char what[96];
	int ok;

	serve__session(h, a->conn, a->id, &res);
	ok = res.end != END_REFUSED && res.end != END_ERROR;
	if (res.end != END_REFUSED) {
		snprintf(what, sizeof(what), "vm %u pid=%d end=\"%s\"", a->id,
			 (int)res.pid, serve__end_name(res.end));
		print_stats(what, &res.st);
	}
	pthread_mutex_lock(&h->lock);
	h->totals.faults += res.st.faults;
	h->totals.pages_copied += res.st.pages_copied;
	h->totals.zero_pages += res.st.zero_pages;
	h->totals.prefetched += res.st.prefetched;
	h->totals.removed += res.st.removed;
	h->totals.already_present += res.st.already_present;
	h->totals.retries += res.st.retries;
	if (res.end != END_REFUSED)
		h->vms++;
	pthread_mutex_unlock(&h->lock);
	if (res.recorded)
		handler__write_record(h);

	pthread_mutex_lock(&active_lock);
	if (first_status < 0)
		first_status = ok ? 0 : 1;
	finished++;
	active--;
	pthread_cond_broadcast(&active_cond);
	pthread_mutex_unlock(&active_lock);
	eventfd_write(done_fd, 1);
	free(a);
	return NULL;
}

/* Map the memory file and note which 4 KiB pages are not holes. */
static int open_memfile(const char *path, struct memsrc *m)
{
	struct stat st;
	off_t pos = 0;

	m->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (m->fd < 0 || fstat(m->fd, &st)) {
		fprintf(stderr, "thaw-uffd-handler: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || !st.st_size || st.st_size % 4096) {
		fprintf(stderr, "thaw-uffd-handler: %s: not a memory file (a regular file, a non-zero multiple of 4096 bytes)\n",
			path);
		return -1;
	}
	m->size = (uint64_t)st.st_size;
	m->map = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, m->fd, 0);
	m->data = calloc((m->size / 4096 + 63) / 64, sizeof(uint64_t));
	if (m->map == MAP_FAILED || !m->data) {
		fprintf(stderr, "thaw-uffd-handler: %s: cannot map: %s\n",
			path, strerror(errno));
		return -1;
	}
	for (;;) {
		off_t d = lseek(m->fd, pos, SEEK_DATA), hole;

		if (d < 0 && errno == ENXIO)
			break;
		hole = d < 0 ? (off_t)m->size : lseek(m->fd, d, SEEK_HOLE);
		if (d < 0 || hole < 0) {	/* no SEEK_DATA: all data */
			d = 0;
			hole = (off_t)m->size;
		}
		for (uint64_t p = (uint64_t)d / 4096;
		     p < ((uint64_t)hole + 4095) / 4096; p++)
			m->data[p / 64] |= 1ull << (p % 64);
		if ((uint64_t)hole >= m->size)
			break;
		pos = hole;
	}
	return 0;
}

/*
 * Listen on @path.  The socket is bound under a temporary name and renamed
 * into place once it listens: whoever sees @path can connect.
 */
static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char tmp[sizeof(sa.sun_path)];
	struct stat st;
	mode_t old;
	int fd, ret;

	ret = snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	if (ret < 0 || (size_t)ret >= sizeof(tmp)) {
		fprintf(stderr, "thaw-uffd-handler: socket path too long: %s\n",
			path);
		return -1;
	}
	if (!lstat(path, &st) && !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "thaw-uffd-handler: %s exists and is not a socket\n",
			path);
		return -1;
	}
	strcpy(sa.sun_path, tmp);
	unlink(tmp);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	old = umask(0077);		/* only our user may connect */
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret)
		goto fail;
	/* rename() replaces a stale socket left by an earlier handler. */
	if (listen(fd, 64) || rename(tmp, path)) {
		unlink(tmp);
		goto fail;
	}
	return fd;
fail:
	fprintf(stderr, "thaw-uffd-handler: %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int start_session(struct handler *h, int conn, unsigned int id,
			 unsigned int max_vms)
{
	struct conn_arg *a;
	pthread_attr_t attr;
	pthread_t t;
	int ret;

	pthread_mutex_lock(&active_lock);
	if (active >= max_vms) {
		pthread_mutex_unlock(&active_lock);
		fprintf(stderr, "thaw-uffd-handler: vm %u: refused: already serving %u VMs\n",
			id, max_vms);
		close(conn);
		return 0;
	}
	active++;
	pthread_mutex_unlock(&active_lock);
	a = malloc(sizeof(*a));
	if (!a) {
		ret = ENOMEM;
		goto fail;
	}
	a->h = h;
	a->conn = conn;
	a->id = id;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&t, &attr, conn_thread, a);
	pthread_attr_destroy(&attr);
	if (!ret)
		return 0;
	free(a);
fail:
	fprintf(stderr, "thaw-uffd-handler: vm %u: cannot start: %s\n", id,
		strerror(ret));
	close(conn);
	pthread_mutex_lock(&active_lock);
	active--;
	pthread_mutex_unlock(&active_lock);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "wset", required_argument, NULL, 'w' },
		{ "record", required_argument, NULL, 'r' },
		{ "once", no_argument, NULL, '1' },
		{ "max-vms", required_argument, NULL, 'm' },
		{ "handshake-ms", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct handler h = { .handshake_ms = DEFAULT_HANDSHAKE_MS,
			     .stop_fd = -1 };
	const char *sock_path, *mem_path, *wset_path = NULL;
	unsigned int max_vms = DEFAULT_MAX_VMS, next_id = 1;
	struct wset *prefetch = NULL;
	bool once = false, stopping = false;
	int lfd = -1, sfd = -1, c, status = 1;
	char err[512];
	sigset_t sigs;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'w':
			wset_path = optarg;
			break;
		case 'r':
			h.record_path = optarg;
			break;
		case '1':
			once = true;
			break;
		case 'V':
			printf("thaw-uffd-handler %s\n", THAW_VERSION);
			return 0;
		case 'm':
		case 't': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || !v || v > 100000)
				usage();
			if (c == 'm')
				max_vms = (unsigned int)v;
			else
				h.handshake_ms = (int)v;
			break;
		}
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	sock_path = argv[optind];
	mem_path = argv[optind + 1];

	pthread_mutex_init(&h.lock, NULL);
	if (open_memfile(mem_path, &h.mem))
		return 1;
	if (wset_path) {
		if (wset__read(wset_path, h.mem.size, &prefetch, err,
			       sizeof(err))) {
			fprintf(stderr, "thaw-uffd-handler: working set: %s\n",
				err);
			return 1;
		}
		h.prefetch = prefetch;
	}

	/* Signals arrive through a signalfd; every thread blocks them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	h.stop_fd = eventfd(0, EFD_CLOEXEC);
	done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sfd < 0 || h.stop_fd < 0 || done_fd < 0) {
		perror("thaw-uffd-handler: signalfd/eventfd");
		goto out;
	}
	lfd = listen_on(sock_path);
	if (lfd < 0)
		goto out;
	fprintf(stderr, "thaw-uffd-handler: serving %s (%llu MiB) on %s%s%s\n",
		mem_path, (unsigned long long)(h.mem.size >> 20), sock_path,
		prefetch ? ", prefetching " : "", prefetch ? wset_path : "");

	while (!stopping) {
		struct pollfd p[3] = {
			{ .fd = lfd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = done_fd, .events = POLLIN },
		};

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("thaw-uffd-handler: poll");
			break;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGUSR1)
					handler__write_record(&h);
				else
					stopping = true;
			}
		}
		if (p[2].revents & POLLIN) {
			eventfd_t v;

			eventfd_read(done_fd, &v);
			pthread_mutex_lock(&active_lock);
			if (once && finished)
				stopping = true;
			pthread_mutex_unlock(&active_lock);
		}
		if ((p[0].revents & POLLIN) && !stopping &&
		    !(once && next_id > 1)) {
			int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (conn >= 0) {
				start_session(&h, conn, next_id++, max_vms);
			} else if (errno != EAGAIN && errno != EINTR &&
				   errno != ECONNABORTED) {
				/* EMFILE and the like: do not spin. */
				perror("thaw-uffd-handler: accept");
				usleep(100000);
			}
		}
	}
	status = 0;

out:
	if (h.stop_fd >= 0)
		eventfd_write(h.stop_fd, 1);
	pthread_mutex_lock(&active_lock);
	while (active)
		pthread_cond_wait(&active_cond, &active_lock);
	if (once && first_status > 0)
		status = first_status;
	pthread_mutex_unlock(&active_lock);
	if (h.record_path)
		handler__write_record(&h);
	if (lfd >= 0) {
		close(lfd);
		unlink(sock_path);
	}
	if (!status || once) {
		char what[32];

		snprintf(what, sizeof(what), "total vms=%u", h.vms);
		print_stats(what, &h.totals);
	}
	wset__free(prefetch);
	pthread_mutex_lock(&h.lock);
	wset__free(h.record);
	pthread_mutex_unlock(&h.lock);
	if (h.mem.map && h.mem.map != MAP_FAILED)
		munmap((void *)h.mem.map, h.mem.size);
	free(h.mem.data);
	if (h.mem.fd >= 0)
		close(h.mem.fd);
	if (sfd >= 0)
		close(sfd);
	if (h.stop_fd >= 0)
		close(h.stop_fd);
	if (done_fd >= 0)
		close(done_fd);
	return status;
}
