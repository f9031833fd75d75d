// SPDX-License-Identifier: GPL-2.0
/*
 * bench-vsock: the host side of tools/bench/vsock.  Through a VM's vsock
 * Unix socket (Firecracker's protocol: "CONNECT <port>\n", "OK ...") to
 * bench-vsock-peer in the guest:
 *
 *  - N ping-pongs of 1 byte on one connection: round-trip p50 and p99;
 *  - M MiB written to the guest in 64 KiB writes, until it counted them;
 *  - M MiB read from the guest.
 *
 *   bench-vsock UDS PORT PINGS MIB [WAIT_S]
 *
 * Waits up to WAIT_S seconds (default 120) for the peer to listen, then
 * prints one line: p50_us p99_us host_to_guest_MiB/s guest_to_host_MiB/s.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static unsigned char buf[65536];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

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

/* A connection to the guest's @port with @mode sent: its fd, or -1. */
static int open_conn(const char *uds, unsigned int port, char mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[64];
	size_t n = 0;
	int fd;

	if (strlen(uds) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, uds);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (write_all(fd, line, n))
		goto fail;
	/* "OK <port>\n", byte by byte: what follows is the guest's. */
	for (n = 0; n < sizeof(line) - 1; n++) {
		if (read(fd, line + n, 1) != 1)
			goto fail;
		if (line[n] == '\n')
			break;
	}
	if (strncmp(line, "OK ", 3))
		goto fail;
	if (write_all(fd, &mode, 1))
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned int port, pings, i;
	double t0, *rtt, h2g, g2h, wait_s = 120;
	uint64_t bytes, got, left;
	unsigned char le[8], c = 'x';
	const char *uds;
	int fd, k;
	ssize_t r;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: bench-vsock UDS PORT PINGS MIB [WAIT_S]\n");
		return 2;
	}
	uds = argv[1];
	port = strtoul(argv[2], NULL, 0);
	pings = strtoul(argv[3], NULL, 0);
	bytes = strtoull(argv[4], NULL, 0) << 20;
	if (argc == 6)
		wait_s = atof(argv[5]);
	if (!pings || !bytes)
		return 2;
	rtt = calloc(pings, sizeof(*rtt));
	if (!rtt)
		return 1;

	/* Ping-pong; the first connection waits for the peer to listen. */
	t0 = now();
	while ((fd = open_conn(uds, port, 'p')) < 0) {
		if (now() - t0 > wait_s) {
			fprintf(stderr, "bench-vsock: no peer on port %u\n",
				port);
			return 1;
		}
		usleep(200 * 1000);
	}
	for (i = 0; i < pings; i++) {
		t0 = now();
		if (write_all(fd, &c, 1) || read_all(fd, &c, 1)) {
			fprintf(stderr, "bench-vsock: ping %u failed\n", i);
			return 1;
		}
		rtt[i] = (now() - t0) * 1e6;
	}
	close(fd);
	qsort(rtt, pings, sizeof(*rtt), cmp_double);

	/* Host to guest: until the guest says it counted everything. */
	fd = open_conn(uds, port, 'w');
	if (fd < 0)
		return 1;
	memset(buf, 0xa5, sizeof(buf));
	t0 = now();
	for (left = bytes; left; left -= k) {
		k = left < sizeof(buf) ? left : sizeof(buf);
		if (write_all(fd, buf, k))
			return 1;
	}
	if (shutdown(fd, SHUT_WR) || read_all(fd, le, sizeof(le)))
		return 1;
	h2g = bytes / (now() - t0) / (1 << 20);
	for (got = 0, k = 0; k < 8; k++)
		got |= (uint64_t)le[k] << (8 * k);
	close(fd);
	if (got != bytes) {
		fprintf(stderr, "bench-vsock: the guest counted %llu of %llu bytes\n",
			(unsigned long long)got, (unsigned long long)bytes);
		return 1;
	}

	/* Guest to host. */
	fd = open_conn(uds, port, 'r');
	if (fd < 0)
		return 1;
	for (k = 0; k < 8; k++)
		le[k] = bytes >> (8 * k);
	t0 = now();
	if (write_all(fd, le, sizeof(le)))
		return 1;
	for (got = 0; (r = read(fd, buf, sizeof(buf))) > 0; got += r)
		;
	g2h = got / (now() - t0) / (1 << 20);
	close(fd);
	if (got != bytes) {
		fprintf(stderr, "bench-vsock: got %llu of %llu bytes\n",
			(unsigned long long)got, (unsigned long long)bytes);
		return 1;
	}
	printf("%.0f %.0f %.1f %.1f\n", rtt[pings / 2],
	       rtt[(pings * 99) / 100 < pings ? (pings * 99) / 100 : pings - 1],
	       h2g, g2h);
	free(rtt);
	return 0;
}
