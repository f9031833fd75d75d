// SPDX-License-Identifier: GPL-2.0
/*
 * Execution environments.  A function's VMs are clones of its snapshot,
 * each a thawvm process with its own API socket, vsock socket and CID
 * (tools/lib/clone.c).  A VM serves one invocation at a time; between
 * invocations it waits on its function's idle list, most recently used
 * first, until the reaper stops it after idle_ttl_s (keeping
 * provisioned_concurrency of them).  A function with fresh_per_invocation
 * has each VM rewound to its snapshot after every invocation (PUT
 * /snapshot/rewind), before it goes back on the list.
 *
 * Limits, checked when an invocation asks for a VM: the function's
 * reserved concurrency, the host's max_concurrency, and max_vms (an idle
 * VM of another function is stopped to make room).  Over a limit a
 * synchronous invocation is refused at once; an Event one waits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "tools/lib/proc.h"
#include "tools/lib/util.h"
#include "tools/thawd/thawd.h"

#define RESTORE_TIMEOUT_MS	120000	/* a nested guest under TCG */
#define REAP_INTERVAL_MS	1000
#define SPAWN_TRIES		8	/* CIDs whose sockets a stranger holds */

struct thawd thawd = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.changed = PTHREAD_COND_INITIALIZER,
};

static pthread_t reaper;
static bool reaper_started;
static pthread_cond_t reaper_wake = PTHREAD_COND_INITIALIZER;
static bool reaper_stop;

static enum clone_backend fn_backend(const struct function *fn)
{
	if (fn->cfg.backend >= 0)
		return (enum clone_backend)fn->cfg.backend;
	if (!thawd.cfg.backend_auto)
		return thawd.cfg.backend;
	return thawd.have_thaw ? CLONE_THAW : CLONE_FILE;
}

/* The CID set: 0 free, 1 ours, 2 a stranger's socket is in the way. */
static uint32_t cid_alloc_locked(void)
{
	for (uint32_t i = 0; i < thawd.cfg.cid_count; i++) {
		uint32_t k = (thawd.cid_next + i) % thawd.cfg.cid_count;

		if (!thawd.cids[k]) {
			thawd.cids[k] = 1;
			thawd.cid_next = (k + 1) % thawd.cfg.cid_count;
			return thawd.cfg.cid_base + k;
		}
	}
	return 0;
}

static void cid_free_locked(uint32_t cid, bool stranger)
{
	/* 0: a VM that lost its CID to a stranger and found no other. */
	if (cid >= thawd.cfg.cid_base &&
	    cid - thawd.cfg.cid_base < thawd.cfg.cid_count)
		thawd.cids[cid - thawd.cfg.cid_base] = stranger ? 2 : 0;
}

static struct function *find_locked(const char *name, uint32_t version)
{
	for (struct function *f = thawd.fns; f; f = f->next)
		if (f->cfg.version == version && !strcmp(f->cfg.name, name))
			return f;
	return NULL;
}

/* Mark @name's entry for @version gone: its VMs are retired. */
static void gone(const char *name, uint32_t version)
{
	struct function *f;

	pthread_mutex_lock(&thawd.lock);
	f = find_locked(name, version);
	if (f && !f->gone) {
		f->gone = true;
		f->epoch++;
		pthread_cond_signal(&reaper_wake);
	}
	pthread_mutex_unlock(&thawd.lock);
}

