// SPDX-License-Identifier: GPL-2.0
/*
 * The machine's public face (vmm/vmm.h): the lifecycle the control plane
 * drives (start, pause, resume, Ctrl+Alt+Del, wait) on top of vmm/kvm.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "vmm/exit.h"
#include "vmm/hw/i8042.h"
#include "vmm/kvm.h"
#include "vmm/mem/mem.h"
#include "vmm/snapshot/snapshot.h"
#include "vmm/virtio/blk.h"
#include "vmm/vmm.h"

struct vmm {
	pthread_mutex_t lock;		/* state, cfg, kvm's existence */
	pthread_cond_t cond;		/* state changes */
	enum vmm_state state;
	struct vm_config cfg;		/* our copy, owned */
	struct kvm kvm;
	bool have_kvm;
	/* The device loop's ring, for the process: see kvm.h. */
	struct uring_loop loop;
	bool no_seccomp;		/* vmm__no_seccomp(), for every machine */
	bool stop_requested;		/* vmm__stop() before a start */
	/* A load's image and clock choice, kept for rewinds; under lock. */
	struct snapshot_image *img;
	bool clock_realtime;
	/* Rewinds so far, their pages, the last one's time; under lock. */
	uint64_t rewinds, rewind_pages, rewind_last_us;
};

struct vmm *vmm__new(void)
{
	struct vmm *vmm = calloc(1, sizeof(*vmm));
	int ret;

	if (!vmm)
		return NULL;
	ret = kvm__loop_init(&vmm->loop);
	/* The drives' ring too, while io_uring_setup is allowed. */
	if (!ret)
		ret = blk__ring_init();
	if (ret) {
		uring__exit(&vmm->loop);
		free(vmm);
		errno = -ret;
		return NULL;
	}
	pthread_mutex_init(&vmm->lock, NULL);
	pthread_cond_init(&vmm->cond, NULL);
	vmm->state = VMM_NOT_STARTED;
	return vmm;
}

static int dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

static int copy_config(struct vm_config *dst, const struct vm_config *src)
{
	int ret = 0;

	*dst = *src;
	ret |= dup_str(&dst->boot_source.kernel_image_path,
		       src->boot_source.kernel_image_path);
	ret |= dup_str(&dst->boot_source.initrd_path,
		       src->boot_source.initrd_path);
	ret |= dup_str(&dst->boot_source.boot_args,
		       src->boot_source.boot_args);
	ret |= dup_str(&dst->vsock.uds_path, src->vsock.uds_path);
	ret |= dup_str(&dst->logger.log_path, src->logger.log_path);
	ret |= dup_str(&dst->logger.level, src->logger.level);
	ret |= dup_str(&dst->metrics.metrics_path, src->metrics.metrics_path);
	ret |= dup_str(&dst->serial_out_path, src->serial_out_path);
	ret |= vm_config__copy_drives(dst, src);
	if (ret) {
		vm_config__free(dst);
		return -ENOMEM;
	}
	return 0;
}

static void halted_check(struct vmm *vmm)
{
	if ((vmm->state == VMM_RUNNING || vmm->state == VMM_PAUSED) &&
	    kvm__stopping(&vmm->kvm))
		vmm->state = VMM_HALTED;
}

enum vmm_state vmm__state(struct vmm *vmm)
{
	enum vmm_state s;

	pthread_mutex_lock(&vmm->lock);
	halted_check(vmm);
	s = vmm->state;
	pthread_mutex_unlock(&vmm->lock);
	return s;
}

/* A machine that failed to start; the ring is kept for the next one. */
static void discard_machine(struct vmm *vmm)
{
	kvm__exit(&vmm->kvm);
	vmm->have_kvm = false;
	uring__reset(&vmm->loop);
}

