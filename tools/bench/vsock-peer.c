// SPDX-License-Identifier: GPL-2.0
/*
 * The guest side of tools/bench/vsock: static, started by the bench
 * function's bootstrap.  It serves vsock PORT, one connection at a time;
 * the connection's first byte says what the host wants:
 *
 *   'p'            ping-pong: every byte read is written back, to EOF
 *   'w'            the host writes: read to EOF, then answer the count
 *                  (8 bytes, little-endian)
 *   'r' + 8 bytes  the host reads: write that many bytes (little-endian
 *                  count) in 64 KiB writes, then close
 *
 *   bench-vsock-peer PORT
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

static unsigned char buf[65536];

static int write_all(int fd, const void *p, size_t len)
{
	const unsigned char *b = p;

	while (len) {
		ssize_t w = write(fd, b, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		len -= w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t len)
{
	unsigned char *b = p;

	while (len) {
		ssize_t r = read(fd, b, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		len -= r;
	}
	return 0;
}

static void ping(int c)
{
	ssize_t r;

	while ((r = read(c, buf, 64)) > 0)
		if (write_all(c, buf, r))
			return;
}

static void sink(int c)
{
	uint64_t total = 0;
	unsigned char le[8];
	ssize_t r;
	int i;

	while ((r = read(c, buf, sizeof(buf))) > 0)
		total += r;
	for (i = 0; i < 8; i++)
		le[i] = total >> (8 * i);
	write_all(c, le, sizeof(le));
}

static void source(int c)
{
	unsigned char le[8];
	uint64_t n = 0, k;
	int i;

	if (read_all(c, le, sizeof(le)))
		return;
	for (i = 0; i < 8; i++)
		n |= (uint64_t)le[i] << (8 * i);
	memset(buf, 0x5a, sizeof(buf));
	while (n) {
		k = n < sizeof(buf) ? n : sizeof(buf);
		if (write_all(c, buf, k))
			return;
		n -= k;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_vm sa = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
	};
	unsigned char mode;
	int l, c;

	if (argc != 2) {
		fprintf(stderr, "usage: bench-vsock-peer PORT\n");
		return 2;
	}
	sa.svm_port = strtoul(argv[1], NULL, 0);
	l = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 4) < 0) {
		perror("bench-vsock-peer: listen");
		return 1;
	}
	for (;;) {
		c = accept(l, NULL, NULL);
		if (c < 0)
			continue;
		if (!read_all(c, &mode, 1)) {
			if (mode == 'p')
				ping(c);
			else if (mode == 'w')
				sink(c);
			else if (mode == 'r')
				source(c);
		}
		close(c);
	}
}
