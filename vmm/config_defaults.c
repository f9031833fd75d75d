// SPDX-License-Identifier: GPL-2.0
/*
 * vm_config__init()/vm_config__free() for programs that link the machine
 * without the control plane's vmm/config.c (the vmm selftests).  thawvm
 * itself links vmm/config.c, which defines the same two functions.
 */
#include <stdlib.h>
#include <string.h>

#include "vmm/config.h"

void vm_config__init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->machine.vcpu_count = 1;
	cfg->machine.mem_size_mib = 128;
}

void vm_config__free(struct vm_config *cfg)
{
	free(cfg->boot_source.kernel_image_path);
	free(cfg->boot_source.initrd_path);
	free(cfg->boot_source.boot_args);
	free(cfg->vsock.uds_path);
	free(cfg->logger.log_path);
	free(cfg->logger.level);
	free(cfg->metrics.metrics_path);
	free(cfg->serial_out_path);
	memset(cfg, 0, sizeof(*cfg));
}