int vmm__start(struct vmm *vmm, const struct vm_config *cfg,
	       char *err, size_t errlen)
{
	int ret;

	pthread_mutex_lock(&vmm->lock);
	if (vmm->state != VMM_NOT_STARTED || vmm->stop_requested) {
		snprintf(err, errlen, vmm->stop_requested ?
			 "thawvm is stopping" : "the microVM was already started");
		ret = -EBUSY;
		goto out;
	}
	ret = copy_config(&vmm->cfg, cfg);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	vmm->cfg.no_seccomp |= vmm->no_seccomp;
	memset(&vmm->kvm, 0, sizeof(vmm->kvm));
	vmm->kvm.loop = &vmm->loop;
	vmm->have_kvm = true;
	ret = kvm__init(&vmm->kvm, &vmm->cfg, err, errlen);
	if (!ret)
		ret = kvm__run(&vmm->kvm, err, errlen);
	if (ret) {
		pr_err("InstanceStart failed: %s", err);
		discard_machine(vmm);
		vm_config__free(&vmm->cfg);
		goto out;
	}
	vmm->state = VMM_RUNNING;
	pthread_cond_broadcast(&vmm->cond);
out:
	pthread_mutex_unlock(&vmm->lock);
	return ret;
}

static int need_state(struct vmm *vmm, enum vmm_state want, const char *what,
		      char *err, size_t errlen)
{
	static const char *const names[] = {
		[VMM_NOT_STARTED] = "not started",
		[VMM_RUNNING] = "running",
		[VMM_PAUSED] = "paused",
		[VMM_HALTED] = "halted",
	};

	halted_check(vmm);
	if (vmm->state == want)
		return 0;
	return err__set(err, errlen, -EINVAL, "cannot %s: the microVM is %s",
			what, names[vmm->state]);
}

int vmm__pause(struct vmm *vmm, char *err, size_t errlen)
{
	int ret;

	pthread_mutex_lock(&vmm->lock);
	halted_check(vmm);
	if (vmm->state == VMM_PAUSED) {
		ret = 0;
		goto out;
	}
	ret = need_state(vmm, VMM_RUNNING, "pause", err, errlen);
	if (ret)
		goto out;
	ret = kvm__pause(&vmm->kvm);
	if (ret) {
		snprintf(err, errlen, "cannot pause: the microVM halted");
		halted_check(vmm);
		goto out;
	}
	vmm->state = VMM_PAUSED;
out:
	pthread_mutex_unlock(&vmm->lock);
	return ret;
}

int vmm__resume(struct vmm *vmm, char *err, size_t errlen)
{
	int ret;

	pthread_mutex_lock(&vmm->lock);
	halted_check(vmm);
	if (vmm->state == VMM_RUNNING) {
		ret = 0;
		goto out;
	}
	ret = need_state(vmm, VMM_PAUSED, "resume", err, errlen);
	if (ret)
		goto out;
	kvm__resume(&vmm->kvm);
	vmm->state = VMM_RUNNING;
out:
	pthread_mutex_unlock(&vmm->lock);
	return ret;
}

int vmm__send_ctrl_alt_del(struct vmm *vmm, char *err, size_t errlen)
{
	int ret;

	pthread_mutex_lock(&vmm->lock);
	ret = need_state(vmm, VMM_RUNNING, "send Ctrl+Alt+Del", err, errlen);
	if (!ret) {
		ret = i8042__send_ctrl_alt_del(vmm->kvm.i8042);
		if (ret)
			snprintf(err, errlen,
				 "the keyboard buffer is full: the guest is not reading it");
	}
	pthread_mutex_unlock(&vmm->lock);
	return ret;
}

int vmm__wait(struct vmm *vmm)
{
	int code;

	pthread_mutex_lock(&vmm->lock);
	while (vmm->state == VMM_NOT_STARTED && !vmm->stop_requested)
		pthread_cond_wait(&vmm->cond, &vmm->lock);
	if (vmm->state == VMM_NOT_STARTED) {
		pthread_mutex_unlock(&vmm->lock);
		return VMM_EXIT_OK;
	}
	pthread_mutex_unlock(&vmm->lock);
	/* kvm stays until vmm__free(), which nobody calls while we wait. */
	code = kvm__wait(&vmm->kvm);
	pthread_mutex_lock(&vmm->lock);
	vmm->state = VMM_HALTED;
	pthread_mutex_unlock(&vmm->lock);
	return code;
}

