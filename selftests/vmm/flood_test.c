// SPDX-License-Identifier: GPL-2.0
/*
 * A guest that floods the host (issue 14, hole 5), with tiny guests of a
 * few instructions (no Linux):
 *
 *  - the serial console written in a loop into a pipe nobody reads: the
 *    vCPU keeps running (its exits go on) once the pipe is full, what
 *    reaches the pipe is bounded, and the bytes dropped are counted;
 *  - the same into a file, with the serial section's rate_limiter: the
 *    file grows no faster than the bucket lets it;
 *  - a virtio device broken and reset in a loop (queue ready with no
 *    rings, then status 0): the log gets a bounded number of lines.
 *
 * Runs inside tools/vmtest (nested KVM); skips without /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"

#include "lib/log.h"
#include "vmm/config.h"
#include "vmm/vmm.h"

#include "vmm_test.h"

/* mov $0x3f8, %dx; 1: mov $'A', %al; out; mov $'\n', %al; out; jmp 1b */
static const uint8_t code_serial_flood[] = {
	0x66, 0xba, 0xf8, 0x03, 0xb0, 0x41, 0xee, 0xb0, 0x0a, 0xee,
	0xeb, 0xf8,
};
/*
 * mov $0xd0000000, %ebx (the first virtio-mmio slot, vsock); 1: queue 0
 * ready with no rings (the device breaks); status 0 (a reset); jmp 1b
 */
static const uint8_t code_break_reset[] = {
	0xbb, 0x00, 0x00, 0x00, 0xd0,
	0xc7, 0x43, 0x44, 0x01, 0x00, 0x00, 0x00,
	0xc7, 0x43, 0x70, 0x00, 0x00, 0x00, 0x00,
	0xeb, 0xf0,
};

/* The pipe's size: a page, full after a second of the flood. */
#define PIPE_BYTES	4096

FIXTURE(flood) {
	char dir[64];
	char kernel[128];
	struct vm_config cfg;
	struct vmm *vmm;
};

FIXTURE_SETUP(flood)
{
	int fd;

	self->vmm = NULL;
	self->dir[0] = '\0';
	vm_config__init(&self->cfg);
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SETUP_SKIP("/dev/kvm: %s", strerror(errno));
	close(fd);
	/* A write to a pipe whose reader went must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	strcpy(self->dir, "/tmp/thaw-flood-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->kernel, sizeof(self->kernel), "%s/k.elf", self->dir);
	self->cfg.has_boot_source = true;
	self->cfg.boot_source.kernel_image_path = strdup(self->kernel);
	self->cfg.machine.mem_size_mib = 64;
	self->vmm = vmm__new();
	ASSERT_NE(NULL, self->vmm);
}

FIXTURE_TEARDOWN(flood)
{
	char cmd[128];

	vmm__free(self->vmm);
	vm_config__free(&self->cfg);
	if (self->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
		if (system(cmd))
			TH_LOG("could not remove %s", self->dir);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int start(struct __test_metadata *_metadata, FIXTURE_DATA(flood) *self,
		 const uint8_t *code, size_t len)
{
	char err[256];

	if (write_test_kernel(self->kernel, code, len))
		return -1;
	if (vmm__start(self->vmm, &self->cfg, err, sizeof(err))) {
		TH_LOG("%s", err);
		return -1;
	}
	return 0;
}

/*
 * The console into a one-page pipe that is never read: once it is full,
 * the vCPU still runs (2 s of exits) and the console tries the pipe
 * again every 10 ms at most; once the console's own buffer is
 * full too, what comes next is dropped and counted, and the pipe holds
 * what it holds.  The read end is closed before the machine is stopped,
 * so that a vCPU blocked in write(2) gets EPIPE and the test ends either
 * way.
 */
TEST_F_TIMEOUT(flood, serial_into_full_pipe, 120)
{
	uint64_t before, after, flushes;
	struct vmm_stats st;
	char path[64];
	double t0;
	int p[2], n = 0;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ASSERT_LE(PIPE_BYTES, fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
	self->cfg.serial_out_path = strdup(path);
	ASSERT_EQ(0, start(_metadata, self, code_serial_flood,
			   sizeof(code_serial_flood)));
	t0 = now_s();
	while (now_s() - t0 < 60) {
		ASSERT_EQ(0, ioctl(p[0], FIONREAD, &n));
		if (n >= fcntl(p[0], F_GETPIPE_SZ))
			break;
		usleep(10000);
	}
	TH_LOG("pipe full (%d bytes) after %.1f s", n, now_s() - t0);
	vmm__stats(self->vmm, &st);
	before = st.exits_io;
	flushes = st.uart_flush_count;
	sleep(2);
	vmm__stats(self->vmm, &st);
	after = st.exits_io;
	flushes = st.uart_flush_count - flushes;
	TH_LOG("while the pipe was full: %llu exits, %llu write(2)s",
	       (unsigned long long)(after - before),
	       (unsigned long long)flushes);
	/* Two port writes a loop: the vCPU went round at least 100 times. */
	EXPECT_LT(200, after - before);
	/* A try every 10 ms at most, not one a line. */
	EXPECT_GE(300, flushes);
	/* Past the pipe and the console's buffer (16 KiB), and then some. */
	do {
		usleep(10000);
		vmm__stats(self->vmm, &st);
	} while (st.uart_write_count < PIPE_BYTES + 16384 + 4096 &&
		 now_s() - t0 < 60);
	TH_LOG("uart: %llu bytes, %llu write(2)s, %llu dropped",
	       (unsigned long long)st.uart_write_count,
	       (unsigned long long)st.uart_flush_count,
	       (unsigned long long)st.uart_missed_write_count);
	EXPECT_LT(0, st.uart_missed_write_count);
	ASSERT_EQ(0, ioctl(p[0], FIONREAD, &n));
	EXPECT_GE(fcntl(p[0], F_GETPIPE_SZ), n);
	EXPECT_GE(st.uart_write_count, n + st.uart_missed_write_count);
	close(p[0]);
	vmm__stop(self->vmm);
	EXPECT_EQ(VMM_EXIT_OK, vmm__wait(self->vmm));
	close(p[1]);
}

/*
 * The serial section's rate_limiter (Firecracker's TokenBucket, bytes):
 * 1 KiB a second into a file, from a guest that writes as fast as it
 * can for 3 s.  The file holds at most what the bucket let through; the
 * rest is counted as dropped by the rate limiter.
 */
TEST_F_TIMEOUT(flood, serial_rate_limited, 120)
{
	struct vmm_stats st;
	char path[160], err[256];
	struct stat sb;
	double t0, t;

	snprintf(path, sizeof(path), "%s/serial.out", self->dir);
	self->cfg.serial_out_path = strdup(path);
	self->cfg.serial_rate_limiter = (struct vm_token_bucket){
		.present = true, .size = 1024, .refill_time = 1000,
	};
	t0 = now_s();
	ASSERT_EQ(0, start(_metadata, self, code_serial_flood,
			   sizeof(code_serial_flood)));
	sleep(3);
	/*
	 * Counted with every vCPU parked (a stop lets a vCPU finish the
	 * exit it is in after vmm__wait() returns).  The device holds a line
	 * until its '\n' passes the bucket, and the bucket may drop a '\n'
	 * and let the next 'A' in, so several bytes can wait: its exit
	 * writes them out.
	 */
	ASSERT_EQ(0, vmm__pause(self->vmm, err, sizeof(err))) TH_LOG("%s", err);
	t = now_s() - t0;
	vmm__stats(self->vmm, &st);
	vmm__stop(self->vmm);
	EXPECT_EQ(VMM_EXIT_OK, vmm__wait(self->vmm));
	vmm__free(self->vmm);
	self->vmm = NULL;
	ASSERT_EQ(0, stat(path, &sb));
	TH_LOG("%.1f s: %llu bytes sent, %lld in the file, %llu dropped by the rate limiter",
	       t, (unsigned long long)st.uart_write_count,
	       (long long)sb.st_size,
	       (unsigned long long)st.uart_rate_limiter_dropped_bytes);
	EXPECT_LT(0, sb.st_size);
	/* A full bucket, then 1 KiB a second (one more for rounding). */
	EXPECT_GE(1024 * (t + 2), sb.st_size);
	EXPECT_LT(0, st.uart_rate_limiter_dropped_bytes);
	/* Every byte is accounted for. */
	EXPECT_EQ(sb.st_size + st.uart_rate_limiter_dropped_bytes +
		  st.uart_missed_write_count, st.uart_write_count);
}

/* Lines of @path that hold @what. */
static int count_lines(const char *path, const char *what)
{
	char line[1024];
	int n = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, what))
			n++;
	fclose(f);
	return n;
}

