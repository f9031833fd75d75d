// SPDX-License-Identifier: GPL-2.0
/* The KVM VM, the machine's assembly and its run control: see kvm.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/vsock-uds.h"
#include "vmm/devices.h"
#include "vmm/exit.h"
#include "vmm/hw/vmgenid.h"
#include "vmm/kvm-cpu.h"
#include "vmm/kvm.h"
#include "vmm/mem/mem.h"
#include "vmm/seccomp.h"
#include "vmm/util.h"
#include "vmm/virtio/mmio.h"
#include "vmm/virtio/vsock.h"
#include "vmm/x86/acpi.h"

#define LOOP_ENTRIES	256

static uint64_t process_start_ns;

uint64_t kvm__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* As close to the process start as a library gets: before main(). */
__attribute__((constructor)) static void record_process_start(void)
{
	process_start_ns = kvm__now_ns();
}

uint64_t kvm__process_start_ns(void)
{
	return process_start_ns;
}

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_PIT_STATE2, "KVM_CAP_PIT_STATE2" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
	{ KVM_CAP_XSAVE, "KVM_CAP_XSAVE" },
	{ KVM_CAP_XCRS, "KVM_CAP_XCRS" },
	{ KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS" },
	{ KVM_CAP_ADJUST_CLOCK, "KVM_CAP_ADJUST_CLOCK" },
};

static int check_caps(struct kvm *kvm, char *err, size_t errlen)
{
	unsigned int i;
	int max;

	for (i = 0; i < ARRAY_SIZE(required_caps); i++)
		if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION,
			  required_caps[i].cap) <= 0)
			return err__set(err, errlen, -EINVAL, "KVM lacks %s",
					required_caps[i].name);
	max = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max > 0 && kvm->nr_cpus > (unsigned int)max)
		return err__set(err, errlen, -EINVAL,
				"KVM allows %d vCPUs, %u asked", max,
				kvm->nr_cpus);
	return 0;
}

static int get_supported_cpuid(struct kvm *kvm)
{
	unsigned int nent = 64;

	for (;;) {
		struct kvm_cpuid2 *c;

		c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (ioctl(kvm->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			kvm->cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG || nent >= 4096)
			return -errno;
		nent *= 2;
	}
}

/*
 * GSI i drives IOAPIC pin i and, below 16, PIC pin i, as on a PC, except
 * that GSI 0 (the PIT) is wired to IOAPIC pin 2 and GSI 2 (the cascade) to
 * nothing; the MADT says so with an interrupt source override.
 */
static int setup_gsi_routing(struct kvm *kvm)
{
	struct {
		struct kvm_irq_routing hdr;
		struct kvm_irq_routing_entry e[2 * LAYOUT_IOAPIC_PINS];
	} r;
	unsigned int gsi, n = 0;

	memset(&r, 0, sizeof(r));
	for (gsi = 0; gsi < LAYOUT_IOAPIC_PINS; gsi++) {
		if (gsi == 2)
			continue;
		r.e[n].gsi = gsi;
		r.e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		r.e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		r.e[n].u.irqchip.pin = gsi ? gsi : 2;
		n++;
		if (gsi >= 16)
			continue;
		r.e[n].gsi = gsi;
		r.e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		r.e[n].u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
			KVM_IRQCHIP_PIC_SLAVE;
		r.e[n].u.irqchip.pin = gsi % 8;
		n++;
	}
	r.hdr.nr = n;
	return ioctl(kvm->vm_fd, KVM_SET_GSI_ROUTING, &r) < 0 ? -errno : 0;
}

static int create_vm(struct kvm *kvm, char *err, size_t errlen)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t idmap = LAYOUT_IDENTITY_MAP;
	int ret;

	kvm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0) {
		ret = -errno;
		return err__set(err, errlen, ret, "/dev/kvm: %s",
				strerror(errno));
	}
	if (ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return err__set(err, errlen, -EINVAL,
				"KVM API version is not %d", KVM_API_VERSION);
	ret = check_caps(kvm, err, errlen);
	if (ret)
		return ret;
	kvm->vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0) {
		ret = -errno;
		return err__set(err, errlen, ret, "KVM_CREATE_VM: %s",
				strerror(errno));
	}
	kvm->vcpu_mmap_size = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->vcpu_mmap_size <= 0)
		return err__set(err, errlen, -EINVAL,
				"KVM_GET_VCPU_MMAP_SIZE failed");
	/* Intel needs these pages out of RAM; AMD ignores them. */
	if (ioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0 ||
	    ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, LAYOUT_TSS) < 0) {
		ret = -errno;
		return err__set(err, errlen, ret, "KVM_SET_TSS_ADDR: %s",
				strerror(errno));
	}
	if (ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		ret = -errno;
		return err__set(err, errlen, ret, "KVM_CREATE_IRQCHIP: %s",
				strerror(errno));
	}
	ret = setup_gsi_routing(kvm);
	if (ret)
		return err__set(err, errlen, ret, "KVM_SET_GSI_ROUTING: %s",
				strerror(-ret));
	if (ioctl(kvm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		ret = -errno;
		return err__set(err, errlen, ret, "KVM_CREATE_PIT2: %s",
				strerror(errno));
	}
	ret = get_supported_cpuid(kvm);
	if (ret)
		snprintf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s",
			 strerror(-ret));
	return ret;
}

