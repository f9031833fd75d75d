// SPDX-License-Identifier: GPL-2.0
/*
 * The machine end to end: boot the stock Debian kernel ($THAW_KERNEL) with
 * a small initramfs (busybox, the virtio-mmio and vsock modules from
 * $THAW_MODULES, vsock_peer, selftests/vmm/init) on the machine built from
 * a struct vm_config filled here, and check what the guest does:
 *
 *  - vsock both ways through Firecracker's UDS protocol, bulk data both
 *    ways (credit flow control), pause + state save/restore + resume in
 *    the middle, then the guest powers off: vmm__wait() gives VMM_EXIT_OK;
 *  - SendCtrlAltDel to an init that turned C-A-D off: SIGINT, poweroff;
 *    this boot takes the ELF vmlinux out of the bzImage;
 *  - the default command line, SendCtrlAltDel with C-A-D on: the kernel
 *    resets the machine: VMM_EXIT_GUEST_RESET;
 *  - VMGenID: the guest's vmgenid driver binds our ACPI device; each new
 *    generation ID (one on the running machine, one while it is paused,
 *    as a restore does) reaches it through the GED interrupt and reseeds
 *    its CRNG ("crng reseeded due to virtual machine fork");
 *  - configurations the machine must refuse, each with a message.
 *
 * Runs inside tools/vmtest (nested KVM); skips without /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "selftests/lib/setup_skip.h"

#include "vmm/config.h"
#include "vmm/hw/i8042.h"
#include "vmm/hw/serial.h"
#include "vmm/hw/vmgenid.h"
#include "vmm/kvm-cpu.h"
#include "vmm/kvm.h"
#include "vmm/persist.h"
#include "vmm/virtio/vsock.h"
#include "vmm/vmm.h"

#define BOOT_TIMEOUT	240	/* seconds: nested KVM on TCG is slow */
#define GUEST_CID	3
/*
 * Without i8042.dumbkbd the keyboard driver probes the keyboard (GET ID,
 * LEDs, scancode set) through the emulated controller; the default
 * command line (default_cmdline_reset) covers dumbkbd.
 */
#define TEST_ARGS	"console=ttyS0 reboot=k panic=1 pci=off " \
			"i8042.noaux i8042.nomux "
#define BULK_HOST	(512 * 1024)
#define BULK_GUEST	(1024 * 1024)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Our own folder (vsock_peer is built beside us) and the tree's top, the
 * folder above that holds selftests/vmm/init.
 */
static int find_dirs(char *exe_dir, char *top, size_t len)
{
	char path[PATH_MAX + 32];
	ssize_t n;
	char *s;

	n = readlink("/proc/self/exe", top, len - 1);
	if (n < 0)
		return -1;
	top[n] = '\0';
	s = strrchr(top, '/');
	if (!s)
		return -1;
	*s = '\0';
	snprintf(exe_dir, len, "%s", top);
	while ((s = strrchr(top, '/')) && s != top) {
		*s = '\0';
		snprintf(path, sizeof(path), "%s/selftests/vmm/init", top);
		if (!access(path, R_OK))
			return 0;
	}
	return -1;
}

static char *read_file(const char *path)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return strdup("");
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? 2 * cap : 65536;
			buf = realloc(buf, cap + 1);
			if (!buf)
				break;
		}
		r = read(fd, buf + len, cap - len);
		if (r <= 0)
			break;
		len += r;
	}
	close(fd);
	if (buf)
		buf[len] = '\0';
	return buf;
}

static bool console_has(const char *path, const char *marker)
{
	char *s = read_file(path);
	bool found = s && strstr(s, marker);

	free(s);
	return found;
}

/* Wait for @marker on the console; false on timeout or a halted VM. */
static bool wait_console(struct vmm *vmm, const char *path,
			 const char *marker, int timeout)
{
	double start = now_s(), end = start + timeout;

	while (now_s() < end) {
		if (console_has(path, marker))
			return true;
		if (vmm__state(vmm) == VMM_HALTED) {
			if (console_has(path, marker))
				return true;
			fprintf(stderr, "# \"%s\": the guest stopped after %.1f s\n",
				marker, now_s() - start);
			return false;
		}
		usleep(100 * 1000);
	}
	fprintf(stderr, "# \"%s\": not seen in %d s (VMM state %d)\n",
		marker, timeout, (int)vmm__state(vmm));
	return false;
}

