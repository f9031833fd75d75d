// SPDX-License-Identifier: GPL-2.0
/*
 * Clones as KVM guest memory: each VM's memory slot is a clone of one
 * snapshot object.  A guest's write is copy-on-write in its own clone only;
 * the host's writes and resets of a clone reach the guest through KVM's mmu
 * notifier; a working set recorded while a guest runs, premapped into a new
 * clone, lets the next guest run with no page fault in the module.  In a
 * huge object, a region the guest reads is one 2 MiB entry in KVM, and a
 * region chosen for a private copy stays 2 MiB when the guest writes it,
 * and through a reset.
 */
#include <stdint.h>
#include <sys/mman.h>

#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "selftests/lib/kvm_util.h"
#include "selftests/lib/setup_skip.h"
#include "thaw_test.h"

#define GUEST_PAGES	16
#define CODE_GPA	0x1000
#define DATA_GPA	0x2000
#define OUT_PORT	0x10
#define DATA0		0x41

/*
 * mov (0x2000), %al; out %al, $0x10; inc %al; mov %al, (0x2000); hlt
 * The inc sits at CODE_GPA + 5 so that the host can patch it.
 */
static const uint8_t guest_code[] = {
	0xa0, 0x00, 0x20,
	0xe6, OUT_PORT,
	0xfe, 0xc0,
	0xa2, 0x00, 0x20,
	0xf4,
};

FIXTURE(kvmclone) {
	int kvm, dev, src, snap;
	long ps;
	size_t len;
	char *mem[4];
	struct kvm_vm vm[4];
};

FIXTURE_SETUP(kvmclone)
{
	char *page;

	self->dev = self->src = self->snap = -1;
	self->ps = thaw_page_size();
	self->len = GUEST_PAGES * self->ps;
	for (int i = 0; i < 4; i++) {
		self->mem[i] = MAP_FAILED;
		self->vm[i] = (struct kvm_vm)KVM_VM_INIT;
	}
	self->kvm = kvm_open();
	if (self->kvm < 0)
		SETUP_SKIP("/dev/kvm not usable: %s", strerror(-self->kvm));
	self->dev = thaw_open_api(NULL);
	if (self->dev < 0)
		SETUP_SKIP(THAW_DEV " not usable: %s", strerror(-self->dev));

	self->src = memfd_create("guest-mem", MFD_CLOEXEC);
	ASSERT_LE(0, self->src);
	ASSERT_EQ(0, ftruncate(self->src, self->len));
	page = calloc(1, self->ps);
	ASSERT_NE(NULL, page);
	memcpy(page, guest_code, sizeof(guest_code));
	ASSERT_EQ(self->ps, pwrite(self->src, page, self->ps, CODE_GPA));
	memset(page, 0, self->ps);
	page[0] = DATA0;
	ASSERT_EQ(self->ps, pwrite(self->src, page, self->ps, DATA_GPA));
	free(page);
	self->snap = thaw_snap_create(self->dev, self->src, 0, self->len, NULL);
	ASSERT_LE(0, self->snap);
	thaw_private_any_region(1);
}

FIXTURE_TEARDOWN(kvmclone)
{
	thaw_private_any_region(0);
	for (int i = 0; i < 4; i++) {
		vm_destroy(&self->vm[i]);
		if (self->mem[i] != MAP_FAILED)
			munmap(self->mem[i], self->len);
	}
	if (self->snap >= 0)
		close(self->snap);
	if (self->src >= 0)
		close(self->src);
	if (self->dev >= 0) {
		EXPECT_NO_THAW_OBJECTS(self->dev);
		close(self->dev);
	}
	if (self->kvm >= 0)
		close(self->kvm);
}

/* Run the guest program once; returns the byte it wrote to the port. */
static int vm_run_once(struct __test_metadata *_metadata, struct kvm_vm *vm)
{
	static const struct kvm_regs start = { .rip = CODE_GPA, .rflags = 0x2 };
	int out;

	vcpu_set_regs_real(vm, &start);
	EXPECT_EQ(0, __vcpu_run(vm))
		TH_LOG("KVM_RUN: %s", strerror(errno));
	EXPECT_EQ(KVM_EXIT_IO, vm->run->exit_reason);
	if (vm->run->exit_reason != KVM_EXIT_IO)
		return -1;
	EXPECT_EQ(OUT_PORT, vm->run->io.port);
	out = vcpu_io_byte(vm);
	EXPECT_EQ(0, __vcpu_run(vm));
	EXPECT_EQ(KVM_EXIT_HLT, vm->run->exit_reason);
	return out;
}

static char *map_clone(FIXTURE_DATA(kvmclone) *self, int i)
{
	self->mem[i] = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE, self->snap, 0);
	return self->mem[i];
}