/* @mem: RAM a restore backend made (the machine takes it), or NULL. */
static int setup_memory(struct kvm *kvm, struct guest_mem *mem, char *err,
			size_t errlen)
{
	const struct vm_machine_config *mc = &kvm->cfg->machine;
	unsigned int i;
	bool log_dirty;
	int ret;

	if (!mc->mem_size_mib || mc->mem_size_mib > VM_MAX_MEM_MIB)
		return err__set(err, errlen, -EINVAL,
				"mem_size_mib %llu out of 1..%u",
				(unsigned long long)mc->mem_size_mib,
				VM_MAX_MEM_MIB);
	if (mem) {
		kvm->mem = mem;
		if (mem->ram_size != mc->mem_size_mib << 20)
			return err__set(err, errlen, -EINVAL,
					"guest memory of %llu bytes for a %llu MiB machine",
					(unsigned long long)mem->ram_size,
					(unsigned long long)mc->mem_size_mib);
		ret = 0;
	} else {
		ret = guest_mem__new_memfd(&kvm->mem, mc->mem_size_mib << 20,
					   mc->huge_pages);
	}
	if (ret)
		return err__set(err, errlen, ret,
				"guest memory (%llu MiB%s): %s",
				(unsigned long long)mc->mem_size_mib,
				mc->huge_pages == VM_HUGE_PAGES_2M ? " of 2M huge pages: is vm.nr_hugepages large enough?" : "",
				strerror(-ret));
	/*
	 * KVM never maps a dirty-logged slot with large pages.  A File
	 * clone that may rewind (its RAM tracks dirty pages) needs the log
	 * to learn what the guest wrote.
	 */
	log_dirty = mc->track_dirty_pages || kvm->mem->dirty;
	if (mc->track_dirty_pages)
		pr_info("track_dirty_pages: KVM maps guest RAM with 4 KiB pages only while it logs dirty pages");
	if (kvm->mem->dirty)
		pr_info("enable_rewind: %s RAM rewinds through KVM's dirty log, which keeps KVM at 4 KiB pages for all of guest RAM",
			kvm->mem->ops->name);
	for (i = 0; i < kvm->mem->nr_regions; i++) {
		const struct guest_mem_region *r = &kvm->mem->regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.flags = log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->hva,
		};

		if ((r->gpa ^ (uintptr_t)r->hva) & ((2ULL << 20) - 1))
			pr_info("RAM region %u: host %p and guest %#llx differ modulo 2 MiB: KVM maps it with 4 KiB pages",
				i, r->hva, (unsigned long long)r->gpa);
		if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			ret = -errno;
			return err__set(err, errlen, ret,
					"KVM_SET_USER_MEMORY_REGION: %s",
					strerror(errno));
		}
	}
	return 0;
}

