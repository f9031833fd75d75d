/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-blk (virtio 1.x, 5.2): one virtio-mmio device per drive of the
 * configuration, one request queue each, requests served on io_uring.
 *
 * The data ring is the process's, made at start-up (blk__ring_init(),
 * before the seccomp filters forbid io_uring_setup) and restricted like
 * the device loop's: only READV, WRITEV, READ, WRITE, FSYNC and FALLOCATE,
 * and only on its registered files (IOSQE_FIXED_FILE required), which are
 * the drives' backing files; the one register operation left is the
 * update of that table.  The device loop submits requests (up to the
 * queue's size in flight per drive; one with io_engine Sync) and polls
 * the ring's fd for their completions, which write the status byte, fill
 * the used ring and raise the drive's interrupt.
 *
 * Every chain is checked before any I/O: a header of 16 readable bytes, a
 * status byte last in the writable part, data a multiple of 512 bytes in
 * the direction of the request, sectors inside the disk.  A chain with
 * no status byte breaks the device (virtio_mmio__break()); any other bad
 * request is answered VIRTIO_BLK_S_IOERR (or UNSUPP), as is a write to a
 * read-only drive.
 */
#ifndef THAW_VMM_VIRTIO_BLK_H
#define THAW_VMM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvm;
struct blk;
struct guest_mem;
struct virtio_mmio;

#define VIRTIO_ID_BLOCK			2

#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14

#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13

#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2

#define VIRTIO_BLK_ID_BYTES		20
#define BLK_SECTOR_SIZE			512
#define BLK_QUEUE_SIZE			128

/*
 * The process's data ring (see above): once, before the seccomp filters;
 * later calls do nothing.  0 or -errno.
 */
int blk__ring_init(void);

/*
 * For the unit tests: one drive on @fd (@sectors long) in @mem, without
 * a machine.  blk__test_notify() serves the request queue @vq as the
 * device loop would and waits for every request it submitted.
 */
struct virtq;
struct blk *blk__test_new(const struct guest_mem *mem, struct virtq *vq,
			  int fd, uint64_t sectors, bool ro, bool async);
void blk__test_notify(struct blk *b);
bool blk__test_broken(const struct blk *b);
void blk__test_free(struct blk *b);

/* The id of a writable drive of @kvm, or NULL: none (a rewind refuses). */
const char *blk__writable(struct kvm *kvm);

/*
 * PATCH /drives/{id} after the start: the drive reads and writes @path
 * from now on (requests in flight finish on the old file) and the guest
 * is told its capacity may have changed.  -errno with a message.
 */
int blk__swap(struct kvm *kvm, const char *id, const char *path, char *err,
	      size_t errlen);

#endif
