// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's counters and their Prometheus text (GET /metrics, format
 * version 0.0.4).  Function names are label values as they are: the
 * catalogue allows only [A-Za-z0-9_-] in them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/lib/thaw-genl.h"
#include "tools/lib/util.h"
#include "tools/thawd/thawd.h"

/* Upper bounds in seconds: restores and invocations, 1 ms to 30 s. */
static const double bounds[METRIC_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
	10, 30,
};

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static void observe(struct histogram *h, double s)
{
	int i;

	for (i = 0; i < METRIC_BUCKETS && s > bounds[i]; i++)
		;
	h->counts[i]++;
	h->n++;
	h->sum += s;
}

void metrics__restore(struct function *fn, double seconds)
{
	pthread_mutex_lock(&thawd.lock);
	observe(&fn->m.restore, seconds);
	pthread_mutex_unlock(&thawd.lock);
}

void metrics__rewind(struct function *fn, double seconds)
{
	pthread_mutex_lock(&thawd.lock);
	observe(&fn->m.rewind, seconds);
	pthread_mutex_unlock(&thawd.lock);
}

void metrics__invocation(struct function *fn, bool async,
			 enum vm_start start, enum inv_outcome outcome,
			 double seconds)
{
	pthread_mutex_lock(&thawd.lock);
	fn->m.invocations[async]++;
	fn->m.starts[start]++;
	fn->m.outcomes[outcome]++;
	observe(&fn->m.duration, seconds);
	pthread_mutex_unlock(&thawd.lock);
}

struct buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void put(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL,
			      b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if (b->p && b->len + n < b->cap) {
			b->len += n;
			return;
		}
		b->cap = (b->cap + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p) {
			b->failed = true;
			return;
		}
	}
}

static void help(struct buf *b, const char *name, const char *type,
		 const char *text)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void histogram(struct buf *b, const char *name, const char *labels,
		      const struct histogram *h)
{
	uint64_t cum = 0;

	for (int i = 0; i < METRIC_BUCKETS; i++) {
		cum += h->counts[i];
		put(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels,
		    bounds[i], (unsigned long long)cum);
	}
	put(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
	    (unsigned long long)h->n);
	put(b, "%s_sum{%s} %.6f\n", name, labels, h->sum);
	put(b, "%s_count{%s} %llu\n", name, labels,
	    (unsigned long long)h->n);
}

static const char *const start_label[VM_START_COUNT] = {
	[VM_WARM] = "warm", [VM_RESTORED] = "restored",
	[VM_PROVISIONED] = "provisioned", [VM_REWOUND] = "rewound",
};

static const char *const outcome_label[INV_OUTCOME_COUNT] = {
	[INV_OK] = "ok", [INV_FUNCTION_ERROR] = "function_error",
	[INV_INIT_ERROR] = "init_error", [INV_TIMEOUT] = "timeout",
	[INV_SERVICE_ERROR] = "service_error",
};

/*
 * thaw.ko's memory, read at each scrape through its generic netlink family
 * (needs CAP_NET_ADMIN): thaw_module_up 0 and nothing more where it cannot
 * be read (no module, or no permission).
 */
/* One of thaw.ko's totals, and what one of its units is in bytes. */
struct module_metric {
	const char *name, *type, *help;
	uint64_t value, unit;
};