static int build_cmdline(struct kvm *kvm, char *err, size_t errlen)
{
	const struct vm_boot_source *bs = &kvm->cfg->boot_source;
	size_t n, cap = sizeof(kvm->cmdline);
	unsigned int i;

	n = snprintf(kvm->cmdline, cap, "%s",
		     bs->boot_args ? bs->boot_args : BOOT_DEFAULT_CMDLINE);
	/* The root drive, as Firecracker: the first the guest sees. */
	for (i = 0; i < kvm->cfg->nr_drives && n < cap; i++) {
		const struct vm_drive_config *d = &kvm->cfg->drives[i];

		if (!d->is_root_device)
			continue;
		if (d->partuuid)
			n += snprintf(kvm->cmdline + n, cap - n,
				      " root=PARTUUID=%s", d->partuuid);
		else
			n += snprintf(kvm->cmdline + n, cap - n,
				      " root=/dev/vda");
		if (n < cap)
			n += snprintf(kvm->cmdline + n, cap - n, " %s",
				      d->is_read_only ? "ro" : "rw");
	}
	for (i = 0; bs->virtio_mmio_cmdline && i < kvm->nr_virtio && n < cap;
	     i++) {
		const struct virtio_mmio *vm = kvm->virtio[i];

		n += snprintf(kvm->cmdline + n, cap - n,
			      " virtio_mmio.device=%llu@%#llx:%u",
			      (unsigned long long)LAYOUT_VIRTIO_SIZE,
			      (unsigned long long)vm->base, vm->irq);
	}
	if (n >= cap)
		return err__set(err, errlen, -EINVAL,
				"command line longer than %zu bytes", cap - 1);
	return 0;
}

static int setup_firmware(struct kvm *kvm, char *err, size_t errlen)
{
	struct acpi_machine m = { .nr_cpus = kvm->nr_cpus };
	unsigned int i;
	int ret;

	for (i = 0; i < kvm->nr_virtio; i++) {
		m.virtio[i].base = kvm->virtio[i]->base;
		m.virtio[i].size = LAYOUT_VIRTIO_SIZE;
		m.virtio[i].irq = kvm->virtio[i]->irq;
	}
	m.nr_virtio = kvm->nr_virtio;
	m.has_vmgenid = true;
	m.vmgenid.gpa = LAYOUT_VMGENID;
	m.vmgenid.gsi = LAYOUT_IRQ_GED_VMGENID;
	ret = acpi__setup(kvm->mem, &m);
	if (ret)
		return err__set(err, errlen, -EINVAL,
				"building the ACPI tables: %s", strerror(-ret));
	ret = vmgenid__generate(kvm);
	if (ret)
		return err__set(err, errlen, -EINVAL,
				"the VM generation ID: %s", strerror(-ret));
	return 0;
}

static int create_cpus(struct kvm *kvm, char *err, size_t errlen)
{
	unsigned int i;
	int ret;

	for (i = 0; i < kvm->nr_cpus; i++) {
		ret = kvm_cpu__init(kvm, i, &kvm->cpus[i]);
		if (ret)
			return err__set(err, errlen, ret,
					"KVM_CREATE_VCPU %u: %s", i,
					strerror(-ret));
		ret = kvm_cpu__setup(kvm->cpus[i], &kvm->boot);
		if (ret)
			return err__set(err, errlen, ret, "vCPU %u setup: %s",
					i, strerror(-ret));
	}
	return 0;
}

static void loop_on_wake(void *arg)
{
	struct kvm *kvm = arg;

	if (kvm__park(kvm, NULL))
		uring__stop(kvm->loop);
}

/*
 * The machine for a boot (@mem NULL: fresh RAM, firmware, the kernel) or
 * for a restore (@mem: the backend's RAM, whose content already holds the
 * firmware and the kernel; the caller then loads the saved state).
 */
static int machine_init(struct kvm *kvm, const struct vm_config *cfg,
			struct guest_mem *mem, char *err, size_t errlen)
{
	int ret;

