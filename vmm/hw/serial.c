// SPDX-License-Identifier: GPL-2.0
/*
 * COM1: enough of a 16550A for Linux's 8250 driver, probing included
 * (scratch register, loopback modem lines, FIFO), with the THR-empty
 * interrupt it relies on.  Transmitted bytes go to stdout or to the
 * config's serial_out_path; there is no input.
 *
 * The guest is hostile and writes on the vCPU thread, so its output is
 * bounded: with the config's rate_limiter (Firecracker's TokenBucket, in
 * bytes) bytes past it are dropped; the rest go to a buffer of
 * SERIAL_BUF bytes, written out with a non-blocking write(2) at each
 * newline, when half full, and when the guest writes IER (the 8250 driver
 * does at the end of every burst); after an EAGAIN, not again for 10 ms.
 * A full buffer drops what comes next (a pipe nobody reads never blocks
 * the vCPU); a failed output drops what was pending.  Every drop is
 * counted in the metrics (uart_*).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "lib/token-bucket.h"
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

/* Output held for the next write(2); past it, bytes are dropped. */
#define SERIAL_BUF	16384
/* After an EAGAIN, the output is tried again this much later at the soonest. */
#define SERIAL_RETRY_NS	10000000ull

struct serial {
	struct kvm *kvm;
	pthread_mutex_t lock;		/* everything below */
	uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	bool thr_ipending;
	int irq_level;
	int out_fd;			/* non-blocking, but a regular file */
	bool own_fd;
	bool out_blocked;		/* the last write(2) got EAGAIN */
	uint64_t retry_ns;		/* while blocked: not before then */
	bool limited;			/* the config has a rate_limiter */
	struct token_bucket limit;
	size_t out_len;
	uint8_t out[SERIAL_BUF];
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

/* Write out what is pending, as far as the output takes it now. */
static void flush_now(struct serial *s)
{
	size_t done = 0;
	ssize_t n;

	while (done < s->out_len) {
		n = write(s->out_fd, s->out + done, s->out_len - done);
		kvm__count(s->kvm, uart_flush_count);
		if (n > 0) {
			done += (size_t)n;
			s->out_blocked = false;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			s->out_blocked = true;
			s->retry_ns = token_bucket__now_ns() + SERIAL_RETRY_NS;
			break;
		}
		/* The output is gone (EPIPE, ENOSPC, EIO): so is the rest. */
		kvm__count_n(s->kvm, uart_missed_write_count,
			     s->out_len - done);
		done = s->out_len;
	}
	memmove(s->out, s->out + done, s->out_len - done);
	s->out_len -= done;
}

/*
 * Flush, unless the output said EAGAIN less than SERIAL_RETRY_NS ago: a
 * pipe nobody drains costs a write(2) every 10 ms, not one a line.
 */
static void flush(struct serial *s)
{
	if (!s->out_len ||
	    (s->out_blocked && token_bucket__now_ns() < s->retry_ns))
		return;
	flush_now(s);
}

static void transmit(struct serial *s, uint8_t c)
{
	kvm__count(s->kvm, uart_write_count);
	if (s->limited &&
	    !token_bucket__take(&s->limit, 1, token_bucket__now_ns())) {
		kvm__count(s->kvm, uart_rate_limiter_dropped_bytes);
		return;
	}
	if (s->out_len == SERIAL_BUF) {
		kvm__count(s->kvm, uart_missed_write_count);
		return;
	}
	s->out[s->out_len++] = c;
	if (c == '\n' || s->out_len >= SERIAL_BUF / 2)
		flush(s);
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
		/* The end of a burst: the line so far goes out. */
		flush(s);
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

/*
 * stdout, where no serial_out_path says otherwise: a file of its own for
 * a pipe, FIFO or terminal (opened again through /proc, so that
 * O_NONBLOCK is not set on a description the parent shares); a regular
 * file as it is (a write never waits long there); anything else made
 * non-blocking in place, as Firecracker does.
 */
static int open_stdout(struct serial *s)
{
	struct stat st;
	int fd, fl;

	s->out_fd = STDOUT_FILENO;
	if (fstat(STDOUT_FILENO, &st) || S_ISREG(st.st_mode))
		return 0;
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC |
			  O_NOCTTY);
		if (fd >= 0) {
			s->out_fd = fd;
			s->own_fd = true;
			return 0;
		}
	}
	fl = fcntl(STDOUT_FILENO, F_GETFL);
	if (fl < 0 || fcntl(STDOUT_FILENO, F_SETFL, fl | O_NONBLOCK) < 0)
		pr_warn("serial: stdout stays blocking: %s", strerror(errno));
	return 0;
}

static int open_output(struct serial *s, const char *path, char *err,
		       size_t errlen)
{
	int fl, ret;

	if (!path)
		return open_stdout(s);
	/* Blocking: a FIFO's open waits for its reader, as it always did. */
	s->out_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
			 O_NOCTTY, 0600);
	if (s->out_fd < 0)
		return err__set(err, errlen, -errno, "serial_out_path %s: %s",
				path, strerror(errno));
	s->own_fd = true;
	fl = fcntl(s->out_fd, F_GETFL);
	if (fl < 0 || fcntl(s->out_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		ret = err__set(err, errlen, -errno,
			       "serial_out_path %s: O_NONBLOCK: %s", path,
			       strerror(errno));
		close(s->out_fd);
		return ret;
	}
	return 0;
}

int serial__init(struct kvm *kvm, char *err, size_t errlen)
{
	const struct vm_token_bucket *rl = &kvm->cfg->serial_rate_limiter;
	struct serial *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->kvm = kvm;
	pthread_mutex_init(&s->lock, NULL);
	s->lsr = UART_LSR_THRE | UART_LSR_TEMT;
	ret = open_output(s, kvm->cfg->serial_out_path, err, errlen);
	if (ret) {
		free(s);
		return ret;
	}
	if (rl->present && rl->size && rl->refill_time) {
		s->limited = true;
		token_bucket__init(&s->limit, rl->size, rl->one_time_burst,
				   rl->refill_time, token_bucket__now_ns());
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
	pthread_mutex_lock(&s->lock);
	flush_now(s);
	pthread_mutex_unlock(&s->lock);
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
