// SPDX-License-Identifier: GPL-2.0
/*
 * The attacker of selftests/vmm/seccomp_test.sh: make one thread of a
 * running thawvm issue a system call thawvm never makes, as code that took
 * over that thread would, without a test hook in thawvm.  PTRACE_SEIZE the
 * thread, interrupt it until it stops on its way out of a system call,
 * point it back at that `syscall` instruction with the call's number and
 * arguments, and let it go.
 *
 *   sc_inject TID CALL           inject and detach (a denied call then
 *                                kills thawvm)
 *   sc_inject TID CALL --return  inject, print "returned N" (-errno), and
 *                                put the thread back into the call it was in
 *
 * CALL: execve, socket-packet, mmap-exec, mprotect-exec, io_uring_setup.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* The kernel's restart codes, which a stopped thread may hold in rax. */
#define ERESTARTSYS		512
#define ERESTARTNOINTR		513
#define ERESTARTNOHAND		514
#define ERESTART_RESTARTBLOCK	516

struct call {
	const char *name;
	long nr;
	unsigned long long a[6];
};

/* The arguments are never read: the filter decides on entry. */
static const struct call calls[] = {
	{ "execve", SYS_execve, { 0 } },
	{ "socket-packet", SYS_socket, { AF_PACKET, SOCK_RAW, 0 } },
	{ "mmap-exec", SYS_mmap, { 0, 4096, PROT_READ | PROT_EXEC,
				   MAP_PRIVATE | MAP_ANONYMOUS,
				   (unsigned long long)-1, 0 } },
	{ "mprotect-exec", SYS_mprotect, { 0, 4096, PROT_READ | PROT_EXEC } },
	{ "io_uring_setup", SYS_io_uring_setup, { 1, 0 } },
};

static void die(const char *what)
{
	fprintf(stderr, "sc_inject: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Wait for @tid's next stop; the signal it stopped for, if not ptrace's. */
static int wait_stop(pid_t tid)
{
	int st;

	if (waitpid(tid, &st, __WALL) != tid)
		die("waitpid");
	if (!WIFSTOPPED(st)) {
		fprintf(stderr, "sc_inject: thread %d ended (status 0x%x)\n",
			tid, st);
		exit(1);
	}
	if ((st >> 16) == PTRACE_EVENT_STOP || WSTOPSIG(st) == SIGTRAP ||
	    WSTOPSIG(st) == (SIGTRAP | 0x80))
		return 0;
	return WSTOPSIG(st);
}

/* Stop @tid right after a `syscall` instruction; its registers in @r. */
static void stop_in_syscall(pid_t tid, struct user_regs_struct *r)
{
	int i, sig;
	long word;

	for (i = 0; i < 1000; i++) {
		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0))
			die("PTRACE_INTERRUPT");
		sig = wait_stop(tid);
		if (!sig) {
			if (ptrace(PTRACE_GETREGS, tid, 0, r))
				die("PTRACE_GETREGS");
			errno = 0;
			word = ptrace(PTRACE_PEEKTEXT, tid, r->rip - 2, 0);
			if (!errno && (word & 0xffff) == 0x050f &&
			    (long long)r->orig_rax >= 0)
				return;
		}
		/* A signal of its own, or busy in user space: once more. */
		if (ptrace(PTRACE_CONT, tid, 0, sig))
			die("PTRACE_CONT");
		usleep(1000);
	}
	fprintf(stderr, "sc_inject: thread %d never stopped in a system call\n",
		tid);
	exit(1);
}

/* Back into the call it was in, as the kernel's restart would have. */
static void restore(pid_t tid, struct user_regs_struct *r)
{
	switch (-(long long)r->rax) {
	case ERESTARTSYS:
	case ERESTARTNOINTR:
	case ERESTARTNOHAND:
		r->rax = r->orig_rax;
		r->rip -= 2;
		break;
	case ERESTART_RESTARTBLOCK:
		r->rax = SYS_restart_syscall;
		r->rip -= 2;
		break;
	}
	if (ptrace(PTRACE_SETREGS, tid, 0, r))
		die("PTRACE_SETREGS");
}

int main(int argc, char **argv)
{
	struct user_regs_struct saved, r;
	const struct call *c = NULL;
	int stops = 0, sig = 0;
	bool ret_mode;
	pid_t tid;
	size_t i;

	if (argc < 3 || argc > 4 ||
	    (argc == 4 && strcmp(argv[3], "--return"))) {
		fprintf(stderr, "usage: sc_inject TID CALL [--return]\n");
		return 2;
	}
	tid = atoi(argv[1]);
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (!strcmp(argv[2], calls[i].name))
			c = &calls[i];
	if (!c) {
		fprintf(stderr, "sc_inject: unknown call %s\n", argv[2]);
		return 2;
	}
	ret_mode = argc == 4;

	if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACESYSGOOD))
		die("PTRACE_SEIZE");
	stop_in_syscall(tid, &saved);
	r = saved;
	r.orig_rax = (unsigned long long)-1;	/* no restart of the old call */
	r.rax = (unsigned long long)c->nr;
	r.rdi = c->a[0];
	r.rsi = c->a[1];
	r.rdx = c->a[2];
	r.r10 = c->a[3];
	r.r8 = c->a[4];
	r.r9 = c->a[5];
	r.rip -= 2;
	if (ptrace(PTRACE_SETREGS, tid, 0, &r))
		die("PTRACE_SETREGS");
	printf("injected %s into thread %d\n", c->name, tid);
	fflush(stdout);
	if (!ret_mode) {
		if (ptrace(PTRACE_DETACH, tid, 0, 0))
			die("PTRACE_DETACH");
		return 0;
	}
	/* Its entry, then its exit (a filter's errno skips the call itself). */
	while (stops < 2) {
		if (ptrace(PTRACE_SYSCALL, tid, 0, sig))
			die("PTRACE_SYSCALL");
		/* A signal on the way is delivered with the next resume. */
		sig = wait_stop(tid);
		stops += !sig;
	}
	if (ptrace(PTRACE_GETREGS, tid, 0, &r))
		die("PTRACE_GETREGS");
	printf("returned %lld\n", (long long)r.rax);
	restore(tid, &saved);
	if (ptrace(PTRACE_DETACH, tid, 0, 0))
		die("PTRACE_DETACH");
	return 0;
}