	kvm->sys_fd = kvm->vm_fd = -1;
	kvm->mem = mem;
	kvm->cfg = cfg;
	kvm->start_ns = kvm__now_ns();
	pthread_mutex_init(&kvm->rc.lock, NULL);
	pthread_cond_init(&kvm->rc.cond, NULL);
	kvm->nr_cpus = cfg->machine.vcpu_count;
	if (!kvm->nr_cpus || kvm->nr_cpus > VM_MAX_VCPUS)
		return err__set(err, errlen, -EINVAL,
				"vcpu_count %u out of 1..%u", kvm->nr_cpus,
				VM_MAX_VCPUS);
	if (!mem && (!cfg->has_boot_source ||
		     !cfg->boot_source.kernel_image_path))
		return err__set(err, errlen, -EINVAL,
				"no kernel image (boot-source)");
	if (cfg->vsock.present) {
		if (cfg->vsock.guest_cid < 3 || cfg->vsock.guest_cid > UINT32_MAX - 1)
			return err__set(err, errlen, -EINVAL,
					"vsock guest_cid %u: must be 3 to 4294967294",
					cfg->vsock.guest_cid);
		if (!vsock_uds__path_ok(cfg->vsock.uds_path))
			return err__set(err, errlen, -EINVAL,
					"vsock uds_path must be 1 to %d bytes",
					VSOCK_UDS_PATH_MAX);
	}

	ret = create_vm(kvm, err, errlen);
	if (ret)
		return ret;
	ret = setup_memory(kvm, mem, err, errlen);
	if (ret)
		return ret;
	if (!kvm->loop) {
		ret = kvm__loop_init(&kvm->own_loop);
		if (ret) {
			uring__exit(&kvm->own_loop);
			return err__set(err, errlen, ret, "io_uring: %s",
					strerror(-ret));
		}
		kvm->loop = &kvm->own_loop;
	} else if (!kvm->loop->ring_ok) {
		return err__set(err, errlen, -EIO,
				"io_uring: lost with an earlier failed start");
	}
	kvm->loop_ok = true;
	kvm->loop->on_wake = loop_on_wake;
	kvm->loop->wake_arg = kvm;

	ret = devices__init(kvm, err, errlen);
	if (ret)
		return ret;
	if (mem)
		return create_cpus(kvm, err, errlen);
	ret = setup_firmware(kvm, err, errlen);
	if (ret)
		return ret;
	ret = build_cmdline(kvm, err, errlen);
	if (ret)
		return ret;
	ret = boot__load_files(kvm->mem, cfg->boot_source.kernel_image_path,
			       cfg->boot_source.initrd_path, kvm->cmdline,
			       &kvm->boot, err, errlen);
	if (ret)
		return ret;
	return create_cpus(kvm, err, errlen);
}

int kvm__loop_init(struct uring_loop *l)
{
	return uring__init(l, LOOP_ENTRIES);
}

int kvm__init(struct kvm *kvm, const struct vm_config *cfg, char *err,
	      size_t errlen)
{
	return machine_init(kvm, cfg, NULL, err, errlen);
}

int kvm__init_restore(struct kvm *kvm, const struct vm_config *cfg,
		      struct guest_mem *mem, char *err, size_t errlen)
{
	return machine_init(kvm, cfg, mem, err, errlen);
}

static void *loop_thread(void *arg)
{
	struct kvm *kvm = arg;

	pthread_setname_np(pthread_self(), "devices");
	if (!kvm->cfg->no_seccomp && seccomp__apply(SECCOMP_DEVICES)) {
		kvm__halt(kvm, VMM_EXIT_ERROR);
		return NULL;
	}
	if (uring__run(kvm->loop))
		kvm__halt(kvm, VMM_EXIT_ERROR);
	return NULL;
}

static int copier_filter(void)
{
	return seccomp__apply(SECCOMP_COPIER);
}