/* The entry of @name's @version, as its function.json says now. */
static int function_entry(const char *name, uint32_t version,
			  struct function *root, struct function **out,
			  char *err, size_t errlen)
{
	struct fn_config fc;
	struct timespec mt;
	struct function *f;
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	int ret;

	if (catalog__dir(dir, sizeof(dir), thawd.cfg.state_dir, name,
			 version) ||
	    thawd__pathf(path, sizeof(path), "%s/function.json", dir))
		return err__set(err, errlen, -ENOENT, "not a function name");
	if (stat(path, &st)) {
		gone(name, version);
		return err__set(err, errlen, -ENOENT, version ?
				"no such version" : "no such function");
	}
	pthread_mutex_lock(&thawd.lock);
	f = find_locked(name, version);
	if (f && !f->gone && f->mtime.tv_sec == st.st_mtim.tv_sec &&
	    f->mtime.tv_nsec == st.st_mtim.tv_nsec) {
		pthread_mutex_unlock(&thawd.lock);
		*out = f;
		return 0;
	}
	pthread_mutex_unlock(&thawd.lock);

	ret = catalog__read(thawd.cfg.state_dir, name, version, &fc, &mt, err,
			    errlen);
	if (ret) {
		pr_err("function %s: %s", name, err);
		if (ret != -ENOENT)
			err__set(err, errlen, -EIO, "the function's settings are unreadable");
		return ret == -ENOENT ? ret : -EIO;
	}
	pthread_mutex_lock(&thawd.lock);
	f = find_locked(name, version);
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f) {
			pthread_mutex_unlock(&thawd.lock);
			return err__set(err, errlen, -ENOMEM, "out of memory");
		}
		f->next = thawd.fns;
		thawd.fns = f;
	}
	/*
	 * A new epoch: VMs of the old settings or files are not reused.  A
	 * published version never changes, so a new file there is a new
	 * version of the same number (the function deleted and made again).
	 */
	if (f->gone || f->cfg.revision != fc.revision || version)
		f->epoch++;
	if (f->cfg.revision != fc.revision && f->cfg.revision && !version)
		pr_info("function %s: revision %llu replaces %llu", name,
			(unsigned long long)fc.revision,
			(unsigned long long)f->cfg.revision);
	f->cfg = fc;
	f->root = root ? root : f;
	f->mtime = mt;
	f->gone = false;
	catalog__dir(f->dir, sizeof(f->dir), thawd.cfg.state_dir, name,
		     version);
	if (version)
		snprintf(f->label, sizeof(f->label),
			 "function=\"%s\",version=\"%u\"", name, version);
	else
		snprintf(f->label, sizeof(f->label),
			 "function=\"%s\",version=\"$LATEST\"", name);
	pthread_cond_signal(&reaper_wake);
	pthread_mutex_unlock(&thawd.lock);
	*out = f;
	return 0;
}

void fn__version_name(const struct function *fn, char *out, size_t len)
{
	if (fn->cfg.version)
		snprintf(out, len, "%u", fn->cfg.version);
	else
		snprintf(out, len, "$LATEST");
}

int pool__function(const char *name, const char *qual,
		   struct function **out, char *err, size_t errlen)
{
	struct function *root;
	uint32_t version;
	int ret;

	*out = NULL;
	if (!catalog__name_ok(name))
		return err__set(err, errlen, -ENOENT, "not a function name");
	/* $LATEST first: it says whether the function exists at all. */
	ret = function_entry(name, 0, NULL, &root, err, errlen);
	if (ret)
		return ret;
	ret = catalog__resolve(thawd.cfg.state_dir, name, qual, &version, err,
			       errlen);
	if (ret)
		return ret == -EINVAL ? ret : -ENOENT;
	if (!version) {
		*out = root;
		return 0;
	}
	return function_entry(name, version, root, out, err, errlen);
}

static void vm_paths(struct vm *vm)
{
	const char *run = thawd.cfg.run_dir;

	snprintf(vm->api_sock, sizeof(vm->api_sock), "%s/vm-%u.api", run,
		 vm->cid);
	snprintf(vm->uds, sizeof(vm->uds), "%s/vm-%u.vsock", run, vm->cid);
	snprintf(vm->console, sizeof(vm->console), "%s/vm-%u.console", run,
		 vm->cid);
	snprintf(vm->log, sizeof(vm->log), "%s/vm-%u.log", run, vm->cid);
	snprintf(vm->id, sizeof(vm->id), "thawd-%u", vm->cid);
}

static void pid_file(const struct vm *vm, char *out, size_t len)
{
	snprintf(out, len, "%s/vm-%u.pid", thawd.cfg.run_dir, vm->cid);
}

/* The last lines of a VM's log to ours, when it failed. */
static void log_vm_tail(const struct vm *vm, const char *why)
{
	char buf[2048];

	pr_warn("function %s: VM %u (pid %d) %s", vm->fn->cfg.name, vm->cid,
		(int)vm->c.pid, why);
	if (util__read_tail(vm->log, buf, sizeof(buf)) > 0)
		pr_warn("its VMM's last words:\n%s", buf);
}

