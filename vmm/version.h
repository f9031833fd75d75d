/* SPDX-License-Identifier: GPL-2.0 */
#ifndef THAW_VMM_VERSION_H
#define THAW_VMM_VERSION_H

#define THAW_VERSION	"0.1.0"

#endif
