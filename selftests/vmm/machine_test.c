// SPDX-License-Identifier: GPL-2.0
/*
 * The machine with tiny guests of a few instructions (no Linux): each exit
 * path and its exit code (ACPI poweroff, i8042 reset, ACPI reset register,
 * triple fault), the boot timer, pause/resume racing with many vCPUs plus
 * a state round trip of vCPUs still waiting for their SIPI, the
 * virtio_mmio.device= command line, guest RAM of 2 MiB huge pages, and
 * the seccomp filters of the machine's threads.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"

#include "lib/log.h"
#include "vmm/config.h"
#include "vmm/kvm-cpu.h"
#include "vmm/kvm.h"
#include "vmm/mem/mem.h"
#include "vmm/persist.h"
#include "vmm/vmm.h"
#include "vmm/x86/layout.h"

#include "vmm_test.h"

/* mov $0x34, %al; mov $0x600, %dx; out %al, (%dx): SLP_TYP 5 | SLP_EN */
static const uint8_t code_poweroff[] = {
	0xb0, 0x34, 0x66, 0xba, 0x00, 0x06, 0xee, 0xf4,
};
/* mov $0xfe, %al; out %al, $0x64: pulse the i8042 reset line */
static const uint8_t code_i8042_reset[] = { 0xb0, 0xfe, 0xe6, 0x64, 0xf4 };
/* mov $1, %al; mov $0x602, %dx; out %al, (%dx): the ACPI reset register */
static const uint8_t code_acpi_reset[] = {
	0xb0, 0x01, 0x66, 0xba, 0x02, 0x06, 0xee, 0xf4,
};
/*
 * mov $0x54, %al; mov $0x3f8, %dx; out (a serial write, the exit the dump
 * must list last); then ud2 with an empty IDT: #UD -> #DF -> triple fault
 */
static const uint8_t code_triple_fault[] = {
	0xb0, 0x54, 0x66, 0xba, 0xf8, 0x03, 0xee, 0x0f, 0x0b,
};
/* mov $123, %al; mov $0x3f0, %dx; out; then the poweroff above */
static const uint8_t code_ready_poweroff[] = {
	0xb0, 0x7b, 0x66, 0xba, 0xf0, 0x03, 0xee,
	0xb0, 0x34, 0x66, 0xba, 0x00, 0x06, 0xee, 0xf4,
};

FIXTURE(tiny) {
	char dir[64];
	char kernel[128];
	struct vm_config cfg;
	struct vmm *vmm;
};

