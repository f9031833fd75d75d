// SPDX-License-Identifier: GPL-2.0
/* The i8042 keyboard controller: see i8042.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "vmm/bus.h"
#include "vmm/devices.h"
#include "vmm/exit.h"
#include "vmm/hw/i8042.h"
#include "vmm/kvm.h"
#include "vmm/persist.h"
#include "vmm/x86/layout.h"

/* Status register */
#define STR_OBF		0x01	/* output buffer full */
#define STR_SYS		0x04	/* self test passed */
#define STR_CMD		0x08	/* last write was a command */
#define STR_UNLOCKED	0x10

/* Controller command byte */
#define CTR_KBDINT	0x01
#define CTR_SYS		0x04
#define CTR_KBDDIS	0x10
#define CTR_AUXDIS	0x20
#define CTR_XLATE	0x40

/* Controller commands (port 0x64) */
#define CMD_READ_CTR	0x20
#define CMD_WRITE_CTR	0x60
#define CMD_AUX_DISABLE	0xa7
#define CMD_AUX_ENABLE	0xa8
#define CMD_AUX_TEST	0xa9
#define CMD_SELF_TEST	0xaa
#define CMD_KBD_TEST	0xab
#define CMD_KBD_DISABLE	0xad
#define CMD_KBD_ENABLE	0xae
#define CMD_READ_OUTP	0xd0
#define CMD_WRITE_OUTP	0xd1
#define CMD_WRITE_KBD	0xd2
#define CMD_PULSE_RESET	0xfe
#define OUTP_RESET	0x01	/* active low */

/* Keyboard commands (port 0x60) and replies */
#define KBD_ECHO	0xee
#define KBD_GET_ID	0xf2
#define KBD_RESET	0xff
#define KBD_ACK		0xfa
#define KBD_BAT_OK	0xaa
#define KBD_SETLEDS	0xed
#define KBD_SCANSET	0xf0
#define KBD_TYPEMATIC	0xf3

#define QUEUE_SIZE	PERSIST_I8042_QUEUE

struct i8042 {
	struct kvm *kvm;
	pthread_mutex_t lock;		/* everything below */
	uint8_t status, ctr, outport;
	uint8_t pending_cmd;		/* command waiting for its data byte */
	uint8_t kbd_pending_cmd;	/* keyboard command waiting for data */
	uint8_t queue[QUEUE_SIZE];
	uint8_t qhead, qlen;
	int irq_level;
};

static void update_irq(struct i8042 *k)
{
	int level = (k->status & STR_OBF) && (k->ctr & CTR_KBDINT);

	if (level != k->irq_level) {
		k->irq_level = level;
		kvm__irq_line(k->kvm, LAYOUT_IRQ_I8042, level);
	}
}

/* Move the next queued byte into the output buffer. */
static void refill(struct i8042 *k)
{
	if (!(k->status & STR_OBF) && k->qlen)
		k->status |= STR_OBF;
	update_irq(k);
}

static int push(struct i8042 *k, uint8_t b)
{
	if (k->qlen == QUEUE_SIZE)
		return -EBUSY;
	k->queue[(k->qhead + k->qlen) % QUEUE_SIZE] = b;
	k->qlen++;
	return 0;
}

static void reset_machine(struct i8042 *k)
{
	pr_guest_info("guest reset through the i8042");
	kvm__halt(k->kvm, VMM_EXIT_GUEST_RESET);
}

static void kbd_command(struct i8042 *k, uint8_t v)
{
	if (k->kbd_pending_cmd) {
		/* The parameter byte of SETLEDS, SCANSET, TYPEMATIC. */
		k->kbd_pending_cmd = 0;
		push(k, KBD_ACK);
		return;
	}
	switch (v) {
	case KBD_ECHO:
		push(k, KBD_ECHO);
		break;
	case KBD_RESET:
		push(k, KBD_ACK);
		push(k, KBD_BAT_OK);
		break;
	case KBD_GET_ID:
		push(k, KBD_ACK);
		push(k, 0xab);
		push(k, k->ctr & CTR_XLATE ? 0x41 : 0x83);
		break;
	case KBD_SETLEDS:
	case KBD_SCANSET:
	case KBD_TYPEMATIC:
		k->kbd_pending_cmd = v;
		push(k, KBD_ACK);
		break;
	default:
		push(k, KBD_ACK);
		break;
	}
}