TEST_F_TIMEOUT(kvmclone, guest_writes_are_private, 120)
{
	char *a = map_clone(self, 0), *b = map_clone(self, 1), *c;
	uint8_t byte;

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, b);
	vm_create(self->kvm, &self->vm[0], a, self->len);
	vm_create(self->kvm, &self->vm[1], b, self->len);

	EXPECT_EQ(DATA0, vm_run_once(_metadata, &self->vm[0]));
	/* The host sees the guest's write in clone A only. */
	EXPECT_EQ(DATA0 + 1, a[DATA_GPA]);
	EXPECT_EQ(DATA0, b[DATA_GPA]);
	ASSERT_EQ(1, pread(self->src, &byte, 1, DATA_GPA));
	EXPECT_EQ(DATA0, byte);
	c = map_clone(self, 2);
	ASSERT_NE(MAP_FAILED, c);
	EXPECT_EQ(DATA0, c[DATA_GPA]);
	EXPECT_EQ(1, thaw_clone_stats(self->snap, a).private_pages);
	EXPECT_EQ(0, thaw_clone_stats(self->snap, b).private_pages);

	/* The second VM is unaffected. */
	EXPECT_EQ(DATA0, vm_run_once(_metadata, &self->vm[1]));
	EXPECT_EQ(DATA0 + 1, b[DATA_GPA]);
	EXPECT_EQ(DATA0 + 1, a[DATA_GPA]);
	/* And runs again from its own memory. */
	EXPECT_EQ(DATA0 + 1, vm_run_once(_metadata, &self->vm[0]));
	EXPECT_EQ(DATA0 + 2, a[DATA_GPA]);
	EXPECT_EQ(DATA0, c[DATA_GPA]);
}

/*
 * The host replaces a page KVM has mapped (copy-on-write of the code page)
 * and resets the clone: KVM's notifier drops its mapping each time, so the
 * guest sees the new page at once.
 */
TEST_F_TIMEOUT(kvmclone, host_cow_and_reset_reach_guest, 120)
{
	char *a = map_clone(self, 0);

	ASSERT_NE(MAP_FAILED, a);
	vm_create(self->kvm, &self->vm[0], a, self->len);
	EXPECT_EQ(DATA0, vm_run_once(_metadata, &self->vm[0]));
	EXPECT_EQ(DATA0 + 1, a[DATA_GPA]);

	/* inc %al -> add $2, %al, in clone A's code page only. */
	a[CODE_GPA + 5] = 0x04;
	a[CODE_GPA + 6] = 0x02;
	EXPECT_EQ(DATA0 + 1, vm_run_once(_metadata, &self->vm[0]));
	EXPECT_EQ(DATA0 + 3, a[DATA_GPA]);

	/* Reset: both pages back to the snapshot, in the guest too. */
	EXPECT_EQ(2, thaw_clone_op(self->snap, THAW_IOC_CLONE_RESET, a,
				   THAW_CLONE_RESET_REMAP));
	EXPECT_EQ(DATA0, a[DATA_GPA]);
	EXPECT_EQ(DATA0, vm_run_once(_metadata, &self->vm[0]));
	EXPECT_EQ(DATA0 + 1, a[DATA_GPA]);
}

TEST_F_TIMEOUT(kvmclone, recorded_working_set_premapped, 120)
{
	struct thaw_wset_io io;
	char *rec = map_clone(self, 0), *e;
	__u32 set[GUEST_PAGES];

	ASSERT_NE(MAP_FAILED, rec);
	vm_create(self->kvm, &self->vm[0], rec, self->len);
	ASSERT_EQ(0, thaw_clone_op(self->snap, THAW_IOC_CLONE_RECORD, rec, 0));
	EXPECT_EQ(DATA0, vm_run_once(_metadata, &self->vm[0]));
	EXPECT_EQ(2, thaw_clone_op(self->snap, THAW_IOC_CLONE_STOP, rec, 0));
	io = (struct thaw_wset_io){ .pages = (uintptr_t)set,
				    .count = GUEST_PAGES };
	ASSERT_EQ(0, __thaw_ioctl(self->snap, THAW_IOC_WSET_GET, &io));
	ASSERT_EQ(2, io.count);
	/* The code page was fetched first, then the data page. */
	EXPECT_EQ(CODE_GPA / self->ps, set[0]);
	EXPECT_EQ(DATA_GPA / self->ps, set[1]);

	e = map_clone(self, 1);
	ASSERT_NE(MAP_FAILED, e);
	EXPECT_EQ(2, thaw_clone_op(self->snap, THAW_IOC_CLONE_PREMAP, e, 0));
	vm_create(self->kvm, &self->vm[1], e, self->len);
	EXPECT_EQ(DATA0, vm_run_once(_metadata, &self->vm[1]));
	EXPECT_EQ(DATA0 + 1, e[DATA_GPA]);
	EXPECT_EQ(0, thaw_clone_stats(self->snap, e).faults)
		TH_LOG("the guest faulted on a premapped working set");
	EXPECT_EQ(1, thaw_clone_stats(self->snap, e).private_pages);
}