FIXTURE_SETUP(tiny)
{
	int fd;

	self->vmm = NULL;
	self->dir[0] = '\0';
	vm_config__init(&self->cfg);
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SETUP_SKIP("/dev/kvm: %s", strerror(errno));
	close(fd);
	strcpy(self->dir, "/tmp/thaw-tiny-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->kernel, sizeof(self->kernel), "%s/k.elf", self->dir);
	self->cfg.has_boot_source = true;
	self->cfg.boot_source.kernel_image_path = strdup(self->kernel);
	self->cfg.machine.mem_size_mib = 64;
	self->cfg.serial_out_path = strdup("/dev/null");
	self->vmm = vmm__new();
	ASSERT_NE(NULL, self->vmm);
}

FIXTURE_TEARDOWN(tiny)
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

static int run(struct __test_metadata *_metadata, FIXTURE_DATA(tiny) *self,
	       const uint8_t *code, size_t len)
{
	char err[256];

	if (write_test_kernel(self->kernel, code, len))
		return -1;
	if (vmm__start(self->vmm, &self->cfg, err, sizeof(err))) {
		TH_LOG("%s", err);
		return -1;
	}
	return vmm__wait(self->vmm);
}

TEST_F_TIMEOUT(tiny, acpi_poweroff_exits_0, 60)
{
	EXPECT_EQ(VMM_EXIT_OK, run(_metadata, self, code_poweroff,
				   sizeof(code_poweroff)));
	EXPECT_EQ(VMM_HALTED, vmm__state(self->vmm));
}

TEST_F_TIMEOUT(tiny, i8042_reset_exits_3, 60)
{
	EXPECT_EQ(VMM_EXIT_GUEST_RESET,
		  run(_metadata, self, code_i8042_reset,
		      sizeof(code_i8042_reset)));
}

TEST_F_TIMEOUT(tiny, acpi_reset_exits_3, 60)
{
	EXPECT_EQ(VMM_EXIT_GUEST_RESET,
		  run(_metadata, self, code_acpi_reset,
		      sizeof(code_acpi_reset)));
}

/*
 * A triple fault ends the VM with status 4, and the log says what the vCPU
 * did last: its exits (the serial write just before) and its registers, or
 * that KVM re-initialized them (AMD).
 */
TEST_F_TIMEOUT(tiny, triple_fault_exits_4, 60)
{
	struct log_config lc = { .level = (char *)"Info" };
	char path[160], err[256], log[16384];
	struct vmm_stats st;
	ssize_t n;
	int fd;

	/* The harness runs each test in its own process: no need to undo. */
	snprintf(path, sizeof(path), "%s/vmm.log", self->dir);
	lc.log_path = path;
	ASSERT_EQ(0, log__configure(&lc, err, sizeof(err)));
	EXPECT_EQ(VMM_EXIT_GUEST_PANIC,
		  run(_metadata, self, code_triple_fault,
		      sizeof(code_triple_fault)));
	vmm__stats(self->vmm, &st);
	EXPECT_EQ(1, st.exits_shutdown);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = read(fd, log, sizeof(log) - 1);
	close(fd);
	ASSERT_LT(0, n);
	log[n] = '\0';
	EXPECT_NE(NULL, strstr(log, "vCPU 0: triple fault (shutdown exit)"));
	EXPECT_NE(NULL, strstr(log, "vCPU 0: its last"));
	/* The serial write, then the shutdown itself, in that order. */
	EXPECT_NE(NULL, strstr(log, ": io write 0x3f8"));
	EXPECT_NE(NULL, strstr(strstr(log, ": io write 0x3f8") ?: log,
			       ": shutdown (reason 8"));
	EXPECT_NE(NULL, strstr(log, "  rip 0x"));
	EXPECT_NE(NULL, strstr(log, "  cr0 0x"));
	EXPECT_NE(NULL, strstr(log, "  cs   sel 0x"));
	EXPECT_NE(NULL, strstr(log, "  events: exception"));
	if (!strstr(log, "re-initialized the vCPU"))
		/* Intel keeps the guest's state: the ud2 at 16 MiB + 7. */
		EXPECT_NE(NULL, strstr(log, "rip 0x0000000001000007"));
	if (!_metadata->passed)
		TH_LOG("the log:\n%s", log);
}

TEST_F_TIMEOUT(tiny, boot_timer, 60)
{
	struct vmm_stats st;

	EXPECT_EQ(VMM_EXIT_OK, run(_metadata, self, code_ready_poweroff,
				   sizeof(code_ready_poweroff)));
	vmm__stats(self->vmm, &st);
	EXPECT_LT(0, st.start_us);
	EXPECT_LE(st.start_us, st.first_run_us);
	EXPECT_LE(st.first_run_us, st.boot_ready_us);
	EXPECT_LE(2, st.exits_io);
	TH_LOG("start %llu us, first run %llu us, ready %llu us",
	       (unsigned long long)st.start_us,
	       (unsigned long long)st.first_run_us,
	       (unsigned long long)st.boot_ready_us);
}

/*
 * Four vCPUs (three never get a SIPI and sit in KVM_RUN): pause and
 * resume in a tight loop, then save and restore every vCPU and the VM
 * while paused, then tear down a running machine.
 */
TEST_F_TIMEOUT(tiny, pause_resume_four_vcpus, 120)
{
	struct kvm_cpu_state *cs = malloc(sizeof(*cs));
	struct kvm_vm_state vs;
	struct kvm *kvm;
	char err[256];
	unsigned int i;

	ASSERT_NE(NULL, cs);
	self->cfg.machine.vcpu_count = 4;
	ASSERT_EQ(0, write_test_kernel(self->kernel, code_hlt,
				       sizeof(code_hlt)));
	ASSERT_EQ(0, vmm__start(self->vmm, &self->cfg, err, sizeof(err)))
		TH_LOG("%s", err);
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, vmm__pause(self->vmm, err, sizeof(err)))
			TH_LOG("%s", err);
		ASSERT_EQ(VMM_PAUSED, vmm__state(self->vmm));
		ASSERT_EQ(0, vmm__resume(self->vmm, err, sizeof(err)));
	}
	ASSERT_EQ(0, vmm__pause(self->vmm, err, sizeof(err)));
	/* Pausing twice is fine; resuming a running one too. */
	EXPECT_EQ(0, vmm__pause(self->vmm, err, sizeof(err)));
	kvm = vmm__machine(self->vmm);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0, kvm_cpu__save_state(kvm->cpus[i], cs));
		EXPECT_LT(10, cs->nr_msrs);
		/* The BSP runs or has reached its HLT; the APs wait. */
		if (i) {
			EXPECT_EQ(KVM_MP_STATE_UNINITIALIZED,
				  cs->mp_state.mp_state);
		} else {
			EXPECT_NE(KVM_MP_STATE_UNINITIALIZED,
				  cs->mp_state.mp_state);
		}
		EXPECT_EQ(0, kvm_cpu__restore_state(kvm->cpus[i], cs));
	}
	EXPECT_EQ(0, kvm__save_state(kvm, &vs));
	EXPECT_EQ(0, kvm__restore_state(kvm, &vs));
	EXPECT_EQ(0, vmm__resume(self->vmm, err, sizeof(err)));
	EXPECT_EQ(0, vmm__resume(self->vmm, err, sizeof(err)));
	EXPECT_EQ(VMM_RUNNING, vmm__state(self->vmm));
	EXPECT_NE(0, vmm__start(self->vmm, &self->cfg, err, sizeof(err)));
	free(cs);
	/* The teardown frees a machine that is still running. */
}