int kvm__run(struct kvm *kvm, char *err, size_t errlen)
{
	unsigned int i;
	int ret;

	ret = kvm_cpu__init_signal();
	if (!ret && !kvm->cfg->no_seccomp)
		ret = seccomp__init();
	if (ret)
		return err__set(err, errlen, -EINVAL, "signal handlers: %s",
				strerror(-ret));
	/* What the memory backend does beside the vCPUs starts with them. */
	if (kvm->mem && !kvm->mem_started) {
		ret = guest_mem__start(kvm->mem, kvm->cfg->no_seccomp ? NULL :
					       copier_filter);
		if (ret)
			return err__set(err, errlen, ret,
					"guest memory's helper thread: %s",
					strerror(-ret));
		kvm->mem_started = true;
	}
	pthread_mutex_lock(&kvm->rc.lock);
	kvm->rc.members = kvm->nr_cpus + 1;
	pthread_mutex_unlock(&kvm->rc.lock);
	ret = pthread_create(&kvm->loop_thread, NULL, loop_thread, kvm);
	if (ret)
		return err__set(err, errlen, -EINVAL, "device loop thread: %s",
				strerror(ret));
	kvm->loop_started = true;
	for (i = 0; i < kvm->nr_cpus; i++) {
		pthread_mutex_lock(&kvm->rc.lock);
		ret = kvm_cpu__start(kvm->cpus[i]);
		pthread_mutex_unlock(&kvm->rc.lock);
		if (ret) {
			kvm__halt(kvm, VMM_EXIT_ERROR);
			return err__set(err, errlen, -EINVAL,
					"vCPU %u thread: %s", i,
					strerror(-ret));
		}
	}
	return 0;
}

int kvm__run_paused(struct kvm *kvm, char *err, size_t errlen)
{
	unsigned int i;
	int ret;

	/* Every member parks before the guest runs one instruction. */
	pthread_mutex_lock(&kvm->rc.lock);
	kvm->rc.pause_req = true;
	for (i = 0; i < kvm->nr_cpus; i++)
		kvm->cpus[i]->run->immediate_exit = 1;
	pthread_mutex_unlock(&kvm->rc.lock);
	ret = kvm__run(kvm, err, errlen);
	if (ret)
		return ret;
	ret = kvm__pause(kvm);
	if (ret)
		snprintf(err, errlen, "the machine stopped while starting");
	return ret;
}

void kvm__exit(struct kvm *kvm)
{
	unsigned int i;

	if (kvm->loop_started || (kvm->nr_cpus && kvm->cpus[0] &&
				  kvm->cpus[0]->started))
		kvm__halt(kvm, VMM_EXIT_OK);
	for (i = 0; i < kvm->nr_cpus; i++)
		if (kvm->cpus[i] && kvm->cpus[i]->started)
			pthread_join(kvm->cpus[i]->thread, NULL);
	if (kvm->loop_started)
		pthread_join(kvm->loop_thread, NULL);
	kvm->loop_started = false;
	/*
	 * No thread runs now: the loop's pending requests die with its own
	 * ring; a ring lent by the caller is the caller's to reset or close.
	 */
	if (kvm->loop_ok && kvm->loop == &kvm->own_loop)
		uring__exit(kvm->loop);
	kvm->loop_ok = false;
	devices__exit(kvm);
	for (i = 0; i < kvm->nr_cpus; i++) {
		kvm_cpu__free(kvm->cpus[i]);
		kvm->cpus[i] = NULL;
	}
	bus__free(&kvm->pio);
	bus__free(&kvm->mmio);
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->sys_fd >= 0)
		close(kvm->sys_fd);
	kvm->vm_fd = kvm->sys_fd = -1;
	guest_mem__free(kvm->mem);
	kvm->mem = NULL;
	free(kvm->cpuid);
	kvm->cpuid = NULL;
	pthread_mutex_destroy(&kvm->rc.lock);
	pthread_cond_destroy(&kvm->rc.cond);
}