/* A VM statistic from KVM's debugfs (/sys/kernel/debug/kvm/PID-FD/), or -1. */
static long kvm_vm_stat(int vm_fd, const char *name)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/kvm/%d-%d/%s",
		 getpid(), vm_fd, name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * A huge object (its first 2 MiB region holds the code and the data, and
 * is stored in one 2 MiB page) mapped 2 MiB-aligned: the guest's reads
 * fault the region in with one PMD, which KVM maps with one 2 MiB entry.
 * The guest's write then splits the region to 4 KiB, in its clone only.
 */
TEST_F_TIMEOUT(kvmclone, huge_region_mapped_2m_by_kvm, 120)
{
	static const struct kvm_regs start = { .rip = CODE_GPA, .rflags = 0x2 };
	size_t len = 4 << 20;
	struct thaw_snap_create c = {
		.length = len, .flags = THAW_SNAP_CREATE_HUGE,
		.huge_min_pages = 1,
	};
	struct kvm_vm *vm = &self->vm[3];
	struct thaw_snap_stats ss;
	struct thaw_clone_stats cs;
	long pages_2m, pages_4k;
	__u64 features = 0;
	int src, snap, dev;
	char *buf, *mem;

	dev = thaw_open_api(&features);
	ASSERT_LE(0, dev);
	close(dev);
	if (!(features & THAW_FEATURE_HUGE))
		SKIP(return, "thaw.ko without THAW_FEATURE_HUGE");
	src = memfd_create("guest-mem-2m", MFD_CLOEXEC);
	ASSERT_LE(0, src);
	ASSERT_EQ(0, ftruncate(src, len));
	buf = malloc(self->len);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(self->len, pread(self->src, buf, self->len, 0));
	ASSERT_EQ(self->len, pwrite(src, buf, self->len, 0));
	free(buf);
	c.fd = src;
	snap = ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c);
	ASSERT_LE(0, snap) TH_LOG("SNAP_CREATE: %s", strerror(errno));
	ss = thaw_snap_stats(snap);
	EXPECT_EQ(1, ss.huge_regions);
	EXPECT_EQ(1, ss.zero_regions);

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, mem);
	EXPECT_EQ(0, (uintptr_t)mem % (2 << 20));
	vm_create(self->kvm, vm, mem, len);

	/* At the OUT the guest has fetched its code and read its data. */
	vcpu_set_regs_real(vm, &start);
	EXPECT_EQ(0, __vcpu_run(vm));
	EXPECT_EQ(KVM_EXIT_IO, vm->run->exit_reason);
	cs = thaw_clone_stats(snap, mem);
	EXPECT_EQ(1, cs.pmd_regions);
	EXPECT_EQ(1, cs.pmd_maps);
	pages_2m = kvm_vm_stat(vm->fd, "pages_2m");
	pages_4k = kvm_vm_stat(vm->fd, "pages_4k");
	TH_LOG("KVM after the guest's reads: pages_2m %ld, pages_4k %ld",
	       pages_2m, pages_4k);
	if (pages_2m < 0)
		TH_LOG("no KVM debugfs: pages_2m not checked");
	else
		EXPECT_LE(1, pages_2m);

	/* The write: split in this clone, private copy of one page. */
	EXPECT_EQ(0, __vcpu_run(vm));
	EXPECT_EQ(KVM_EXIT_HLT, vm->run->exit_reason);
	EXPECT_EQ(DATA0 + 1, mem[DATA_GPA]);
	cs = thaw_clone_stats(snap, mem);
	EXPECT_EQ(1, cs.splits);
	EXPECT_EQ(0, cs.pmd_regions);
	EXPECT_EQ(1, cs.private_pages);
	TH_LOG("KVM after the guest's write: pages_2m %ld, pages_4k %ld",
	       kvm_vm_stat(vm->fd, "pages_2m"),
	       kvm_vm_stat(vm->fd, "pages_4k"));

	vm_destroy(vm);
	munmap(mem, len);
	close(snap);
	close(src);
}

/*
 * A region the working set marks written gets a private 2 MiB copy on the
 * guest's write: KVM keeps mapping it 2 MiB (no split), the write is in
 * this clone only, and after a reset, which copies the snapshot back in
 * place, the guest reads the snapshot's byte through the same mapping.
 */