int vmm__snapshot_create(struct vmm *vmm,
			 const struct snapshot_create_params *p,
			 char *err, size_t errlen)
{
	uint64_t t0 = kvm__now_ns();
	int ret;

	pthread_mutex_lock(&vmm->lock);
	halted_check(vmm);
	if (vmm->state != VMM_PAUSED) {
		snprintf(err, errlen,
			 "Create snapshot is allowed only when the microVM is paused");
		ret = -EINVAL;
		goto out;
	}
	ret = snapshot__save(&vmm->kvm, p, err, errlen);
	if (!ret)
		pr_info("snapshot: %s created in %llu ms", p->snapshot_path,
			(unsigned long long)((kvm__now_ns() - t0) / 1000000));
out:
	pthread_mutex_unlock(&vmm->lock);
	/* Before the answer, so that a restore after it finds the object. */
	if (!ret && !p->diff)
		guest_mem__thaw_register(p->mem_file_path);
	return ret;
}

int vmm__snapshot_load(struct vmm *vmm, const struct snapshot_load_params *p,
		       struct vm_config *cfg_out, char *err, size_t errlen)
{
	struct snapshot_image *img = NULL;
	struct guest_mem *mem = NULL;
	uint64_t t0 = kvm__now_ns();
	int ret;

	pthread_mutex_lock(&vmm->lock);
	if (vmm->state != VMM_NOT_STARTED || vmm->stop_requested) {
		snprintf(err, errlen,
			 "Loading a microVM snapshot not allowed after starting the microVM");
		ret = -EBUSY;
		goto out;
	}
	/* Every file is checked before anything is built. */
	ret = snapshot__read(p->snapshot_path, &img, err, errlen);
	if (ret)
		goto out;
	ret = snapshot__config(img, p, &vmm->cfg, err, errlen);
	if (ret)
		goto out_cfg;
	vmm->cfg.no_seccomp = vmm->no_seccomp;
	ret = snapshot__open_memory(img, p, &mem, err, errlen);
	if (ret)
		goto out_cfg;
	memset(&vmm->kvm, 0, sizeof(vmm->kvm));
	vmm->kvm.loop = &vmm->loop;
	vmm->have_kvm = true;
	/* From here the machine owns @mem. */
	ret = kvm__init_restore(&vmm->kvm, &vmm->cfg, mem, err, errlen);
	if (!ret)
		ret = snapshot__apply(img, &vmm->kvm, p->clock_realtime, err,
				      errlen);
	if (!ret)
		ret = p->resume_vm ? kvm__run(&vmm->kvm, err, errlen) :
		      kvm__run_paused(&vmm->kvm, err, errlen);
	if (ret) {
		discard_machine(vmm);
		goto out_cfg;
	}
	ret = vm_config__copy(cfg_out, &vmm->cfg);
	if (ret) {
		/* The VM runs; only the API's view of it is incomplete. */
		pr_warn("snapshot load: out of memory copying the configuration");
		ret = 0;
	}
	vmm->state = p->resume_vm ? VMM_RUNNING : VMM_PAUSED;
	pthread_cond_broadcast(&vmm->cond);
	pr_info("snapshot: %s loaded (%s) in %llu us", p->snapshot_path,
		vmm->kvm.mem->ops->name,
		(unsigned long long)((kvm__now_ns() - t0) / 1000));
	/* The machine's snapshot from now on: a rewind goes back to it. */
	vmm->img = img;
	vmm->clock_realtime = p->clock_realtime;
	img = NULL;
	goto out;
out_cfg:
	vm_config__free(&vmm->cfg);
out:
	snapshot__free(img);
	pthread_mutex_unlock(&vmm->lock);
	return ret;
}