TEST_F_TIMEOUT(tiny, virtio_mmio_cmdline, 60)
{
	struct kvm *kvm;
	const char *cmdline;
	char err[256];

	free(self->cfg.boot_source.boot_args);
	self->cfg.boot_source.boot_args = strdup("console=ttyS0");
	self->cfg.boot_source.virtio_mmio_cmdline = true;
	self->cfg.vsock.present = true;
	self->cfg.vsock.guest_cid = 3;
	self->cfg.vsock.uds_path = malloc(100);
	snprintf(self->cfg.vsock.uds_path, 100, "%s/v.sock", self->dir);
	ASSERT_EQ(0, write_test_kernel(self->kernel, code_hlt,
				       sizeof(code_hlt)));
	ASSERT_EQ(0, vmm__start(self->vmm, &self->cfg, err, sizeof(err)))
		TH_LOG("%s", err);
	kvm = vmm__machine(self->vmm);
	cmdline = guest_mem__ptr(kvm->mem, LAYOUT_CMDLINE, 128);
	ASSERT_NE(NULL, cmdline);
	EXPECT_STREQ("console=ttyS0 virtio_mmio.device=512@0xd0000000:5",
		     cmdline);
}

/* "Seccomp:" of each of our threads named @comm: 2 = filtered. */
static int seccomp_mode(const char *comm)
{
	char path[300], line[128], name[32];
	struct dirent *e;
	int mode = -1;
	DIR *d;

	d = opendir("/proc/self/task");
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status",
			 e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		name[0] = '\0';
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "Name: %31s", name) == 1)
				continue;
			if (!strcmp(name, comm) &&
			    sscanf(line, "Seccomp: %d", &mode) == 1)
				break;
		}
		fclose(f);
	}
	closedir(d);
	return mode;
}

