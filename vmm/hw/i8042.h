/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The i8042 keyboard controller with a keyboard that never types: it exists
 * so that SendCtrlAltDel has a path the stock kernel acts on (the keyboard
 * driver sees Ctrl+Alt+Del and calls ctrl_alt_del(): a reboot, or SIGINT to
 * init once init has turned C-A-D off), and so that the kernel's "pulse the
 * reset line" reboot reaches the VMM.
 */
#ifndef THAW_VMM_HW_I8042_H
#define THAW_VMM_HW_I8042_H

#include <stdint.h>

struct i8042;
struct i8042_state;


/* Queue the scancodes of Ctrl+Alt+Del; -EBUSY if the buffer is full. */
int i8042__send_ctrl_alt_del(struct i8042 *k);

void i8042__save(struct i8042 *k, struct i8042_state *st);
void i8042__restore(struct i8042 *k, const struct i8042_state *st);

#endif