static void module_metrics(struct buf *b)
{
	uint64_t ps = sysconf(_SC_PAGESIZE);
	struct thaw_genl_totals t;
	char err[256];
	bool up;

	up = !thaw_genl__totals(&t, err, sizeof(err));
	help(b, "thaw_module_up", "gauge",
	     "1 when thaw.ko's counters could be read (generic netlink).");
	put(b, "thaw_module_up %d\n", up);
	if (!up)
		return;

	const struct module_metric m[] = {
		{ "thaw_module_snapshots", "gauge",
		  "Snapshot objects thaw.ko holds, cached ones included.",
		  t.snapshots, 1 },
		{ "thaw_module_clones", "gauge", "Clone mappings of them.",
		  t.clones, 1 },
		{ "thaw_module_pinned_bytes", "gauge",
		  "Memory the objects pin, shared by every clone of each.",
		  t.pinned_pages, ps },
		{ "thaw_module_pinned_limit_bytes", "gauge",
		  "max_pinned_mb: the most the objects may pin.",
		  t.pinned_limit, ps },
		{ "thaw_module_cached_bytes", "gauge",
		  "Pinned memory of objects no one uses, kept for the next restore.",
		  t.cached_pages, ps },
		{ "thaw_module_cached_objects", "gauge", "Those objects.",
		  t.cached_objects, 1 },
		{ "thaw_module_evictions_total", "counter",
		  "Cached objects freed to make room.", t.evictions, 1 },
		{ "thaw_clones_shared_bytes", "gauge",
		  "Object memory mapped in clones, all clones (each counts it).",
		  t.clone_shared_pages, ps },
		{ "thaw_clones_private_bytes", "gauge",
		  "Memory clones made their own by writing, all clones.",
		  t.clone_private_pages, ps },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		help(b, m[i].name, m[i].type, m[i].help);
		put(b, "%s %llu\n", m[i].name,
		    (unsigned long long)(m[i].value * m[i].unit));
	}
}

