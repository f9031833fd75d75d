/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small kvm_util, in the style of the kernel's KVM selftests, for the
 * selftests that run guest code on /dev/kvm directly: a VM with one memory
 * slot at guest-physical 0 and one vCPU in flat real mode.  The helpers
 * take the test's _metadata (through the macros) and assert, naming the
 * ioctl that failed; the __ variants return the raw result.
 *
 *	struct kvm_vm vm = KVM_VM_INIT;
 *	int kvm = kvm_open();			(-errno: SETUP_SKIP)
 *	vm_create(kvm, &vm, mem, len);
 *	vcpu_set_regs_real(&vm, &(struct kvm_regs){ .rip = 0x1000 });
 *	ASSERT_EQ(0, __vcpu_run(&vm));
 *	ASSERT_EQ(KVM_EXIT_HLT, vm.run->exit_reason);
 *	vm_destroy(&vm);
 *
 * Include it after kselftest_harness.h.
 */
#ifndef THAW_SELFTEST_KVM_UTIL_H
#define THAW_SELFTEST_KVM_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

struct kvm_vm {
	int fd;			/* the VM */
	int vcpu;		/* its one vCPU */
	struct kvm_run *run;	/* the vCPU's shared page */
	size_t run_size;
};

#define KVM_VM_INIT	{ .fd = -1, .vcpu = -1 }

/* /dev/kvm, or -errno (a test skips then). */
static inline int kvm_open(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* A VM whose only memory slot is @mem (@len bytes) at GPA 0, one vCPU. */
static inline void __vm_create(struct __test_metadata *_metadata, int kvm,
			       struct kvm_vm *vm, void *mem, size_t len)
{
	struct kvm_userspace_memory_region region = {
		.memory_size = len,
		.userspace_addr = (uintptr_t)mem,
	};
	int size;

	vm->fd = ioctl(kvm, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm->fd) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region))
		TH_LOG("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, vm->vcpu) TH_LOG("KVM_CREATE_VCPU: %s", strerror(errno));
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LT(0, size);
	vm->run_size = size;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu, 0);
	ASSERT_NE(MAP_FAILED, vm->run);
}
#define vm_create(kvm, vm, mem, len) \
	__vm_create(_metadata, kvm, vm, mem, len)

/* Flat real mode (CS and DS at 0) and @regs. */
static inline void __vcpu_set_regs_real(struct __test_metadata *_metadata,
					struct kvm_vm *vm,
					const struct kvm_regs *regs)
{
	struct kvm_sregs sregs;

	ASSERT_EQ(0, ioctl(vm->vcpu, KVM_GET_SREGS, &sregs))
		TH_LOG("KVM_GET_SREGS: %s", strerror(errno));
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	ASSERT_EQ(0, ioctl(vm->vcpu, KVM_SET_SREGS, &sregs))
		TH_LOG("KVM_SET_SREGS: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(vm->vcpu, KVM_SET_REGS, regs))
		TH_LOG("KVM_SET_REGS: %s", strerror(errno));
}
#define vcpu_set_regs_real(vm, regs) \
	__vcpu_set_regs_real(_metadata, vm, regs)

/* KVM_RUN once: 0 or -errno; the exit is in vm->run. */
static inline int __vcpu_run(struct kvm_vm *vm)
{
	return ioctl(vm->vcpu, KVM_RUN, 0) < 0 ? -errno : 0;
}

/* The byte an OUT exit wrote. */
static inline uint8_t vcpu_io_byte(const struct kvm_vm *vm)
{
	return *((const uint8_t *)vm->run + vm->run->io.data_offset);
}

static inline void vm_destroy(struct kvm_vm *vm)
{
	if (vm->run && vm->run != MAP_FAILED)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu >= 0)
		close(vm->vcpu);
	if (vm->fd >= 0)
		close(vm->fd);
	vm->fd = vm->vcpu = -1;
	vm->run = NULL;
}

#endif
