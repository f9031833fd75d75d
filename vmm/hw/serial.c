// SPDX-License-Identifier: GPL-2.0
/*
 * COM1: enough of a 16550A for Linux's 8250 driver, probing included
 * (scratch register, loopback modem lines, FIFO), with the THR-empty
 * interrupt it relies on.  Transmitted bytes go to stdout or to the
 * config's serial_out_path; there is no input.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/snapfile.h"
#include "vmm/bus.h"
#include "vmm/devices.h"
#include "vmm/hw/serial.h"
#include "vmm/kvm.h"
#include "vmm/persist.h"
#include "vmm/x86/layout.h"

#define UART_RX		0	/* DLAB 0: RBR/THR, DLAB 1: DLL */
#define UART_IER	1	/* DLAB 1: DLM */
#define UART_IIR	2	/* write: FCR */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define UART_LCR_DLAB	0x80
#define UART_IER_THRI	0x02
#define UART_IIR_NO_INT	0x01
#define UART_IIR_THRI	0x02
#define UART_IIR_FIFO	0xc0
#define UART_FCR_ENABLE	0x01
#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_MCR_OUT1	0x04
#define UART_MCR_OUT2	0x08
#define UART_MCR_LOOP	0x10
#define UART_LSR_THRE	0x20
#define UART_LSR_TEMT	0x40
#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80

struct serial {
	struct kvm *kvm;
	pthread_mutex_t lock;		/* the registers below */
	int out_fd;
	bool own_fd;
	uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	bool thr_ipending;
	int irq_level;
};

static uint8_t iir(const struct serial *s)
{
	uint8_t v = UART_IIR_NO_INT;

	if ((s->ier & UART_IER_THRI) && s->thr_ipending)
		v = UART_IIR_THRI;
	if (s->fcr & UART_FCR_ENABLE)
		v |= UART_IIR_FIFO;
	return v;
}

/* The PC wires OUT2 as the interrupt enable. */
static void update_irq(struct serial *s)
{
	int level = !(iir(s) & UART_IIR_NO_INT) && (s->mcr & UART_MCR_OUT2);

	if (level != s->irq_level) {
		s->irq_level = level;
		kvm__irq_line(s->kvm, LAYOUT_IRQ_COM1, level);
	}
}

