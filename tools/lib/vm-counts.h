/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counters of a VMM process, read from outside it, the same way for
 * thawvm and QEMU: its page faults and memory (/proc/PID), and its VM's
 * exits and second-level page faults (KVM's debugfs statistics,
 * /sys/kernel/debug/kvm/PID-FD/, where debugfs is mounted and readable).
 * A counter that cannot be read is -1.
 */
#ifndef THAW_TOOLS_LIB_VM_COUNTS_H
#define THAW_TOOLS_LIB_VM_COUNTS_H

#include <sys/types.h>

struct json_object;

struct vm_counts {
	long long minflt;	/* the process's minor faults, all threads */
	long long majflt;
	long long rss_kib;
	long long pss_kib;	/* shared pages counted once among sharers */
	/*
	 * What the process alone holds: its anonymous memory (a File
	 * clone's copied-on-write pages, the VMM's heap) plus what thaw.ko's
	 * clone mappings hold for it (dirtied pages, private 2 MiB copies).
	 * Unlike PSS, a page or a 2 MiB mapping it shares with other clones
	 * counts nothing here, however few share it.
	 */
	long long private_kib;
	long long kvm_exits;	/* every VM exit KVM took (all vCPUs) */
	long long kvm_pf;	/* KVM's page faults (NPT/EPT): pf_taken */
	long long kvm_io_exits;
	long long kvm_halt_exits;
	/* Guest memory KVM maps now in its NPT/EPT, by mapping size. */
	long long kvm_pages_4k;
	long long kvm_pages_2m;
};

void vm_counts__read(pid_t pid, struct vm_counts *c);
/* The counters as members of @o. */
void vm_counts__to_json(const struct vm_counts *c, struct json_object *o);

#endif
