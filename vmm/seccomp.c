// SPDX-License-Identifier: GPL-2.0
/* Per-role system call allowlists: see seccomp.h. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/thaw.h>
#include <linux/userfaultfd.h>
#include <seccomp.h>

#include "lib/log.h"
#include "vmm/exit.h"
#include "vmm/seccomp.h"
#include "vmm/util.h"

struct rule {
	int nr;
	unsigned int nargs;
	struct scmp_arg_cmp arg;
};

#define ANY(name)	{ SCMP_SYS(name), 0, { 0 } }
/* Memory that is never executable, whoever maps or protects it. */
#define NO_EXEC(name)	{ SCMP_SYS(name), 1, \
			  SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) }

/* Every role: locks, signals, time, logging, thread exit, malloc. */
static const struct rule common_rules[] = {
	ANY(futex), ANY(rt_sigreturn), ANY(rt_sigprocmask),
	ANY(clock_gettime), ANY(gettid), ANY(getpid), ANY(tgkill),
	ANY(write), ANY(writev), ANY(madvise), ANY(munmap), ANY(exit),
	ANY(exit_group), ANY(sched_yield), ANY(restart_syscall),
};

/* sigwait(), then vmm__stop(): kicks and the loop's eventfd. */
static const struct rule signals_rules[] = {
	ANY(rt_sigtimedwait),
};

/*
 * KVM_RUN and KVM_IRQ_LINE (serial, i8042); the three reads of a dying
 * vCPU's state (kvm_cpu__dump()).
 */
static const struct rule vcpu_rules[] = {
	{ SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, KVM_RUN) },
	{ SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, KVM_IRQ_LINE) },
	{ SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, KVM_GET_REGS) },
	{ SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, KVM_GET_SREGS) },
	{ SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, KVM_GET_VCPU_EVENTS) },
};

/*
 * io_uring (the poll ring and the data ring, vmm/uring.h), eventfds, the
 * vsock Unix sockets, connection buffers; the offloads a virtio-net
 * driver acks, set on its tap when it starts the device.
 */
static const struct rule devices_rules[] = {
	{ SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, TUNSETOFFLOAD) },
	ANY(io_uring_enter), ANY(read), ANY(readv), ANY(recvfrom),
	ANY(sendmsg), ANY(sendto), ANY(accept4), ANY(connect), ANY(shutdown),
	ANY(close), NO_EXEC(mmap), NO_EXEC(mprotect), ANY(brk),
	ANY(getrandom),
	{ SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX) },
};

/*
 * The MMDS thread (vmm/mmds/mmds.h): libslirp's sockets to the HTTP
 * server (Unix, in a private folder), libmicrohttpd's accepts and epoll,
 * one poll() over both, its eventfd, the tokens' getrandom(); isatty()'s
 * TCGETS, which GLib's logging (under libslirp) asks.
 */
static const struct rule mmds_rules[] = {
	ANY(poll), ANY(ppoll), ANY(epoll_wait), ANY(epoll_pwait),
	ANY(epoll_ctl), ANY(read), ANY(readv), ANY(recvfrom), ANY(recvmsg),
	ANY(sendto), ANY(sendmsg), ANY(accept4), ANY(connect), ANY(shutdown),
	ANY(close), ANY(fcntl), ANY(setsockopt), ANY(getsockopt),
	ANY(getsockname), ANY(getpeername), ANY(getrandom), NO_EXEC(mmap),
	NO_EXEC(mprotect), ANY(brk),
	{ SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX) },
	{ SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, FIONBIO) },
	{ SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, FIONREAD) },
	{ SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, TCGETS) },
};

/* The one call of the Thaw backend's copier thread (vmm/mem/thaw.c). */
static const struct rule copier_rules[] = {
	{ SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, THAW_IOC_CLONE_PREMAP) },
};

/*
 * The control plane, beside every role above (their threads start under
 * this filter): configuration and snapshot files, KVM's ioctls on the
 * fds it opens, guest memory, the memory backends (/dev/thaw, userfaultfd,
 * the Uffd handler's socket), the API socket, threads and their filters,
 * the taps of network interfaces (vmm/virtio/tap.c).
 */
