// SPDX-License-Identifier: GPL-2.0
/* Per-thread system call allowlists: see seccomp.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <linux/thaw.h>
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

/* Both roles: locks, signals, time, logging, thread exit, malloc. */
static const struct rule common_rules[] = {
	ANY(futex), ANY(rt_sigreturn), ANY(rt_sigprocmask),
	ANY(clock_gettime), ANY(gettid), ANY(getpid), ANY(tgkill),
	ANY(write), ANY(writev), ANY(madvise), ANY(munmap), ANY(exit),
	ANY(exit_group), ANY(sched_yield), ANY(restart_syscall),
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

/* io_uring, eventfds, the vsock Unix sockets, connection buffers. */
static const struct rule devices_rules[] = {
	ANY(io_uring_enter), ANY(read), ANY(readv), ANY(recvfrom),
	ANY(sendmsg), ANY(sendto), ANY(accept4), ANY(connect), ANY(shutdown),
	ANY(close), ANY(mmap), ANY(mprotect), ANY(brk), ANY(getrandom),
	{ SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX) },
};

/* The one call of the Thaw backend's copier thread (vmm/mem/thaw.c). */
static const struct rule copier_rules[] = {
	{ SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, THAW_IOC_CLONE_PREMAP) },
};

static const char *const role_names[] = {
	[SECCOMP_VCPU] = "vcpu",
	[SECCOMP_DEVICES] = "devices",
	[SECCOMP_COPIER] = "copier",
};

static void sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	char msg[96];
	int n;

	/* Only async-signal-safe calls, all of them in the allowlists. */
	n = snprintf(msg, sizeof(msg),
		     "thawvm: error: seccomp: system call %d blocked\n",
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
	ret = add(ctx, common_rules, ARRAY_SIZE(common_rules));
	if (!ret && role == SECCOMP_VCPU)
		ret = add(ctx, vcpu_rules, ARRAY_SIZE(vcpu_rules));
	if (!ret && role == SECCOMP_DEVICES)
		ret = add(ctx, devices_rules, ARRAY_SIZE(devices_rules));
	if (!ret && role == SECCOMP_COPIER)
		ret = add(ctx, copier_rules, ARRAY_SIZE(copier_rules));
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret)
		pr_err("seccomp filter for the %s thread: %s", role_names[role],
		       strerror(-ret));
	return ret;
}