static void write_data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending_cmd;

	k->status &= ~STR_CMD;
	k->pending_cmd = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		k->ctr = v;
		break;
	case CMD_WRITE_OUTP:
		k->outport = v;
		if (!(v & OUTP_RESET))
			reset_machine(k);
		break;
	case CMD_WRITE_KBD:
		push(k, v);
		break;
	default:
		kbd_command(k, v);
		break;
	}
}

static void write_command(struct i8042 *k, uint8_t v)
{
	k->status |= STR_CMD;
	switch (v) {
	case CMD_READ_CTR:
		push(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTP:
	case CMD_WRITE_KBD:
		k->pending_cmd = v;
		break;
	case CMD_SELF_TEST:
		k->status |= STR_SYS;
		push(k, 0x55);
		break;
	case CMD_KBD_TEST:
	case CMD_AUX_TEST:
		push(k, 0x00);
		break;
	case CMD_KBD_DISABLE:
		k->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		k->ctr &= ~CTR_KBDDIS;
		break;
	case CMD_AUX_DISABLE:
		k->ctr |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		k->ctr &= ~CTR_AUXDIS;
		break;
	case CMD_READ_OUTP:
		push(k, k->outport);
		break;
	case CMD_PULSE_RESET:
		reset_machine(k);
		break;
	default:
		break;
	}
}

static void i8042__read(struct i8042 *k, uint16_t port, uint8_t *v)
{
	pthread_mutex_lock(&k->lock);
	if (port == LAYOUT_PORT_I8042_CMD) {
		*v = k->status;
	} else if (k->status & STR_OBF) {
		*v = k->queue[k->qhead];
		k->qhead = (k->qhead + 1) % QUEUE_SIZE;
		k->qlen--;
		k->status &= ~STR_OBF;
		/* A new byte is a new edge for the (edge-triggered) IRQ 1. */
		update_irq(k);
		refill(k);
	} else {
		*v = 0;
	}
	pthread_mutex_unlock(&k->lock);
}

static void i8042__write(struct i8042 *k, uint16_t port, uint8_t v)
{
	pthread_mutex_lock(&k->lock);
	if (port == LAYOUT_PORT_I8042_CMD)
		write_command(k, v);
	else
		write_data(k, v);
	refill(k);
	pthread_mutex_unlock(&k->lock);
}

int i8042__send_ctrl_alt_del(struct i8042 *k)
{
	/* Set 1 (what the controller hands on when translating), set 2. */
	static const uint8_t set1[] = {
		0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d,
	};
	static const uint8_t set2[] = {
		0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11,
		0xf0, 0x14,
	};
	const uint8_t *seq;
	size_t n, i;
	int ret = 0;

	pthread_mutex_lock(&k->lock);
	if (k->ctr & CTR_XLATE) {
		seq = set1;
		n = sizeof(set1);
	} else {
		seq = set2;
		n = sizeof(set2);
	}
	if (k->qlen + n > QUEUE_SIZE) {
		ret = -EBUSY;
	} else {
		for (i = 0; i < n; i++)
			push(k, seq[i]);
		refill(k);
	}
	pthread_mutex_unlock(&k->lock);
	return ret;
}

void i8042__save(struct i8042 *k, struct i8042_state *st)
{
	pthread_mutex_lock(&k->lock);
	memset(st, 0, sizeof(*st));
	st->status = k->status;
	st->ctr = k->ctr;
	st->outport = k->outport;
	st->pending_cmd = k->pending_cmd;
	st->kbd_pending_cmd = k->kbd_pending_cmd;
	st->irq_level = k->irq_level;
	st->qhead = k->qhead;
	st->qlen = k->qlen;
	memcpy(st->queue, k->queue, sizeof(st->queue));
	pthread_mutex_unlock(&k->lock);
}

void i8042__restore(struct i8042 *k, const struct i8042_state *st)
{
	pthread_mutex_lock(&k->lock);
	k->status = st->status;
	k->ctr = st->ctr;
	k->outport = st->outport;
	k->pending_cmd = st->pending_cmd;
	k->kbd_pending_cmd = st->kbd_pending_cmd;
	k->qhead = st->qhead % QUEUE_SIZE;
	k->qlen = st->qlen > QUEUE_SIZE ? QUEUE_SIZE : st->qlen;
	memcpy(k->queue, st->queue, sizeof(k->queue));
	if (!k->qlen)
		k->status &= ~STR_OBF;
	k->irq_level = -1;
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

/* Two one-port ranges: the offset is 0 in both, the ops tell them apart. */
static void data_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	memset(data, 0xff, len);
	if (len == 1)
		i8042__read(dev, LAYOUT_PORT_I8042_DATA, data);
}

static void data_write(void *dev, uint64_t off, const void *data,
		       uint32_t len)
{
	if (len == 1)
		i8042__write(dev, LAYOUT_PORT_I8042_DATA,
			     *(const uint8_t *)data);
}

static void cmd_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	memset(data, 0xff, len);
	if (len == 1)
		i8042__read(dev, LAYOUT_PORT_I8042_CMD, data);
}

