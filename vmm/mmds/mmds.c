// SPDX-License-Identifier: GPL-2.0
/*
 * MMDS on libslirp and libmicrohttpd: see mmds.h.  Lock order: a net
 * interface's vm->lock, then an mmds_if's @lock; the MMDS thread takes
 * @lock alone, and the device loop (deliver) takes vm->lock first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <slirp/libslirp.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/unix-sock.h"
#include "vmm/config.h"
#include "vmm/kvm.h"
#include "vmm/mmds/frame.h"
#include "vmm/mmds/http.h"
#include "vmm/mmds/mmds.h"
#include "vmm/mmds/store.h"
#include "vmm/mmds/token.h"
#include "vmm/seccomp.h"
#include "vmm/uring.h"
#include "vmm/util.h"
#include "vmm/virtio/net.h"
#include "vmm/virtio/queue.h"

#define MMDS_PORT		80
/* Descriptors polled at once: libslirp's sockets beyond are left a turn. */
#define MMDS_MAX_POLLFDS	256
/* A request body (the guest's PUT and GET need none). */
#define MMDS_MAX_BODY		4096
/* Every interface's connections, and room to spare. */
#define MMDS_CONNECTIONS	(2 * MMDS_CONNS * VM_MAX_NET_IFACES)
/*
 * libslirp gives up a handshake the guest does not finish after 75 s
 * (TCPTV_KEEP_INIT): a SYN it took counts as a connection until then.
 */
#define MMDS_HANDSHAKE_NS	(80 * 1000000000ULL)

struct frame {
	size_t len;
	uint8_t data[];
};

struct timer {
	struct timer *next;
	SlirpTimerId id;
	void *cb_opaque;
	int64_t expire_ms;
	bool armed;
};

struct mmds;

struct mmds_if {
	struct mmds *m;
	char iface_id[VM_NET_ID_MAX];
	Slirp *slirp;
	void (*deliver)(void *arg);
	void *arg;
	struct uring_work work;
	pthread_mutex_t lock;		/* the two queues */
	struct frame *in[MMDS_IN_FRAMES];
	unsigned int in_head, in_len;
	size_t in_bytes;
	struct frame *out[MMDS_OUT_FRAMES];
	unsigned int out_head, out_len;
	/* The MMDS thread's alone. */
	bool out_new;
	unsigned int conns;		/* libslirp's sockets: connections */
	unsigned int nsyn;		/* handshakes under way, oldest first */
	uint64_t syn_ns[MMDS_CONNS];
	bool told;
	uint8_t mac[6];
	uint32_t ip;
	struct timer *timers;
};

struct mmds {
	struct kvm *kvm;
	struct vm_mmds_config cfg;
	struct mmds_tokens tokens;	/* the MMDS thread's */
	struct mmds_http http;
	char dir[PATH_MAX];
	char sock[PATH_MAX];
	struct unix_sock_id sock_id;
	int listen_fd;
	int wake_fd;
	struct MHD_Daemon *daemon;
	int epoll_fd;
	unsigned int nr_ifs;
	struct mmds_if *ifs[VM_MAX_NET_IFACES];
	pthread_t thread;
	bool started;
	bool stop;			/* __atomic */
	bool forget;			/* __atomic: clear the tokens */
	struct pollfd pfds[MMDS_MAX_POLLFDS];
	unsigned int npfds;
};

/* The machine's MMDS; the control plane's (net__init, net__exit). */
static struct mmds *the;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* --- libslirp's callbacks (the MMDS thread, or a setup/teardown). */

static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
	struct mmds_if *mi = opaque;
	struct frame *f;

	if (len > NET_MAX_FRAME)
		return len;
	f = malloc(sizeof(*f) + NET_HDR_LEN + len);
	if (!f)
		return len;		/* TCP sends it again */
	f->len = NET_HDR_LEN + len;
	memset(f->data, 0, NET_HDR_LEN);
	memcpy(f->data + NET_HDR_LEN, buf, len);
	pthread_mutex_lock(&mi->lock);
	if (mi->out_len == MMDS_OUT_FRAMES) {
		free(f);
	} else {
		mi->out[(mi->out_head + mi->out_len) % MMDS_OUT_FRAMES] = f;
		mi->out_len++;
		mi->out_new = true;
	}
	pthread_mutex_unlock(&mi->lock);
	return len;
}

