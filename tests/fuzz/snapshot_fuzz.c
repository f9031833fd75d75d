// SPDX-License-Identifier: GPL-2.0
/*
 * A snapshot state file (vmm/snapshot/snapshot.c) as a load reads it,
 * before any machine exists: the container (lib/snapfile.c), the
 * manifest, the machine configuration, the irqchip, PIT, clock and vCPU
 * sections and every device's check.  An accepted file must give a
 * machine configuration, with and without a load's overrides.  Each
 * input is read as it is, then with its CRCs made right, so that the
 * checks behind them see mutated contents too.
 */
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "vmm/config.h"
#include "vmm/snapshot/snapshot.h"

static void one(const uint8_t *data, size_t size)
{
	struct snapshot_load_params p;
	struct snapshot_image *img;
	struct vm_config cfg;
	char err[512];

	if (snapshot__parse(data, size, &img, err, sizeof(err))) {
		if (getenv("FUZZ_VERBOSE"))
			fprintf(stderr, "snapshot: %s\n", err);
		return;
	}
	memset(&p, 0, sizeof(p));
	FUZZ_CHECK(!snapshot__config(img, &p, &cfg, err, sizeof(err)));
	FUZZ_CHECK(cfg.machine.vcpu_count && cfg.machine.mem_size_mib);
	vm_config__free(&cfg);
	p.vsock_cid = 7;
	p.vsock_uds_path = "/run/fuzz.sock";
	if (!snapshot__config(img, &p, &cfg, err, sizeof(err))) {
		FUZZ_CHECK(cfg.vsock.present && cfg.vsock.guest_cid == 7);
		vm_config__free(&cfg);
	}
	snapshot__free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz__snapfile_both(data, size, one);
}
