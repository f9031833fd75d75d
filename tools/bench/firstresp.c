// SPDX-License-Identifier: GPL-2.0
/*
 * bench-firstresp MODE [options]: start N function VMs at once, from a
 * cold boot or from a snapshot, with thawvm or with QEMU, and time each
 * from "go" to the first response it serves.  One CSV row per VM on
 * stdout; tools/bench/restore runs the modes and makes the table.
 *
 * Every VMM process is started and its control socket is up before the
 * clock starts (a pool of ready processes, as Firecracker deployments
 * keep): "go" is, per mode,
 *
 *   thawvm-cold     PUT /actions InstanceStart (configured already)
 *   thawvm-restore  PUT /snapshot/load (File, Uffd or Thaw; --wset)
 *   thawvm-rewind   PUT /snapshot/rewind of a clone (File with
 *                   enable_rewind, or Thaw) that was loaded and answered
 *                   the invocation once already; its counters are those
 *                   of the rewind and the response only
 *   qemu-cold       QMP cont (started with -S)
 *   qemu-restore    QMP migrate-incoming of the saved state (-incoming
 *                   defer): QEMU's own snapshot restore; RAM anonymous,
 *                   every page in the stream copied in
 *   qemu-template   the same with x-ignore-shared: only device state in
 *                   the stream, RAM a private mapping of the template's
 *                   memory file (Kata's VM templating)
 *
 * and the first response is the RESULT of one invocation sent right
 * after go (a refused connection is retried: the clone is resuming).
 * qemu-snapshot is the setup step of the QEMU modes: boot, wait for
 * READY, save the state twice (plain, and x-ignore-shared).
 *
 * Then the same invocation once more, timed: a warm invocation of the
 * same VM (warm_ms; a restore's overhead is first response minus that).
 * Counters beside the times, read when the first response is in: the VMM
 * process's page faults, RSS and PSS (/proc), KVM's exits and page faults
 * for the VM (debugfs), thawvm's userspace exits (FlushMetrics) and the
 * Uffd handler's faults.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "lib/snapfile.h"
#include "lib/unix-sock.h"
#include "proto/proto.h"
#include "tools/bench/qmp.h"
#include "tools/lib/clone.h"
#include "tools/lib/invoke.h"
#include "tools/lib/proc.h"
#include "tools/lib/thawvm-api.h"
#include "tools/lib/util.h"
#include "tools/lib/vm-counts.h"
#include "tools/lib/vsock-client.h"

#define MAX_CLONES		64
#define BOOT_ARGS		"console=ttyS0 quiet panic=-1"
#define QEMU_READY_PORT_BASE	10000

enum mode {
	M_THAWVM_COLD,
	M_THAWVM_RESTORE,
	M_THAWVM_REWIND,	/* the last thawvm mode: is_thawvm() */
	M_QEMU_COLD,
	M_QEMU_SNAPSHOT,
	M_QEMU_RESTORE,
	M_QEMU_TEMPLATE,
};

static const char *const mode_names[] = {
	[M_THAWVM_COLD] = "thawvm-cold",
	[M_THAWVM_RESTORE] = "thawvm-restore",
	[M_THAWVM_REWIND] = "thawvm-rewind",
	[M_QEMU_COLD] = "qemu-cold",
	[M_QEMU_SNAPSHOT] = "qemu-snapshot",
	[M_QEMU_RESTORE] = "qemu-restore",
	[M_QEMU_TEMPLATE] = "qemu-template",
};

struct opts {
	enum mode mode;
	const char *func, *kernel, *snapdir, *state, *tstate, *tmem, *work;
	const char *payload, *qemu;
	const char *where;		/* where the memory file lives, or NULL */
	uint32_t mem_mib, clones, cid_base;
	enum clone_backend backend;
	bool wset, header;
	uint64_t timeout_ms;
};

/* One VM of the run. */
struct vm {
	unsigned int idx;
	const struct opts *o;
	pthread_barrier_t *go;
	char api[128], uds[128], qmp_path[128], console[128], log[128];
	char metrics[128];
	uint32_t cid, ready_port;
	pid_t pid;
	struct clone c;			/* thawvm */
	struct clone_opts co;
	struct qmp q;			/* QEMU */
	int lfd;			/* READY listener (cold boots) */
	int state_fd;			/* QEMU restores: the saved state */
	uint64_t t_spawn, t_up, t_go, t_loaded, t_resp;
	uint64_t warm_ns;		/* a second invocation, 0 if none */
	long long rewind_pages;		/* rewind: pages returned */
	uint64_t go_real_us, resume_us;
	struct vm_counts counts;
	struct vm_counts base;		/* rewind: before it */
	long long vmm_exits, uffd_faults, uffd_pages;
	bool ok;
	char err[512];
};