/* Stop a VM we own (not on any list) and forget it. */
static void vm_destroy(struct vm *vm)
{
	char pf[PATH_MAX];

	pr_debug("function %s: VM %u (pid %d) stopped after %u invocations",
		 vm->fn->cfg.name, vm->cid, (int)vm->c.pid, vm->invocations);
	clone__stop(&vm->c);
	pid_file(vm, pf, sizeof(pf));
	unlink(pf);
	unlink(vm->console);
	unlink(vm->log);
	pthread_mutex_lock(&thawd.lock);
	vm->fn->vms--;
	thawd.vms--;
	cid_free_locked(vm->cid, false);
	pthread_cond_broadcast(&thawd.changed);
	pthread_mutex_unlock(&thawd.lock);
	free(vm);
}

static void destroy_list(struct vm *list)
{
	while (list) {
		struct vm *next = list->next;

		vm_destroy(list);
		list = next;
	}
}

/*
 * Restore a clone of @fn's snapshot into @vm (its CID allocated, counted
 * in fn->vms and thawd.vms).  A CID whose socket another process holds
 * (a VM a killed agent left) is set aside and another one tried.
 */
static int vm_restore(struct vm *vm, char *err, size_t errlen)
{
	struct function *fn = vm->fn;
	char snap[PATH_MAX], wset[PATH_MAX], pf[PATH_MAX];
	int ret = -EIO;

	snprintf(snap, sizeof(snap), "%s/snapshot", fn->dir);
	thawd__pathf(wset, sizeof(wset), "%s/wset", snap);
	for (int i = 0; i < SPAWN_TRIES; i++) {
		vm_paths(vm);
		memset(&vm->o, 0, sizeof(vm->o));
		vm->o.snapdir = snap;
		vm->o.api_sock = vm->api_sock;
		vm->o.uds = vm->uds;
		vm->o.cid = vm->cid;
		vm->o.backend = fn_backend(fn);
		vm->o.wset = access(wset, R_OK) == 0;
		vm->o.resume = true;
		vm->o.enable_rewind = fn->cfg.fresh &&
				      vm->o.backend == CLONE_FILE;
		vm->o.thawvm = thawd.cfg.thawvm;
		vm->o.uffd_handler = thawd.cfg.uffd_handler;
		vm->o.id = vm->id;
		vm->o.log = vm->log;
		vm->o.console = vm->console;
		vm->o.timeout_ms = RESTORE_TIMEOUT_MS;
		ret = clone__spawn(&vm->o, &vm->c, err, errlen);
		if (ret != -EADDRINUSE)
			break;
		pr_warn("CID %u: %s; trying another", vm->cid, err);
		pthread_mutex_lock(&thawd.lock);
		cid_free_locked(vm->cid, true);
		vm->cid = cid_alloc_locked();
		pthread_mutex_unlock(&thawd.lock);
		if (!vm->cid)
			return err__set(err, errlen, -ENOSPC, "no free CID");
	}
	if (ret)
		return ret;
	/* So that an agent killed with SIGKILL can stop it when restarted. */
	pid_file(vm, pf, sizeof(pf));
	{
		FILE *f = fopen(pf, "we");

		if (f) {
			fprintf(f, "%d\n", (int)vm->c.pid);
			fclose(f);
		}
	}
	ret = clone__load(&vm->o, &vm->c, err, errlen);
	if (ret)
		return ret;
	vm->restore_ms = (vm->c.t_loaded - vm->c.t_spawn) / 1000000;
	pr_debug("function %s: VM %u (pid %d) restored in %llu ms (%s)",
		 fn->cfg.name, vm->cid, (int)vm->c.pid,
		 (unsigned long long)vm->restore_ms,
		 clone__backend_name(vm->o.backend));
	return 0;
}

/* A new VM of @fn: CID and counts taken under the lock by the caller. */
static struct vm *vm_new_locked(struct function *fn)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	if (!vm)
		return NULL;
	vm->cid = cid_alloc_locked();
	if (!vm->cid) {
		free(vm);
		return NULL;
	}
	vm->fn = fn;
	vm->epoch = fn->epoch;
	fn->vms++;
	fn->starting++;
	thawd.vms++;
	return vm;
}

