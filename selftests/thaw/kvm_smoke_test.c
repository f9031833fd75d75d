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
#include "selftests/lib/kvm_util.h"
#include "selftests/lib/setup_skip.h"
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
	int kvm;
	struct kvm_vm vm;
	uint8_t *mem;
};

FIXTURE_SETUP(kvm)
{
	struct kvm_regs regs = {
		.rip = CODE_GPA,
		.rbx = 2,
		.rflags = 0x2,
	};

	self->vm = (struct kvm_vm)KVM_VM_INIT;
	self->mem = MAP_FAILED;
	self->kvm = kvm_open();
	if (self->kvm < 0)
		SETUP_SKIP("/dev/kvm not usable: %s", strerror(-self->kvm));
	ASSERT_EQ(KVM_API_VERSION, ioctl(self->kvm, KVM_GET_API_VERSION, 0));

	self->mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memcpy(self->mem + CODE_GPA, guest_code, sizeof(guest_code));
	vm_create(self->kvm, &self->vm, self->mem, GUEST_MEM);
	vcpu_set_regs_real(&self->vm, &regs);
}

FIXTURE_TEARDOWN(kvm)
{
	vm_destroy(&self->vm);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, GUEST_MEM);
	if (self->kvm >= 0)
		close(self->kvm);
}

TEST_F_TIMEOUT(kvm, run_to_hlt, 60)
{
	struct kvm_run *run = self->vm.run;
	struct kvm_regs regs;

	ASSERT_EQ(0, __vcpu_run(&self->vm))
		TH_LOG("KVM_RUN: %s", strerror(errno));
	ASSERT_EQ(KVM_EXIT_IO, run->exit_reason)
		TH_LOG("exit reason %u", run->exit_reason);
	EXPECT_EQ(KVM_EXIT_IO_OUT, run->io.direction);
	EXPECT_EQ(OUT_PORT, run->io.port);
	EXPECT_EQ(1, run->io.size);
	EXPECT_EQ(0x42, vcpu_io_byte(&self->vm));

	ASSERT_EQ(0, __vcpu_run(&self->vm));
	ASSERT_EQ(KVM_EXIT_HLT, run->exit_reason)
		TH_LOG("exit reason %u", run->exit_reason);
	ASSERT_EQ(0, ioctl(self->vm.vcpu, KVM_GET_REGS, &regs));
	EXPECT_EQ(0x43, regs.rax & 0xff);
	EXPECT_EQ(CODE_GPA + sizeof(guest_code), regs.rip);
	/* The guest's store is visible in host memory. */
	EXPECT_EQ(0x43, self->mem[0x2000]);
}

TEST_HARNESS_MAIN