int kvm__get_dirty_log(struct kvm *kvm, unsigned int slot, uint64_t *map)
{
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = map };

	if (ioctl(kvm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
		return -errno;
	/* The log is cleared by reading it: a rewind must still see it. */
	guest_mem__merge_log(kvm->mem, slot, map);
	return 0;
}

int kvm__irq_line(struct kvm *kvm, unsigned int gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	return ioctl(kvm->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}

int kvm__irqfd(struct kvm *kvm, int fd, unsigned int gsi, bool assign)
{
	struct kvm_irqfd irqfd = {
		.fd = fd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	return ioctl(kvm->vm_fd, KVM_IRQFD, &irqfd) < 0 ? -errno : 0;
}

int kvm__ioeventfd(struct kvm *kvm, int fd, uint64_t addr, uint32_t len,
		   uint64_t datamatch, bool assign)
{
	struct kvm_ioeventfd ioe = {
		.datamatch = datamatch,
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH |
			(assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return ioctl(kvm->vm_fd, KVM_IOEVENTFD, &ioe) < 0 ? -errno : 0;
}

/*
 * Called by a member (@cpu, or NULL for the device loop) at a safe point.
 * Blocks while a pause is requested; returns true when the machine stops.
 */
bool kvm__park(struct kvm *kvm, struct kvm_cpu *cpu)
{
	struct kvm_runctl *rc = &kvm->rc;
	bool stop;

	pthread_mutex_lock(&rc->lock);
	/* Under the lock: a kick after this sets it again (see pause). */
	if (cpu)
		cpu->run->immediate_exit = 0;
	if (rc->pause_req && !atomic_load(&rc->stop)) {
		rc->parked++;
		pthread_cond_broadcast(&rc->cond);
		while (rc->pause_req && !atomic_load(&rc->stop))
			pthread_cond_wait(&rc->cond, &rc->lock);
		rc->parked--;
	}
	stop = atomic_load(&rc->stop);
	if (cpu && stop)
		cpu->run->immediate_exit = 1;
	pthread_mutex_unlock(&rc->lock);
	return stop;
}

static void kick_all(struct kvm *kvm)
{
	unsigned int i;

	for (i = 0; i < kvm->nr_cpus; i++)
		if (kvm->cpus[i])
			kvm_cpu__kick(kvm->cpus[i]);
	if (kvm->loop_ok)
		uring__wake(kvm->loop);
}

int kvm__pause(struct kvm *kvm)
{
	struct kvm_runctl *rc = &kvm->rc;
	int ret = 0;

	pthread_mutex_lock(&rc->lock);
	rc->pause_req = true;
	kick_all(kvm);
	while (rc->parked < rc->members && !atomic_load(&rc->stop))
		pthread_cond_wait(&rc->cond, &rc->lock);
	if (atomic_load(&rc->stop)) {
		rc->pause_req = false;
		ret = -ESHUTDOWN;
	}
	pthread_mutex_unlock(&rc->lock);
	return ret;
}

void kvm__resume(struct kvm *kvm)
{
	struct kvm_runctl *rc = &kvm->rc;

	pthread_mutex_lock(&rc->lock);
	rc->pause_req = false;
	pthread_cond_broadcast(&rc->cond);
	pthread_mutex_unlock(&rc->lock);
}

void kvm__halt(struct kvm *kvm, int exit_code)
{
	struct kvm_runctl *rc = &kvm->rc;

	pthread_mutex_lock(&rc->lock);
	if (!atomic_load(&rc->stop)) {
		rc->exit_code = exit_code;
		atomic_store(&rc->stop, true);
		kick_all(kvm);
	}
	pthread_cond_broadcast(&rc->cond);
	pthread_mutex_unlock(&rc->lock);
}

int kvm__wait(struct kvm *kvm)
{
	struct kvm_runctl *rc = &kvm->rc;
	int code;

	pthread_mutex_lock(&rc->lock);
	while (!atomic_load(&rc->stop))
		pthread_cond_wait(&rc->cond, &rc->lock);
	code = rc->exit_code;
	pthread_mutex_unlock(&rc->lock);
	return code;
}