static void guest_error(const char *msg, void *opaque)
{
	struct mmds_if *mi = opaque;

	pr_warn("mmds %s: %s", mi->iface_id, msg);
}

static int64_t clock_get_ns(void *opaque)
{
	return now_ns();
}

static void *timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct mmds_if *mi = opaque;
	struct timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->id = id;
	t->cb_opaque = cb_opaque;
	t->next = mi->timers;
	mi->timers = t;
	return t;
}

static void timer_free(void *timer, void *opaque)
{
	struct mmds_if *mi = opaque;
	struct timer **p;

	for (p = &mi->timers; *p; p = &(*p)->next)
		if (*p == timer) {
			*p = ((struct timer *)timer)->next;
			free(timer);
			return;
		}
}

static void timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct timer *t = timer;

	if (!t)
		return;
	t->expire_ms = expire_ms;
	t->armed = true;
}

/* libslirp registers every socket it opens: the HTTP connections. */
static void register_poll_fd(int fd, void *opaque)
{
	struct mmds_if *mi = opaque;

	mi->conns++;
	/* A handshake done: libslirp connects when the guest ACKs. */
	if (mi->nsyn)
		memmove(mi->syn_ns, mi->syn_ns + 1,
			--mi->nsyn * sizeof(mi->syn_ns[0]));
}

/*
 * May a new connection start?  Those open and those whose SYN libslirp
 * took stay under MMDS_CONNS, so its blocking connect() to the HTTP
 * socket never waits: the server's limits are above them.
 */
static bool syn_ok(struct mmds_if *mi)
{
	uint64_t now = now_ns();
	unsigned int old = 0;

	while (old < mi->nsyn && mi->syn_ns[old] + MMDS_HANDSHAKE_NS <= now)
		old++;
	if (old) {
		mi->nsyn -= old;
		memmove(mi->syn_ns, mi->syn_ns + old,
			mi->nsyn * sizeof(mi->syn_ns[0]));
	}
	if (mi->conns + mi->nsyn >= MMDS_CONNS)
		return false;
	mi->syn_ns[mi->nsyn++] = now;
	return true;
}

static void unregister_poll_fd(int fd, void *opaque)
{
	struct mmds_if *mi = opaque;

	if (mi->conns)
		mi->conns--;
}

static void notify_nop(void *opaque)
{
}

static const SlirpCb slirp_cb = {
	.send_packet = send_packet,
	.guest_error = guest_error,
	.clock_get_ns = clock_get_ns,
	.timer_free = timer_free,
	.timer_mod = timer_mod,
	.register_poll_fd = register_poll_fd,
	.unregister_poll_fd = unregister_poll_fd,
	.notify = notify_nop,
	.timer_new_opaque = timer_new_opaque,
};

static int add_poll(int fd, int events, void *opaque)
{
	struct mmds *m = opaque;
	struct pollfd *p;

	if (m->npfds == MMDS_MAX_POLLFDS)
		return -1;
	p = &m->pfds[m->npfds];
	p->fd = fd;
	p->events = (events & SLIRP_POLL_IN ? POLLIN : 0) |
		    (events & SLIRP_POLL_OUT ? POLLOUT : 0) |
		    (events & SLIRP_POLL_PRI ? POLLPRI : 0);
	p->revents = 0;
	return m->npfds++;
}

static int get_revents(int idx, void *opaque)
{
	struct mmds *m = opaque;
	short r;

	if (idx < 0 || (unsigned int)idx >= m->npfds)
		return 0;
	r = m->pfds[idx].revents;
	return (r & POLLIN ? SLIRP_POLL_IN : 0) |
	       (r & POLLOUT ? SLIRP_POLL_OUT : 0) |
	       (r & POLLPRI ? SLIRP_POLL_PRI : 0) |
	       (r & POLLERR ? SLIRP_POLL_ERR : 0) |
	       (r & POLLHUP ? SLIRP_POLL_HUP : 0);
}

/* --- The HTTP server (libmicrohttpd, run by the MMDS thread). */