/*
 * Break and reset the vsock device in a loop for 3 s: the log says that
 * the device needs a reset a bounded number of times (LOG_RATELIMIT_BURST
 * lines, then as many every LOG_RATELIMIT_MS), and says how many it left
 * out.
 */
TEST_F_TIMEOUT(flood, device_break_reset_loop, 120)
{
	struct log_config lc = { .level = (char *)"Warning" };
	char path[160], err[256];
	struct vmm_stats st;
	double t0, t;
	int lines;

	snprintf(path, sizeof(path), "%s/vmm.log", self->dir);
	lc.log_path = path;
	/* The harness runs each test in its own process: no need to undo. */
	ASSERT_EQ(0, log__configure(&lc, err, sizeof(err)));
	self->cfg.serial_out_path = strdup("/dev/null");
	self->cfg.vsock.present = true;
	self->cfg.vsock.guest_cid = 3;
	self->cfg.vsock.uds_path = malloc(100);
	snprintf(self->cfg.vsock.uds_path, 100, "%s/v.sock", self->dir);
	t0 = now_s();
	ASSERT_EQ(0, start(_metadata, self, code_break_reset,
			   sizeof(code_break_reset)));
	sleep(3);
	vmm__stop(self->vmm);
	EXPECT_EQ(VMM_EXIT_OK, vmm__wait(self->vmm));
	t = now_s() - t0;
	vmm__stats(self->vmm, &st);
	lines = count_lines(path, "device needs a reset");
	TH_LOG("%llu MMIO exits, %d lines", (unsigned long long)st.exits_mmio,
	       lines);
	/* Two MMIO writes a loop: the device broke at least 500 times. */
	EXPECT_LT(1000, st.exits_mmio);
	EXPECT_LE(1, lines);
	EXPECT_GE(LOG_RATELIMIT_BURST * (1 + t * 1000 / LOG_RATELIMIT_MS) + 1,
		  lines);
	EXPECT_LE(1, count_lines(path, "suppressed"));
	EXPECT_LT(0, st.log_missed_count);
}

TEST_HARNESS_MAIN