/* The least recently used idle VM of any function, taken off its list. */
static struct vm *evict_locked(void)
{
	struct vm **best = NULL, **pp;
	struct function *bf = NULL;

	for (struct function *f = thawd.fns; f; f = f->next)
		for (pp = &f->idle; *pp; pp = &(*pp)->next)
			if (!best || (*pp)->idle_since_ms < (*best)->idle_since_ms) {
				best = pp;
				bf = f;
			}
	if (!best)
		return NULL;
	{
		struct vm *vm = *best;

		*best = vm->next;
		vm->next = NULL;
		bf->n_idle--;
		return vm;
	}
}

int pool__acquire(struct function *fn, bool wait, uint64_t deadline_ms,
		  struct vm **out, const char **reason, char *err,
		  size_t errlen)
{
	struct vm *stale = NULL, *vm = NULL, *evicted = NULL;
	struct timespec ts;
	int ret;

	*out = NULL;
	*reason = NULL;
	pthread_mutex_lock(&thawd.lock);
	for (;;) {
		/* Reserved concurrency is the function's, every qualifier's. */
		uint32_t limit = fn->root->cfg.reserved >= 0 ?
				 (uint32_t)fn->root->cfg.reserved : UINT32_MAX;

		if (thawd.draining) {
			pthread_mutex_unlock(&thawd.lock);
			return err__set(err, errlen, -ESHUTDOWN,
					"the agent is shutting down");
		}
		if (fn->root->fn_running >= limit)
			*reason = "ReservedFunctionConcurrentInvocationLimitExceeded";
		else if (thawd.running >= thawd.cfg.max_concurrency)
			*reason = "ConcurrentInvocationLimitExceeded";
		else
			break;
		if (!wait || util__now_ms() >= deadline_ms) {
			fn->m.throttles += !wait;
			pthread_mutex_unlock(&thawd.lock);
			return -EAGAIN;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&thawd.changed, &thawd.lock, &ts);
	}
	*reason = NULL;
	fn->running++;
	fn->root->fn_running++;
	thawd.running++;
	while (fn->idle) {
		struct vm *v = fn->idle;

		fn->idle = v->next;
		fn->n_idle--;
		/* A VM that died while idle (killed, crashed) is not used. */
		if (proc__exited(v->c.pid, NULL))
			v->c.pid = 0;	/* reaped: nothing to stop */
		if (v->epoch == fn->epoch && v->c.pid) {
			vm = v;
			vm->next = NULL;
			break;
		}
		v->next = stale;
		stale = v;
	}
	if (!vm) {
		if (thawd.vms >= thawd.cfg.max_vms)
			evicted = evict_locked();
		if (thawd.vms < thawd.cfg.max_vms + (evicted ? 1 : 0))
			vm = vm_new_locked(fn);
		if (!vm) {
			fn->running--;
			fn->root->fn_running--;
			thawd.running--;
			fn->m.throttles += !wait;
			*reason = "ConcurrentInvocationLimitExceeded";
			pthread_cond_broadcast(&thawd.changed);
			pthread_mutex_unlock(&thawd.lock);
			destroy_list(stale);
			destroy_list(evicted);
			return -EAGAIN;
		}
		vm->next_start = VM_RESTORED;
	}
	pthread_mutex_unlock(&thawd.lock);
	destroy_list(stale);
	destroy_list(evicted);
	if (vm->c.pid) {
		*out = vm;
		return 0;
	}
	ret = vm_restore(vm, err, errlen);
	pthread_mutex_lock(&thawd.lock);
	fn->starting--;
	if (ret) {
		fn->running--;
		fn->root->fn_running--;
		thawd.running--;
	}
	pthread_mutex_unlock(&thawd.lock);
	if (ret) {
		char why[600];

		snprintf(why, sizeof(why), "could not be restored: %s", err);
		log_vm_tail(vm, why);
		vm_destroy(vm);
		return ret;
	}
	metrics__restore(fn, vm->restore_ms / 1e3);
	*out = vm;
	return 0;
}