struct http_req {
	size_t body;
};

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	struct mmds *m = cls;
	struct http_req *req = *req_cls;
	struct MHD_Response *resp;
	struct mmds_response rs;
	struct mmds_request rq;
	enum MHD_Result ret;

	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*req_cls = req;
		return MHD_YES;
	}
	if (*upload_size) {
		req->body += *upload_size;
		*upload_size = 0;
		return req->body > MMDS_MAX_BODY ? MHD_NO : MHD_YES;
	}
	rq = (struct mmds_request) {
		.method = method,
		.path = url,
		.accept = header(conn, "Accept"),
		.token = header(conn, "X-metadata-token"),
		.ttl = header(conn, "X-metadata-token-ttl-seconds"),
		.forwarded_for = header(conn, "X-Forwarded-For"),
	};
	mmds_http__handle(&m->http, &rq, now_ns(), &rs);
	resp = MHD_create_response_from_buffer(rs.len, rs.body ? rs.body : "",
					       MHD_RESPMEM_MUST_COPY);
	mmds_response__free(&rs);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", rs.content_type);
	if (rs.allow)
		MHD_add_response_header(resp, "Allow", rs.allow);
	ret = MHD_queue_response(conn, rs.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **req_cls, enum MHD_RequestTerminationCode toe)
{
	free(*req_cls);
	*req_cls = NULL;
}

/* --- The MMDS thread. */

/* Frames from the guest into libslirp, each after its sender's news. */
static void feed(struct mmds_if *mi)
{
	uint8_t garp[MMDS_ARP_FRAME], mac[6];
	struct frame *f;
	uint32_t ip;

	for (;;) {
		pthread_mutex_lock(&mi->lock);
		f = NULL;
		if (mi->in_len) {
			f = mi->in[mi->in_head];
			mi->in_head = (mi->in_head + 1) % MMDS_IN_FRAMES;
			mi->in_len--;
			mi->in_bytes -= f->len;
		}
		pthread_mutex_unlock(&mi->lock);
		if (!f)
			return;
		if (mmds__frame_is_syn(f->data, f->len) && !syn_ok(mi)) {
			free(f);
			continue;
		}
		/*
		 * libslirp learns a guest's MAC only from ARP, and a guest
		 * with the MMDS address in its ARP cache (a restored clone)
		 * sends none: tell it, as a gratuitous ARP would.
		 */
		if (mmds__frame_sender(f->data, f->len, mac, &ip) &&
		    (!mi->told || ip != mi->ip || memcmp(mac, mi->mac, 6))) {
			mmds__garp(garp, mac, ip);
			slirp_input(mi->slirp, garp, sizeof(garp));
			memcpy(mi->mac, mac, 6);
			mi->ip = ip;
			mi->told = true;
		}
		slirp_input(mi->slirp, f->data, f->len);
		free(f);
	}
}

static void run_timers(struct mmds_if *mi, int64_t now_ms)
{
	struct timer *t;

	for (t = mi->timers; t; t = t->next)
		if (t->armed && t->expire_ms <= now_ms) {
			t->armed = false;
			slirp_handle_timer(mi->slirp, t->id, t->cb_opaque);
			return;		/* the list may have changed */
		}
}

static int next_timeout(struct mmds *m, uint32_t slirp_ms)
{
	int64_t now_ms = now_ns() / 1000000, t = slirp_ms;
	MHD_UNSIGNED_LONG_LONG mhd;
	struct timer *tm;
	unsigned int i;

	if (slirp_ms == UINT32_MAX)
		t = 1000;
	if (MHD_get_timeout(m->daemon, &mhd) == MHD_YES && (int64_t)mhd < t)
		t = mhd;
	for (i = 0; i < m->nr_ifs; i++)
		for (tm = m->ifs[i]->timers; tm; tm = tm->next)
			if (tm->armed)
				t = tm->expire_ms <= now_ms ? 0 :
				    (tm->expire_ms - now_ms < t ?
				     tm->expire_ms - now_ms : t);
	return t;
}