static void dump_console(struct __test_metadata *_metadata, const char *path)
{
	char *s = read_file(path);
	size_t n = s ? strlen(s) : 0;

	TH_LOG("console (last 3000 bytes):\n%s", s ? s + (n > 3000 ? n - 3000 : 0) : "");
	free(s);
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Wait up to @timeout s for @fd to be readable (or writable). */
static bool wait_fd(int fd, short events, int timeout)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, timeout * 1000) == 1;
}

static ssize_t read_full(int fd, void *buf, size_t len, int timeout)
{
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		if (!wait_fd(fd, POLLIN, timeout))
			return -ETIMEDOUT;
		r = read(fd, (char *)buf + got, len - got);
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += r;
	}
	return got;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t off = 0;
	ssize_t w;

	while (off < len) {
		w = write(fd, (const char *)buf + off, len - off);
		if (w <= 0)
			return -1;
		off += w;
	}
	return 0;
}

/* The host side of the guest-initiated connections (ports 5000, 5001). */
struct host_side {
	int l5000, l5001;
	char msg[256];
	size_t bulk;
	bool bulk_ok;
	int err;
};

static void *host_thread(void *arg)
{
	struct host_side *h = arg;
	static unsigned char buf[65536];
	char reply[300];
	size_t got = 0, i;
	ssize_t r;
	int c;

	if (!wait_fd(h->l5000, POLLIN, BOOT_TIMEOUT)) {
		h->err = ETIMEDOUT;
		return NULL;
	}
	c = accept(h->l5000, NULL, NULL);
	while (c >= 0 && wait_fd(c, POLLIN, 60) &&
	       (r = read(c, h->msg + got, sizeof(h->msg) - 1 - got)) > 0)
		got += r;
	h->msg[got] = '\0';
	snprintf(reply, sizeof(reply), "pong: %s", h->msg);
	if (c < 0 || write_full(c, reply, strlen(reply)))
		h->err = EIO;
	close(c);

	if (!wait_fd(h->l5001, POLLIN, 120)) {
		h->err = ETIMEDOUT;
		return NULL;
	}
	c = accept(h->l5001, NULL, NULL);
	h->bulk_ok = c >= 0;
	while (c >= 0 && wait_fd(c, POLLIN, 60) &&
	       (r = read(c, buf, sizeof(buf))) > 0) {
		for (i = 0; i < (size_t)r; i++)
			if (buf[i] != (unsigned char)((h->bulk + i) * 7 + 1))
				h->bulk_ok = false;
		h->bulk += r;
	}
	close(c);
	return NULL;
}