int vmm__snapshot_rewind(struct vmm *vmm,
			 const struct snapshot_rewind_params *p,
			 struct snapshot_rewind_stats *st, char *err,
			 size_t errlen)
{
	uint64_t t0 = kvm__now_ns();
	bool clock;
	int ret;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&vmm->lock);
	halted_check(vmm);
	/* Every refusal comes before the machine is touched. */
	if (vmm->state != VMM_RUNNING && vmm->state != VMM_PAUSED) {
		ret = need_state(vmm, VMM_RUNNING, "rewind", err, errlen);
		goto out;
	}
	if (!vmm->img) {
		ret = err__set(err, errlen, -EINVAL,
			       "the microVM was not loaded from a snapshot (PUT /snapshot/load): there is nothing to rewind to");
		goto out;
	}
	if (p->vsock_cid && !vmm->cfg.vsock.present) {
		ret = err__set(err, errlen, -EINVAL,
			       "vsock_override: the microVM has no vsock device");
		goto out;
	}
	ret = snapshot__can_rewind(&vmm->kvm, err, errlen);
	if (ret)
		goto out;
	if (vmm->state == VMM_RUNNING) {
		ret = kvm__pause(&vmm->kvm);
		if (ret) {
			err__set(err, errlen, ret,
				 "cannot rewind: the microVM halted");
			halted_check(vmm);
			goto out;
		}
		vmm->state = VMM_PAUSED;
	}
	st->pause_ns = kvm__now_ns() - t0;
	/* The vsock device takes its CID from the configuration. */
	if (p->vsock_cid)
		vmm->cfg.vsock.guest_cid = p->vsock_cid;
	clock = p->clock_realtime_set ? p->clock_realtime :
		vmm->clock_realtime;
	ret = snapshot__rewind(vmm->img, &vmm->kvm, clock, st, err, errlen);
	if (ret) {
		/* Half old, half new: nothing to resume. */
		pr_err("rewind failed, stopping the microVM: %s", err);
		kvm__halt(&vmm->kvm, VMM_EXIT_ERROR);
		halted_check(vmm);
		goto out;
	}
	if (p->resume_vm) {
		kvm__resume(&vmm->kvm);
		vmm->state = VMM_RUNNING;
	}
	vmm->rewinds++;
	vmm->rewind_pages += st->pages;
	vmm->rewind_last_us = (kvm__now_ns() - t0) / 1000;
	pr_info("rewind %llu: %llu pages (%s), pause %llu us, %llu us in all%s",
		(unsigned long long)vmm->rewinds,
		(unsigned long long)st->pages, st->backend,
		(unsigned long long)(st->pause_ns / 1000),
		(unsigned long long)vmm->rewind_last_us,
		p->resume_vm ? "" : ", left paused");
out:
	pthread_mutex_unlock(&vmm->lock);
	return ret;
}

int vmm__snapshot_wset(struct vmm *vmm, const char *path, char *err,
		       size_t errlen)
{
	int ret;

	pthread_mutex_lock(&vmm->lock);
	halted_check(vmm);
	if (vmm->state != VMM_RUNNING && vmm->state != VMM_PAUSED) {
		snprintf(err, errlen, "the microVM is not running");
		ret = -EINVAL;
	} else {
		ret = snapshot__save_wset(&vmm->kvm, path, err, errlen);
	}
	pthread_mutex_unlock(&vmm->lock);
	return ret;
}

void vmm__stop(struct vmm *vmm)
{
	pthread_mutex_lock(&vmm->lock);
	if (vmm->state == VMM_NOT_STARTED) {
		vmm->stop_requested = true;
		pthread_cond_broadcast(&vmm->cond);
	} else if (vmm->have_kvm) {
		kvm__halt(&vmm->kvm, VMM_EXIT_OK);
	}
	pthread_mutex_unlock(&vmm->lock);
}

static uint64_t since_start_us(uint64_t ns)
{
	return ns ? (ns - kvm__process_start_ns()) / 1000 : 0;
}

