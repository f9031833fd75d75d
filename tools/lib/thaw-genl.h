/* SPDX-License-Identifier: GPL-2.0 */
/*
 * thaw.ko's counters through its "thaw" generic netlink family
 * (Documentation/userspace-api/thaw.rst), with libnl-genl-3: a connection,
 * requests whose replies come parsed, and the module's totals in one
 * struct for the programs that only want those (thawd's /metrics).  Every
 * command needs CAP_NET_ADMIN.
 */
#ifndef THAW_TOOLS_THAW_GENL_H
#define THAW_TOOLS_THAW_GENL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/thaw.h>

struct nlattr;
struct thaw_genl;

/* 0, or -errno with a message: -ENOENT when thaw.ko is not loaded. */
int thaw_genl__open(struct thaw_genl **out, char *err, size_t errlen);
void thaw_genl__close(struct thaw_genl *g);

/*
 * One reply's attributes, tb[THAW_A_*] (NULL where absent); returns 0 to go
 * on.  An attribute the module always sends reads 0 from an old module
 * through thaw_genl__u64().
 */
typedef int (*thaw_genl_cb)(struct nlattr **tb, void *arg);
uint64_t thaw_genl__u64(struct nlattr **tb, int attr);
uint32_t thaw_genl__u32(struct nlattr **tb, int attr);
const char *thaw_genl__str(struct nlattr **tb, int attr);

/* Send THAW_CMD_* @cmd (a dump when @dump), @cb on each reply. */
int thaw_genl__request(struct thaw_genl *g, uint8_t cmd, bool dump,
		       thaw_genl_cb cb, void *arg, char *err, size_t errlen);

/* The module's totals, and what its clones map (summed over them). */
struct thaw_genl_totals {
	uint64_t snapshots, clones;
	uint64_t pinned_pages, pinned_limit;
	uint64_t cached_objects, cached_pages, cache_limit, evictions;
	uint64_t clone_shared_pages;	/* object pages mapped in clones */
	uint64_t clone_private_pages;	/* pages clones made their own */
};

/* One connection, two requests.  0 or -errno with a message. */
int thaw_genl__totals(struct thaw_genl_totals *t, char *err, size_t errlen);

/*
 * The memory thaw.ko's clone mappings in process @pid hold for it alone,
 * in KiB: pages it dirtied (private_pages) and its private 2 MiB copies
 * (private_regions).  0 when it maps no clone; -1 when the module cannot
 * be asked (not loaded, no CAP_NET_ADMIN).
 */
long long thaw_genl__private_kib(int pid);

#endif