static void cmd_write(void *dev, uint64_t off, const void *data,
		      uint32_t len)
{
	if (len == 1)
		i8042__write(dev, LAYOUT_PORT_I8042_CMD,
			     *(const uint8_t *)data);
}

static const struct bus_ops i8042_data_ops = {
	.read = data_read,
	.write = data_write,
};

static const struct bus_ops i8042_cmd_ops = {
	.read = cmd_read,
	.write = cmd_write,
};

int i8042__init(struct kvm *kvm, char *err, size_t errlen)
{
	struct i8042 *k;
	int ret;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->kvm = kvm;
	pthread_mutex_init(&k->lock, NULL);
	k->status = STR_UNLOCKED;
	k->ctr = CTR_KBDINT | CTR_SYS | CTR_XLATE | CTR_AUXDIS;
	k->outport = OUTP_RESET | 0x02;		/* reset inactive, A20 on */
	ret = bus__register(&kvm->pio, LAYOUT_PORT_I8042_DATA, 1,
			    &i8042_data_ops, k, "i8042");
	if (!ret)
		ret = bus__register(&kvm->pio, LAYOUT_PORT_I8042_CMD, 1,
				    &i8042_cmd_ops, k, "i8042");
	if (ret) {
		/* A failed init ends the machine before any vCPU runs. */
		free(k);
		return ret;
	}
	kvm->i8042 = k;
	return 0;
}

void i8042__exit(struct kvm *kvm)
{
	struct i8042 *k = kvm->i8042;

	if (!k)
		return;
	pthread_mutex_destroy(&k->lock);
	free(k);
	kvm->i8042 = NULL;
}

/* The snapshot's i8042 section (vmm/devices.h). */
static bool snap_save(struct kvm *kvm, void *state)
{
	i8042__save(kvm->i8042, state);
	return true;
}

static int snap_check(const struct vm_config *cfg, const void *state,
		      char *err, size_t errlen)
{
	const struct i8042_state *st = state;

	if (st->qhead >= PERSIST_I8042_QUEUE || st->qlen > PERSIST_I8042_QUEUE)
		return err__set(err, errlen, -EBADMSG,
				"snapshot: bad keyboard controller state");
	return 0;
}

static int snap_restore(struct kvm *kvm, const void *state, char *err,
			size_t errlen)
{
	i8042__restore(kvm->i8042, state);
	return 0;
}

const struct device_snap i8042__snap = {
	.section = SNAP_SEC_DEV_I8042,
	.size = sizeof(struct i8042_state),
	.what = "keyboard controller",
	.required = true,
	.save = snap_save,
	.check = snap_check,
	.restore = snap_restore,
};
