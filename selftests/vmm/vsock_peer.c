// SPDX-License-Identifier: GPL-2.0
/*
 * The guest side of selftests/vmm/boot_test: a static helper in the test's
 * initramfs (no thaw-init there).
 *
 *   vsock_peer ready             write 123 to I/O port 0x3f0 (boot timer)
 *   vsock_peer cad-off           Ctrl+Alt+Del signals init instead of
 *                                rebooting (what a real init does)
 *   vsock_peer serve PORT N      accept N connections on vsock PORT, one
 *                                at a time; echo each in upper case to EOF
 *   vsock_peer call PORT MSG     connect to the host (CID 2) PORT, send MSG,
 *                                half-close, print the reply
 *   vsock_peer send PORT BYTES   connect to the host PORT, send BYTES of
 *                                the test pattern, close
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

static int die(const char *what)
{
	printf("THAW-TEST: vsock_peer: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	return 1;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= w;
	}
	return 0;
}

static int serve(unsigned int port, int n)
{
	struct sockaddr_vm sa = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = port,
	};
	static char buf[65536];
	int l, c, i;
	ssize_t r;

	l = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (l < 0)
		return die("socket");
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 4) < 0)
		return die("bind/listen");
	printf("THAW-TEST: serving %u\n", port);
	fflush(stdout);
	for (i = 0; i < n; i++) {
		size_t total = 0;

		c = accept(l, NULL, NULL);
		if (c < 0)
			return die("accept");
		while ((r = read(c, buf, sizeof(buf))) > 0) {
			for (ssize_t k = 0; k < r; k++)
				buf[k] = toupper((unsigned char)buf[k]);
			if (write_all(c, buf, r))
				return die("echo write");
			total += r;
		}
		printf("THAW-TEST: served %zu bytes\n", total);
		fflush(stdout);
		close(c);
	}
	close(l);
	return 0;
}

static int host_connect(unsigned int port)
{
	struct sockaddr_vm sa = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_HOST,
		.svm_port = port,
	};
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int call(unsigned int port, const char *msg)
{
	char reply[256];
	size_t got = 0;
	ssize_t r;
	int fd;

	fd = host_connect(port);
	if (fd < 0)
		return die("connect to host");
	if (write_all(fd, msg, strlen(msg)) || shutdown(fd, SHUT_WR))
		return die("send");
	while (got < sizeof(reply) - 1 &&
	       (r = read(fd, reply + got, sizeof(reply) - 1 - got)) > 0)
		got += r;
	reply[got] = '\0';
	printf("THAW-TEST: reply: %s\n", reply);
	fflush(stdout);
	close(fd);
	return 0;
}

static int send_bytes(unsigned int port, size_t n)
{
	static unsigned char buf[65536];
	size_t off = 0, k, i;
	int fd;

	fd = host_connect(port);
	if (fd < 0)
		return die("connect to host");
	while (off < n) {
		k = n - off < sizeof(buf) ? n - off : sizeof(buf);
		for (i = 0; i < k; i++)
			buf[i] = (off + i) * 7 + 1;
		if (write_all(fd, buf, k))
			return die("bulk write");
		off += k;
	}
	close(fd);
	printf("THAW-TEST: sent %zu\n", n);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "ready")) {
		if (ioperm(0x3f0, 1, 1))
			return die("ioperm");
		outb(123, 0x3f0);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "cad-off"))
		return reboot(RB_DISABLE_CAD) ? die("reboot(CAD_OFF)") : 0;
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(strtoul(argv[2], NULL, 0), atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "call"))
		return call(strtoul(argv[2], NULL, 0), argv[3]);
	if (argc == 4 && !strcmp(argv[1], "send"))
		return send_bytes(strtoul(argv[2], NULL, 0),
				  strtoull(argv[3], NULL, 0));
	fprintf(stderr, "usage: see the comment at the top of vsock_peer.c\n");
	return 2;
}
