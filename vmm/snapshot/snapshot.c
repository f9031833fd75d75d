// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot create and load: the machine's parts to and from the sections of
 * the state file, guest RAM to and from the memory file.  A load reads and
 * checks everything before a machine is built, so a bad snapshot is refused
 * with a message and never half-starts a VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/memfile.h"
#include "lib/snapfile.h"
#include "lib/vsock-uds.h"
#include "lib/wset.h"
#include "vmm/devices.h"
#include "vmm/kvm-cpu.h"
#include "vmm/kvm.h"
#include "vmm/mem/mem.h"
#include "vmm/persist.h"
#include "vmm/snapshot/snapshot.h"
#include "thaw-version.h"

struct snapshot_image {
	struct snapfile *file;
	struct snap_manifest manifest;
	struct snap_vm_config cfg;
	struct kvm_vm_state vm;
	/* Pointers into @file: valid until snapshot__free(). */
	const struct kvm_cpu_state *cpus[VM_MAX_VCPUS];
	/* Device i's state (devices__get(i)), or NULL: none saved. */
	const void *dev[DEVICES_MAX];
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --- dirty tracking: KVM's log for the guest, soft-dirty for us --- */

/*
 * Pages the VMM itself writes (virtqueue rings, received data) do not reach
 * KVM's dirty log; the soft-dirty bits of our page tables catch them.
 */
static int clear_soft_dirty(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "4", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

#define PM_SOFT_DIRTY	(1ull << 55)

static int add_soft_dirty(const void *hva, uint64_t size, uint64_t *map)
{
	const uint64_t pages = size / 4096, batch = 4096;
	uint64_t buf[4096], i, j, n;
	int fd, ret = 0;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (i = 0; i < pages && !ret; i += n) {
		off_t at = ((uintptr_t)hva / 4096 + i) * 8;

		n = pages - i < batch ? pages - i : batch;
		if (pread(fd, buf, n * 8, at) != (ssize_t)(n * 8)) {
			ret = -EIO;
			break;
		}
		for (j = 0; j < n; j++)
			if (buf[j] & PM_SOFT_DIRTY)
				map[(i + j) / 64] |= 1ull << ((i + j) % 64);
	}
	close(fd);
	return ret;
}

static int snapshot__reset_dirty(struct kvm *kvm)
{
	unsigned int i;
	int ret;

	if (!kvm->cfg->machine.track_dirty_pages)
		return 0;
	for (i = 0; i < kvm->mem->nr_regions; i++) {
		uint64_t words = (kvm->mem->regions[i].size / 4096 + 63) / 64;
		uint64_t *map = calloc(words, sizeof(*map));

		if (!map)
			return -ENOMEM;
		ret = kvm__get_dirty_log(kvm, i, map);
		free(map);
		if (ret)
			return ret;
	}
	return clear_soft_dirty();
}

/* --- create --- */

static void encode_config(const struct vm_config *cfg,
			  struct snap_vm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->vcpu_count = cfg->machine.vcpu_count;
	c->mem_size_mib = cfg->machine.mem_size_mib;
	if (cfg->machine.smt)
		c->flags |= SNAP_CFG_SMT;
	if (cfg->machine.track_dirty_pages)
		c->flags |= SNAP_CFG_DIRTY;
	if (cfg->machine.huge_pages == VM_HUGE_PAGES_2M)
		c->flags |= SNAP_CFG_HUGE_2M;
	if (cfg->vsock.present) {
		c->flags |= SNAP_CFG_VSOCK;
		c->guest_cid = cfg->vsock.guest_cid;
		snprintf(c->uds_path, sizeof(c->uds_path), "%s",
			 cfg->vsock.uds_path);
	}
}

/* Each device's state as its section (vmm/devices.h). */
static int save_devices(struct kvm *kvm, struct snapfile_writer *w,
			char *err, size_t errlen)
{
	const struct device_init *d;
	uint8_t *buf;
	size_t i;
	int ret = 0;

	for (i = 0; !ret && (d = devices__get(i)); i++) {
		if (!d->snap)
			continue;
		buf = calloc(1, d->snap->size);
		if (!buf)
			return err__set(err, errlen, -ENOMEM, "out of memory");
		if (d->snap->save(kvm, buf))
			ret = snapfile__add(w, d->snap->section, buf,
					    d->snap->size);
		free(buf);
	}
	if (ret)
		return err__set(err, errlen, ret, "state file: %s",
				strerror(-ret));
	return 0;
}

static int save_state(struct kvm *kvm, struct snapfile_writer *w, bool diff,
		      char *err, size_t errlen)
{
	uint8_t man_buf[SNAP_MANIFEST_SIZE];
	struct snap_manifest man = {
		.mem_size = kvm->mem->ram_size,
		.page_size = 4096,
		.vcpu_count = kvm->nr_cpus,
		.flags = diff ? SNAP_MANIFEST_DIFF : 0,
		.created_ns = realtime_ns(),
	};
	struct kvm_cpu_state *cs;
	struct snap_vm_config cfg;
	struct kvm_vm_state vm;
	struct snap_irqchip chips;
	unsigned int i;
	int ret;

	snprintf(man.vmm_version, sizeof(man.vmm_version), "%s", THAW_VERSION);
	snap_manifest__encode(&man, man_buf);
	encode_config(kvm->cfg, &cfg);
	ret = kvm__save_state(kvm, &vm);
	if (ret)
		return err__set(err, errlen, ret, "saving the VM state: %s",
				strerror(-ret));
	chips.chip[0] = vm.pic_master;
	chips.chip[1] = vm.pic_slave;
	chips.chip[2] = vm.ioapic;
	ret = snapfile__add(w, SNAP_SEC_MANIFEST, man_buf, sizeof(man_buf)) ?:
	      snapfile__add(w, SNAP_SEC_VM_CONFIG, &cfg, sizeof(cfg)) ?:
	      snapfile__add(w, SNAP_SEC_IRQCHIP, &chips, sizeof(chips)) ?:
	      snapfile__add(w, SNAP_SEC_PIT, &vm.pit, sizeof(vm.pit)) ?:
	      snapfile__add(w, SNAP_SEC_CLOCK, &vm.clock, sizeof(vm.clock));
	if (ret)
		return err__set(err, errlen, ret, "state file: %s",
				strerror(-ret));

	cs = malloc(sizeof(*cs));
	if (!cs)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	for (i = 0; i < kvm->nr_cpus; i++) {
		ret = kvm_cpu__save_state(kvm->cpus[i], cs);
		if (ret) {
			free(cs);
			return err__set(err, errlen, ret, "saving vCPU %u: %s",
					i, strerror(-ret));
		}
		ret = snapfile__add(w, SNAP_SEC_VCPU(i), cs, sizeof(*cs));
		if (ret) {
			free(cs);
			return err__set(err, errlen, ret, "state file: %s",
					strerror(-ret));
		}
	}
	free(cs);
	return save_devices(kvm, w, err, errlen);
}

static int save_memory(struct kvm *kvm, const char *path, bool diff,
		       char *err, size_t errlen)
{
	struct memfile_region regs[GUEST_MEM_MAX_REGIONS];
	uint64_t *maps[GUEST_MEM_MAX_REGIONS] = { NULL };
	struct memfile_opts o = { .mode = diff ? MEMFILE_DIFF : MEMFILE_FULL };
	const struct guest_mem *mem = kvm->mem;
	struct memfile_stats st;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		regs[i] = (struct memfile_region){
			.host = r->hva,
			.size = r->size,
			.file_offset = r->offset,
			.fd = mem->fd,
			.fd_offset = r->offset,
			.flags = mem->memfile_flags,
		};
		if (!kvm->cfg->machine.track_dirty_pages)
			continue;
		/* Also resets the log: the next Diff starts from here. */
		maps[i] = calloc((r->size / 4096 + 63) / 64, sizeof(uint64_t));
		if (!maps[i]) {
			ret = err__set(err, errlen, -ENOMEM, "out of memory");
			goto out;
		}
		ret = kvm__get_dirty_log(kvm, i, maps[i]);
		if (!ret)
			ret = add_soft_dirty(r->hva, r->size, maps[i]);
		if (ret) {
			err__set(err, errlen, ret, "reading dirty pages: %s",
				 strerror(-ret));
			goto out;
		}
		regs[i].dirty = maps[i];
	}
	ret = memfile__write(path, regs, mem->nr_regions, mem->ram_size, &o,
			     &st, err, errlen);
	if (!ret)
		pr_info("snapshot: %s: %llu of %llu pages written (%llu zero), %llu ms",
			path, (unsigned long long)st.pages_written,
			(unsigned long long)(mem->ram_size / 4096),
			(unsigned long long)st.zero_pages,
			(unsigned long long)(st.elapsed_ns / 1000000));
	if (!ret && kvm->cfg->machine.track_dirty_pages)
		ret = clear_soft_dirty();
out:
	for (i = 0; i < mem->nr_regions; i++)
		free(maps[i]);
	return ret;
}

int snapshot__save(struct kvm *kvm, const struct snapshot_create_params *p,
		   char *err, size_t errlen)
{
	struct snapfile_writer *w;
	int ret;

	if (p->diff && !kvm->cfg->machine.track_dirty_pages)
		return err__set(err, errlen, -EINVAL,
				"a Diff snapshot needs track_dirty_pages");
	w = snapfile__writer_new(SNAPFILE_TYPE_STATE);
	if (!w)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	ret = save_state(kvm, w, p->diff, err, errlen);
	if (ret)
		goto out;
	/* Memory first: a state file is only ever beside its memory. */
	ret = save_memory(kvm, p->mem_file_path, p->diff, err, errlen);
	if (ret)
		goto out;
	ret = snapfile__commit(w, p->snapshot_path, err, errlen);
	if (ret)
		unlink(p->mem_file_path);
out:
	snapfile__writer_free(w);
	return ret;
}

/* --- load --- */

/* Section @id, exactly @size bytes: a pointer into the file or NULL. */
static const void *section(const struct snapfile *f, uint32_t id,
			   size_t size, const char *what, bool required,
			   int *ret, char *err, size_t errlen)
{
	const void *buf;
	size_t len;

	if (*ret)
		return NULL;
	if (snapfile__get(f, id, &buf, &len)) {
		if (required)
			*ret = err__set(err, errlen, -EBADMSG,
					"snapshot: no %s section", what);
		return NULL;
	}
	if (len != size) {
		*ret = err__set(err, errlen, -EBADMSG,
				"snapshot: %s section of %zu bytes, expected %zu (made by another build?)",
				what, len, size);
		return NULL;
	}
	return buf;
}

/* The machine a snapshot was taken of, as a configuration. */
static int machine_config(const struct snap_vm_config *c,
			  struct vm_config *cfg)
{
	vm_config__init(cfg);
	cfg->machine.vcpu_count = c->vcpu_count;
	cfg->machine.mem_size_mib = c->mem_size_mib;
	cfg->machine.smt = c->flags & SNAP_CFG_SMT;
	/* Restored RAM is 4 KiB pages whatever the snapshot had. */
	cfg->machine.huge_pages = VM_HUGE_PAGES_NONE;
	if (c->flags & SNAP_CFG_VSOCK) {
		cfg->vsock.present = true;
		cfg->vsock.guest_cid = c->guest_cid;
		cfg->vsock.uds_path = strdup(c->uds_path);
		if (!cfg->vsock.uds_path)
			return -ENOMEM;
	}
	return 0;
}

/* Can each device take its saved state (or its absence)? */
static int check_devices(const struct snapshot_image *img, char *err,
			 size_t errlen)
{
	const struct device_init *d;
	struct vm_config cfg;
	size_t i;
	int ret;

	ret = machine_config(&img->cfg, &cfg);
	if (ret)
		return err__set(err, errlen, ret, "out of memory");
	for (i = 0; !ret && (d = devices__get(i)); i++)
		if (d->snap && d->snap->check)
			ret = d->snap->check(&cfg, img->dev[i], err, errlen);
	vm_config__free(&cfg);
	return ret;
}

static int check_config(const struct snapshot_image *img, char *err,
			size_t errlen)
{
	const struct snap_vm_config *c = &img->cfg;
	const struct snap_manifest *m = &img->manifest;

	if (m->page_size != 4096)
		return err__set(err, errlen, -EBADMSG,
				"snapshot: page size %u is not supported",
				m->page_size);
	if (!c->vcpu_count || c->vcpu_count > VM_MAX_VCPUS ||
	    c->vcpu_count != m->vcpu_count)
		return err__set(err, errlen, -EBADMSG,
				"snapshot: %u vCPUs (manifest: %u)",
				c->vcpu_count, m->vcpu_count);
	if (!c->mem_size_mib || c->mem_size_mib > VM_MAX_MEM_MIB ||
	    c->mem_size_mib << 20 != m->mem_size)
		return err__set(err, errlen, -EBADMSG,
				"snapshot: %llu MiB of RAM but a %llu-byte memory",
				(unsigned long long)c->mem_size_mib,
				(unsigned long long)m->mem_size);
	if (c->flags & ~(SNAP_CFG_SMT | SNAP_CFG_VSOCK | SNAP_CFG_DIRTY |
			 SNAP_CFG_HUGE_2M) || c->reserved)
		return err__set(err, errlen, -EBADMSG,
				"snapshot: unknown machine configuration flags");
	if (c->flags & SNAP_CFG_VSOCK) {
		if (!memchr(c->uds_path, 0, sizeof(c->uds_path)) ||
		    !vsock_uds__path_ok(c->uds_path) || c->guest_cid < 3 ||
		    c->guest_cid == UINT32_MAX)
			return err__set(err, errlen, -EBADMSG,
					"snapshot: bad vsock configuration");
	}
	for (unsigned int i = 0; i < c->vcpu_count; i++)
		if (img->cpus[i]->nr_msrs > PERSIST_MAX_MSRS)
			return err__set(err, errlen, -EBADMSG,
					"snapshot: vCPU %u has %u MSRs", i,
					img->cpus[i]->nr_msrs);
	return check_devices(img, err, errlen);
}

/* Every check of a state file already opened into @img->file. */
static int image_from_file(struct snapshot_image *img, char *err,
			   size_t errlen)
{
	const struct snap_irqchip *chips;
	const struct kvm_pit_state2 *pit;
	const struct kvm_clock_data *clock;
	const struct snap_vm_config *cfg;
	const struct device_init *d;
	const void *buf;
	size_t len, i;
	int ret = 0;

	if (snapfile__get(img->file, SNAP_SEC_MANIFEST, &buf, &len))
		return err__set(err, errlen, -EBADMSG, "snapshot: no manifest");
	ret = snap_manifest__decode(buf, len, &img->manifest, err, errlen);
	if (ret)
		return ret;
	cfg = section(img->file, SNAP_SEC_VM_CONFIG, sizeof(*cfg),
		      "machine configuration", true, &ret, err, errlen);
	chips = section(img->file, SNAP_SEC_IRQCHIP, sizeof(*chips),
			"interrupt controller", true, &ret, err, errlen);
	pit = section(img->file, SNAP_SEC_PIT, sizeof(*pit), "PIT", true,
		      &ret, err, errlen);
	clock = section(img->file, SNAP_SEC_CLOCK, sizeof(*clock), "clock",
			true, &ret, err, errlen);
	for (i = 0; (d = devices__get(i)); i++)
		if (d->snap)
			img->dev[i] = section(img->file, d->snap->section,
					      d->snap->size, d->snap->what,
					      d->snap->required, &ret, err,
					      errlen);
	if (ret)
		return ret;
	img->cfg = *cfg;
	if (!img->cfg.vcpu_count || img->cfg.vcpu_count > VM_MAX_VCPUS)
		return err__set(err, errlen, -EBADMSG, "snapshot: %u vCPUs",
				img->cfg.vcpu_count);
	for (i = 0; i < img->cfg.vcpu_count; i++) {
		char what[32];

		snprintf(what, sizeof(what), "vCPU %zu", i);
		img->cpus[i] = section(img->file, SNAP_SEC_VCPU(i),
				       sizeof(*img->cpus[i]), what, true, &ret,
				       err, errlen);
	}
	if (ret)
		return ret;
	img->vm.pic_master = chips->chip[0];
	img->vm.pic_slave = chips->chip[1];
	img->vm.ioapic = chips->chip[2];
	img->vm.pit = *pit;
	img->vm.clock = *clock;
	return check_config(img, err, errlen);
}

/* An image of the opened @file (taken, even on error) once it passes. */
static int image_new(struct snapfile *file, struct snapshot_image **out,
		     char *err, size_t errlen)
{
	struct snapshot_image *img;
	int ret;

	img = calloc(1, sizeof(*img));
	if (!img) {
		snapfile__close(file);
		return err__set(err, errlen, -ENOMEM, "out of memory");
	}
	img->file = file;
	ret = image_from_file(img, err, errlen);
	if (ret) {
		snapshot__free(img);
		return ret;
	}
	*out = img;
	return 0;
}

int snapshot__read(const char *path, struct snapshot_image **out,
		   char *err, size_t errlen)
{
	struct snapfile *f;
	int ret;

	ret = snapfile__open(path, SNAPFILE_TYPE_STATE, &f, err, errlen);
	return ret ?: image_new(f, out, err, errlen);
}

int snapshot__parse(const void *buf, size_t len,
		    struct snapshot_image **out, char *err, size_t errlen)
{
	struct snapfile *f;
	int ret;

