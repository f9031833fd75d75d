// SPDX-License-Identifier: GPL-2.0
/*
 * thaw.ko's generic netlink family with libnl-genl-3 (thaw-genl.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "lib/err.h"
#include "tools/lib/thaw-genl.h"

struct thaw_genl {
	struct nl_sock *sk;
	int family;
};

static struct nla_policy policy[THAW_A_MAX + 1];

/* Every attribute is a u64 but these (uapi/linux/thaw.h). */
static void policy_init(void)
{
	for (int i = 0; i <= THAW_A_MAX; i++)
		policy[i].type = NLA_U64;
	policy[THAW_A_UNSPEC].type = NLA_UNSPEC;
	policy[THAW_A_PAD].type = NLA_UNSPEC;
	policy[THAW_A_SNAP_NAME] = (struct nla_policy){
		.type = NLA_STRING, .maxlen = THAW_NAME_MAX };
	policy[THAW_A_PID].type = NLA_U32;
	policy[THAW_A_STATE].type = NLA_U32;
	policy[THAW_A_SNAP_STATE].type = NLA_U32;
	policy[THAW_A_SNAP_OWNER_UID].type = NLA_U32;
}

/* libnl's NLE_* as an errno, for the callers' exit paths. */
static int nl_errno(int nle)
{
	switch (-nle) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	default:
		return -EIO;
	}
}

int thaw_genl__open(struct thaw_genl **out, char *err, size_t errlen)
{
	struct thaw_genl *g;
	int ret;

	policy_init();
	g = calloc(1, sizeof(*g));
	if (!g || !(g->sk = nl_socket_alloc())) {
		free(g);
		return err__set(err, errlen, -ENOMEM, "out of memory");
	}
	/* A do request is answered by one reply or one error. */
	nl_socket_disable_auto_ack(g->sk);
	ret = genl_connect(g->sk);
	if (ret < 0) {
		ret = err__set(err, errlen, nl_errno(ret),
			       "generic netlink: %s", nl_geterror(ret));
		goto fail;
	}
	g->family = genl_ctrl_resolve(g->sk, THAW_GENL_NAME);
	if (g->family < 0) {
		ret = err__set(err, errlen, -ENOENT,
			       "thaw.ko is not loaded (no generic netlink family \"%s\")",
			       THAW_GENL_NAME);
		goto fail;
	}
	*out = g;
	return 0;
fail:
	thaw_genl__close(g);
	return ret;
}

void thaw_genl__close(struct thaw_genl *g)
{
	if (!g)
		return;
	nl_socket_free(g->sk);
	free(g);
}

uint64_t thaw_genl__u64(struct nlattr **tb, int attr)
{
	return tb[attr] ? nla_get_u64(tb[attr]) : 0;
}

uint32_t thaw_genl__u32(struct nlattr **tb, int attr)
{
	return tb[attr] ? nla_get_u32(tb[attr]) : 0;
}

const char *thaw_genl__str(struct nlattr **tb, int attr)
{
	return tb[attr] ? nla_get_string(tb[attr]) : NULL;
}

struct request {
	thaw_genl_cb cb;
	void *arg;
};

static int on_reply(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;
	struct nlattr *tb[THAW_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, THAW_A_MAX, policy) < 0)
		return NL_SKIP;
	return r->cb(tb, r->arg) ? NL_STOP : NL_OK;
}

int thaw_genl__request(struct thaw_genl *g, uint8_t cmd, bool dump,
		       thaw_genl_cb cb, void *arg, char *err, size_t errlen)
{
	struct request r = { .cb = cb, .arg = arg };
	struct nl_msg *msg;
	int ret;

	msg = nlmsg_alloc();
	if (!msg)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, g->family, 0,
			 dump ? NLM_F_DUMP : 0, cmd, THAW_GENL_VERSION)) {
		nlmsg_free(msg);
		return err__set(err, errlen, -ENOMEM, "out of memory");
	}
	ret = nl_socket_modify_cb(g->sk, NL_CB_VALID, NL_CB_CUSTOM, on_reply,
				  &r);
	if (ret >= 0)
		ret = nl_send_auto(g->sk, msg);
	nlmsg_free(msg);
	if (ret >= 0)
		ret = nl_recvmsgs_default(g->sk);
	if (ret < 0)
		return err__set(err, errlen, nl_errno(ret), "thaw.ko: %s",
				nl_geterror(ret));
	return 0;
}

static int on_totals(struct nlattr **tb, void *arg)
{
	struct thaw_genl_totals *t = arg;

	t->snapshots = thaw_genl__u64(tb, THAW_A_SNAPSHOTS);
	t->clones = thaw_genl__u64(tb, THAW_A_CLONES);
	t->pinned_pages = thaw_genl__u64(tb, THAW_A_PINNED_PAGES);
	t->pinned_limit = thaw_genl__u64(tb, THAW_A_PINNED_LIMIT);
	t->cached_objects = thaw_genl__u64(tb, THAW_A_CACHED_OBJECTS);
	t->cached_pages = thaw_genl__u64(tb, THAW_A_CACHED_PAGES);
	t->cache_limit = thaw_genl__u64(tb, THAW_A_CACHE_LIMIT);
	t->evictions = thaw_genl__u64(tb, THAW_A_EVICTIONS);
	return 0;
}

static int on_clone(struct nlattr **tb, void *arg)
{
	struct thaw_genl_totals *t = arg;

	t->clone_shared_pages += thaw_genl__u64(tb, THAW_A_SHARED_PAGES);
	t->clone_private_pages += thaw_genl__u64(tb, THAW_A_PRIVATE_PAGES);
	return 0;
}

int thaw_genl__totals(struct thaw_genl_totals *t, char *err, size_t errlen)
{
	struct thaw_genl *g;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = thaw_genl__open(&g, err, errlen);
	if (ret)
		return ret;
	ret = thaw_genl__request(g, THAW_CMD_GET_STATS, false, on_totals, t,
				 err, errlen);
	if (!ret)
		ret = thaw_genl__request(g, THAW_CMD_GET_CLONE, true, on_clone,
					 t, err, errlen);
	thaw_genl__close(g);
	return ret;
}

struct private_sum {
	uint32_t pid;
	long long kib;
};

static int on_clone_of(struct nlattr **tb, void *arg)
{
	struct private_sum *p = arg;

	if (thaw_genl__u32(tb, THAW_A_PID) != p->pid)
		return 0;
	p->kib += thaw_genl__u64(tb, THAW_A_PRIVATE_PAGES) * 4 +
		  thaw_genl__u64(tb, THAW_A_PRIVATE_REGIONS) * 2048;
	return 0;
}

long long thaw_genl__private_kib(int pid)
{
	struct private_sum p = { .pid = (uint32_t)pid };
	struct thaw_genl *g;
	char err[256];
	int ret;

	if (thaw_genl__open(&g, err, sizeof(err)))
		return -1;
	ret = thaw_genl__request(g, THAW_CMD_GET_CLONE, true, on_clone_of, &p,
				 err, sizeof(err));
	thaw_genl__close(g);
	return ret ? -1 : p.kib;
}
