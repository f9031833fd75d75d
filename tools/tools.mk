# SPDX-License-Identifier: GPL-2.0
# Userspace tools: thawctl, the guest init, benches.