char *metrics__text(size_t *len)
{
	struct buf b = {};
	struct function *f;

	module_metrics(&b);
	pthread_mutex_lock(&thawd.lock);
	help(&b, "thawd_invocations_total", "counter",
	     "Invocations run on a VM, by invocation type.");
	for (f = thawd.fns; f; f = f->next) {
		put(&b, "thawd_invocations_total{%s,type=\"RequestResponse\"} %llu\n",
		    f->label, (unsigned long long)f->m.invocations[0]);
		put(&b, "thawd_invocations_total{%s,type=\"Event\"} %llu\n",
		    f->label, (unsigned long long)f->m.invocations[1]);
	}
	help(&b, "thawd_invocation_starts_total", "counter",
	     "How the VM of each invocation was ready: warm, restored for it, provisioned ahead, rewound.");
	for (f = thawd.fns; f; f = f->next)
		for (int i = 0; i < VM_START_COUNT; i++)
			put(&b, "thawd_invocation_starts_total{%s,start=\"%s\"} %llu\n",
			    f->label, start_label[i],
			    (unsigned long long)f->m.starts[i]);
	help(&b, "thawd_invocation_outcomes_total", "counter",
	     "How invocations ended.");
	for (f = thawd.fns; f; f = f->next)
		for (int i = 0; i < INV_OUTCOME_COUNT; i++)
			put(&b, "thawd_invocation_outcomes_total{%s,outcome=\"%s\"} %llu\n",
			    f->label, outcome_label[i],
			    (unsigned long long)f->m.outcomes[i]);
	help(&b, "thawd_errors_total", "counter",
	     "Invocations that did not end in ok (Lambda's Errors).");
	for (f = thawd.fns; f; f = f->next)
		put(&b, "thawd_errors_total{%s} %llu\n",
		    f->label, (unsigned long long)(f->m.outcomes[INV_FUNCTION_ERROR] +
			f->m.outcomes[INV_INIT_ERROR] + f->m.outcomes[INV_TIMEOUT] +
			f->m.outcomes[INV_SERVICE_ERROR]));
	help(&b, "thawd_throttles_total", "counter",
	     "Synchronous invocations refused with 429 by a concurrency limit.");
	for (f = thawd.fns; f; f = f->next)
		put(&b, "thawd_throttles_total{%s} %llu\n",
		    f->label, (unsigned long long)f->m.throttles);
	help(&b, "thawd_dry_runs_total", "counter", "DryRun invocations.");
	for (f = thawd.fns; f; f = f->next)
		put(&b, "thawd_dry_runs_total{%s} %llu\n",
		    f->label, (unsigned long long)f->m.dry_runs);
	help(&b, "thawd_async_retries_total", "counter",
	     "Event invocations tried again after an error.");
	for (f = thawd.fns; f; f = f->next)
		put(&b, "thawd_async_retries_total{%s} %llu\n",
		    f->label, (unsigned long long)f->m.async_retries);
	help(&b, "thawd_async_dead_letters_total", "counter",
	     "Event invocations given up on, written to the dead-letter folder.");
	for (f = thawd.fns; f; f = f->next)
		put(&b, "thawd_async_dead_letters_total{%s} %llu\n",
		    f->label, (unsigned long long)f->m.async_dead);
	help(&b, "thawd_concurrent_executions", "gauge",
	     "Invocations running now.");
	for (f = thawd.fns; f; f = f->next)
		put(&b, "thawd_concurrent_executions{%s} %u\n",
		    f->label, f->running);
	help(&b, "thawd_vms", "gauge",
	     "The function's VMs: idle (ready), busy, starting.");
	for (f = thawd.fns; f; f = f->next) {
		put(&b, "thawd_vms{%s,state=\"idle\"} %u\n",
		    f->label, f->n_idle);
		put(&b, "thawd_vms{%s,state=\"starting\"} %u\n",
		    f->label, f->starting);
		put(&b, "thawd_vms{%s,state=\"busy\"} %u\n",
		    f->label, f->vms - f->n_idle - f->starting);
	}
	help(&b, "thawd_provisioned_concurrency", "gauge",
	     "VMs the function keeps restored ahead of traffic.");
	for (f = thawd.fns; f; f = f->next)
		put(&b, "thawd_provisioned_concurrency{%s} %u\n",
		    f->label, f->cfg.provisioned);
	help(&b, "thawd_duration_seconds", "histogram",
	     "Invocation duration, from the request to the VM to its answer.");
	for (f = thawd.fns; f; f = f->next)
		histogram(&b, "thawd_duration_seconds", f->label,
			  &f->m.duration);
	help(&b, "thawd_restore_duration_seconds", "histogram",
	     "Restoring a VM from the function's snapshot (start of thawvm to loaded).");
	for (f = thawd.fns; f; f = f->next)
		histogram(&b, "thawd_restore_duration_seconds", f->label,
			  &f->m.restore);
	help(&b, "thawd_rewind_duration_seconds", "histogram",
	     "Rewinding a VM to its snapshot after an invocation.");
	for (f = thawd.fns; f; f = f->next)
		histogram(&b, "thawd_rewind_duration_seconds", f->label,
			  &f->m.rewind);
	help(&b, "thawd_host_vms", "gauge", "VMs on this host, all functions.");
	put(&b, "thawd_host_vms %u\n", thawd.vms);
	help(&b, "thawd_host_concurrent_executions", "gauge",
	     "Invocations running now, all functions.");
	put(&b, "thawd_host_concurrent_executions %u\n", thawd.running);
	help(&b, "thawd_host_max_concurrency", "gauge",
	     "The host-wide concurrency limit.");
	put(&b, "thawd_host_max_concurrency %u\n", thawd.cfg.max_concurrency);
	help(&b, "thawd_async_queue_depth", "gauge",
	     "Event invocations waiting or running.");
	put(&b, "thawd_async_queue_depth %llu\n",
	    (unsigned long long)thawd.queue_depth);
	help(&b, "thawd_async_oldest_age_seconds", "gauge",
	     "Age of the oldest queued Event invocation.");
	put(&b, "thawd_async_oldest_age_seconds %.3f\n",
	    thawd.queue_oldest_ms ?
	    (double)(realtime_ms() - thawd.queue_oldest_ms) / 1e3 : 0.0);
	help(&b, "thawd_signature_failures_total", "counter",
	     "Requests refused with 403 by SigV4 verification.");
	put(&b, "thawd_signature_failures_total %llu\n",
	    (unsigned long long)thawd.sigv4_refused);
	help(&b, "thawd_http_requests_total", "counter",
	     "HTTP requests answered.");
	put(&b, "thawd_http_requests_total %llu\n",
	    (unsigned long long)thawd.http_requests);
	help(&b, "thawd_uptime_seconds", "gauge", "Since the agent started.");
	put(&b, "thawd_uptime_seconds %.3f\n",
	    (double)(util__now_ms() - thawd.started_ms) / 1e3);
	pthread_mutex_unlock(&thawd.lock);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