static void *thread_fn(void *arg)
{
	struct mmds *m = arg;
	uint32_t timeout;
	unsigned int i;
	uint64_t v;
	int ret;

	pthread_setname_np(pthread_self(), "mmds");
	if (!m->kvm->cfg->no_seccomp && seccomp__apply(SECCOMP_MMDS)) {
		pr_err("mmds: no seccomp filter; MMDS stops");
		return NULL;
	}
	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		m->npfds = 0;
		add_poll(m->wake_fd, SLIRP_POLL_IN, m);
		add_poll(m->epoll_fd, SLIRP_POLL_IN, m);
		timeout = UINT32_MAX;
		for (i = 0; i < m->nr_ifs; i++)
			slirp_pollfds_fill(m->ifs[i]->slirp, &timeout,
					   add_poll, m);
		ret = poll(m->pfds, m->npfds, next_timeout(m, timeout));
		if (m->pfds[0].revents & POLLIN &&
		    read(m->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			pr_warn("mmds: eventfd: %s", strerror(errno));
		for (i = 0; i < m->nr_ifs; i++) {
			struct mmds_if *mi = m->ifs[i];

			feed(mi);
			slirp_pollfds_poll(mi->slirp, ret < 0, get_revents, m);
			run_timers(mi, now_ns() / 1000000);
		}
		if (__atomic_exchange_n(&m->forget, false, __ATOMIC_ACQ_REL))
			mmds_tokens__clear(&m->tokens);
		MHD_run(m->daemon);
		for (i = 0; i < m->nr_ifs; i++) {
			struct mmds_if *mi = m->ifs[i];

			if (mi->out_new) {
				mi->out_new = false;
				uring__defer(m->kvm->loop, &mi->work);
			}
		}
	}
	return NULL;
}

/* The device loop: frames wait for the guest. */
static void deliver_work(struct uring_work *w)
{
	struct mmds_if *mi = container_of(w, struct mmds_if, work);

	mi->deliver(mi->arg);
}

/* --- Setup and teardown (the control plane). */

static void mmds_free(struct mmds *m)
{
	if (m->daemon)
		MHD_stop_daemon(m->daemon);
	if (m->listen_fd >= 0) {
		unix_sock__unlink(m->sock, &m->sock_id);
		close(m->listen_fd);
	}
	if (m->dir[0])
		rmdir(m->dir);
	if (m->wake_fd >= 0)
		close(m->wake_fd);
	free(m);
}

static int mmds_new(struct kvm *kvm, struct mmds **out, char *err,
		    size_t errlen)
{
	/* The jail (thaw-jailer) has /run, no /tmp. */
	const char *dirs[] = { getenv("TMPDIR"), "/tmp", "/run" };
	const union MHD_DaemonInfo *info;
	unsigned int i;
	struct mmds *m;
	int ret;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->kvm = kvm;
	m->cfg = kvm->cfg->mmds;
	m->listen_fd = m->wake_fd = -1;
	m->http = (struct mmds_http) {
		.store = mmds__store(),
		.tokens = &m->tokens,
		.version = m->cfg.version == 2 ? MMDS_V2 : MMDS_V1,
		.imds_compat = m->cfg.imds_compat,
	};
	/* A folder of our own: nobody else reaches the HTTP socket. */
	ret = -ENOENT;
	for (i = 0; i < ARRAY_SIZE(dirs) && ret; i++) {
		if (!dirs[i] || !*dirs[i])
			continue;
		snprintf(m->dir, sizeof(m->dir), "%s/thawvm-mmds-XXXXXX",
			 dirs[i]);
		ret = mkdtemp(m->dir) ? 0 : -errno;
	}
	if (ret) {
		err__set(err, errlen, ret,
			 "mmds: no folder for its socket in $TMPDIR, /tmp or /run: %s",
			 strerror(-ret));
		m->dir[0] = '\0';
		goto err;
	}
	if ((size_t)snprintf(m->sock, sizeof(m->sock), "%s/http.sock",
			     m->dir) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		ret = err__set(err, errlen, -ENAMETOOLONG,
			       "mmds: socket path %s is too long (set TMPDIR)",
			       m->sock);
		goto err;
	}
	ret = unix_sock__listen("mmds", m->sock, MMDS_CONNECTIONS,
				&m->sock_id, err, errlen);
	if (ret < 0)
		goto err;
	m->listen_fd = ret;
	m->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->wake_fd < 0) {
		ret = -errno;
		err__set(err, errlen, ret, "mmds: eventfd: %s", strerror(-ret));
		goto err;
	}
	m->daemon = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL,
				     on_request, m,
				     MHD_OPTION_LISTEN_SOCKET, m->listen_fd,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed,
				     m,
				     MHD_OPTION_CONNECTION_TIMEOUT, 30u,
				     MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned int)MMDS_CONNECTIONS,
				     MHD_OPTION_END);
	info = m->daemon ? MHD_get_daemon_info(m->daemon,
					       MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!info) {
		ret = err__set(err, errlen, -EIO,
			       "mmds: cannot start the HTTP server");
		goto err;
	}
	m->epoll_fd = info->epoll_fd;
	*out = m;
	return 0;