static const char *const csv_header =
	"mode,backend,wset,mem_mib,clones,idx,spawn_ms,load_ms,"
	"first_response_ms,minflt,majflt,rss_kib,pss_kib,kvm_exits,kvm_pf,"
	"vmm_exits,uffd_faults,uffd_pages,ok,kvm_pages_2m,kvm_pages_4k,"
	"warm_ms,rewind_pages,private_kib";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench-firstresp MODE [options]\n"
		"MODE: thawvm-cold, thawvm-restore, thawvm-rewind, qemu-cold,\n"
		"      qemu-snapshot, qemu-restore, qemu-template\n"
		"  --func PATH        the function initramfs (cold, QEMU modes)\n"
		"  --kernel PATH      (default $THAW_KERNEL)\n"
		"  --mem MIB          guest RAM (default 128)\n"
		"  --snapshot DIR     thawvm-restore, -rewind: the snapshot directory\n"
		"  --backend B        thawvm-restore: File, Uffd or Thaw;\n"
		"                     thawvm-rewind: File or Thaw\n"
		"  --wset             thawvm-restore: prefetch DIR/wset\n"
		"  --where LABEL      thawvm-restore: where DIR's memory file\n"
		"                     lives (huge-tmpfs, hugetlbfs): the backend\n"
		"                     column reads BACKEND@LABEL\n"
		"  --state FILE       QEMU: the saved state (plain migration)\n"
		"  --template-state FILE  QEMU: the x-ignore-shared state\n"
		"  --template-mem FILE    QEMU: the template's memory file\n"
		"  --clones N         VMs at once (default 1, at most %d)\n"
		"  --cid-base N       first vsock CID (default 100)\n"
		"  --work DIR         sockets and logs (short path)\n"
		"  --payload JSON     the invocation (default {\"bench\":IDX})\n"
		"  --timeout SEC      per VM (default 300)\n"
		"  --header           print the CSV header first\n"
		"Rows: %s\n", MAX_CLONES, csv_header);
}

static bool is_thawvm(enum mode m)
{
	return m <= M_THAWVM_REWIND;
}

static double ms(uint64_t a, uint64_t b)
{
	return b > a ? (b - a) / 1e6 : 0;
}

static uint64_t realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

static uint64_t deadline_of(const struct opts *o)
{
	return util__now_ms() + o->timeout_ms;
}

static void vm_paths(struct vm *v)
{
	const char *m = mode_names[v->o->mode];

	snprintf(v->api, sizeof(v->api), "%s/%s-%u.api", v->o->work, m, v->idx);
	snprintf(v->uds, sizeof(v->uds), "%s/%s-%u.vsock", v->o->work, m,
		 v->idx);
	snprintf(v->qmp_path, sizeof(v->qmp_path), "%s/%s-%u.qmp", v->o->work,
		 m, v->idx);
	snprintf(v->console, sizeof(v->console), "%s/%s-%u.console",
		 v->o->work, m, v->idx);
	snprintf(v->log, sizeof(v->log), "%s/%s-%u.log", v->o->work, m, v->idx);
	snprintf(v->metrics, sizeof(v->metrics), "%s/%s-%u.metrics",
		 v->o->work, m, v->idx);
}

/* --- thawvm ------------------------------------------------------- */