static const struct rule control_rules[] = {
	/* Files: configuration, kernel, snapshot state and memory. */
	ANY(openat), ANY(close), ANY(read), ANY(pread64), ANY(pwrite64),
	ANY(lseek), ANY(newfstatat), ANY(fstat), ANY(statx), ANY(fstatfs),
	ANY(access), ANY(faccessat), ANY(faccessat2), ANY(fcntl),
	ANY(fallocate), ANY(ftruncate), ANY(fdatasync), ANY(fsync),
	ANY(unlink), ANY(unlinkat), ANY(rename), ANY(renameat),
	ANY(renameat2), ANY(linkat), ANY(getdents64),
	/* MMDS's private folder for its HTTP socket (vmm/mmds/mmds.h). */
	ANY(mkdir), ANY(mkdirat), ANY(rmdir),
	/* Guest memory and the memory backends. */
	NO_EXEC(mmap), NO_EXEC(mprotect), ANY(mremap), ANY(brk),
	ANY(memfd_create), ANY(userfaultfd), ANY(eventfd2), ANY(getrandom),
	/* The API socket, vsock's uds_path, the Uffd handler. */
	{ SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX) },
	ANY(bind), ANY(listen), ANY(accept4), ANY(connect), ANY(getsockopt),
	ANY(getsockname), ANY(recvfrom), ANY(recvmsg), ANY(sendto),
	ANY(sendmsg), ANY(shutdown), ANY(epoll_create1), ANY(epoll_ctl),
	ANY(epoll_wait), ANY(poll), ANY(ppoll),
	/* The device loop's ring, reset after a failed start. */
	ANY(io_uring_enter),
	/* A drive's file into the block ring's table (vmm/virtio/blk.h). */
	{ SCMP_SYS(io_uring_register), 1,
	  SCMP_A1(SCMP_CMP_EQ, IORING_REGISTER_FILES_UPDATE) },
	/* Threads, their names and filters; waits. */
	ANY(clone3), ANY(set_robust_list), ANY(rseq),
	{ SCMP_SYS(clone), 1,
	  SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD) },
	ANY(sigaltstack), ANY(rt_sigaction), ANY(seccomp),
	{ SCMP_SYS(prctl), 1, SCMP_A0(SCMP_CMP_EQ, PR_SET_NO_NEW_PRIVS) },
	{ SCMP_SYS(prctl), 1, SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME) },
	ANY(clock_nanosleep), ANY(nanosleep), ANY(getuid), ANY(geteuid),
	ANY(sysinfo),	/* glibc's qsort() */
};


/*
 * The control plane's ioctls: KVM's (the machine, its vCPUs' state,
 * snapshots, dirty logs), /dev/thaw's, userfaultfd's (the Uffd backend),
 * the taps' (attach, header size, offloads) and isatty()'s TCGETS.  Not
 * TIOCSTI, not any other device's.
 */
static const unsigned long control_ioctls[] = {
	KVM_GET_API_VERSION, KVM_CHECK_EXTENSION, KVM_CREATE_VM,
	KVM_GET_VCPU_MMAP_SIZE, KVM_GET_SUPPORTED_CPUID,
	KVM_GET_MSR_INDEX_LIST, KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2,
	KVM_CREATE_VCPU, KVM_SET_TSS_ADDR, KVM_SET_IDENTITY_MAP_ADDR,
	KVM_SET_USER_MEMORY_REGION, KVM_SET_GSI_ROUTING, KVM_IOEVENTFD,
	KVM_IRQFD, KVM_IRQ_LINE, KVM_GET_DIRTY_LOG, KVM_GET_CLOCK,
	KVM_SET_CLOCK, KVM_GET_IRQCHIP, KVM_SET_IRQCHIP, KVM_GET_PIT2,
	KVM_SET_PIT2, KVM_SET_CPUID2, KVM_GET_REGS, KVM_SET_REGS,
	KVM_GET_SREGS, KVM_SET_SREGS, KVM_GET_FPU, KVM_SET_FPU,
	KVM_GET_MSRS, KVM_SET_MSRS, KVM_GET_LAPIC, KVM_SET_LAPIC,
	KVM_GET_MP_STATE, KVM_SET_MP_STATE, KVM_GET_VCPU_EVENTS,
	KVM_SET_VCPU_EVENTS, KVM_GET_XSAVE, KVM_SET_XSAVE, KVM_GET_XCRS,
	KVM_SET_XCRS, KVM_SET_DEBUGREGS,
	THAW_IOC_API, THAW_IOC_STATS, THAW_IOC_CACHE_DROP,
	THAW_IOC_SNAP_CREATE, THAW_IOC_SNAP_OPEN, THAW_IOC_SNAP_STATS,
	THAW_IOC_WSET_GET, THAW_IOC_WSET_SET, THAW_IOC_CLONE_STATS,
	THAW_IOC_CLONE_PREMAP, THAW_IOC_CLONE_RECORD, THAW_IOC_CLONE_RESET,
	THAW_IOC_CLONE_STOP,
	USERFAULTFD_IOC_NEW, UFFDIO_API, UFFDIO_REGISTER, UFFDIO_UNREGISTER,
	UFFDIO_COPY,
	BLKGETSIZE64,	/* a drive on a block device */
	TUNSETIFF, TUNGETIFF, TUNSETVNETHDRSZ, TUNSETOFFLOAD,
	TCGETS,
};