err:
	mmds_free(m);
	return ret;
}

static bool named(const struct vm_mmds_config *c, const char *iface_id)
{
	unsigned int i;

	for (i = 0; i < c->nr_ifaces; i++)
		if (!strcmp(c->ifaces[i], iface_id))
			return true;
	return false;
}

/* libslirp's own address: in the MMDS address's /16, not it. */
static struct in_addr slirp_host(uint32_t mmds_ip)
{
	struct in_addr a;

	a.s_addr = mmds_ip ^ htonl(1);
	return a;
}

int mmds__if_new(struct kvm *kvm, const char *iface_id,
		 void (*deliver)(void *arg), void *arg, struct mmds_if **out,
		 char *err, size_t errlen)
{
	const struct vm_mmds_config *c = &kvm->cfg->mmds;
	struct in_addr fwd = { .s_addr = c->ipv4 };
	struct mmds_if *mi;
	SlirpConfig sc;
	int ret;

	*out = NULL;
	if (!c->present || !named(c, iface_id))
		return 0;
	if (!the) {
		ret = mmds_new(kvm, &the, err, errlen);
		if (ret)
			return ret;
	}
	if (the->nr_ifs == VM_MAX_NET_IFACES)
		return err__set(err, errlen, -ENOSPC, "mmds: too many interfaces");
	mi = calloc(1, sizeof(*mi));
	if (!mi)
		return -ENOMEM;
	mi->m = the;
	snprintf(mi->iface_id, sizeof(mi->iface_id), "%s", iface_id);
	mi->deliver = deliver;
	mi->arg = arg;
	mi->work.fn = deliver_work;
	pthread_mutex_init(&mi->lock, NULL);
	memset(&sc, 0, sizeof(sc));
	sc.version = 4;
	sc.restricted = 1;
	sc.in_enabled = true;
	sc.vnetwork.s_addr = c->ipv4 & htonl(0xffff0000);
	sc.vnetmask.s_addr = htonl(0xffff0000);
	sc.vhost = slirp_host(c->ipv4);
	sc.in6_enabled = false;
	sc.vdhcp_start.s_addr = sc.vhost.s_addr ^ htonl(2);
	sc.disable_host_loopback = true;
	sc.disable_dns = true;
	sc.disable_dhcp = true;
	mi->slirp = slirp_new(&sc, &slirp_cb, mi);
	if (!mi->slirp) {
		ret = err__set(err, errlen, -ENOMEM,
			       "mmds %s: cannot start libslirp", iface_id);
		goto err;
	}
	if (slirp_add_unix(mi->slirp, the->sock, &fwd, MMDS_PORT)) {
		ret = err__set(err, errlen, -EINVAL,
			       "mmds %s: libslirp refuses to forward %s:%d",
			       iface_id, inet_ntoa(fwd), MMDS_PORT);
		goto err;
	}
	the->ifs[the->nr_ifs++] = mi;
	pr_info("mmds %s: version %u at %s", iface_id, c->version,
		inet_ntoa(fwd));
	*out = mi;
	return 0;
err:
	if (mi->slirp)
		slirp_cleanup(mi->slirp);
	pthread_mutex_destroy(&mi->lock);
	free(mi);
	if (!the->nr_ifs) {
		mmds_free(the);
		the = NULL;
	}
	return ret;
}

static void drop_all(struct frame **q, unsigned int *head, unsigned int *len,
		     unsigned int size)
{
	while (*len) {
		free(q[*head]);
		*head = (*head + 1) % size;
		(*len)--;
	}
}

