/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Uffd memory backend, VMM side, with Firecracker's page-fault-handler
 * protocol: the VMM creates a userfaultfd, registers guest RAM in MISSING
 * mode, connects to the handler's Unix socket (`backend_path`) and sends
 * ONE message: the JSON array of regions
 *
 *   [{"base_host_virt_addr": 140230..., "size": 134217728, "offset": 0,
 *     "page_size": 4096, "page_size_kib": 4096}, ...]
 *
 * with the userfaultfd attached (SCM_RIGHTS).  `offset` is where the region
 * starts in the memory file; `page_size_kib` is Firecracker's deprecated
 * name of `page_size` and holds the same number of bytes.  Nothing else is
 * said on the socket; the handler then serves the faults.
 *
 * How to use (PUT /snapshot/load with backend_type Uffd):
 *
 *	ram = mmap(NULL, size, PROT_READ | PROT_WRITE,
 *		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
 *	struct uffd_region r = { .host_addr = (uintptr_t)ram, .size = size,
 *				 .offset = 0, .page_size = 4096 };
 *	ret = uffd__connect(backend_path, &r, 1, &b, err, sizeof(err));
 *	... restore state, run vCPUs: faults reach the handler ...
 *	at exit: uffd__close(b), then munmap(ram) (the handler sees
 *	UFFD_EVENT_UNMAP and ends this VM's session; it also notices the
 *	VMM's exit).
 *
 * The VMM keeps its copy of the userfaultfd until uffd__close(): if the
 * handler dies, faults then wait (the VM hangs) instead of silently reading
 * zero pages.  Nothing watches the handler's socket for POLLHUP yet: a VM
 * whose handler died hangs at its next missing page.
 *
 * The handler side (tools/uffd-handler) parses the message with
 * uffd__parse_regions(), which trusts nothing.
 */
#ifndef THAW_LIB_UFFD_H
#define THAW_LIB_UFFD_H

#include <stddef.h>
#include <stdint.h>

#define UFFD_MAX_REGIONS	64
#define UFFD_MAX_MSG		65536	/* bytes of JSON */
#define UFFD_PAGE_4K		4096u
#define UFFD_PAGE_2M		(2u << 20)

struct uffd_region {
	uint64_t host_addr;	/* base_host_virt_addr, in the VMM */
	uint64_t size;		/* bytes */
	uint64_t offset;	/* in the memory file */
	uint64_t page_size;	/* 4096, or 2 MiB for hugetlbfs RAM */
};

struct uffd_backend;

/*
 * Create the userfaultfd (userfaultfd(2), else /dev/userfaultfd), register
 * the regions (MISSING; the handler sees UFFD_EVENT_REMOVE and
 * UFFD_EVENT_UNMAP), connect to @socket_path and send the message.
 * 0 or -errno with a message; on error nothing stays registered.
 */
int uffd__connect(const char *socket_path, const struct uffd_region *regs,
		  unsigned int nr, struct uffd_backend **out,
		  char *err, size_t errlen);
/* Close the socket and the VMM's copy of the userfaultfd, free.  The
 * ranges stay registered while the handler holds the fd: munmap them.
 */
void uffd__close(struct uffd_backend *b);

/* The message body (malloc'd, NUL-terminated), or NULL on -ENOMEM. */
char *uffd__regions_to_json(const struct uffd_region *regs, unsigned int nr);

/*
 * Parse and validate a message body: 1..UFFD_MAX_REGIONS objects, each
 * with integer base_host_virt_addr, size, offset and page_size (or only
 * the deprecated page_size_kib; both: equal); page size 4 KiB or 2 MiB,
 * the same for every region; addresses, sizes and offsets aligned to it;
 * sizes non-zero; no overflow; no two regions overlapping in the VMM or in
 * the file; every region inside @mem_file_size.  Unknown fields are
 * ignored (newer VMMs may add some).  *@out is malloc'd.  0 or -EINVAL
 * with a message.
 */
int uffd__parse_regions(const char *text, size_t len, uint64_t mem_file_size,
			struct uffd_region **out, unsigned int *nr,
			char *err, size_t errlen);

#endif
