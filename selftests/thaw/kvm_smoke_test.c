// SPDX-License-Identifier: GPL-2.0
/*
 * KVM smoke test: the machine under test gives a working /dev/kvm.  Create a
 * VM and a vCPU, run a few real-mode instructions to an OUT and a HLT, and
 * check what the guest computed.
 */
#include <stdint.h>
#include <sys/mman.h>

#include <linux/kvm.h>

#include "kselftest_harness.h"
#include "selftests/setup_skip.h"
#include "thaw_test.h"

#define GUEST_MEM	0x10000
#define CODE_GPA	0x1000
#define OUT_PORT	0x10

/*
 * mov $0x40, %al; add %bl, %al; out %al, $0x10; inc %al; mov %al, (0x2000);
 * hlt
 */
static const uint8_t guest_code[] = {
	0xb0, 0x40,
	0x00, 0xd8,
	0xe6, OUT_PORT,
	0xfe, 0xc0,
	0xa2, 0x00, 0x20,
	0xf4,
};

FIXTURE(kvm) {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem;
};

FIXTURE_SETUP(kvm)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = GUEST_MEM,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = CODE_GPA,
		.rbx = 2,
		.rflags = 0x2,
	};
	int size;

	self->vm = self->vcpu = -1;
	self->run = NULL;
	self->mem = MAP_FAILED;
	self->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (self->kvm < 0)
		SETUP_SKIP("/dev/kvm not usable: %s", strerror(errno));
	ASSERT_EQ(KVM_API_VERSION, ioctl(self->kvm, KVM_GET_API_VERSION, 0));

	self->vm = ioctl(self->kvm, KVM_CREATE_VM, 0);
	ASSERT_LE(0, self->vm) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));

	self->mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memcpy(self->mem + CODE_GPA, guest_code, sizeof(guest_code));
	region.userspace_addr = (uintptr_t)self->mem;
	ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &region))
		TH_LOG("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));

	self->vcpu = ioctl(self->vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, self->vcpu) TH_LOG("KVM_CREATE_VCPU: %s", strerror(errno));
	size = ioctl(self->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LT(0, size);
	self->run_size = size;
	self->run = mmap(NULL, self->run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, self->vcpu, 0);
	ASSERT_NE(MAP_FAILED, self->run);

	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_SET_SREGS, &sregs));
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_SET_REGS, &regs));
}

FIXTURE_TEARDOWN(kvm)
{
	if (self->run && self->run != MAP_FAILED)
		munmap(self->run, self->run_size);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, GUEST_MEM);
	if (self->vcpu >= 0)
		close(self->vcpu);
	if (self->vm >= 0)
		close(self->vm);
	if (self->kvm >= 0)
		close(self->kvm);
}

TEST_F_TIMEOUT(kvm, run_to_hlt, 60)
{
	struct kvm_regs regs;
	uint8_t *data;

	ASSERT_EQ(0, ioctl(self->vcpu, KVM_RUN, 0))
		TH_LOG("KVM_RUN: %s", strerror(errno));
	ASSERT_EQ(KVM_EXIT_IO, self->run->exit_reason)
		TH_LOG("exit reason %u", self->run->exit_reason);
	EXPECT_EQ(KVM_EXIT_IO_OUT, self->run->io.direction);
	EXPECT_EQ(OUT_PORT, self->run->io.port);
	EXPECT_EQ(1, self->run->io.size);
	data = (uint8_t *)self->run + self->run->io.data_offset;
	EXPECT_EQ(0x42, *data);

	ASSERT_EQ(0, ioctl(self->vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_HLT, self->run->exit_reason)
		TH_LOG("exit reason %u", self->run->exit_reason);
	ASSERT_EQ(0, ioctl(self->vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x43, regs.rax & 0xff);
	EXPECT_EQ(CODE_GPA + sizeof(guest_code), regs.rip);
	/* The guest's store is visible in host memory. */
	EXPECT_EQ(0x43, self->mem[0x2000]);
}

TEST_HARNESS_MAIN