	ret = snapfile__parse(buf, len, SNAPFILE_TYPE_STATE, &f, err, errlen);
	return ret ?: image_new(f, out, err, errlen);
}

void snapshot__free(struct snapshot_image *img)
{
	if (!img)
		return;
	if (img->file)
		snapfile__close(img->file);
	free(img);
}

int snapshot__config(const struct snapshot_image *img,
		     const struct snapshot_load_params *p,
		     struct vm_config *cfg, char *err, size_t errlen)
{
	const struct device_init *d;
	size_t i;
	int ret;

	if ((p->vsock_uds_path || p->vsock_cid) &&
	    !(img->cfg.flags & SNAP_CFG_VSOCK)) {
		vm_config__init(cfg);
		return err__set(err, errlen, -EINVAL,
				"vsock_override: the snapshot has no vsock device");
	}
	if (machine_config(&img->cfg, cfg))
		return err__set(err, errlen, -ENOMEM, "out of memory");
	for (i = 0; (d = devices__get(i)); i++)
		if (d->snap && d->snap->config) {
			ret = d->snap->config(img->dev[i], p, cfg, err, errlen);
			if (ret)
				return ret;
		}
	cfg->machine.track_dirty_pages = p->track_dirty_pages;
	if (p->vsock_cid)
		cfg->vsock.guest_cid = p->vsock_cid;
	if (p->vsock_uds_path) {
		free(cfg->vsock.uds_path);
		cfg->vsock.uds_path = strdup(p->vsock_uds_path);
		if (!cfg->vsock.uds_path)
			return err__set(err, errlen, -ENOMEM, "out of memory");
	}
	return 0;
}

int snapshot__open_memory(const struct snapshot_image *img,
			  const struct snapshot_load_params *p,
			  struct guest_mem **out, char *err, size_t errlen)
{
	uint64_t size = img->manifest.mem_size, pages = 0;
	struct guest_mem *mem = NULL;
	struct wset *ws = NULL;
	int ret;

