/* SPDX-License-Identifier: GPL-2.0 */
#ifndef THAW_LIB_CRC32C_H
#define THAW_LIB_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), as used by iSCSI,
 * ext4 and btrfs.  @crc is the running value: start with 0.
 */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