void mmds__if_free(struct mmds_if *mi)
{
	struct mmds *m;
	unsigned int i;

	if (!mi)
		return;
	m = mi->m;
	slirp_cleanup(mi->slirp);
	while (mi->timers)
		timer_free(mi->timers, mi);
	drop_all(mi->in, &mi->in_head, &mi->in_len, MMDS_IN_FRAMES);
	drop_all(mi->out, &mi->out_head, &mi->out_len, MMDS_OUT_FRAMES);
	pthread_mutex_destroy(&mi->lock);
	for (i = 0; i < m->nr_ifs; i++)
		if (m->ifs[i] == mi) {
			m->ifs[i] = m->ifs[--m->nr_ifs];
			break;
		}
	free(mi);
	if (!m->nr_ifs) {
		mmds_free(m);
		if (the == m)
			the = NULL;
	}
}

int mmds__start(struct kvm *kvm, char *err, size_t errlen)
{
	int ret;

	if (!the || the->started)
		return 0;
	/* libmicrohttpd's Date header: the zone is read here, not there. */
	tzset();
	ret = -pthread_create(&the->thread, NULL, thread_fn, the);
	if (ret)
		return err__set(err, errlen, ret, "mmds: thread: %s",
				strerror(-ret));
	the->started = true;
	return 0;
}

void mmds__stop(void)
{
	uint64_t one = 1;

	if (!the || !the->started)
		return;
	__atomic_store_n(&the->stop, true, __ATOMIC_RELEASE);
	if (write(the->wake_fd, &one, sizeof(one)) < 0)
		pr_warn("mmds: eventfd: %s", strerror(errno));
	pthread_join(the->thread, NULL);
	the->started = false;
	the->stop = false;
}

void mmds__forget_tokens(void)
{
	uint64_t one = 1;

	if (!the)
		return;
	__atomic_store_n(&the->forget, true, __ATOMIC_RELEASE);
	if (write(the->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("mmds: eventfd: %s", strerror(errno));
}

/* --- The net device's side (its vm->lock held). */

bool mmds__if_take(struct mmds_if *mi, const uint8_t *hdr,
		   const struct iovec *iov, unsigned int n, size_t len)
{
	uint8_t peek[MMDS_FRAME_PEEK];
	size_t got = iov__to_buf(iov, n, 0, peek, sizeof(peek));
	uint16_t start, off;
	struct frame *f;
	uint64_t one = 1;

	if (!mmds__frame_for(peek, got, mi->m->cfg.ipv4))
		return false;
	f = malloc(sizeof(*f) + len);
	if (!f)
		return true;
	f->len = iov__to_buf(iov, n, 0, f->data, len);
	if (hdr[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		start = hdr[6] | hdr[7] << 8;
		off = hdr[8] | hdr[9] << 8;
		if (!mmds__csum_complete(f->data, f->len, start, off)) {
			free(f);
			return true;
		}
	}
	pthread_mutex_lock(&mi->lock);
	if (mi->in_len == MMDS_IN_FRAMES ||
	    mi->in_bytes + f->len > MMDS_IN_BYTES) {
		free(f);		/* the guest's TCP sends it again */
		f = NULL;
	} else {
		mi->in[(mi->in_head + mi->in_len) % MMDS_IN_FRAMES] = f;
		mi->in_len++;
		mi->in_bytes += f->len;
	}
	pthread_mutex_unlock(&mi->lock);
	if (f && write(mi->m->wake_fd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		pr_warn("mmds: eventfd: %s", strerror(errno));
	return true;
}

uint8_t *mmds__if_peek(struct mmds_if *mi, size_t *len)
{
	struct frame *f = NULL;

	pthread_mutex_lock(&mi->lock);
	if (mi->out_len)
		f = mi->out[mi->out_head];
	pthread_mutex_unlock(&mi->lock);
	if (!f)
		return NULL;
	*len = f->len;
	return f->data;
}

void mmds__if_pop(struct mmds_if *mi)
{
	pthread_mutex_lock(&mi->lock);
	if (mi->out_len) {
		free(mi->out[mi->out_head]);
		mi->out_head = (mi->out_head + 1) % MMDS_OUT_FRAMES;
		mi->out_len--;
	}
	pthread_mutex_unlock(&mi->lock);
}

void mmds__if_flush(struct mmds_if *mi)
{
	pthread_mutex_lock(&mi->lock);
	drop_all(mi->out, &mi->out_head, &mi->out_len, MMDS_OUT_FRAMES);
	pthread_mutex_unlock(&mi->lock);
}