TEST_F_TIMEOUT(kvmclone, private_region_stays_2m_in_kvm, 120)
{
	static const struct kvm_regs start = { .rip = CODE_GPA, .rflags = 0x2 };
	size_t len = 4 << 20;
	struct thaw_snap_create c = {
		.length = len, .flags = THAW_SNAP_CREATE_HUGE,
		.huge_min_pages = 1,
	};
	const __u32 set[] = { CODE_GPA >> 12, (DATA_GPA >> 12) |
					      THAW_WSET_WRITTEN };
	struct thaw_wset_io io = { .pages = (uintptr_t)set, .count = 2,
				   .flags = THAW_WSET_IO_WRITTEN };
	struct kvm_vm *vm = &self->vm[3];
	struct thaw_clone_stats cs;
	long pages_2m, pages_4k;
	__u64 features = 0;
	int src, snap, dev;
	char *buf, *mem, *other;

	dev = thaw_open_api(&features);
	ASSERT_LE(0, dev);
	close(dev);
	if (!(features & THAW_FEATURE_PRIVATE_HUGE))
		SKIP(return, "thaw.ko without THAW_FEATURE_PRIVATE_HUGE");
	if (self->ps != 4096)
		SKIP(return, "4 KiB pages only");
	src = memfd_create("guest-mem-priv", MFD_CLOEXEC);
	ASSERT_LE(0, src);
	ASSERT_EQ(0, ftruncate(src, len));
	buf = malloc(self->len);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(self->len, pread(self->src, buf, self->len, 0));
	ASSERT_EQ(self->len, pwrite(src, buf, self->len, 0));
	free(buf);
	c.fd = src;
	snap = ioctl(self->dev, THAW_IOC_SNAP_CREATE, &c);
	ASSERT_LE(0, snap) TH_LOG("SNAP_CREATE: %s", strerror(errno));
	ASSERT_EQ(0, __thaw_ioctl(snap, THAW_IOC_WSET_SET, &io));

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, mem);
	EXPECT_EQ(0, (uintptr_t)mem % (2 << 20));
	EXPECT_EQ(1, thaw_clone_stats(snap, mem).private_chosen);
	vm_create(self->kvm, vm, mem, len);

	/* Reads: the object's read-only PMD, 2 MiB in KVM. */
	vcpu_set_regs_real(vm, &start);
	EXPECT_EQ(0, __vcpu_run(vm));
	EXPECT_EQ(KVM_EXIT_IO, vm->run->exit_reason);
	EXPECT_EQ(DATA0, vcpu_io_byte(vm));
	EXPECT_EQ(1, thaw_clone_stats(snap, mem).pmd_regions);
	/* The write: a private copy, mapped writable, 2 MiB in KVM. */
	EXPECT_EQ(0, __vcpu_run(vm));
	EXPECT_EQ(KVM_EXIT_HLT, vm->run->exit_reason);
	EXPECT_EQ(DATA0 + 1, mem[DATA_GPA]);
	cs = thaw_clone_stats(snap, mem);
	EXPECT_EQ(1, cs.private_regions);
	EXPECT_EQ(0, cs.splits);
	EXPECT_EQ(0, cs.private_pages);
	pages_2m = kvm_vm_stat(vm->fd, "pages_2m");
	pages_4k = kvm_vm_stat(vm->fd, "pages_4k");
	TH_LOG("KVM after the guest's write: pages_2m %ld, pages_4k %ld",
	       pages_2m, pages_4k);
	if (pages_2m < 0)
		TH_LOG("no KVM debugfs: pages_2m not checked");
	else
		EXPECT_LE(1, pages_2m);
	other = mmap(NULL, len, PROT_READ, MAP_PRIVATE, snap, 0);
	ASSERT_NE(MAP_FAILED, other);
	EXPECT_EQ(DATA0, other[DATA_GPA]);
	munmap(other, len);

	/* Reset in place: the guest reads the snapshot's byte again. */
	EXPECT_EQ(THAW_REGION_PAGES,
		  thaw_clone_op(snap, THAW_IOC_CLONE_RESET, mem, 0));
	EXPECT_EQ(DATA0, mem[DATA_GPA]);
	EXPECT_EQ(DATA0, vm_run_once(_metadata, vm));
	EXPECT_EQ(DATA0 + 1, mem[DATA_GPA]);
	cs = thaw_clone_stats(snap, mem);
	EXPECT_EQ(1, cs.private_made);
	EXPECT_EQ(1, cs.private_regions);
	pages_2m = kvm_vm_stat(vm->fd, "pages_2m");
	TH_LOG("KVM after a reset and a second run: pages_2m %ld, pages_4k %ld",
	       pages_2m, kvm_vm_stat(vm->fd, "pages_4k"));
	if (pages_2m >= 0)
		EXPECT_LE(1, pages_2m);

	vm_destroy(vm);
	munmap(mem, len);
	close(snap);
	close(src);
}

TEST_HARNESS_MAIN