void vmm__stats(struct vmm *vmm, struct vmm_stats *out)
{
	struct kvm_counters *c = &vmm->kvm.stats;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&vmm->lock);
	if (!vmm->have_kvm || vmm->state == VMM_NOT_STARTED) {
		pthread_mutex_unlock(&vmm->lock);
		return;
	}
	out->exits_io = atomic_load(&c->exits_io);
	out->exits_mmio = atomic_load(&c->exits_mmio);
	out->exits_hlt = atomic_load(&c->exits_hlt);
	out->exits_intr = atomic_load(&c->exits_intr);
	out->exits_shutdown = atomic_load(&c->exits_shutdown);
	out->exits_system_event = atomic_load(&c->exits_system_event);
	out->exits_other = atomic_load(&c->exits_other);
	out->io_unhandled = atomic_load(&c->io_unhandled);
	out->vsock_rx_packets = atomic_load(&c->vsock_rx_packets);
	out->vsock_tx_packets = atomic_load(&c->vsock_tx_packets);
	out->vsock_rx_bytes = atomic_load(&c->vsock_rx_bytes);
	out->vsock_tx_bytes = atomic_load(&c->vsock_tx_bytes);
	out->vsock_conns = atomic_load(&c->vsock_conns);
	out->vsock_rsts = atomic_load(&c->vsock_rsts);
	out->net_rx_packets = atomic_load(&c->net_rx_packets);
	out->net_tx_packets = atomic_load(&c->net_tx_packets);
	out->net_rx_bytes = atomic_load(&c->net_rx_bytes);
	out->net_tx_bytes = atomic_load(&c->net_tx_bytes);
	out->net_rx_dropped = atomic_load(&c->net_rx_dropped);
	out->net_tx_dropped = atomic_load(&c->net_tx_dropped);
	out->uart_write_count = atomic_load(&c->uart_write_count);
	out->uart_flush_count = atomic_load(&c->uart_flush_count);
	out->uart_missed_write_count =
		atomic_load(&c->uart_missed_write_count);
	out->uart_rate_limiter_dropped_bytes =
		atomic_load(&c->uart_rate_limiter_dropped_bytes);
	out->log_missed_count = log__missed();
	out->start_us = since_start_us(vmm->kvm.start_ns);
	out->first_run_us = since_start_us(atomic_load(&c->first_run_ns));
	out->boot_ready_us = since_start_us(atomic_load(&c->boot_ready_ns));
	out->rewinds = vmm->rewinds;
	out->rewind_pages = vmm->rewind_pages;
	out->rewind_last_us = vmm->rewind_last_us;
	pthread_mutex_unlock(&vmm->lock);
}

struct kvm *vmm__machine(struct vmm *vmm)
{
	struct kvm *kvm;

	pthread_mutex_lock(&vmm->lock);
	kvm = vmm->state == VMM_NOT_STARTED ? NULL : &vmm->kvm;
	pthread_mutex_unlock(&vmm->lock);
	return kvm;
}

void vmm__no_seccomp(struct vmm *vmm)
{
	vmm->no_seccomp = true;
}

void vmm__free(struct vmm *vmm)
{
	if (!vmm)
		return;
	if (vmm->have_kvm)
		kvm__exit(&vmm->kvm);
	uring__exit(&vmm->loop);
	snapshot__free(vmm->img);
	if (vmm->state != VMM_NOT_STARTED)
		vm_config__free(&vmm->cfg);
	pthread_mutex_destroy(&vmm->lock);
	pthread_cond_destroy(&vmm->cond);
	free(vmm);
}

int vmm__drive_update(struct vmm *vmm, const char *id, const char *path,
		      char *err, size_t errlen)
{
	struct vm_drive_config *d;
	char *copy;
	int ret;

	pthread_mutex_lock(&vmm->lock);
	halted_check(vmm);
	if (vmm->state != VMM_RUNNING && vmm->state != VMM_PAUSED) {
		ret = err__set(err, errlen, -EINVAL,
			       "the microVM is not running");
		goto out;
	}
	d = vm_config__drive(&vmm->cfg, id);
	copy = strdup(path);
	if (!copy) {
		ret = -ENOMEM;
		goto out;
	}
	ret = blk__swap(&vmm->kvm, id, path, err, errlen);
	if (!ret && d) {
		free(d->path_on_host);
		d->path_on_host = copy;
	} else {
		free(copy);
	}
out:
	pthread_mutex_unlock(&vmm->lock);
	return ret;
}
