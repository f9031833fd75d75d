// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the binary seeds of the committed corpus, the way thawvm writes
 * the files: snapshot state files (tests/fuzz/corpus/snapshot/) with
 * zeroed KVM state, as a machine just built would save them, and working
 * sets (corpus/wset/).  Run once when the formats change:
 *	make FUZZ=1 build/fuzz/bin/fuzz-mkcorpus
 *	build/fuzz/bin/fuzz-mkcorpus tests/fuzz/corpus
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/snapfile.h"
#include "lib/wset.h"
#include "vmm/persist.h"
#include "thaw-version.h"

static int state_file(const char *path, uint32_t vcpus, bool vsock)
{
	struct snap_manifest man = {
		.mem_size = 128ull << 20, .page_size = 4096,
		.vcpu_count = vcpus,
	};
	struct snap_vm_config cfg = { .vcpu_count = vcpus, .mem_size_mib = 128 };
	static struct kvm_cpu_state cpu;
	struct snap_irqchip chips = { 0 };
	struct kvm_pit_state2 pit = { 0 };
	struct kvm_clock_data clock = { 0 };
	struct serial_state serial = { .lsr = 0x60 };
	struct i8042_state kbd = { .status = 0x1c };
	struct vmgenid_state genid = { 0 };
	struct vsock_state vs = { .guest_cid = 3 };
	uint8_t man_buf[SNAP_MANIFEST_SIZE];
	struct snapfile_writer *w;
	char err[256];
	int ret;

	snprintf(man.vmm_version, sizeof(man.vmm_version), "%s", THAW_VERSION);
	snap_manifest__encode(&man, man_buf);
	if (vsock) {
		cfg.flags |= SNAP_CFG_VSOCK;
		cfg.guest_cid = 3;
		snprintf(cfg.uds_path, sizeof(cfg.uds_path), "/tmp/v.sock");
	}
	w = snapfile__writer_new(SNAPFILE_TYPE_STATE);
	if (!w)
		return -ENOMEM;
	ret = snapfile__add(w, SNAP_SEC_MANIFEST, man_buf, sizeof(man_buf)) ?:
	      snapfile__add(w, SNAP_SEC_VM_CONFIG, &cfg, sizeof(cfg)) ?:
	      snapfile__add(w, SNAP_SEC_IRQCHIP, &chips, sizeof(chips)) ?:
	      snapfile__add(w, SNAP_SEC_PIT, &pit, sizeof(pit)) ?:
	      snapfile__add(w, SNAP_SEC_CLOCK, &clock, sizeof(clock)) ?:
	      snapfile__add(w, SNAP_SEC_DEV_SERIAL(0), &serial,
			    sizeof(serial)) ?:
	      snapfile__add(w, SNAP_SEC_DEV_I8042, &kbd, sizeof(kbd)) ?:
	      snapfile__add(w, SNAP_SEC_DEV_VMGENID, &genid, sizeof(genid));
	for (uint32_t i = 0; !ret && i < vcpus; i++)
		ret = snapfile__add(w, SNAP_SEC_VCPU(i), &cpu, sizeof(cpu));
	if (!ret && vsock)
		ret = snapfile__add(w, SNAP_SEC_DEV_VSOCK(0), &vs, sizeof(vs));
	if (!ret)
		ret = snapfile__commit(w, path, err, sizeof(err));
	if (ret)
		fprintf(stderr, "%s: %s\n", path, err);
	snapfile__writer_free(w);
	return ret;
}

static int wset_file(const char *path, bool written)
{
	static const uint64_t pages[] = { 0x5000, 0x1000, 0x2000, 0x3000,
					  0x3ff000 };
	struct wset *ws;
	char err[256];
	int ret;

	ret = wset__new(64ull << 20, 4096, &ws);
	for (size_t i = 0; !ret && i < sizeof(pages) / sizeof(pages[0]); i++)
		ret = wset__add(ws, pages[i]) < 0 ? -EINVAL : 0;
	if (!ret && written)
		ret = wset__mark_written(ws, 1) ?: wset__mark_written(ws, 4);
	if (!ret)
		ret = wset__write(ws, path, err, sizeof(err));
	if (ret)
		fprintf(stderr, "%s: %s\n", path, strerror(-ret));
	if (ws)
		wset__free(ws);
	return ret;
}

int main(int argc, char **argv)
{
	char p[4][4096];

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	snprintf(p[0], sizeof(p[0]), "%s/snapshot/one-vcpu", argv[1]);
	snprintf(p[1], sizeof(p[1]), "%s/snapshot/two-vcpus-vsock", argv[1]);
	snprintf(p[2], sizeof(p[2]), "%s/wset/five-pages", argv[1]);
	snprintf(p[3], sizeof(p[3]), "%s/wset/written", argv[1]);
	return state_file(p[0], 1, false) || state_file(p[1], 2, true) ||
	       wset_file(p[2], false) || wset_file(p[3], true);
}