static uint8_t msr(const struct serial *s)
{
	uint8_t m = s->mcr;

	if (!(m & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	/* Loopback: the modem outputs come back as inputs. */
	return (m & UART_MCR_RTS ? UART_MSR_CTS : 0) |
		(m & UART_MCR_DTR ? UART_MSR_DSR : 0) |
		(m & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
		(m & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
}

static void transmit(struct serial *s, uint8_t c)
{
	ssize_t n;

	do {
		n = write(s->out_fd, &c, 1);
	} while (n < 0 && errno == EINTR);
}

static void serial__read(struct serial *s, uint64_t off, uint8_t *v)
{
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RX:
		*v = s->lcr & UART_LCR_DLAB ? s->dll : 0;
		break;
	case UART_IER:
		*v = s->lcr & UART_LCR_DLAB ? s->dlm : s->ier;
		break;
	case UART_IIR:
		*v = iir(s);
		/* Reading the THRI identification acknowledges it. */
		if ((*v & 0x0f) == UART_IIR_THRI)
			s->thr_ipending = false;
		break;
	case UART_LCR:
		*v = s->lcr;
		break;
	case UART_MCR:
		*v = s->mcr;
		break;
	case UART_LSR:
		*v = s->lsr;
		break;
	case UART_MSR:
		*v = msr(s);
		break;
	case UART_SCR:
		*v = s->scr;
		break;
	default:
		*v = 0xff;
		break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial__write(struct serial *s, uint64_t off, uint8_t v)
{
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RX:
		if (s->lcr & UART_LCR_DLAB) {
			s->dll = v;
			break;
		}
		if (!(s->mcr & UART_MCR_LOOP))
			transmit(s, v);
		/* Sent at once: the holding register is empty again. */
		s->thr_ipending = true;
		break;
	case UART_IER:
		if (s->lcr & UART_LCR_DLAB) {
			s->dlm = v;
			break;
		}
		/* Enabling THRI with THR empty raises it, as on a 16550. */
		if (!(s->ier & UART_IER_THRI) && (v & UART_IER_THRI))
			s->thr_ipending = true;
		s->ier = v & 0x0f;
		break;
	case UART_IIR:
		s->fcr = v & UART_FCR_ENABLE ? v & 0xc9 : 0;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default:
		break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void bus_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	memset(data, 0xff, len);
	if (len == 1)
		serial__read(dev, off, data);
}

static void bus_write(void *dev, uint64_t off, const void *data,
		      uint32_t len)
{
	if (len == 1)
		serial__write(dev, off, *(const uint8_t *)data);
}

static const struct bus_ops serial_bus_ops = {
	.read = bus_read,
	.write = bus_write,
};

void serial__save(struct serial *s, struct serial_state *st)
{
	pthread_mutex_lock(&s->lock);
	memset(st, 0, sizeof(*st));
	st->ier = s->ier;
	st->lcr = s->lcr;
	st->mcr = s->mcr;
	st->lsr = s->lsr;
	st->msr = s->msr;
	st->scr = s->scr;
	st->dll = s->dll;
	st->dlm = s->dlm;
	st->fcr = s->fcr;
	st->thr_ipending = s->thr_ipending;
	pthread_mutex_unlock(&s->lock);
}

void serial__restore(struct serial *s, const struct serial_state *st)
{
	pthread_mutex_lock(&s->lock);
	s->ier = st->ier & 0x0f;
	s->lcr = st->lcr;
	s->mcr = st->mcr & 0x1f;
	s->lsr = UART_LSR_THRE | UART_LSR_TEMT;
	s->msr = st->msr;
	s->scr = st->scr;
	s->dll = st->dll;
	s->dlm = st->dlm;
	s->fcr = st->fcr;
	s->thr_ipending = st->thr_ipending;
	/*
	 * The line as KVM has it is unknown here (a fresh machine, or one
	 * that ran and had its irqchip reloaded): drive it, whatever it was.
	 */
	s->irq_level = -1;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

int serial__init(struct kvm *kvm, char *err, size_t errlen)
{
	const char *path = kvm->cfg->serial_out_path;
	struct serial *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->kvm = kvm;
	pthread_mutex_init(&s->lock, NULL);
	s->lsr = UART_LSR_THRE | UART_LSR_TEMT;
	s->out_fd = STDOUT_FILENO;
	if (path) {
		s->out_fd = open(path, O_WRONLY | O_CREAT | O_APPEND |
				 O_CLOEXEC | O_NOCTTY, 0600);
		if (s->out_fd < 0) {
			ret = -errno;
			pr_err("serial_out_path %s: %s", path, strerror(errno));
			free(s);
			return ret;
		}
		s->own_fd = true;
	}
	ret = bus__register(&kvm->pio, LAYOUT_PORT_COM1, 8, &serial_bus_ops,
			    s, "serial");
	if (ret) {
		if (s->own_fd)
			close(s->out_fd);
		free(s);
		return ret;
	}
	kvm->serial = s;
	return 0;
}

void serial__exit(struct kvm *kvm)
{
	struct serial *s = kvm->serial;

	if (!s)
		return;
	if (s->own_fd)
		close(s->out_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
	kvm->serial = NULL;
}

/* The snapshot's serial section (vmm/devices.h). */
static bool snap_save(struct kvm *kvm, void *state)
{
	serial__save(kvm->serial, state);
	return true;
}

static int snap_restore(struct kvm *kvm, const void *state, char *err,
			size_t errlen)
{
	serial__restore(kvm->serial, state);
	return 0;
}

const struct device_snap serial__snap = {
	.section = SNAP_SEC_DEV_SERIAL(0),
	.size = sizeof(struct serial_state),
	.what = "serial port",
	.required = true,
	.save = snap_save,
	.restore = snap_restore,
};