	/* The working set is read and checked before any RAM exists. */
	if (p->wset_path) {
		ret = wset__read(p->wset_path, size, &ws, err, errlen);
		if (ret)
			return ret;
	}
	switch (p->backend) {
	case MEM_BACKEND_FILE:
		ret = guest_mem__new_file(&mem, p->backend_path, size, err,
					  errlen);
		break;
	case MEM_BACKEND_UFFD:
		ret = guest_mem__new_uffd(&mem, p->backend_path, size, err,
					  errlen);
		break;
	case MEM_BACKEND_THAW: {
		/* The module imports and premaps the working set itself. */
		struct guest_mem_thaw_opts o = {
			.mem_path = p->backend_path,
			.wset = ws,	/* read and checked above */
			.record = p->record_wset,
		};
		struct guest_mem_thaw_info info;

		ret = guest_mem__new_thaw(&mem, size, &o, &info, err, errlen);
		if (ret)
			goto out;
		mem->recording = p->record_wset;
		if (p->enable_rewind) {
			ret = guest_mem__can_reset(mem, err, errlen);
			if (ret)
				goto out;
		}
		pr_info("restore: Thaw object %s (%s in %llu us), %llu working-set pages premapped in %llu us",
			info.obj.name, info.obj.created ? "created" : "shared",
			(unsigned long long)(info.obj.create_ns / 1000),
			(unsigned long long)info.premapped,
			(unsigned long long)(info.premap_ns / 1000));
		*out = mem;
		mem = NULL;
		goto out;
	}
	default:
		ret = err__set(err, errlen, -EINVAL, "unknown memory backend");
	}
	if (ret)
		goto out;
	/*
	 * File learns what the guest wrote from KVM's dirty log and what we
	 * wrote from our own marks: both start now, before anything runs.
	 */
	if (p->enable_rewind && p->backend == MEM_BACKEND_FILE) {
		ret = guest_mem__track_dirty(mem);
		if (ret) {
			err__set(err, errlen, ret, "out of memory");
			goto out;
		}
	}
	if (p->enable_rewind) {
		ret = guest_mem__can_reset(mem, err, errlen);
		if (ret)
			goto out;
	}
	if (p->record_wset) {
		ret = mem->ops->record ? mem->ops->record(mem, err, errlen) :
		      err__set(err, errlen, -EOPNOTSUPP,
			       "%s RAM cannot record a working set",
			       mem->ops->name);
		if (ret)
			goto out;
		mem->recording = true;
	}
	if (ws) {
		uint64_t t0 = kvm__now_ns();

		ret = mem->ops->prefetch ?
		      mem->ops->prefetch(mem, ws, &pages, err, errlen) :
		      err__set(err, errlen, -EOPNOTSUPP,
			       "%s RAM cannot prefetch a working set",
			       mem->ops->name);
		if (ret)
			goto out;
		pr_info("restore: %s: %llu working-set pages mapped in %llu us",
			mem->ops->name, (unsigned long long)pages,
			(unsigned long long)((kvm__now_ns() - t0) / 1000));
	}
	*out = mem;
	mem = NULL;
out:
	guest_mem__free(mem);
	wset__free(ws);
	return ret;
}

int snapshot__apply(const struct snapshot_image *img, struct kvm *kvm,
		    bool clock_realtime, char *err, size_t errlen)
{
	struct kvm_vm_state vm = img->vm;
	const struct device_init *d;
	unsigned int i;
	int ret;

	/* Nothing written to guest RAM from here on escapes a later Diff. */
	ret = snapshot__reset_dirty(kvm);
	if (ret)
		return err__set(err, errlen, ret, "dirty tracking: %s",
				strerror(-ret));
	if (clock_realtime) {
		uint64_t now = realtime_ns(), then = img->manifest.created_ns;

		if (vm.clock.flags & KVM_CLOCK_REALTIME)
			then = vm.clock.realtime;
		if (now > then)
			vm.clock.clock += now - then;
	}
	ret = kvm__restore_state(kvm, &vm);
	if (ret)
		return err__set(err, errlen, ret,
				"restoring the interrupt controllers, PIT and clock: %s",
				strerror(-ret));
	for (i = 0; i < kvm->nr_cpus; i++) {
		ret = kvm_cpu__restore_state(kvm->cpus[i], img->cpus[i]);
		if (ret)
			return err__set(err, errlen, ret,
					"restoring vCPU %u: %s", i,
					strerror(-ret));
	}
	for (i = 0; (d = devices__get(i)); i++) {
		if (!d->snap)
			continue;
		ret = d->snap->restore(kvm, img->dev[i], err, errlen);
		if (ret)
			return ret;
	}
	for (i = 0; (d = devices__get(i)); i++) {
		if (!d->snap || !d->snap->restored)
			continue;
		ret = d->snap->restored(kvm, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

int snapshot__save_wset(struct kvm *kvm, const char *path, char *err,
			size_t errlen)
{
	struct guest_mem *mem = kvm->mem;
	struct wset *ws = NULL;
	int ret;

	if (!mem->recording)
		return err__set(err, errlen, -EINVAL,
				"this VM does not record its working set (load it with record_wset)");
	if (mem->ops->wset_write)
		return mem->ops->wset_write(mem, path, err, errlen);
	if (!mem->ops->touched)
		return err__set(err, errlen, -EOPNOTSUPP,
				"%s RAM cannot tell which pages were touched",
				mem->ops->name);
	ret = mem->ops->touched(mem, &ws, err, errlen);
	if (ret)
		return ret;
	ret = wset__write(ws, path, err, errlen);
	if (!ret)
		pr_info("working set: %zu pages to %s", wset__count(ws), path);
	wset__free(ws);
	return ret;
}