static int thawvm_prepare(struct vm *v)
{
	const struct opts *o = v->o;
	struct clone_opts *co = &v->co;
	char args[512];
	int fd, ret;

	memset(co, 0, sizeof(*co));
	co->snapdir = o->snapdir ? o->snapdir : o->work;
	co->api_sock = v->api;
	co->uds = v->uds;
	co->cid = v->cid;
	co->backend = o->backend;
	co->wset = o->wset;
	co->resume = true;
	co->log = v->log;
	co->console = v->console;
	co->metrics = v->metrics;
	co->timeout_ms = o->timeout_ms;
	co->id = "bench";
	co->enable_rewind = o->mode == M_THAWVM_REWIND;
	if (o->mode == M_THAWVM_RESTORE && o->backend == CLONE_UFFD) {
		static char hsock[128];

		snprintf(hsock, sizeof(hsock), "%s/uffd.sock", o->work);
		co->uffd_sock = hsock;
		co->wset = false;	/* the shared handler prefetches */
	}
	/* The metrics file must exist for PUT /metrics. */
	fd = open(v->metrics, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	ret = clone__spawn(co, &v->c, v->err, sizeof(v->err));
	if (ret)
		return ret;
	v->pid = v->c.pid;
	v->t_spawn = v->c.t_spawn;
	v->t_up = v->c.t_api;
	if (o->mode == M_THAWVM_COLD) {
		struct boot_opts b = {
			.kernel = o->kernel, .initrd = o->func,
			.mem_mib = o->mem_mib, .vcpus = 1, .cid = v->cid,
			.uds = v->uds, .boot_args = args,
		};
		char lpath[256];

		snprintf(args, sizeof(args), "%s", BOOT_ARGS);
		v->lfd = vsock_client__listen(v->uds, THAW_READY_PORT, lpath,
					      sizeof(lpath), v->err,
					      sizeof(v->err));
		if (v->lfd < 0)
			return v->lfd;
		ret = clone__configure_boot(v->api, &b, o->timeout_ms, v->err,
					    sizeof(v->err));
		if (ret)
			return ret;
	}
	return 0;
}

static int wait_ready(struct vm *v, uint64_t deadline)
{
	struct json_object *meta = NULL;
	struct thaw_msg_hdr hdr;
	char *body = NULL;
	int fd, ret;

	for (;;) {
		fd = vsock_client__accept(v->lfd, deadline);
		if (fd < 0)
			return err__set(v->err, sizeof(v->err), fd,
					"no READY: %s", strerror(-fd));
		ret = vsock_client__recv_msg(fd, &hdr, &meta, &body, deadline,
					     v->err, sizeof(v->err));
		close(fd);
		json_object_put(meta);
		free(body);
		meta = NULL;
		body = NULL;
		if (!ret && hdr.type == THAW_MSG_READY)
			return 0;
	}
}

static long long sum_exits(const char *metrics)
{
	char line[4096], last[4096] = "";
	struct json_object *o, *vmm;
	long long sum = -1;
	FILE *f = fopen(metrics, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		memcpy(last, line, sizeof(last));
	fclose(f);
	o = json_tokener_parse(last);
	if (o && json_object_object_get_ex(o, "vmm", &vmm)) {
		sum = 0;
		json_object_object_foreach(vmm, key, val) {
			if (!strncmp(key, "exits_", 6))
				sum += json_object_get_int64(val);
		}
	}
	json_object_put(o);
	return sum;
}

static void thawvm_counters(struct vm *v)
{
	struct json_object *b = json_object_new_object();
	char err[256];

	vm_counts__read(v->pid, &v->counts);
	json_object_object_add(b, "action_type",
			       json_object_new_string("FlushMetrics"));
	if (!thawvm_api__do(v->api, "PUT", "/actions", b, 10000, err, sizeof(err)))
		v->vmm_exits = sum_exits(v->metrics);
	json_object_put(b);
}

/*
 * A rewind's counters are the rewind's and its response's only: what the
 * clone counted since its process started, less what it had counted
 * before the rewind (v->base, read then).  RSS, PSS and KVM's mappings are
 * levels: taken as they are.
 */
static void rewind_counters(struct vm *v)
{
	struct vm_counts *c = &v->counts, *b = &v->base;
	long long exits0 = v->vmm_exits;

	thawvm_counters(v);
	c->minflt -= b->minflt;
	c->majflt -= b->majflt;
	c->kvm_exits -= b->kvm_exits;
	c->kvm_pf -= b->kvm_pf;
	c->kvm_io_exits -= b->kvm_io_exits;
	c->kvm_halt_exits -= b->kvm_halt_exits;
	if (v->vmm_exits >= 0 && exits0 >= 0)
		v->vmm_exits -= exits0;
}

/* --- QEMU --------------------------------------------------------- */

static int qemu_spawn(struct vm *v, const char *mem_obj, const char *extra1,
		      const char *extra2)
{
	const struct opts *o = v->o;
	char prog[PATH_MAX], machine[160], mem[16], vsock[64], qmp[160];
	char serial[160], args[512];
	const char *argv[48];
	int n = 0, ret;

	ret = proc__find(prog, sizeof(prog), "qemu-system-x86_64", o->qemu,
			 "THAW_QEMU");
	if (ret)
		return err__set(v->err, sizeof(v->err), ret, "%s", prog);
	unix_sock__clear_stale(v->qmp_path, NULL, 0);
	snprintf(machine, sizeof(machine),
		 "microvm,acpi=on,auto-kernel-cmdline=off,memory-backend=ram");
	snprintf(mem, sizeof(mem), "%u", o->mem_mib);
	snprintf(vsock, sizeof(vsock), "vhost-vsock-device,guest-cid=%u",
		 v->cid);
	snprintf(qmp, sizeof(qmp), "unix:%s,server=on,wait=off", v->qmp_path);
	snprintf(serial, sizeof(serial), "file:%s", v->console);
	/* Each VM reports READY on a port of its own: AF_VSOCK ports on the
	 * host are shared by every VM.
	 */
	snprintf(args, sizeof(args), "%s thaw.ready_port=%u", BOOT_ARGS,
		 v->ready_port);
	argv[n++] = prog;
	argv[n++] = "-M";
	argv[n++] = machine;
	argv[n++] = "-enable-kvm";
	argv[n++] = "-cpu";
	argv[n++] = "host";
	argv[n++] = "-m";
	argv[n++] = mem;
	argv[n++] = "-smp";
	argv[n++] = "1";
	argv[n++] = "-nodefaults";
	argv[n++] = "-no-user-config";
	argv[n++] = "-display";
	argv[n++] = "none";
	argv[n++] = "-no-reboot";
	argv[n++] = "-kernel";
	argv[n++] = o->kernel;
	argv[n++] = "-initrd";
	argv[n++] = o->func;
	argv[n++] = "-append";
	argv[n++] = args;
	argv[n++] = "-serial";
	argv[n++] = serial;
	argv[n++] = "-device";
	argv[n++] = vsock;
	argv[n++] = "-qmp";
	argv[n++] = qmp;
	argv[n++] = "-object";
	argv[n++] = mem_obj;
	if (extra1)
		argv[n++] = extra1;
	if (extra2)
		argv[n++] = extra2;
	argv[n] = NULL;
	v->t_spawn = util__now_ns();
	ret = proc__spawn(argv, v->log, v->log, &v->pid, v->err,
			  sizeof(v->err));
	if (ret)
		return ret;
	ret = qmp__open(&v->q, v->qmp_path, deadline_of(o), v->err,
			sizeof(v->err));
	v->t_up = util__now_ns();
	return ret;
}

static int qemu_prepare(struct vm *v)
{
	const struct opts *o = v->o;
	char mem_obj[PATH_MAX + 128];
	const char *state;
	int ret;

	v->ready_port = QEMU_READY_PORT_BASE + v->cid;
	switch (o->mode) {
	case M_QEMU_COLD:
	case M_QEMU_RESTORE:
		snprintf(mem_obj, sizeof(mem_obj),
			 "memory-backend-ram,id=ram,size=%uM", o->mem_mib);
		break;
	case M_QEMU_TEMPLATE:
		/* Private: a clone's writes never reach the template. */
		snprintf(mem_obj, sizeof(mem_obj),
			 "memory-backend-file,id=ram,size=%uM,mem-path=%s,share=off",
			 o->mem_mib, o->tmem);
		break;
	default:
		return -EINVAL;
	}
	if (o->mode == M_QEMU_COLD) {
		v->lfd = vsock_client__listen(NULL, v->ready_port, NULL, 0,
					      v->err, sizeof(v->err));
		if (v->lfd < 0)
			return v->lfd;
		return qemu_spawn(v, mem_obj, "-S", NULL);
	}
	ret = qemu_spawn(v, mem_obj, "-incoming", "defer");
	if (ret)
		return ret;
	if (o->mode == M_QEMU_TEMPLATE) {
		ret = qmp__cmd(&v->q,
			       "{\"execute\":\"migrate-set-capabilities\",\"arguments\":{\"capabilities\":[{\"capability\":\"x-ignore-shared\",\"state\":true}]}}",
			       -1, NULL, deadline_of(o), v->err,
			       sizeof(v->err));
		if (ret)
			return ret;
	}
	state = o->mode == M_QEMU_TEMPLATE ? o->tstate : o->state;
	v->state_fd = open(state, O_RDONLY | O_CLOEXEC);
	if (v->state_fd < 0) {
		ret = -errno;
		return err__set(v->err, sizeof(v->err), ret, "%s: %s", state,
				strerror(errno));
	}
	/* QEMU keeps its own copy of the fd under the name "state". */
	ret = qmp__cmd(&v->q,
		       "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"state\"}}",
		       v->state_fd, NULL, deadline_of(o), v->err,
		       sizeof(v->err));
	close(v->state_fd);
	v->state_fd = -1;
	return ret;
}

/* --- the measured part -------------------------------------------- */

/*
 * The state was saved from a paused VM, and QEMU keeps the source's run
 * state: once the incoming migration is in, the clone is paused and needs
 * a "cont", as an orchestrator would send (part of the time measured).
 */
static int qemu_resume_loaded(struct vm *v, uint64_t deadline)
{
	struct json_object *r, *st;
	const char *status;
	int ret;

	for (;;) {
		r = NULL;
		ret = qmp__cmd(&v->q, "{\"execute\":\"query-status\"}", -1, &r,
			       deadline, v->err, sizeof(v->err));
		if (ret)
			return ret;
		status = json_object_object_get_ex(r, "status", &st) ?
			 json_object_get_string(st) : "";
		if (!strcmp(status, "running")) {
			json_object_put(r);
			return 0;
		}
		if (!strcmp(status, "paused") || !strcmp(status, "postmigrate")) {
			json_object_put(r);
			return qmp__cmd(&v->q, "{\"execute\":\"cont\"}", -1, NULL,
					deadline, v->err, sizeof(v->err));
		}
		if (strcmp(status, "inmigrate")) {
			err__set(v->err, sizeof(v->err), 0,
				 "QEMU's state after the load: %s", status);
			json_object_put(r);
			return -EIO;
		}
		json_object_put(r);
		if (util__now_ms() >= deadline)
			return err__set(v->err, sizeof(v->err), -ETIMEDOUT,
					"QEMU is still loading the state");
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
}

/* One invocation of @v; *@t_end when its response was in. */
static int invoke_once(struct vm *v, uint64_t deadline, uint64_t *t_end)
{
	const struct opts *o = v->o;
	struct vsock_target t = { .port = THAW_INVOKE_PORT };
	struct thaw_invoke inv = {};
	struct invoke_reply r;
	char payload[64];
	const char *p = o->payload;
	int ret;

	if (!p) {
		snprintf(payload, sizeof(payload), "{\"bench\":%u}", v->idx);
		p = payload;
	}
	if (is_thawvm(o->mode))
		t.uds = v->uds;
	else
		t.cid = v->cid;
	invoke__prepare(&inv, o->timeout_ms, 32, true);
	ret = invoke__call(&t, &inv, p, strlen(p),
			   deadline > util__now_ms() ?
			   deadline - util__now_ms() : 1,
			   INVOKE_RETRY_CONNECT, &r, v->err, sizeof(v->err));
	*t_end = util__now_ns();
	if (ret)
		return ret;
	if (r.res.status != THAW_STATUS_OK) {
		ret = err__set(v->err, sizeof(v->err), -EIO,
			       "the function: %s %s",
			       proto__status_name(r.res.status),
			       r.res.error_type);
	}
	invoke__reply_free(&r);
	return ret;
}

static int first_response(struct vm *v, uint64_t deadline)
{
	return invoke_once(v, deadline, &v->t_resp);
}

/*
 * The same invocation again, on the VM that has just answered it: what a
 * warm VM takes, against which a restore's overhead is measured (first
 * response minus this).
 */
static void warm_response(struct vm *v, uint64_t deadline)
{
	uint64_t t0 = util__now_ns(), t1;

	if (!invoke_once(v, deadline, &t1))
		v->warm_ns = t1 - t0;
}

/*
 * A rewind's clone is loaded and serves the invocation once, dirtying
 * what the function dirties, before the clock starts: the rewind then
 * returns that, and its first response is against the same invocation
 * warm (warm_response(), after it).
 */
static int rewind_prepare(struct vm *v)
{
	int ret;

	ret = clone__load(&v->co, &v->c, v->err, sizeof(v->err));
	if (ret) {
		v->pid = 0;
		return ret;
	}
	ret = first_response(v, deadline_of(v->o));
	if (ret)
		return ret;
	thawvm_counters(v);
	v->base = v->counts;
	return 0;
}

/*
 * A VM that took its invocation but did not answer in time: is its vCPU
 * still running guest code (KVM exits in one second), and does its
 * thaw-init still answer a probe?  Appended to @v->err, for the log.
 */
static void diagnose_timeout(struct vm *v)
{
	struct vsock_target t = { .port = THAW_INVOKE_PORT };
	struct thaw_probe probe = { .random_bytes = 0 };
	struct json_object *meta = NULL, *rmeta = NULL;
	struct vm_counts c1, c2;
	struct thaw_msg_hdr hdr;
	uint64_t deadline;
	char perr[160] = "", *body = NULL;
	size_t n;
	int fd, ret;

	vm_counts__read(v->pid, &c1);
	sleep(1);
	vm_counts__read(v->pid, &c2);
	if (is_thawvm(v->o->mode))
		t.uds = v->uds;
	else
		t.cid = v->cid;
	deadline = util__now_ms() + 5000;
	fd = vsock_client__connect(&t, deadline, perr, sizeof(perr));
	if (fd >= 0) {
		meta = proto__probe_to_meta(&probe);
		ret = meta ? vsock_client__send_msg(fd, THAW_MSG_PROBE, meta,
						    NULL, 0,
						    deadline) : -ENOMEM;
		if (!ret)
			ret = vsock_client__recv_msg(fd, &hdr, &rmeta, &body,
						     deadline, perr,
						     sizeof(perr));
		if (!ret)
			snprintf(perr, sizeof(perr), "%s",
				 json_object_to_json_string(rmeta));
		else if (!perr[0])
			snprintf(perr, sizeof(perr), "%s", strerror(-ret));
		close(fd);
	}
	n = strlen(v->err);
	snprintf(v->err + n, sizeof(v->err) - n,
		 "; then KVM exits +%lld in 1 s, probe: %s",
		 c2.kvm_exits - c1.kvm_exits, perr);
	json_object_put(meta);
	json_object_put(rmeta);
	free(body);
}

static void *vm_thread(void *arg)
{
	struct vm *v = arg;
	const struct opts *o = v->o;
	uint64_t deadline;
	int ret = 0;

	pthread_barrier_wait(v->go);
	deadline = deadline_of(o);
	v->t_go = util__now_ns();
	v->go_real_us = realtime_us();
	switch (o->mode) {
	case M_THAWVM_COLD:
		ret = clone__start_boot(v->api, o->timeout_ms, v->err,
					sizeof(v->err));
		if (!ret)
			ret = wait_ready(v, deadline);
		v->t_loaded = util__now_ns();
		break;
	case M_THAWVM_RESTORE:
		ret = clone__load(&v->co, &v->c, v->err, sizeof(v->err));
		v->t_loaded = util__now_ns();
		if (ret)
			v->pid = 0;	/* clone__load stopped it */
		break;
	case M_THAWVM_REWIND: {
		struct clone_rewind r;

		ret = clone__rewind(v->api, 0, true, o->timeout_ms, &r, v->err,
				    sizeof(v->err));
		v->t_loaded = util__now_ns();
		v->rewind_pages = r.pages;
		break;
	}
	case M_QEMU_COLD:
		ret = qmp__cmd(&v->q, "{\"execute\":\"cont\"}", -1, NULL,
			       deadline, v->err, sizeof(v->err));
		if (!ret)
			ret = wait_ready(v, deadline);
		v->t_loaded = util__now_ns();
		break;
	case M_QEMU_RESTORE:
	case M_QEMU_TEMPLATE:
		ret = qmp__cmd(&v->q,
			       "{\"execute\":\"migrate-incoming\",\"arguments\":{\"uri\":\"fd:state\"}}",
			       -1, NULL, deadline, v->err, sizeof(v->err));
		if (!ret)
			ret = qemu_resume_loaded(v, deadline);
		break;
	default:
		ret = -EINVAL;
	}
	if (!ret) {
		ret = first_response(v, deadline);
		if (ret == -ETIMEDOUT && v->pid > 0)
			diagnose_timeout(v);
	}
	if (!ret && (o->mode == M_QEMU_RESTORE ||
		     o->mode == M_QEMU_TEMPLATE)) {
		/* When the load ended: QEMU's RESUME event, stamped by QEMU. */
		if (!qmp__wait_event(&v->q, "RESUME", util__now_ms() + 5000,
				     &v->resume_us, v->err, sizeof(v->err)) &&
		    v->resume_us > v->go_real_us)
			v->t_loaded = v->t_go +
				(v->resume_us - v->go_real_us) * 1000;
	}
	v->ok = !ret;
	if (v->ok) {
		if (o->mode == M_THAWVM_REWIND)
			rewind_counters(v);
		else if (is_thawvm(o->mode))
			thawvm_counters(v);
		else
			vm_counts__read(v->pid, &v->counts);
		warm_response(v, deadline);
	}
	return NULL;
}

/* --- the Uffd handler the clones share ------------------------------ */

static pid_t start_handler(const struct opts *o, char *err, size_t errlen)
{
	char prog[PATH_MAX], sock[128], mem[PATH_MAX], wset[PATH_MAX];
	char out[PATH_MAX], maxvms[16];
	const char *argv[10];
	pid_t pid;
	int n = 0;

	if (proc__find(prog, sizeof(prog), "thaw-uffd-handler", NULL,
		       "THAW_UFFD_HANDLER"))
		return err__set(err, errlen, -1, "%s", prog);
	snprintf(sock, sizeof(sock), "%s/uffd.sock", o->work);
	unix_sock__clear_stale(sock, NULL, 0);
	util__path(mem, o->snapdir, SNAP_DIR_MEMORY);
	util__path(wset, o->snapdir, SNAP_DIR_WSET);
	util__path(out, o->work, "uffd.out");
	unlink(out);
	snprintf(maxvms, sizeof(maxvms), "%u", o->clones);
	argv[n++] = prog;
	argv[n++] = sock;
	argv[n++] = mem;
	argv[n++] = "--max-vms";
	argv[n++] = maxvms;
	if (o->wset) {
		argv[n++] = "--wset";
		argv[n++] = wset;
	}
	argv[n] = NULL;
	if (proc__spawn(argv, out, out, &pid, err, errlen))
		return -1;
	if (proc__wait_socket(sock, pid, deadline_of(o), NULL, err, errlen)) {
		proc__stop(pid, 1000);
		return -1;
	}
	return pid;
}

/* "thaw-uffd-handler: vm K pid=P end=... faults=F pages_copied=C
 * zero_pages=Z ...": the faults and pages of each clone, by pid.
 */
static void handler_counts(const struct opts *o, struct vm *vms)
{
	char out[PATH_MAX], line[512];
	FILE *f;

	util__path(out, o->work, "uffd.out");
	f = fopen(out, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long faults, copied, zero;
		char *p = strstr(line, " pid=");
		int pid;

		if (!p || sscanf(p, " pid=%d", &pid) != 1)
			continue;
		p = strstr(line, " faults=");
		if (!p || sscanf(p, " faults=%llu pages_copied=%llu zero_pages=%llu",
				 &faults, &copied, &zero) != 3)
			continue;
		for (unsigned int i = 0; i < o->clones; i++) {
			if (vms[i].c.pid == pid || vms[i].pid == pid) {
				vms[i].uffd_faults = faults;
				vms[i].uffd_pages = copied + zero;
			}
		}
	}
	fclose(f);
}

/* --- qemu-snapshot: the setup of the QEMU restore modes ------------- */

static int migrate_to(struct vm *v, const char *path, char *err,
		      size_t errlen)
{
	uint64_t deadline = deadline_of(v->o);
	struct json_object *r = NULL, *st;
	int fd, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		return err__set(err, errlen, ret, "%s: %s", path,
				strerror(errno));
	}
	ret = qmp__cmd(&v->q,
		       "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"out\"}}",
		       fd, NULL, deadline, err, errlen);
	close(fd);
	if (!ret)
		ret = qmp__cmd(&v->q,
			       "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"fd:out\"}}",
			       -1, NULL, deadline, err, errlen);
	while (!ret) {
		const char *s;

		ret = qmp__cmd(&v->q, "{\"execute\":\"query-migrate\"}", -1, &r,
			       deadline, err, errlen);
		if (ret)
			break;
		s = json_object_object_get_ex(r, "status", &st) ?
			json_object_get_string(st) : "";
		if (!strcmp(s, "completed")) {
			json_object_put(r);
			return 0;
		}
		if (!strcmp(s, "failed") || !strcmp(s, "cancelled")) {
			ret = err__set(err, errlen, -EIO, "migration to %s: %s",
				       path, json_object_to_json_string(r));
		}
		json_object_put(r);
		r = NULL;
		if (util__now_ms() >= deadline) {
			ret = err__set(err, errlen, -ETIMEDOUT,
				       "migration to %s: too slow", path);
		}
		usleep(20000);
	}
	return ret;
}

static int qemu_snapshot(const struct opts *o)
{
	struct vm v = { .o = o, .cid = o->cid_base, .lfd = -1 };
	char mem_obj[PATH_MAX + 128];
	struct stat s1, s2;
	uint64_t t_ready, t_saved, t_saved2, t_tsaved;
	int ret;

	vm_paths(&v);
	v.ready_port = QEMU_READY_PORT_BASE + v.cid;
	snprintf(mem_obj, sizeof(mem_obj),
		 "memory-backend-file,id=ram,size=%uM,mem-path=%s,share=on",
		 o->mem_mib, o->tmem);
	unlink(o->tmem);
	v.lfd = vsock_client__listen(NULL, v.ready_port, NULL, 0, v.err,
				     sizeof(v.err));
	if (v.lfd < 0)
		goto fail;
	ret = qemu_spawn(&v, mem_obj, NULL, NULL);
	if (ret)
		goto fail;
	ret = wait_ready(&v, deadline_of(o));
	t_ready = util__now_ns();
	if (ret)
		goto fail;
	ret = qmp__cmd(&v.q, "{\"execute\":\"stop\"}", -1, NULL,
		       deadline_of(o), v.err, sizeof(v.err));
	if (!ret)
		ret = migrate_to(&v, o->state, v.err, sizeof(v.err));
	t_saved = util__now_ns();
	/*
	 * QEMU migrates a VM that a migration paused only once: run it a
	 * moment (its runtime still waits in "next") and stop it again.
	 * The template's RAM file follows the guest; its state is taken
	 * at the second stop, so the two stay consistent.
	 */
	if (!ret)
		ret = qmp__cmd(&v.q, "{\"execute\":\"cont\"}", -1, NULL,
			       deadline_of(o), v.err, sizeof(v.err));
	if (!ret)
		ret = qmp__cmd(&v.q, "{\"execute\":\"stop\"}", -1, NULL,
			       deadline_of(o), v.err, sizeof(v.err));
	t_saved2 = util__now_ns();
	if (!ret)
		ret = qmp__cmd(&v.q,
			       "{\"execute\":\"migrate-set-capabilities\",\"arguments\":{\"capabilities\":[{\"capability\":\"x-ignore-shared\",\"state\":true}]}}",
			       -1, NULL, deadline_of(o), v.err,
			       sizeof(v.err));
	if (!ret)
		ret = migrate_to(&v, o->tstate, v.err, sizeof(v.err));
	t_tsaved = util__now_ns();
	if (ret)
		goto fail;
	qmp__close(&v.q);
	proc__stop(v.pid, 5000);
	close(v.lfd);
	stat(o->state, &s1);
	stat(o->tstate, &s2);
	printf("{\"boot_to_ready_ms\":%.1f,\"save_ms\":%.1f,\"state_bytes\":%lld,\"template_save_ms\":%.1f,\"template_state_bytes\":%lld}\n",
	       ms(v.t_up, t_ready), ms(t_ready, t_saved),
	       (long long)s1.st_size, ms(t_saved2, t_tsaved),
	       (long long)s2.st_size);
	return 0;
fail:
	fprintf(stderr, "bench-firstresp: qemu-snapshot: %s\n", v.err);
	qmp__close(&v.q);
	if (v.pid)
		proc__stop(v.pid, 2000);
	if (v.lfd >= 0)
		close(v.lfd);
	fprintf(stderr, "bench-firstresp: see %s and %s\n", v.console, v.log);
	return 1;
}

/* --- main ---------------------------------------------------------- */

static void print_row(const struct opts *o, const struct vm *v)
{
	const char *backend = "-";
	char where[96];

	if (o->mode == M_THAWVM_RESTORE && o->where) {
		snprintf(where, sizeof(where), "%s@%s",
			 clone__backend_name(o->backend), o->where);
		backend = where;
	} else if (o->mode == M_THAWVM_RESTORE ||
		   o->mode == M_THAWVM_REWIND) {
		backend = clone__backend_name(o->backend);
	}
	else if (o->mode == M_QEMU_RESTORE)
		backend = "migrate";
	else if (o->mode == M_QEMU_TEMPLATE)
		backend = "x-ignore-shared";
	printf("%s,%s,%d,%u,%u,%u,%.1f,%.1f,%.1f,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%d,%lld,%lld,%.1f,",
	       mode_names[o->mode], backend, o->wset, o->mem_mib, o->clones,
	       v->idx, ms(v->t_spawn, v->t_up),
	       v->ok ? ms(v->t_go, v->t_loaded) : -1,
	       v->ok ? ms(v->t_go, v->t_resp) : -1,
	       v->counts.minflt, v->counts.majflt, v->counts.rss_kib,
	       v->counts.pss_kib, v->counts.kvm_exits, v->counts.kvm_pf,
	       v->vmm_exits, v->uffd_faults, v->uffd_pages, v->ok,
	       v->counts.kvm_pages_2m, v->counts.kvm_pages_4k,
	       v->warm_ns ? v->warm_ns / 1e6 : -1);
	if (o->mode == M_THAWVM_REWIND)
		printf("%lld,", v->rewind_pages);
	else
		printf("-,");
	printf("%lld\n", v->counts.private_kib);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum {
		OPT_FUNC = 256, OPT_KERNEL, OPT_MEM, OPT_SNAP, OPT_BACKEND,
		OPT_WSET, OPT_STATE, OPT_TSTATE, OPT_TMEM, OPT_CLONES,
		OPT_CID, OPT_WORK, OPT_PAYLOAD, OPT_TIMEOUT, OPT_HEADER,
		OPT_QEMU, OPT_WHERE,
	};
	static const struct option longopts[] = {
		{ "func", required_argument, NULL, OPT_FUNC },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "snapshot", required_argument, NULL, OPT_SNAP },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "wset", no_argument, NULL, OPT_WSET },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "template-state", required_argument, NULL, OPT_TSTATE },
		{ "template-mem", required_argument, NULL, OPT_TMEM },
		{ "clones", required_argument, NULL, OPT_CLONES },
		{ "cid-base", required_argument, NULL, OPT_CID },
		{ "work", required_argument, NULL, OPT_WORK },
		{ "payload", required_argument, NULL, OPT_PAYLOAD },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "header", no_argument, NULL, OPT_HEADER },
		{ "qemu", required_argument, NULL, OPT_QEMU },
		{ "where", required_argument, NULL, OPT_WHERE },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned int i;
	int opt;

	if (argc < 2) {
		usage(stderr);
		return -EINVAL;
	}
	for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (!strcmp(argv[1], mode_names[i]))
			break;
	if (i == sizeof(mode_names) / sizeof(mode_names[0])) {
		if (strcmp(argv[1], "-h") && strcmp(argv[1], "--help"))
			fprintf(stderr, "bench-firstresp: unknown mode '%s'\n",
				argv[1]);
		usage(stderr);
		return -EINVAL;
	}
	o->mode = i;
	while ((opt = getopt_long(argc - 1, argv + 1, "h", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case OPT_FUNC:
			o->func = optarg;
			break;
		case OPT_KERNEL:
			o->kernel = optarg;
			break;
		case OPT_MEM:
			if (util__parse_u32(optarg, 16, 1 << 20, &o->mem_mib))
				goto bad;
			break;
		case OPT_SNAP:
			o->snapdir = optarg;
			break;
		case OPT_BACKEND:
			if (clone__parse_backend(optarg, &o->backend))
				goto bad;
			break;
		case OPT_WSET:
			o->wset = true;
			break;
		case OPT_WHERE:
			if (!*optarg || strpbrk(optarg, ", \n"))
				goto bad;
			o->where = optarg;
			break;
		case OPT_STATE:
			o->state = optarg;
			break;
		case OPT_TSTATE:
			o->tstate = optarg;
			break;
		case OPT_TMEM:
			o->tmem = optarg;
			break;
		case OPT_CLONES:
			if (util__parse_u32(optarg, 1, MAX_CLONES,
					       &o->clones))
				goto bad;
			break;
		case OPT_CID:
			if (util__parse_u32(optarg, 3, 1u << 30,
					       &o->cid_base))
				goto bad;
			break;
		case OPT_WORK:
			o->work = optarg;
			break;
		case OPT_PAYLOAD:
			o->payload = optarg;
			break;
		case OPT_TIMEOUT:
			if (util__parse_seconds(optarg, &o->timeout_ms))
				goto bad;
			break;
		case OPT_HEADER:
			o->header = true;
			break;
		case OPT_QEMU:
			o->qemu = optarg;
			break;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return -EINVAL;
	}
	if (!o->kernel)
		o->kernel = getenv("THAW_KERNEL");
	if (!o->work) {
		fprintf(stderr, "bench-firstresp: --work DIR is required\n");
		return -EINVAL;
	}
	switch (o->mode) {
	case M_THAWVM_REWIND:
		if (o->backend == CLONE_UFFD) {
			fprintf(stderr, "bench-firstresp: thawvm-rewind: File or Thaw\n");
			return -EINVAL;
		}
		/* fall through */
	case M_THAWVM_RESTORE:
		if (!o->snapdir)
			goto missing;
		break;
	case M_QEMU_SNAPSHOT:
	case M_QEMU_RESTORE:
	case M_QEMU_TEMPLATE:
		if (!o->state || !o->tstate || !o->tmem)
			goto missing;
		/* fall through */
	case M_THAWVM_COLD:
	case M_QEMU_COLD:
		if (!o->func || !o->kernel)
			goto missing;
		break;
	}
	return 0;
missing:
	fprintf(stderr, "bench-firstresp: %s needs %s\n", mode_names[o->mode],
		o->mode == M_THAWVM_RESTORE || o->mode == M_THAWVM_REWIND ?
		"--snapshot" :
		"--func, a kernel and for QEMU restores --state, --template-state, --template-mem");
	return -EINVAL;
bad:
	fprintf(stderr, "bench-firstresp: bad value '%s'\n", optarg);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	struct opts o = { .mem_mib = 128, .clones = 1, .cid_base = 100,
			  .timeout_ms = 300000 };
	pthread_t threads[MAX_CLONES];
	pthread_barrier_t go;
	struct vm *vms;
	pid_t handler = 0;
	unsigned int i, started = 0;
	char err[512];
	int rc = 0;

	if (parse_args(argc, argv, &o))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	if (thawvm_api__global_init())
		return 1;
	mkdir(o.work, 0700);
	if (o.mode == M_QEMU_SNAPSHOT)
		return qemu_snapshot(&o);
	if (o.header)
		printf("%s\n", csv_header);
	vms = calloc(o.clones, sizeof(*vms));
	if (!vms)
		return 1;
	if (o.mode == M_THAWVM_RESTORE && o.backend == CLONE_UFFD) {
		handler = start_handler(&o, err, sizeof(err));
		if (handler < 0) {
			fprintf(stderr, "bench-firstresp: the Uffd handler: %s\n",
				err);
			free(vms);
			return 1;
		}
	}
	pthread_barrier_init(&go, NULL, o.clones + 1);
	/* Every process up and waiting before the clock starts. */
	for (i = 0; i < o.clones; i++) {
		struct vm *v = &vms[i];
		int ret;

		v->idx = i;
		v->o = &o;
		v->go = &go;
		v->lfd = -1;
		v->state_fd = -1;
		v->cid = o.cid_base + 1 + i;
		v->vmm_exits = v->uffd_faults = v->uffd_pages = -1;
		memset(&v->counts, 0xff, sizeof(v->counts));
		vm_paths(v);
		ret = is_thawvm(o.mode) ? thawvm_prepare(v) :
			qemu_prepare(v);
		if (!ret && o.mode == M_THAWVM_REWIND)
			ret = rewind_prepare(v);
		if (ret) {
			fprintf(stderr, "bench-firstresp: VM %u: %s\n", i,
				v->err);
			rc = 1;
			break;
		}
	}
	if (!rc) {
		for (i = 0; i < o.clones; i++)
			if (!pthread_create(&threads[i], NULL, vm_thread,
					    &vms[i]))
				started++;
		if (started == o.clones)
			pthread_barrier_wait(&go);
		else
			rc = 1;	/* the started threads never pass */
		for (i = 0; i < started && !rc; i++)
			pthread_join(threads[i], NULL);
	}
	for (i = 0; i < o.clones; i++) {
		struct vm *v = &vms[i];

		if (v->q.fd > 0)
			qmp__close(&v->q);
		if (is_thawvm(o.mode)) {
			clone__stop(&v->c);
		} else if (v->pid > 0) {
			proc__stop(v->pid, 5000);
		}
		if (v->lfd >= 0)
			close(v->lfd);
	}
	if (handler > 0) {
		proc__stop(handler, 5000);
		handler_counts(&o, vms);
	}
	/* Every VM's row, failed ones included (ok 0): the table counts them. */
	for (i = 0; i < o.clones; i++) {
		if (!vms[i].ok) {
			fprintf(stderr, "bench-firstresp: VM %u: %s (console %s, log %s)\n",
				i, vms[i].err, vms[i].console, vms[i].log);
			rc = 1;
		}
		print_row(&o, &vms[i]);
	}
	fflush(stdout);
	free(vms);
	return rc;
}
