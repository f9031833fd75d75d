/* SPDX-License-Identifier: GPL-2.0 */
/* COM1: an 8250/16550A UART, output only, the guest's console. */
#ifndef THAW_VMM_HW_SERIAL_H
#define THAW_VMM_HW_SERIAL_H

#include <stdint.h>

struct serial;
struct serial_state;
struct kvm;


void serial__save(struct serial *s, struct serial_state *st);
void serial__restore(struct serial *s, const struct serial_state *st);

#endif