/* Firecracker's handshake: CONNECT <port>\n -> OK <host port>\n. */
static int uds_connect(const char *uds, unsigned int port, char *ok,
		       size_t oklen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[32];
	size_t n = 0;
	int fd, len;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", uds);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto err;
	len = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (write_full(fd, line, len))
		goto err;
	while (n < oklen - 1) {
		if (!wait_fd(fd, POLLIN, 30) || read(fd, ok + n, 1) != 1)
			goto err;
		if (ok[n++] == '\n')
			break;
	}
	ok[n] = '\0';
	return fd;
err:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Send @len bytes, read back the upper-cased echo, chunk by chunk. */
static bool echo_roundtrip(int fd, size_t len)
{
	static char out[16384], in[16384];
	size_t off = 0, k, i;

	while (off < len) {
		k = len - off < sizeof(out) ? len - off : sizeof(out);
		for (i = 0; i < k; i++)
			out[i] = 'a' + (off + i) % 26;
		if (write_full(fd, out, k))
			return false;
		if (read_full(fd, in, k, 60) != (ssize_t)k)
			return false;
		for (i = 0; i < k; i++)
			if (in[i] != 'A' + (char)((off + i) % 26))
				return false;
		off += k;
	}
	return true;
}

/* Save every part of the paused machine and load it straight back. */
static int state_roundtrip(struct kvm *kvm)
{
	struct kvm_cpu_state *cs = malloc(sizeof(*cs));
	struct kvm_vm_state vs;
	struct serial_state ss;
	struct i8042_state is;
	struct vsock_state vks;
	unsigned int i;
	int ret = -ENOMEM;

	if (!cs)
		return ret;
	for (i = 0; i < kvm->nr_cpus; i++) {
		ret = kvm_cpu__save_state(kvm->cpus[i], cs);
		if (!ret)
			ret = kvm_cpu__restore_state(kvm->cpus[i], cs);
		if (ret)
			goto out;
	}
	ret = kvm__save_state(kvm, &vs);
	if (!ret)
		ret = kvm__restore_state(kvm, &vs);
	if (ret)
		goto out;
	serial__save(kvm->serial, &ss);
	serial__restore(kvm->serial, &ss);
	i8042__save(kvm->i8042, &is);
	i8042__restore(kvm->i8042, &is);
	vsock__save(kvm->vsock, &vks);
	ret = vsock__restore(kvm->vsock, &vks);
out:
	free(cs);
	return ret;
}

FIXTURE(machine) {
	char dir[64];
	char initrd[128];
	char console[128];
	char uds[128];
	struct vm_config cfg;
	struct vmm *vmm;
};

FIXTURE_SETUP(machine)
{
	char top[PATH_MAX], exe_dir[PATH_MAX], cmd[3 * PATH_MAX];
	const char *kernel = getenv("THAW_KERNEL");
	int fd;

	self->vmm = NULL;
	self->dir[0] = '\0';
	vm_config__init(&self->cfg);
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SETUP_SKIP("/dev/kvm: %s", strerror(errno));
	close(fd);
	if (!kernel || !getenv("THAW_MODULES"))
		SETUP_SKIP("THAW_KERNEL/THAW_MODULES not set: run in tools/vmtest");
	ASSERT_EQ(0, find_dirs(exe_dir, top, sizeof(top)));
	strcpy(self->dir, "/tmp/thaw-boot-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->initrd, sizeof(self->initrd), "%s/initrd.gz", self->dir);
	snprintf(self->console, sizeof(self->console), "%s/console",
		 self->dir);
	snprintf(self->uds, sizeof(self->uds), "%s/v.sock", self->dir);
	snprintf(cmd, sizeof(cmd),
		 "%s/selftests/vmm/mkinitramfs.sh %s %s/vsock_peer",
		 top, self->initrd, exe_dir);
	ASSERT_EQ(0, system(cmd)) TH_LOG("%s failed", cmd);

	self->cfg.has_boot_source = true;
	self->cfg.boot_source.kernel_image_path = strdup(kernel);
	self->cfg.boot_source.initrd_path = strdup(self->initrd);
	self->cfg.serial_out_path = strdup(self->console);
	self->cfg.machine.mem_size_mib = 256;
	self->vmm = vmm__new();
	ASSERT_NE(NULL, self->vmm);
}

FIXTURE_TEARDOWN(machine)
{
	const char *logs = getenv("THAW_TEST_LOGS");
	char cmd[PATH_MAX + 256];

	vmm__free(self->vmm);
	/* THAW_TEST_LOGS=DIR keeps each test's guest console there. */
	if (logs && self->dir[0]) {
		snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s %s/%s.console",
			 logs, self->console, logs, _metadata->name);
		if (system(cmd))
			TH_LOG("could not keep the console in %s", logs);
	}
	vm_config__free(&self->cfg);
	if (self->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
		if (system(cmd))
			TH_LOG("could not remove %s", self->dir);
	}
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? strdup(v) : NULL;
}

/* Each bad configuration fails InstanceStart with a message, no VM. */
TEST_F_TIMEOUT(machine, bad_config_is_refused, 120)
{
	struct vm_config *c = &self->cfg;
	char err[256];
	const char *kernel = c->boot_source.kernel_image_path;
	char *saved = strdup(kernel);

	err[0] = '\0';
	EXPECT_NE(0, vmm__pause(self->vmm, err, sizeof(err)));
	EXPECT_NE('\0', err[0]);

	c->machine.vcpu_count = 0;
	err[0] = '\0';
	EXPECT_NE(0, vmm__start(self->vmm, c, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "vcpu_count")) TH_LOG("%s", err);
	c->machine.vcpu_count = 1;

	set_str(&c->boot_source.kernel_image_path, "/nonexistent/vmlinuz");
	EXPECT_NE(0, vmm__start(self->vmm, c, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "/nonexistent/vmlinuz")) TH_LOG("%s", err);

	/* The initramfs is no kernel. */
	set_str(&c->boot_source.kernel_image_path, self->initrd);
	EXPECT_NE(0, vmm__start(self->vmm, c, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "bzImage")) TH_LOG("%s", err);
	set_str(&c->boot_source.kernel_image_path, saved);

	c->machine.mem_size_mib = 1;
	EXPECT_NE(0, vmm__start(self->vmm, c, err, sizeof(err)));
	TH_LOG("1 MiB: %s", err);
	c->machine.mem_size_mib = 256;

	c->vsock.present = true;
	c->vsock.guest_cid = 2;
	set_str(&c->vsock.uds_path, self->uds);
	EXPECT_NE(0, vmm__start(self->vmm, c, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "guest_cid")) TH_LOG("%s", err);
	c->vsock.guest_cid = GUEST_CID;
	{
		char *longp = malloc(200);

		memset(longp, 'p', 199);
		longp[0] = '/';
		longp[199] = '\0';
		set_str(&c->vsock.uds_path, longp);
		free(longp);
		EXPECT_NE(0, vmm__start(self->vmm, c, err, sizeof(err)));
		EXPECT_NE(NULL, strstr(err, "uds_path")) TH_LOG("%s", err);
		set_str(&c->vsock.uds_path, self->uds);
	}

	/* A command line longer than the kernel takes. */
	{
		char *big = malloc(8192);

		memset(big, 'x', 8191);
		big[8191] = '\0';
		set_str(&c->boot_source.boot_args, big);
		free(big);
		EXPECT_NE(0, vmm__start(self->vmm, c, err, sizeof(err)));
		TH_LOG("long command line: %s", err);
		set_str(&c->boot_source.boot_args, NULL);
	}
	EXPECT_EQ(VMM_NOT_STARTED, vmm__state(self->vmm));
	free(saved);
}

TEST_F_TIMEOUT(machine, vsock_both_ways, 600)
{
	struct host_side host = { .l5000 = -1, .l5001 = -1 };
	char path[200], ok[32], err[256], reply[64];
	struct vm_config *c = &self->cfg;
	struct vmm_stats st;
	pthread_t thread;
	struct kvm *kvm;
	unsigned int port;
	int fd;

	c->machine.vcpu_count = 2;
	set_str(&c->boot_source.boot_args, TEST_ARGS "thaw_test=vsock");
	c->vsock.present = true;
	c->vsock.guest_cid = GUEST_CID;
	set_str(&c->vsock.uds_path, self->uds);

	snprintf(path, sizeof(path), "%s_5000", self->uds);
	host.l5000 = listen_unix(path);
	snprintf(path, sizeof(path), "%s_5001", self->uds);
	host.l5001 = listen_unix(path);
	ASSERT_LE(0, host.l5000);
	ASSERT_LE(0, host.l5001);
	ASSERT_EQ(0, pthread_create(&thread, NULL, host_thread, &host));

	ASSERT_EQ(0, vmm__start(self->vmm, c, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_TRUE(wait_console(self->vmm, self->console,
				 "THAW-TEST: serving 1234", BOOT_TIMEOUT))
		dump_console(_metadata, self->console);
	EXPECT_TRUE(console_has(self->console, "init up, 2 cpus"))
		dump_console(_metadata, self->console);

	/* Host -> guest, with a half-close: the echo, then EOF. */
	fd = uds_connect(self->uds, 1234, ok, sizeof(ok));
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, sscanf(ok, "OK %u\n", &port)) TH_LOG("got \"%s\"", ok);
	ASSERT_EQ(0, write_full(fd, "ping from the host", 18));
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	memset(reply, 0, sizeof(reply));
	EXPECT_EQ(18, read_full(fd, reply, sizeof(reply) - 1, 60));
	EXPECT_STREQ("PING FROM THE HOST", reply);
	close(fd);

	/*
	 * Bulk host -> guest -> host: more than either side's credit.  Then
	 * a half-close, and the guest's EOF: its server has let the
	 * connection go.
	 */
	fd = uds_connect(self->uds, 1234, ok, sizeof(ok));
	ASSERT_LE(0, fd);
	EXPECT_TRUE(echo_roundtrip(fd, BULK_HOST));
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	EXPECT_EQ(0, read_full(fd, reply, sizeof(reply), 60));
	close(fd);

	/*
	 * Pause, save and restore every part's state, resume.  A restore
	 * starts the device with no connection (vsock__restore()), so none
	 * may be open here: the guest's server has closed its two, and the
	 * guest's own calls (the host thread) have ended.  A connection
	 * still open would be lost with nothing telling the guest (a real
	 * restore sends a transport reset; this round trip does not), and
	 * its server would wait on it forever.
	 */
	pthread_join(thread, NULL);
	EXPECT_EQ(0, host.err);
	ASSERT_EQ(0, vmm__pause(self->vmm, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(VMM_PAUSED, vmm__state(self->vmm));
	kvm = vmm__machine(self->vmm);
	ASSERT_NE(NULL, kvm);
	EXPECT_EQ(0, state_roundtrip(kvm));
	usleep(200 * 1000);
	ASSERT_EQ(0, vmm__resume(self->vmm, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(VMM_RUNNING, vmm__state(self->vmm));

	/*
	 * Still alive after the round trip.  If not, say what the device saw
	 * and end here: the guest would never power off.
	 */
	fd = uds_connect(self->uds, 1234, ok, sizeof(ok));
	ASSERT_LE(0, fd);
	ASSERT_TRUE(echo_roundtrip(fd, 4096)) {
		vmm__stats(self->vmm, &st);
		TH_LOG("no echo after the state round trip: vsock rx %llu tx %llu packets, rx %llu tx %llu bytes, %llu conns, %llu rsts; host side: err %d, bulk %zu",
		       (unsigned long long)st.vsock_rx_packets,
		       (unsigned long long)st.vsock_tx_packets,
		       (unsigned long long)st.vsock_rx_bytes,
		       (unsigned long long)st.vsock_tx_bytes,
		       (unsigned long long)st.vsock_conns,
		       (unsigned long long)st.vsock_rsts, host.err,
		       (size_t)host.bulk);
		dump_console(_metadata, self->console);
	}
	close(fd);

	/* The guest's own calls to the host went through; it powers off. */
	EXPECT_EQ(VMM_EXIT_OK, vmm__wait(self->vmm))
		dump_console(_metadata, self->console);
	EXPECT_STREQ("hello from the guest", host.msg);
	EXPECT_TRUE(console_has(self->console,
				"THAW-TEST: reply: pong: hello from the guest"))
		dump_console(_metadata, self->console);
	EXPECT_EQ(BULK_GUEST, host.bulk);
	EXPECT_TRUE(host.bulk_ok);
	EXPECT_TRUE(console_has(self->console, "THAW-TEST: done"));

	vmm__stats(self->vmm, &st);
	TH_LOG("exits: io %llu mmio %llu intr %llu; vsock rx %llu tx %llu packets, %llu conns; boot ready at %llu us (first run %llu us)",
	       (unsigned long long)st.exits_io,
	       (unsigned long long)st.exits_mmio,
	       (unsigned long long)st.exits_intr,
	       (unsigned long long)st.vsock_rx_packets,
	       (unsigned long long)st.vsock_tx_packets,
	       (unsigned long long)st.vsock_conns,
	       (unsigned long long)st.boot_ready_us,
	       (unsigned long long)st.first_run_us);
	EXPECT_LT(0, st.vsock_rx_packets);
	EXPECT_LT(0, st.vsock_tx_packets);
	EXPECT_EQ(5, st.vsock_conns);
	EXPECT_LT(st.first_run_us, st.boot_ready_us);
	close(host.l5000);
	close(host.l5001);
}

/* Booted from the ELF vmlinux inside the same bzImage. */
TEST_F_TIMEOUT(machine, ctrl_alt_del_powers_off, 400)
{
	char top[PATH_MAX], exe_dir[PATH_MAX], cmd[3 * PATH_MAX];
	char vmlinux[160];
	struct vm_config *c = &self->cfg;
	char err[256];

	ASSERT_EQ(0, find_dirs(exe_dir, top, sizeof(top)));
	snprintf(vmlinux, sizeof(vmlinux), "%s/vmlinux", self->dir);
	snprintf(cmd, sizeof(cmd), "%s/selftests/vmm/vmlinux.sh %s %s", top,
		 c->boot_source.kernel_image_path, vmlinux);
	ASSERT_EQ(0, system(cmd)) TH_LOG("%s failed", cmd);
	set_str(&c->boot_source.kernel_image_path, vmlinux);
	set_str(&c->boot_source.boot_args, TEST_ARGS "thaw_test=cad");
	ASSERT_EQ(0, vmm__start(self->vmm, c, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_TRUE(wait_console(self->vmm, self->console,
				 "THAW-TEST: ready for ctrl-alt-del",
				 BOOT_TIMEOUT))
		dump_console(_metadata, self->console);
	ASSERT_EQ(0, vmm__send_ctrl_alt_del(self->vmm, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(VMM_EXIT_OK, vmm__wait(self->vmm))
		dump_console(_metadata, self->console);
	EXPECT_TRUE(console_has(self->console, "THAW-TEST: got SIGINT"))
		dump_console(_metadata, self->console);
	EXPECT_TRUE(console_has(self->console,
				"input: AT Translated Set 2 keyboard"));
	EXPECT_EQ(VMM_HALTED, vmm__state(self->vmm));
	EXPECT_NE(0, vmm__send_ctrl_alt_del(self->vmm, err, sizeof(err)));
}

/* The default command line boots too; C-A-D on: the kernel resets. */
TEST_F_TIMEOUT(machine, default_cmdline_reset, 400)
{
	struct vm_config *c = &self->cfg;
	char err[256];

	ASSERT_EQ(0, vmm__start(self->vmm, c, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_TRUE(wait_console(self->vmm, self->console,
				 "THAW-TEST: ready for reset", BOOT_TIMEOUT))
		dump_console(_metadata, self->console);
	ASSERT_EQ(0, vmm__send_ctrl_alt_del(self->vmm, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(VMM_EXIT_GUEST_RESET, vmm__wait(self->vmm))
		dump_console(_metadata, self->console);
}

TEST_F_TIMEOUT(machine, vmgenid_reseeds_guest, 400)
{
	uint8_t before[LAYOUT_VMGENID_SIZE], after[LAYOUT_VMGENID_SIZE];
	struct vm_config *c = &self->cfg;
	char err[256];
	struct kvm *kvm;

	set_str(&c->boot_source.boot_args, TEST_ARGS "thaw_test=vmgenid");
	ASSERT_EQ(0, vmm__start(self->vmm, c, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_TRUE(wait_console(self->vmm, self->console,
				 "THAW-TEST: ready for vmgenid", BOOT_TIMEOUT))
		dump_console(_metadata, self->console);
	EXPECT_TRUE(console_has(self->console, "THAW-TEST: vmgenid bound 1"))
		dump_console(_metadata, self->console);
	kvm = vmm__machine(self->vmm);
	ASSERT_NE(NULL, kvm);
	EXPECT_EQ(1, vmgenid__generation(kvm));

	/* On the running machine. */
	ASSERT_EQ(0, vmgenid__read(kvm, before));
	ASSERT_EQ(0, vmgenid__regenerate(kvm));
	ASSERT_EQ(0, vmgenid__read(kvm, after));
	EXPECT_NE(0, memcmp(before, after, sizeof(before)));
	ASSERT_TRUE(wait_console(self->vmm, self->console,
				 "THAW-TEST: reseeded 1", 120))
		dump_console(_metadata, self->console);

	/* While paused, as after a restore: taken when it resumes. */
	ASSERT_EQ(0, vmm__pause(self->vmm, err, sizeof(err))) TH_LOG("%s", err);
	memcpy(before, after, sizeof(before));
	ASSERT_EQ(0, vmgenid__regenerate(kvm));
	ASSERT_EQ(0, vmgenid__read(kvm, after));
	EXPECT_NE(0, memcmp(before, after, sizeof(before)));
	EXPECT_EQ(3, vmgenid__generation(kvm));
	ASSERT_EQ(0, vmm__resume(self->vmm, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_TRUE(wait_console(self->vmm, self->console,
				 "THAW-TEST: reseeded 2", 120))
		dump_console(_metadata, self->console);

	EXPECT_EQ(VMM_EXIT_OK, vmm__wait(self->vmm))
		dump_console(_metadata, self->console);
	EXPECT_TRUE(console_has(self->console, "THAW-TEST: ged interrupts 2"))
		dump_console(_metadata, self->console);
	EXPECT_TRUE(console_has(self->console,
			"random: crng reseeded due to virtual machine fork"));
}

TEST_HARNESS_MAIN
