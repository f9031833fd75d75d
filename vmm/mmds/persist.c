// SPDX-License-Identifier: GPL-2.0
/*
 * MMDS's snapshot section (struct mmds_state, vmm/persist.h): its
 * configuration only.  A load serves MMDS on the same interfaces, at the
 * same address, with the same version; the data store starts empty and
 * no token of the snapshot's machine is valid (mmds.h).  A rewind keeps
 * the store (host state) and forgets the tokens, as a clone would.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "lib/err.h"
#include "lib/snapfile.h"
#include "vmm/devices.h"
#include "vmm/kvm.h"
#include "vmm/mmds/mmds.h"
#include "vmm/persist.h"

static bool snap_save(struct kvm *kvm, void *state)
{
	const struct vm_mmds_config *c = &kvm->cfg->mmds;
	struct mmds_state *st = state;
	unsigned int i;

	if (!c->present)
		return false;
	st->version = c->version;
	st->ipv4 = c->ipv4;
	st->imds_compat = c->imds_compat;
	st->nr_ifaces = c->nr_ifaces;
	for (i = 0; i < c->nr_ifaces; i++)
		memcpy(st->ifaces[i], c->ifaces[i], VM_NET_ID_MAX);
	return true;
}

static int snap_check(const struct vm_config *cfg, const void *state,
		      char *err, size_t errlen)
{
	const struct mmds_state *st = state;
	uint32_t h;
	unsigned int i;

	if (!st)
		return 0;
	h = ntohl(st->ipv4);
	if ((st->version != 1 && st->version != 2) || st->imds_compat > 1 ||
	    st->pad[0] || st->pad[1] || st->pad[2] ||
	    (h >> 16) != 0xa9fe || ((h >> 8) & 0xff) < 1 ||
	    ((h >> 8) & 0xff) > 254 || !st->nr_ifaces ||
	    st->nr_ifaces > VM_MAX_NET_IFACES)
		return err__set(err, errlen, -EBADMSG,
				"snapshot: MMDS's configuration is invalid");
	for (i = 0; i < st->nr_ifaces; i++)
		if (!memchr(st->ifaces[i], '\0', VM_NET_ID_MAX) ||
		    !st->ifaces[i][0])
			return err__set(err, errlen, -EBADMSG,
					"snapshot: MMDS's interface %u is invalid",
					i);
	return 0;
}

/* After virtio-net's (the table's order): its interfaces are there. */
static int snap_config(struct vm_config *cfg, const void *state,
		       const struct snapshot_load_params *p, char *err,
		       size_t errlen)
{
	const struct mmds_state *st = state;
	struct vm_mmds_config m = { .present = true };
	unsigned int i, j;

	cfg->mmds.present = false;
	if (!st)
		return 0;
	m.version = st->version;
	m.ipv4 = st->ipv4;
	m.imds_compat = st->imds_compat;
	m.nr_ifaces = st->nr_ifaces;
	for (i = 0; i < st->nr_ifaces; i++) {
		memcpy(m.ifaces[i], st->ifaces[i], VM_NET_ID_MAX);
		for (j = 0; j < cfg->nr_net; j++)
			if (!strcmp(cfg->net[j].iface_id, m.ifaces[i]))
				break;
		if (j == cfg->nr_net)
			return err__set(err, errlen, -EBADMSG,
					"snapshot: MMDS is on interface `%s`, which the snapshot does not have",
					m.ifaces[i]);
	}
	cfg->mmds = m;
	return 0;
}

static int snap_restore(struct kvm *kvm, const void *state, char *err,
			size_t errlen)
{
	mmds__forget_tokens();
	return 0;
}

const struct device_snap mmds__snap = {
	.section = SNAP_SEC_DEV_MMDS,
	.size = sizeof(struct mmds_state),
	.what = "MMDS",
	.save = snap_save,
	.check = snap_check,
	.config = snap_config,
	.restore = snap_restore,
};