static const char *const role_names[] = {
	[SECCOMP_CONTROL] = "control",
	[SECCOMP_SIGNALS] = "signals",
	[SECCOMP_VCPU] = "vcpu",
	[SECCOMP_DEVICES] = "devices",
	[SECCOMP_COPIER] = "copier",
	[SECCOMP_MMDS] = "mmds",
};

/* The handler may not allocate: every name is resolved up front. */
#define NR_NAMES	512
static const char *syscall_names[NR_NAMES];
/* What the SIGSYS handler reports; threads that load none are control. */
static __thread enum seccomp_role thread_role;

static void sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	const char *name = NULL;
	char msg[160];
	int n;

	if (si->si_syscall >= 0 && si->si_syscall < NR_NAMES)
		name = syscall_names[si->si_syscall];
	/* Only async-signal-safe calls, all of them in every list. */
	n = snprintf(msg, sizeof(msg),
		     "thawvm: error: seccomp: the %s thread (tid %d) made system call %s (%d), which its filter denies\n",
		     role_names[thread_role], gettid(), name ? name : "?",
		     si->si_syscall);
	if (n > 0 && write(STDERR_FILENO, msg, n) < 0)
		n = 0;
	_exit(VMM_EXIT_ERROR);
}

int seccomp__init(void)
{
	struct sigaction sa = {
		.sa_sigaction = sigsys_handler,
		.sa_flags = SA_SIGINFO,
	};
	static bool names_done;
	int nr;

	if (!names_done) {
		for (nr = 0; nr < NR_NAMES; nr++)
			syscall_names[nr] = seccomp_syscall_resolve_num_arch(
				SCMP_ARCH_NATIVE, nr);
		names_done = true;
	}
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGSYS, &sa, NULL) < 0 ? -errno : 0;
}

static int add(scmp_filter_ctx ctx, const struct rule *r, size_t n)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		if (r[i].nargs)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r[i].nr, 1,
					       r[i].arg);
		else
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r[i].nr, 0);
		if (ret)
			return ret;
	}
	return 0;
}

#define ADD(ctx, rules)	add(ctx, rules, ARRAY_SIZE(rules))

static int add_ioctls(scmp_filter_ctx ctx, const unsigned long *cmd, size_t n)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_EQ, cmd[i]));
		if (ret)
			return ret;
	}
	return 0;
}

static int add_role(scmp_filter_ctx ctx, enum seccomp_role role)
{
	int ret;

	switch (role) {
	case SECCOMP_CONTROL:
		/* The threads it starts load their own list on top of this. */
		ret = ADD(ctx, control_rules) ?:
		      add_ioctls(ctx, control_ioctls,
				 ARRAY_SIZE(control_ioctls)) ?:
		      ADD(ctx, signals_rules) ?:
		      ADD(ctx, vcpu_rules) ?: ADD(ctx, devices_rules) ?:
		      ADD(ctx, copier_rules) ?: ADD(ctx, mmds_rules);
		/* lib/memfile.c falls back to pwrite; a new ring is refused. */
		return ret ?: seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
					       SCMP_SYS(io_uring_setup), 0);
	case SECCOMP_SIGNALS:
		return ADD(ctx, signals_rules);
	case SECCOMP_VCPU:
		return ADD(ctx, vcpu_rules);
	case SECCOMP_DEVICES:
		return ADD(ctx, devices_rules);
	case SECCOMP_COPIER:
		return ADD(ctx, copier_rules);
	case SECCOMP_MMDS:
		/*
		 * glibc opens files behind its callers' backs (malloc's
		 * /proc/sys/vm/overcommit_memory when it trims a thread's
		 * heap, the time zone): they fail, they do not kill.
		 */
		return ADD(ctx, mmds_rules) ?:
		       seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
					SCMP_SYS(openat), 0);
	}
	return -EINVAL;
}

int seccomp__apply(enum seccomp_role role)
{
	scmp_filter_ctx ctx;
	sigset_t set;
	int ret;

	/* SIGSYS must reach the handler in this thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	ret = ADD(ctx, common_rules) ?: add_role(ctx, role);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret)
		pr_err("seccomp filter for the %s thread: %s", role_names[role],
		       strerror(-ret));
	else
		thread_role = role;
	return ret;
}