void pool__release(struct vm *vm, enum inv_outcome outcome)
{
	struct function *fn = vm->fn;
	bool keep = outcome == INV_OK || outcome == INV_FUNCTION_ERROR;
	struct clone_rewind rw;
	char err[512];

	vm->invocations++;
	vm->next_start = VM_WARM;
	if (keep && fn->cfg.fresh && !thawd.draining) {
		if (clone__rewind(vm->api_sock, 0, true, RESTORE_TIMEOUT_MS,
				  &rw, err, sizeof(err))) {
			pr_warn("function %s: VM %u: rewind: %s",
				fn->cfg.name, vm->cid, err);
			keep = false;
		} else {
			vm->next_start = VM_REWOUND;
			metrics__rewind(fn, (rw.t_done - rw.t_sent) / 1e9);
		}
	}
	if (!keep && outcome == INV_SERVICE_ERROR)
		log_vm_tail(vm, "failed during an invocation");
	/*
	 * What the function printed is in its log already; a warm VM's
	 * console starts again (thawvm appends: it writes at the new end).
	 */
	if (keep && truncate(vm->console, 0) && errno != ENOENT)
		pr_warn("%s: %s", vm->console, strerror(errno));
	pthread_mutex_lock(&thawd.lock);
	fn->running--;
	fn->root->fn_running--;
	thawd.running--;
	if (keep && !thawd.draining && !fn->gone &&
	    vm->epoch == fn->epoch) {
		vm->idle_since_ms = util__now_ms();
		vm->next = fn->idle;
		fn->idle = vm;
		fn->n_idle++;
		vm = NULL;
	}
	pthread_cond_broadcast(&thawd.changed);
	pthread_mutex_unlock(&thawd.lock);
	if (vm)
		vm_destroy(vm);
}

/*
 * Once a second: stop the VMs idle past idle_ttl_s beyond a function's
 * provisioned concurrency, and those of deleted functions or old
 * revisions (epochs); then restore VMs for functions short of their provisioned
 * concurrency, one at a time.
 */
static void reap_once(void)
{
	uint64_t now = util__now_ms(), ttl = thawd.cfg.idle_ttl_s * 1000ull;
	struct vm *stop = NULL, *vm = NULL;
	struct function *need = NULL;
	char err[512];

	pthread_mutex_lock(&thawd.lock);
	/*
	 * A function deleted from the catalogue (or a version of it) is
	 * noticed here too, not only at its next invocation, so that its
	 * idle and provisioned VMs go.
	 */
	for (struct function *f = thawd.fns; f; f = f->next) {
		char path[PATH_MAX];

		if (f->gone)
			continue;
		if ((f->root != f && f->root->gone) ||
		    (!thawd__pathf(path, sizeof(path), "%s/function.json",
				   f->dir) && access(path, F_OK) &&
		     errno == ENOENT)) {
			f->gone = true;
			f->epoch++;
		}
	}
	for (struct function *f = thawd.fns; f; f = f->next) {
		struct vm **pp = &f->idle;
		uint32_t removed = 0;

		while (*pp) {
			struct vm *v = *pp;
			bool old = f->gone || v->epoch != f->epoch ||
				   thawd.draining;

			if (old || (now - v->idle_since_ms >= ttl &&
				    f->vms - removed > f->cfg.provisioned)) {
				*pp = v->next;
				f->n_idle--;
				v->next = stop;
				stop = v;
				removed++;
				continue;
			}
			pp = &v->next;
		}
		if (!need && !f->gone && !thawd.draining &&
		    f->vms < f->cfg.provisioned &&
		    thawd.vms < thawd.cfg.max_vms)
			need = f;
	}
	if (need) {
		vm = vm_new_locked(need);
		if (vm)
			vm->next_start = VM_PROVISIONED;
	}
	pthread_mutex_unlock(&thawd.lock);
	destroy_list(stop);
	if (!vm)
		return;
	if (vm_restore(vm, err, sizeof(err))) {
		pr_warn("function %s: a provisioned VM: %s", need->cfg.name,
			err);
		pthread_mutex_lock(&thawd.lock);
		need->starting--;
		pthread_mutex_unlock(&thawd.lock);
		log_vm_tail(vm, "could not be restored");
		vm_destroy(vm);
		return;
	}
	metrics__restore(need, vm->restore_ms / 1e3);
	pthread_mutex_lock(&thawd.lock);
	need->starting--;
	vm->idle_since_ms = util__now_ms();
	vm->next = need->idle;
	need->idle = vm;
	need->n_idle++;
	pthread_cond_broadcast(&thawd.changed);
	pthread_mutex_unlock(&thawd.lock);
	pthread_cond_signal(&reaper_wake);
}

