/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MMDS, Firecracker's metadata service, served to the guest on the
 * network interfaces that mmds-config names (PUT /mmds/config).
 *
 * The guest's side is real TCP/IP and HTTP, from libraries: on each such
 * interface virtio-net (vmm/virtio/net.c) hands the frames for the MMDS
 * address (IPv4 to it, ARP for it: mmds__frame_for()) to this file
 * instead of the tap.  They go into a libslirp instance of that
 * interface, restricted (no way out of it), without DHCP, DNS or IPv6,
 * whose one guest forward is MMDS_ADDRESS:80 to a Unix socket in a
 * private folder (mode 0700) where libmicrohttpd answers from the data
 * store (vmm/mmds/http.h).  libslirp's frames for the guest wait in a
 * bounded queue and the device loop puts them into the interface's rx
 * queue (the deliver callback), so nothing writes guest memory while the
 * machine is paused.
 *
 * One thread, "mmds", runs libslirp's sockets and timers and the HTTP
 * server; it loads its own seccomp filter (SECCOMP_MMDS).  The guest
 * cannot grow host memory through it: at most MMDS_IN_FRAMES frames (and
 * MMDS_IN_BYTES) wait for libslirp, MMDS_OUT_FRAMES for the guest, at
 * most MMDS_CONNS connections are open or opening per interface (a SYN
 * past them is dropped: the guest's TCP tries again; a handshake the
 * guest leaves half-done holds its place for 80 s), and libmicrohttpd
 * bounds each one's memory.  libslirp connects to the HTTP socket with a blocking
 * connect(): the server's limits are above all interfaces' MMDS_CONNS,
 * so that connect() never waits for it.
 *
 * The data store is the process's (mmds__store(), store.h), set by the API before
 * or after boot.  It is not saved in a snapshot: a clone's is empty until
 * its orchestrator PUTs it, as with Firecracker.  Session tokens are not
 * saved either: a clone's guest asks for new ones.
 */
#ifndef THAW_VMM_MMDS_H
#define THAW_VMM_MMDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct kvm;
struct mmds_store;

#define MMDS_DEFAULT_IPV4	"169.254.169.254"
#define MMDS_IN_FRAMES		64
#define MMDS_IN_BYTES		(256 * 1024)
#define MMDS_OUT_FRAMES		256
#define MMDS_CONNS		16

struct mmds_if;

/*
 * Interface @iface_id of machine @kvm: NULL in *@out when mmds-config
 * does not name it; else its MMDS side, which calls @deliver(@arg) on
 * the device loop when frames wait for the guest.  0 or -errno with a
 * message.  mmds__start() once every interface is made.
 */
int mmds__if_new(struct kvm *kvm, const char *iface_id,
		 void (*deliver)(void *arg), void *arg, struct mmds_if **out,
		 char *err, size_t errlen);
/* After mmds__stop(). */
void mmds__if_free(struct mmds_if *m);
int mmds__start(struct kvm *kvm, char *err, size_t errlen);
void mmds__stop(void);
/* Every session token is void from now on (a restore, a rewind). */
void mmds__forget_tokens(void);

/*
 * A frame the guest sends: @hdr (its virtio-net header), then @len bytes
 * in @iov.  true: it was MMDS's and is taken (or dropped: a full queue),
 * the tap must not get it; false: not MMDS's.
 */
bool mmds__if_take(struct mmds_if *m, const uint8_t *hdr,
		   const struct iovec *iov, unsigned int n, size_t len);
/*
 * The next frame for the guest: a virtio-net header (zeroed) and the
 * frame, *@len bytes in all; NULL when none.  mmds__if_pop() once it is
 * placed or dropped.
 */
uint8_t *mmds__if_peek(struct mmds_if *m, size_t *len);
void mmds__if_pop(struct mmds_if *m);
/* Drop what waits for the guest (a device reset, a restore). */
void mmds__if_flush(struct mmds_if *m);

#endif