/* The vCPU and device threads run under their filters, unless told not. */
TEST_F_TIMEOUT(tiny, seccomp_filters, 60)
{
	char err[256];
	int i;

	ASSERT_EQ(0, write_test_kernel(self->kernel, code_hlt,
				       sizeof(code_hlt)));
	ASSERT_EQ(0, vmm__start(self->vmm, &self->cfg, err, sizeof(err)))
		TH_LOG("%s", err);
	/* Each thread installs its own filter when it starts. */
	for (i = 0; i < 100 && (seccomp_mode("devices") != 2 ||
				seccomp_mode("vcpu0") != 2); i++)
		usleep(10 * 1000);
	EXPECT_EQ(2, seccomp_mode("vcpu0"));
	EXPECT_EQ(2, seccomp_mode("devices"));
	EXPECT_EQ(0, seccomp_mode("machine_test"));
	vmm__free(self->vmm);

	self->cfg.no_seccomp = true;
	self->vmm = vmm__new();
	ASSERT_EQ(0, vmm__start(self->vmm, &self->cfg, err, sizeof(err)))
		TH_LOG("%s", err);
	usleep(100 * 1000);
	EXPECT_EQ(0, seccomp_mode("vcpu0"));
	EXPECT_EQ(0, seccomp_mode("devices"));
}

static long read_long(const char *path)
{
	char buf[32] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return r > 0 ? strtol(buf, NULL, 10) : -1;
}

static int write_long(const char *path, long v)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CLOEXEC), n, ret;

	if (fd < 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "%ld", v);
	ret = write(fd, buf, n) == n ? 0 : -1;
	close(fd);
	return ret;
}

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"

TEST_F_TIMEOUT(tiny, huge_pages_2m, 60)
{
	long old = read_long(NR_HUGEPAGES);
	char err[256];

	if (old < 0 || access(NR_HUGEPAGES, W_OK))
		SKIP(return, "cannot change " NR_HUGEPAGES);
	self->cfg.machine.huge_pages = VM_HUGE_PAGES_2M;
	ASSERT_EQ(0, write_test_kernel(self->kernel, code_ready_poweroff,
				       sizeof(code_ready_poweroff)));

	/* No pool: InstanceStart says so. */
	ASSERT_EQ(0, write_long(NR_HUGEPAGES, 0));
	EXPECT_NE(0, vmm__start(self->vmm, &self->cfg, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "nr_hugepages")) TH_LOG("%s", err);

	/* 64 MiB = 32 pages. */
	ASSERT_EQ(0, write_long(NR_HUGEPAGES, 32));
	if (read_long(NR_HUGEPAGES) < 32) {
		write_long(NR_HUGEPAGES, old);
		SKIP(return, "could not reserve 32 huge pages");
	}
	EXPECT_EQ(0, vmm__start(self->vmm, &self->cfg, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(VMM_EXIT_OK, vmm__wait(self->vmm));
	EXPECT_EQ(2 << 20, vmm__machine(self->vmm)->mem->page_size);
	vmm__free(self->vmm);
	self->vmm = NULL;
	write_long(NR_HUGEPAGES, old);
}

/*
 * Guest RAM sits at a 2 MiB-aligned host address, so that KVM may map it
 * with 2 MiB pages; with dirty tracking on it cannot, and the log says so.
 */
TEST_F_TIMEOUT(tiny, ram_2m_aligned_dirty_log_4k, 60)
{
	struct log_config lc = { .level = (char *)"Info" };
	char path[160], err[256], log[4096];
	struct guest_mem *mem;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/vmm.log", self->dir);
	lc.log_path = path;
	ASSERT_EQ(0, log__configure(&lc, err, sizeof(err)));
	self->cfg.machine.track_dirty_pages = true;
	ASSERT_EQ(0, write_test_kernel(self->kernel, code_ready_poweroff,
				       sizeof(code_ready_poweroff)));
	ASSERT_EQ(0, vmm__start(self->vmm, &self->cfg, err, sizeof(err)))
		TH_LOG("%s", err);
	mem = vmm__machine(self->vmm)->mem;
	EXPECT_EQ(0, (uintptr_t)mem->base % (2 << 20));
	EXPECT_EQ(VMM_EXIT_OK, vmm__wait(self->vmm));

	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = read(fd, log, sizeof(log) - 1);
	close(fd);
	ASSERT_LT(0, n);
	log[n] = '\0';
	EXPECT_NE(NULL, strstr(log, "track_dirty_pages: KVM maps guest RAM with 4 KiB pages"))
		TH_LOG("log: %s", log);
	EXPECT_EQ(NULL, strstr(log, "differ modulo 2 MiB"));
}

TEST_HARNESS_MAIN