static void *reaper_main(void *arg)
{
	struct timespec ts;

	(void)arg;
	pthread_mutex_lock(&thawd.lock);
	while (!reaper_stop) {
		pthread_mutex_unlock(&thawd.lock);
		reap_once();
		pthread_mutex_lock(&thawd.lock);
		if (reaper_stop)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += REAP_INTERVAL_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&reaper_wake, &thawd.lock, &ts);
	}
	pthread_mutex_unlock(&thawd.lock);
	return NULL;
}

/* The console, log and sockets a VM of CID @cid had in run_dir. */
static void forget_files(unsigned int cid)
{
	static const char *const ext[] = { "console", "log", "api", "vsock",
					   "api.uffd" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		if (thawd__pathf(path, sizeof(path), "%s/vm-%u.%s",
				 thawd.cfg.run_dir, cid, ext[i]))
			continue;
		unlink(path);
	}
}

/*
 * VMs an agent killed with SIGKILL left running: their pid files are in
 * run_dir.  Stop each one that is still a thawvm on our socket, and
 * remove what each left in run_dir.
 */
static void stop_orphans(void)
{
	DIR *d = opendir(thawd.cfg.run_dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[PATH_MAX], cmd[PATH_MAX], line[4096];
		unsigned int cid;
		FILE *f;
		int pid = 0;
		ssize_t n;
		int fd;

		if (sscanf(e->d_name, "vm-%u.pid", &cid) != 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s", thawd.cfg.run_dir,
			 e->d_name);
		f = fopen(path, "re");
		if (f) {
			if (fscanf(f, "%d", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		unlink(path);
		forget_files(cid);
		if (pid <= 1)
			continue;
		snprintf(cmd, sizeof(cmd), "/proc/%d/cmdline", pid);
		fd = open(cmd, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, line, sizeof(line) - 1);
		close(fd);
		if (n <= 0)
			continue;
		line[n] = '\0';
		for (ssize_t i = 0; i < n; i++)
			if (!line[i])
				line[i] = ' ';
		snprintf(cmd, sizeof(cmd), "%s/vm-%u.api", thawd.cfg.run_dir,
			 cid);
		if (!strstr(line, "thawvm") || !strstr(line, cmd))
			continue;
		pr_info("stopping VM %u (pid %d), left by an earlier thawd",
			cid, pid);
		kill(pid, SIGKILL);
	}
	closedir(d);
}

int pool__start(void)
{
	thawd.cids = calloc(thawd.cfg.cid_count, 1);
	if (!thawd.cids)
		return -ENOMEM;
	thawd.have_thaw = access("/dev/thaw", R_OK | W_OK) == 0;
	stop_orphans();
	if (pthread_create(&reaper, NULL, reaper_main, NULL))
		return -EAGAIN;
	reaper_started = true;
	return 0;
}

bool pool__wait_idle(uint64_t timeout_ms)
{
	uint64_t deadline = util__now_ms() + timeout_ms;
	struct timespec ts;
	bool idle;

	pthread_mutex_lock(&thawd.lock);
	while (thawd.running && util__now_ms() < deadline) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&thawd.changed, &thawd.lock, &ts);
	}
	idle = !thawd.running;
	pthread_mutex_unlock(&thawd.lock);
	return idle;
}

void pool__stop_all(void)
{
	struct vm *stop = NULL;

	pthread_mutex_lock(&thawd.lock);
	reaper_stop = true;
	pthread_cond_signal(&reaper_wake);
	pthread_mutex_unlock(&thawd.lock);
	if (reaper_started)
		pthread_join(reaper, NULL);
	reaper_started = false;
	pthread_mutex_lock(&thawd.lock);
	for (struct function *f = thawd.fns; f; f = f->next) {
		while (f->idle) {
			struct vm *v = f->idle;

			f->idle = v->next;
			v->next = stop;
			stop = v;
		}
		f->n_idle = 0;
	}
	pthread_mutex_unlock(&thawd.lock);
	destroy_list(stop);
}
