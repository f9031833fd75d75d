// SPDX-License-Identifier: GPL-2.0
/*
 * The port-I/O devices a guest drives one register at a time: COM1
 * (vmm/hw/serial.c), the i8042 (vmm/hw/i8042.c) and the ACPI PM ports
 * (vmm/hw/pm.c), on the machine's I/O bus (vmm/bus.c) as the vCPU loop
 * calls it.  An input is the serial port's rate limit (4 bytes) and then
 * a sequence of operations, 3 to 6 bytes each: an access (port, width,
 * value) read or written, a save and restore of every device (what is
 * saved must restore to the same saved bytes), or the host's Ctrl+Alt+Del.
 * There is no KVM: this file stands in for vmm/kvm.c's interrupt line and
 * halt, and checks what the devices ask of them.
 */
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "vmm/devices.h"
#include "vmm/exit.h"
#include "vmm/hw/i8042.h"
#include "vmm/hw/serial.h"
#include "vmm/kvm.h"
#include "vmm/persist.h"

static struct kvm kvm;
static struct vm_config cfg;
static int halted = -1;

int kvm__irq_line(struct kvm *k, unsigned int gsi, int level)
{
	FUZZ_CHECK(k == &kvm);
	FUZZ_CHECK(gsi < 24 && (level == 0 || level == 1));
	return 0;
}

void kvm__halt(struct kvm *k, int exit_code)
{
	FUZZ_CHECK(k == &kvm);
	if (halted < 0)
		halted = exit_code;
}

/* Every port a device claims, a neighbour of each, and one nobody has. */
static const uint16_t ports[] = {
	LAYOUT_PORT_COM1 + 0, LAYOUT_PORT_COM1 + 1, LAYOUT_PORT_COM1 + 2,
	LAYOUT_PORT_COM1 + 3, LAYOUT_PORT_COM1 + 4, LAYOUT_PORT_COM1 + 5,
	LAYOUT_PORT_COM1 + 6, LAYOUT_PORT_COM1 + 7, LAYOUT_PORT_COM1 + 8,
	LAYOUT_PORT_I8042_DATA, LAYOUT_PORT_I8042_CMD,
	LAYOUT_PORT_I8042_CMD + 1, LAYOUT_PM_SLEEP_CTL, LAYOUT_PM_SLEEP_STS,
	LAYOUT_PM_RESET, LAYOUT_PM_RESET + 1, 0x80,
};

static void save_restore(void)
{
	struct serial_state s1, s2;
	struct i8042_state k1, k2;

	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));
	memset(&k1, 0, sizeof(k1));
	memset(&k2, 0, sizeof(k2));
	serial__save(kvm.serial, &s1);
	i8042__save(kvm.i8042, &k1);
	serial__restore(kvm.serial, &s1);
	i8042__restore(kvm.i8042, &k1);
	serial__save(kvm.serial, &s2);
	i8042__save(kvm.i8042, &k2);
	FUZZ_CHECK(!memcmp(&s1, &s2, sizeof(s1)));
	FUZZ_CHECK(!memcmp(&k1, &k2, sizeof(k1)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t widths[] = { 1, 1, 2, 4 };
	struct fuzz_in in = { data, size };
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.serial_out_path = "/dev/null";
	cfg.serial_rate_limiter.size = fuzz__u8(&in);
	cfg.serial_rate_limiter.one_time_burst = fuzz__u8(&in);
	cfg.serial_rate_limiter.refill_time = fuzz__u8(&in);
	cfg.serial_rate_limiter.present = fuzz__u8(&in) & 1;
	memset(&kvm, 0, sizeof(kvm));
	kvm.vm_fd = -1;
	kvm.cfg = &cfg;
	halted = -1;
	FUZZ_CHECK(!serial__init(&kvm, err, sizeof(err)));
	FUZZ_CHECK(!i8042__init(&kvm, err, sizeof(err)));
	FUZZ_CHECK(!pm__init(&kvm, err, sizeof(err)));

	while (in.n) {
		uint8_t op = fuzz__u8(&in);
		uint16_t port = ports[fuzz__u8(&in) % (sizeof(ports) / 2)];
		uint32_t len = widths[(op >> 2) & 3];
		uint8_t buf[4];

		switch (op & 3) {
		case 0:
			memset(buf, 0xa5, sizeof(buf));
			bus__access(&kvm.pio, port, buf, len, false);
			break;
		case 1:
			for (uint32_t i = 0; i < len; i++)
				buf[i] = fuzz__u8(&in);
			bus__access(&kvm.pio, port, buf, len, true);
			break;
		case 2:
			save_restore();
			break;
		default:
			i8042__send_ctrl_alt_del(kvm.i8042);
			break;
		}
	}
	FUZZ_CHECK(halted < 0 || halted == VMM_EXIT_OK ||
		   halted == VMM_EXIT_GUEST_RESET);
	pm__exit(&kvm);
	i8042__exit(&kvm);
	serial__exit(&kvm);
	bus__free(&kvm.pio);
	return 0;
}
