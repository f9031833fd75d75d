// SPDX-License-Identifier: GPL-2.0
/*
 * struct vm_config from and to JSON: the bodies of the configuration
 * endpoints and the --config-file document, with Firecracker's field names
 * and rules.  Parsing is strict: unknown fields, wrong types, out-of-range
 * numbers and trailing garbage are errors with a message for fault_message.
 * JSON itself is json-c's job.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <json-c/json.h>

#include "lib/err.h"
#include "lib/vsock-uds.h"
#include "vmm/config.h"
#include "vmm/snapshot/snapshot.h"

#define JSON_MAX_DEPTH	16

void vm_config__init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->machine.vcpu_count = 1;
	cfg->machine.mem_size_mib = 128;
}

static void boot_source_free(struct vm_boot_source *bs)
{
	free(bs->kernel_image_path);
	free(bs->initrd_path);
	free(bs->boot_args);
	memset(bs, 0, sizeof(*bs));
}

static void drive_free(struct vm_drive_config *d)
{
	free(d->drive_id);
	free(d->path_on_host);
	free(d->partuuid);
	memset(d, 0, sizeof(*d));
}

void vm_config__free(struct vm_config *cfg)
{
	boot_source_free(&cfg->boot_source);
	free(cfg->vsock.uds_path);
	free(cfg->logger.log_path);
	free(cfg->logger.level);
	free(cfg->metrics.metrics_path);
	free(cfg->serial_out_path);
	for (unsigned int i = 0; i < cfg->nr_drives; i++)
		drive_free(&cfg->drives[i]);
	memset(cfg, 0, sizeof(*cfg));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int vm_config__copy(struct vm_config *dst, const struct vm_config *src)
{
	*dst = *src;
	dst->boot_source.kernel_image_path =
		dup_or_null(src->boot_source.kernel_image_path);
	dst->boot_source.initrd_path = dup_or_null(src->boot_source.initrd_path);
	dst->boot_source.boot_args = dup_or_null(src->boot_source.boot_args);
	dst->vsock.uds_path = dup_or_null(src->vsock.uds_path);
	dst->logger.log_path = dup_or_null(src->logger.log_path);
	dst->logger.level = dup_or_null(src->logger.level);
	dst->metrics.metrics_path = dup_or_null(src->metrics.metrics_path);
	dst->serial_out_path = dup_or_null(src->serial_out_path);
	if ((src->boot_source.kernel_image_path &&
	     !dst->boot_source.kernel_image_path) ||
	    (src->boot_source.initrd_path && !dst->boot_source.initrd_path) ||
	    (src->boot_source.boot_args && !dst->boot_source.boot_args) ||
	    (src->vsock.uds_path && !dst->vsock.uds_path) ||
	    (src->logger.log_path && !dst->logger.log_path) ||
	    (src->logger.level && !dst->logger.level) ||
	    (src->metrics.metrics_path && !dst->metrics.metrics_path) ||
	    (src->serial_out_path && !dst->serial_out_path) ||
	    vm_config__copy_drives(dst, src)) {
		vm_config__free(dst);
		return -ENOMEM;
	}
	return 0;
}

int vm_config__copy_drives(struct vm_config *dst, const struct vm_config *src)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < src->nr_drives; i++) {
		const struct vm_drive_config *s = &src->drives[i];
		struct vm_drive_config *d = &dst->drives[i];

		*d = *s;
		d->drive_id = dup_or_null(s->drive_id);
		d->path_on_host = dup_or_null(s->path_on_host);
		d->partuuid = dup_or_null(s->partuuid);
		if (!d->drive_id || !d->path_on_host ||
		    (s->partuuid && !d->partuuid))
			ret = -ENOMEM;
	}
	dst->nr_drives = src->nr_drives;
	return ret;
}

json_object *vm_config__parse_json(const char *text, size_t len,
				   char *err, size_t errlen)
{
	struct json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;

	if (len == 0) {
		err__set(err, errlen, -EINVAL, "Empty request body");
		return NULL;
	}
	if (len > INT_MAX) {
		err__set(err, errlen, -EINVAL, "Request body too large");
		return NULL;
	}
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok) {
		err__set(err, errlen, -EINVAL, "Out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		err__set(err, errlen, -EINVAL,
			 "Invalid JSON: unexpected end of input");
		json_object_put(obj);
		obj = NULL;
	} else if (jerr != json_tokener_success) {
		err__set(err, errlen, -EINVAL, "Invalid JSON: %s at offset %zu",
			 json_tokener_error_desc(jerr),
			 json_tokener_get_parse_end(tok));
		obj = NULL;
	} else if (json_tokener_get_parse_end(tok) < len) {
		size_t i = json_tokener_get_parse_end(tok);

		while (i < len && strchr(" \t\r\n", text[i]))
			i++;
		if (i < len) {
			err__set(err, errlen, -EINVAL,
				 "Invalid JSON: trailing data at offset %zu",
				 i);
			json_object_put(obj);
			obj = NULL;
		}
	}
	json_tokener_free(tok);
	return obj;
}

/* Fail on any key of @obj that is not in @allowed (NULL-terminated). */
static int check_fields(json_object *obj, const char *what,
			const char *const *allowed, char *err, size_t errlen)
{
	if (!json_object_is_type(obj, json_type_object))
		return err__set(err, errlen, -EINVAL,
				"%s: expected a JSON object", what);
	json_object_object_foreach(obj, key, val) {
		const char *const *a;

		(void)val;
		for (a = allowed; *a; a++)
			if (!strcmp(*a, key))
				break;
		if (!*a)
			return err__set(err, errlen, -EINVAL,
					"%s: unknown field `%s`", what, key);
	}
	return 0;
}

/* 1: present and stored; 0: absent; -EINVAL: wrong type or empty. */
static int get_string(json_object *obj, const char *what, const char *key,
		      bool required, char **out, char *err, size_t errlen)
{
	json_object *v;
	const char *s;
	char *copy;

	if (!json_object_object_get_ex(obj, key, &v)) {
		if (required)
			return err__set(err, errlen, -EINVAL,
					"%s: missing field `%s`", what, key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return err__set(err, errlen, -EINVAL,
				"%s: `%s` must be a string", what, key);
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return err__set(err, errlen, -EINVAL,
				"%s: `%s` contains a NUL byte", what, key);
	copy = strdup(s);
	if (!copy)
		return err__set(err, errlen, -EINVAL, "Out of memory");
	free(*out);
	*out = copy;
	return 1;
}

static int get_bool(json_object *obj, const char *what, const char *key,
		    bool *out, char *err, size_t errlen)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return err__set(err, errlen, -EINVAL,
				"%s: `%s` must be true or false", what, key);
	*out = json_object_get_boolean(v);
	return 1;
}

static int get_u64(json_object *obj, const char *what, const char *key,
		   bool required, uint64_t min, uint64_t max, uint64_t *out,
		   char *err, size_t errlen)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(obj, key, &v)) {
		if (required)
			return err__set(err, errlen, -EINVAL,
					"%s: missing field `%s`", what, key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return err__set(err, errlen, -EINVAL,
				"%s: `%s` must be an integer", what, key);
	errno = 0;
	n = json_object_get_int64(v);
	if (n < 0 || errno == ERANGE || (uint64_t)n < min || (uint64_t)n > max)
		return err__set(err, errlen, -EINVAL,
				"%s: `%s` must be between %llu and %llu", what,
				key, (unsigned long long)min,
				(unsigned long long)max);
	*out = (uint64_t)n;
	return 1;
}

int vm_config__parse_boot_source(struct vm_config *cfg, json_object *obj,
				 char *err, size_t errlen)
{
	static const char *const fields[] = {
		"kernel_image_path", "initrd_path", "boot_args", NULL
	};
	static const char what[] = "boot-source";
	struct vm_boot_source bs = { 0 };
	int ret;

	ret = check_fields(obj, what, fields, err, errlen);
	if (ret)
		return ret;
	if (get_string(obj, what, "kernel_image_path", true,
		       &bs.kernel_image_path, err, errlen) < 0 ||
	    get_string(obj, what, "initrd_path", false, &bs.initrd_path,
		       err, errlen) < 0 ||
	    get_string(obj, what, "boot_args", false, &bs.boot_args,
		       err, errlen) < 0) {
		boot_source_free(&bs);
		return -EINVAL;
	}
	if (!bs.kernel_image_path[0]) {
		boot_source_free(&bs);
		return err__set(err, errlen, -EINVAL,
				"%s: `kernel_image_path` is empty", what);
	}
	boot_source_free(&cfg->boot_source);
	cfg->boot_source = bs;
	cfg->has_boot_source = true;
	return 0;
}

static int parse_huge_pages(const char *s, enum vm_huge_pages *out)
{
	if (!strcmp(s, "None"))
		*out = VM_HUGE_PAGES_NONE;
	else if (!strcmp(s, "2M"))
		*out = VM_HUGE_PAGES_2M;
	else if (!strcmp(s, "Transparent"))
		*out = VM_HUGE_PAGES_TRANSPARENT;
	else
		return -EINVAL;
	return 0;
}

static const char *huge_pages_name(enum vm_huge_pages hp)
{
	switch (hp) {
	case VM_HUGE_PAGES_2M:
		return "2M";
	case VM_HUGE_PAGES_TRANSPARENT:
		return "Transparent";
	default:
		return "None";
	}
}

/*
 * PUT replaces the whole machine configuration (absent optional fields take
 * their defaults); PATCH (@partial) changes only what is present.  Either
 * way the update is all or nothing.
 */
int vm_config__parse_machine(struct vm_config *cfg, json_object *obj,
			     bool partial, char *err, size_t errlen)
{
	static const char *const fields[] = {
		"vcpu_count", "mem_size_mib", "smt", "track_dirty_pages",
		"huge_pages", "cpu_template", NULL
	};
	static const char what[] = "machine-config";
	struct vm_machine_config mc;
	uint64_t n;
	char *s = NULL;
	int ret;

	ret = check_fields(obj, what, fields, err, errlen);
	if (ret)
		return ret;
	if (partial) {
		mc = cfg->machine;
		if (json_object_object_length(obj) == 0)
			return err__set(err, errlen, -EINVAL,
					"%s: empty PATCH request", what);
	} else {
		memset(&mc, 0, sizeof(mc));
	}

	n = mc.vcpu_count;
	ret = get_u64(obj, what, "vcpu_count", !partial, 1, VM_MAX_VCPUS, &n,
		      err, errlen);
	if (ret < 0)
		return ret;
	mc.vcpu_count = (uint32_t)n;
	ret = get_u64(obj, what, "mem_size_mib", !partial, 1, VM_MAX_MEM_MIB,
		      &mc.mem_size_mib, err, errlen);
	if (ret < 0)
		return ret;
	if (get_bool(obj, what, "smt", &mc.smt, err, errlen) < 0 ||
	    get_bool(obj, what, "track_dirty_pages", &mc.track_dirty_pages,
		     err, errlen) < 0)
		return -EINVAL;
	ret = get_string(obj, what, "huge_pages", false, &s, err, errlen);
	if (ret < 0)
		return ret;
	if (ret > 0 && parse_huge_pages(s, &mc.huge_pages)) {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: `huge_pages` must be None, 2M or Transparent",
			       what);
		free(s);
		return ret;
	}
	free(s);
	s = NULL;
	ret = get_string(obj, what, "cpu_template", false, &s, err, errlen);
	if (ret < 0)
		return ret;
	if (ret > 0 && strcmp(s, "None")) {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: cpu_template `%s` is not supported (only None)",
			       what, s);
		free(s);
		return ret;
	}
	free(s);

	if (mc.smt && mc.vcpu_count > 1 && mc.vcpu_count % 2)
		return err__set(err, errlen, -EINVAL,
				"%s: with smt, vcpu_count must be 1 or even",
				what);
	if (mc.huge_pages == VM_HUGE_PAGES_2M && mc.mem_size_mib % 2)
		return err__set(err, errlen, -EINVAL,
				"%s: with 2M huge pages, mem_size_mib must be even",
				what);
	cfg->machine = mc;
	return 0;
}

int vm_config__parse_mac(const char *s, uint8_t *mac)
{
	unsigned int i, v[6];
	char end;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &end) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		/* sscanf's %x takes a sign or a lone digit: only two hex digits. */
		if (!isxdigit((unsigned char)s[3 * i]) ||
		    !isxdigit((unsigned char)s[3 * i + 1]))
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	/* A guest's own address: not multicast (nor broadcast). */
	return mac[0] & 1 ? -EINVAL : 0;
}

/* A rate limiter: absent or null only (none is implemented). */
static int no_rate_limiter(json_object *obj, const char *what,
			   const char *key, char *err, size_t errlen)
{
	json_object *v;

	if (json_object_object_get_ex(obj, key, &v) && v)
		return err__set(err, errlen, -EINVAL,
				"%s: `%s`: thawvm has no rate limiters on network interfaces",
				what, key);
	return 0;
}

static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n && n < max && !strpbrk(s, "/ \t\n:");
}

int vm_config__parse_net(struct vm_config *cfg, const char *id,
			 json_object *obj, char *err, size_t errlen)
{
	static const char *const fields[] = {
		"iface_id", "host_dev_name", "guest_mac", "rx_rate_limiter",
		"tx_rate_limiter", NULL
	};
	static const char what[] = "network-interfaces";
	char *body_id = NULL, *dev = NULL, *mac = NULL;
	struct vm_net_config n;
	unsigned int i, slot;
	int ret;

	memset(&n, 0, sizeof(n));
	ret = check_fields(obj, what, fields, err, errlen);
	if (ret)
		return ret;
	if (get_string(obj, what, "iface_id", true, &body_id, err, errlen) < 0 ||
	    get_string(obj, what, "host_dev_name", true, &dev, err, errlen) < 0 ||
	    get_string(obj, what, "guest_mac", false, &mac, err, errlen) < 0 ||
	    no_rate_limiter(obj, what, "rx_rate_limiter", err, errlen) ||
	    no_rate_limiter(obj, what, "tx_rate_limiter", err, errlen)) {
		ret = -EINVAL;
		goto out;
	}
	ret = -EINVAL;
	if (id && strcmp(id, body_id)) {
		err__set(err, errlen, ret,
			 "%s: the path's iface_id `%s` and the body's `%s` differ",
			 what, id, body_id);
		goto out;
	}
	if (!name_ok(body_id, VM_NET_ID_MAX)) {
		err__set(err, errlen, ret,
			 "%s: iface_id must be 1 to %d bytes, without '/', ':' or spaces",
			 what, VM_NET_ID_MAX - 1);
		goto out;
	}
	if (!name_ok(dev, VM_NET_DEV_MAX)) {
		err__set(err, errlen, ret,
			 "%s %s: host_dev_name `%s` is not an interface name (1 to %d bytes)",
			 what, body_id, dev, VM_NET_DEV_MAX - 1);
		goto out;
	}
	if (mac && vm_config__parse_mac(mac, n.guest_mac)) {
		err__set(err, errlen, ret,
			 "%s %s: guest_mac `%s` is not a unicast MAC address (like 06:00:ac:10:00:02)",
			 what, body_id, mac);
		goto out;
	}
	n.has_mac = mac != NULL;
	snprintf(n.iface_id, sizeof(n.iface_id), "%s", body_id);
	snprintf(n.host_dev_name, sizeof(n.host_dev_name), "%s", dev);
	/* The same id replaces; another id may not share its tap or MAC. */
	slot = cfg->nr_net;
	for (i = 0; i < cfg->nr_net; i++) {
		const struct vm_net_config *o = &cfg->net[i];

		if (!strcmp(o->iface_id, n.iface_id)) {
			slot = i;
			continue;
		}
		if (!strcmp(o->host_dev_name, n.host_dev_name)) {
			err__set(err, errlen, ret,
				 "%s %s: tap %s is already interface %s's",
				 what, n.iface_id, n.host_dev_name, o->iface_id);
			goto out;
		}
		if (n.has_mac && o->has_mac &&
		    !memcmp(o->guest_mac, n.guest_mac, 6)) {
			err__set(err, errlen, ret,
				 "%s %s: guest_mac %s is already interface %s's",
				 what, n.iface_id, mac, o->iface_id);
			goto out;
		}
	}
	if (slot == VM_MAX_NET_IFACES) {
		err__set(err, errlen, ret, "%s: at most %d interfaces", what,
			 VM_MAX_NET_IFACES);
		goto out;
	}
	cfg->net[slot] = n;
	if (slot == cfg->nr_net)
		cfg->nr_net++;
	ret = 0;
out:
	free(body_id);
	free(dev);
	free(mac);
	return ret;
}

/* The config file's list: each entry as its own PUT. */
static int parse_net_list(struct vm_config *cfg, json_object *v, char *err,
			  size_t errlen)
{
	size_t i, n;
	int ret;

	if (!json_object_is_type(v, json_type_array))
		return err__set(err, errlen, -EINVAL,
				"`network-interfaces` must be an array");
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		ret = vm_config__parse_net(cfg, NULL,
					   json_object_array_get_idx(v, i),
					   err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* A uds_path that vsock_uds__path_ok() refuses (lib/vsock-uds.h). */
static int uds_path_error(const char *what, char *err, size_t errlen)
{
	return err__set(err, errlen, -EINVAL,
			"%s: `uds_path` must be 1 to %d bytes long", what,
			VSOCK_UDS_PATH_MAX);
}

int vm_config__parse_vsock(struct vm_config *cfg, json_object *obj,
			   char *err, size_t errlen)
{
	static const char *const fields[] = {
		"guest_cid", "uds_path", "vsock_id", NULL
	};
	static const char what[] = "vsock";
	char *uds = NULL, *id = NULL;
	uint64_t cid;
	int ret;

	ret = check_fields(obj, what, fields, err, errlen);
	if (ret)
		return ret;
	/* CIDs 0-2 are reserved; 2^32-1 is VMADDR_CID_ANY. */
	ret = get_u64(obj, what, "guest_cid", true, 3, UINT32_MAX - 1, &cid,
		      err, errlen);
	if (ret < 0)
		return ret;
	ret = get_string(obj, what, "vsock_id", false, &id, err, errlen);
	free(id);
	if (ret < 0)
		return ret;
	ret = get_string(obj, what, "uds_path", true, &uds, err, errlen);
	if (ret < 0)
		return ret;
	if (!vsock_uds__path_ok(uds)) {
		free(uds);
		return uds_path_error(what, err, errlen);
	}
	free(cfg->vsock.uds_path);
	cfg->vsock.uds_path = uds;
	cfg->vsock.guest_cid = (uint32_t)cid;
	cfg->vsock.present = true;
	return 0;
}

static bool valid_level(const char *s)
{
	static const char *const levels[] = {
		"Error", "Warning", "Info", "Debug", "Trace", "Off", NULL
	};

	for (const char *const *l = levels; *l; l++)
		if (!strcasecmp(*l, s))
			return true;
	return false;
}

int vm_config__parse_logger(struct vm_config *cfg, json_object *obj,
			    char *err, size_t errlen)
{
	static const char *const fields[] = {
		"log_path", "level", "show_level", "show_log_origin", "module",
		NULL
	};
	static const char what[] = "logger";
	struct log_config lg = { 0 };
	char *module = NULL;
	int ret;

	ret = check_fields(obj, what, fields, err, errlen);
	if (ret)
		return ret;
	if (get_string(obj, what, "log_path", false, &lg.log_path, err,
		       errlen) < 0 ||
	    get_string(obj, what, "level", false, &lg.level, err, errlen) < 0 ||
	    get_string(obj, what, "module", false, &module, err, errlen) < 0 ||
	    get_bool(obj, what, "show_level", &lg.show_level, err, errlen) < 0 ||
	    get_bool(obj, what, "show_log_origin", &lg.show_log_origin, err,
		     errlen) < 0) {
		ret = -EINVAL;
		goto out;
	}
	if (lg.level && !valid_level(lg.level)) {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: `level` must be Error, Warning, Info, Debug, Trace or Off",
			       what);
		goto out;
	}
	if (lg.log_path && !lg.log_path[0]) {
		ret = err__set(err, errlen, -EINVAL, "%s: `log_path` is empty",
			       what);
		goto out;
	}
	free(cfg->logger.log_path);
	free(cfg->logger.level);
	cfg->logger = lg;
	cfg->logger.present = true;
	free(module);
	return 0;
out:
	free(lg.log_path);
	free(lg.level);
	free(module);
	return ret;
}

/*
 * A section whose only field is the path @field (required or not): on
 * success the old value of *@dst is freed and replaced.
 */
static int parse_path_section(json_object *obj, const char *what,
			      const char *field, bool required, char **dst,
			      char *err, size_t errlen)
{
	const char *const fields[] = { field, NULL };
	char *path = NULL;
	int ret;

	ret = check_fields(obj, what, fields, err, errlen);
	if (ret)
		return ret;
	ret = get_string(obj, what, field, required, &path, err, errlen);
	if (ret < 0)
		return ret;
	if (path && !path[0]) {
		free(path);
		return err__set(err, errlen, -EINVAL, "%s: `%s` is empty", what,
				field);
	}
	free(*dst);
	*dst = path;
	return 0;
}

int vm_config__parse_metrics(struct vm_config *cfg, json_object *obj,
			     char *err, size_t errlen)
{
	int ret;

	ret = parse_path_section(obj, "metrics", "metrics_path", true,
				 &cfg->metrics.metrics_path, err, errlen);
	if (!ret)
		cfg->metrics.present = true;
	return ret;
}

/* A TokenBucket object: size and refill_time required, as Firecracker's. */
static int parse_token_bucket(json_object *obj, const char *what,
			      struct vm_token_bucket *tb, char *err,
			      size_t errlen)
{
	static const char *const fields[] = {
		"size", "one_time_burst", "refill_time", NULL
	};
	struct vm_token_bucket b = { .present = true };
	int ret;

	ret = check_fields(obj, what, fields, err, errlen);
	if (ret)
		return ret;
	if (get_u64(obj, what, "size", true, 0, INT64_MAX, &b.size, err,
		    errlen) < 0 ||
	    get_u64(obj, what, "one_time_burst", false, 0, INT64_MAX,
		    &b.one_time_burst, err, errlen) < 0 ||
	    get_u64(obj, what, "refill_time", true, 0, INT64_MAX,
		    &b.refill_time, err, errlen) < 0)
		return -EINVAL;
	*tb = b;
	return 0;
}

int vm_config__parse_serial(struct vm_config *cfg, json_object *obj,
			    char *err, size_t errlen)
{
	static const char *const fields[] = {
		"serial_out_path", "rate_limiter", NULL
	};
	static const char what[] = "serial";
	struct vm_token_bucket rl = { 0 };
	char *path = NULL;
	json_object *v;
	int ret;

	ret = check_fields(obj, what, fields, err, errlen);
	if (ret)
		return ret;
	ret = get_string(obj, what, "serial_out_path", false, &path, err,
			 errlen);
	if (ret < 0)
		return ret;
	if (path && !path[0]) {
		free(path);
		return err__set(err, errlen, -EINVAL,
				"%s: `serial_out_path` is empty", what);
	}
	if (json_object_object_get_ex(obj, "rate_limiter", &v)) {
		ret = parse_token_bucket(v, "serial: rate_limiter", &rl, err,
					 errlen);
		if (ret) {
			free(path);
			return ret;
		}
	}
	free(cfg->serial_out_path);
	cfg->serial_out_path = path;
	cfg->serial_rate_limiter = rl;
	return 0;
}

/*
 * Firecracker's RateLimiter ({bandwidth, ops}, each a TokenBucket).
 * thawvm does not rate-limit drives or the entropy device: a limiter that
 * limits nothing (no bucket, or a size or refill_time of 0) is accepted,
 * any other refused.
 */
static int parse_no_rate_limiter(json_object *obj, const char *what,
				 char *err, size_t errlen)
{
	static const char *const fields[] = { "bandwidth", "ops", NULL };
	static const char *const keys[] = { "bandwidth", "ops" };
	struct vm_token_bucket tb;
	char bwhat[96];
	json_object *v;
	size_t i;
	int ret;

	if (json_object_is_type(obj, json_type_null))
		return 0;
	ret = check_fields(obj, what, fields, err, errlen);
	if (ret)
		return ret;
	for (i = 0; i < 2; i++) {
		if (!json_object_object_get_ex(obj, keys[i], &v) ||
		    json_object_is_type(v, json_type_null))
			continue;
		snprintf(bwhat, sizeof(bwhat), "%s: %s", what, keys[i]);
		ret = parse_token_bucket(v, bwhat, &tb, err, errlen);
		if (ret)
			return ret;
		if (tb.size && tb.refill_time)
			return err__set(err, errlen, -EINVAL,
					"%s: thawvm does not rate-limit this device (leave `rate_limiter` out)",
					what);
	}
	return 0;
}

/* Firecracker's drive ids: letters, digits and underscores. */
static bool drive_id_ok(const char *id)
{
	size_t n = strlen(id), i;

	if (!n || n > VM_DRIVE_ID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '_')
			return false;
	return true;
}

/* The backing file opens as the drive will open it (vmm/virtio/blk.c). */
static int drive_path_check(const char *what, const char *path, bool ro,
			    char *err, size_t errlen)
{
	struct stat st;
	int fd;

	fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return err__set(err, errlen, -EINVAL,
				"%s: cannot open path_on_host %s%s: %s", what,
				path, ro ? "" : " for writing", strerror(errno));
	if (fstat(fd, &st) || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		close(fd);
		return err__set(err, errlen, -EINVAL,
				"%s: path_on_host %s is not a file or a block device",
				what, path);
	}
	close(fd);
	return 0;
}

struct vm_drive_config *vm_config__drive(struct vm_config *cfg,
					 const char *id)
{
	unsigned int i;

	for (i = 0; i < cfg->nr_drives; i++)
		if (!strcmp(cfg->drives[i].drive_id, id))
			return &cfg->drives[i];
	return NULL;
}

int vm_config__parse_drive(struct vm_config *cfg, json_object *obj,
			   const char *id, char *err, size_t errlen)
{
	static const char *const fields[] = {
		"drive_id", "path_on_host", "is_root_device", "is_read_only",
		"partuuid", "cache_type", "io_engine", "rate_limiter",
		"direct_io", "socket", NULL
	};
	static const char what[] = "drives";
	struct vm_drive_config d = { 0 }, *old;
	char *cache = NULL, *engine = NULL;
	json_object *v;
	unsigned int i;
	bool root = false;
	int ret;

	ret = check_fields(obj, what, fields, err, errlen);
	if (ret)
		return ret;
	if (json_object_object_get_ex(obj, "socket", NULL))
		return err__set(err, errlen, -EINVAL,
				"%s: vhost-user drives (`socket`) are not supported",
				what);
	if (!json_object_object_get_ex(obj, "is_root_device", NULL)) {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: missing field `is_root_device`", what);
		goto err;
	}
	if (get_string(obj, what, "drive_id", true, &d.drive_id, err,
		       errlen) < 0 ||
	    get_string(obj, what, "path_on_host", true, &d.path_on_host, err,
		       errlen) < 0 ||
	    get_string(obj, what, "partuuid", false, &d.partuuid, err,
		       errlen) < 0 ||
	    get_string(obj, what, "cache_type", false, &cache, err,
		       errlen) < 0 ||
	    get_string(obj, what, "io_engine", false, &engine, err,
		       errlen) < 0 ||
	    get_bool(obj, what, "is_root_device", &root, err, errlen) < 0 ||
	    get_bool(obj, what, "is_read_only", &d.is_read_only, err,
		     errlen) < 0 ||
	    get_bool(obj, what, "direct_io", &d.direct_io, err, errlen) < 0) {
		ret = -EINVAL;
		goto err;
	}
	d.is_root_device = root;
	if (!drive_id_ok(d.drive_id)) {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: `drive_id` must be 1 to %d letters, digits or underscores",
			       what, VM_DRIVE_ID_MAX);
		goto err;
	}
	if (id && strcmp(id, d.drive_id)) {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: the drive_id in the path (%s) and in the body (%s) differ",
			       what, id, d.drive_id);
		goto err;
	}
	if (!d.path_on_host[0] || strlen(d.path_on_host) >= PATH_MAX) {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: `path_on_host` is empty or too long", what);
		goto err;
	}
	if (d.partuuid && (!d.partuuid[0] || strlen(d.partuuid) > 36 ||
			   strspn(d.partuuid, "0123456789abcdefABCDEF-") !=
			   strlen(d.partuuid))) {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: `partuuid` must be a partition UUID (hex digits and dashes)",
			       what);
		goto err;
	}
	if (!cache || !strcmp(cache, "Unsafe")) {
		d.cache_type = VM_CACHE_UNSAFE;
	} else if (!strcmp(cache, "Writeback")) {
		d.cache_type = VM_CACHE_WRITEBACK;
	} else {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: `cache_type` must be Unsafe or Writeback",
			       what);
		goto err;
	}
	if (!engine || !strcmp(engine, "Sync")) {
		d.io_async = false;
	} else if (!strcmp(engine, "Async")) {
		d.io_async = true;
	} else {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: `io_engine` must be Sync or Async", what);
		goto err;
	}
	if (json_object_object_get_ex(obj, "rate_limiter", &v)) {
		ret = parse_no_rate_limiter(v, "drives: rate_limiter", err,
					    errlen);
		if (ret)
			goto err;
	}
	for (i = 0; i < cfg->nr_drives; i++)
		if (root && cfg->drives[i].is_root_device &&
		    strcmp(cfg->drives[i].drive_id, d.drive_id)) {
			ret = err__set(err, errlen, -EINVAL,
				       "%s: a root block device already exists (%s)",
				       what, cfg->drives[i].drive_id);
			goto err;
		}
	old = vm_config__drive(cfg, d.drive_id);
	if (!old && cfg->nr_drives == VM_MAX_DRIVES) {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: at most %d drives", what, VM_MAX_DRIVES);
		goto err;
	}
	ret = drive_path_check(what, d.path_on_host, d.is_read_only, err,
			       errlen);
	if (ret)
		goto err;
	if (!old)
		old = &cfg->drives[cfg->nr_drives++];
	else
		drive_free(old);
	*old = d;
	free(cache);
	free(engine);
	return 0;
err:
	free(cache);
	free(engine);
	drive_free(&d);
	return ret;
}

int vm_config__parse_drive_patch(json_object *obj, const char *id,
				 char **path, char *err, size_t errlen)
{
	static const char *const fields[] = {
		"drive_id", "path_on_host", "rate_limiter", NULL
	};
	static const char what[] = "drives";
	char *did = NULL, *p = NULL;
	json_object *v;
	int ret;

	ret = check_fields(obj, what, fields, err, errlen);
	if (ret)
		return ret;
	if (get_string(obj, what, "drive_id", true, &did, err, errlen) < 0 ||
	    get_string(obj, what, "path_on_host", false, &p, err,
		       errlen) < 0) {
		ret = -EINVAL;
		goto out;
	}
	if (strcmp(did, id)) {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: the drive_id in the path (%s) and in the body (%s) differ",
			       what, id, did);
		goto out;
	}
	if (json_object_object_get_ex(obj, "rate_limiter", &v)) {
		ret = parse_no_rate_limiter(v, "drives: rate_limiter", err,
					    errlen);
		if (ret)
			goto out;
	}
	if (p && (!p[0] || strlen(p) >= PATH_MAX)) {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: `path_on_host` is empty or too long", what);
		goto out;
	}
	*path = p;
	p = NULL;
out:
	free(did);
	free(p);
	return ret;
}

static int parse_drives(struct vm_config *cfg, json_object *v, char *err,
			size_t errlen)
{
	size_t i, n;
	int ret;

	if (!json_object_is_type(v, json_type_array))
		return err__set(err, errlen, -EINVAL,
				"`drives` must be an array");
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(v, i);
		json_object *idv;

		if (json_object_is_type(d, json_type_object) &&
		    json_object_object_get_ex(d, "drive_id", &idv) &&
		    json_object_is_type(idv, json_type_string) &&
		    vm_config__drive(cfg, json_object_get_string(idv)))
			return err__set(err, errlen, -EINVAL,
					"drives: drive_id %s given twice",
					json_object_get_string(idv));
		ret = vm_config__parse_drive(cfg, d, NULL, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

int vm_config__parse_entropy(struct vm_config *cfg, json_object *obj,
			     char *err, size_t errlen)
{
	static const char *const fields[] = { "rate_limiter", NULL };
	json_object *v;
	int ret;

	ret = check_fields(obj, "entropy", fields, err, errlen);
	if (ret)
		return ret;
	if (json_object_object_get_ex(obj, "rate_limiter", &v)) {
		ret = parse_no_rate_limiter(v, "entropy: rate_limiter", err,
					    errlen);
		if (ret)
			return ret;
	}
	cfg->entropy.present = true;
	return 0;
}

/* MMDS's address: link-local, 169.254.1.0 to 169.254.254.255. */
static int parse_mmds_ipv4(const char *s, uint32_t *ip)
{
	struct in_addr a;
	uint32_t h;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	h = ntohl(a.s_addr);
	if ((h >> 16) != 0xa9fe || ((h >> 8) & 0xff) < 1 ||
	    ((h >> 8) & 0xff) > 254)
		return -EINVAL;
	*ip = a.s_addr;
	return 0;
}

int vm_config__parse_mmds(struct vm_config *cfg, json_object *obj,
			  char *err, size_t errlen)
{
	static const char *const fields[] = {
		"version", "network_interfaces", "ipv4_address",
		"imds_compat", NULL
	};
	static const char what[] = "mmds-config";
	struct vm_mmds_config m = { .present = true, .version = 1 };
	char *version = NULL, *addr = NULL;
	json_object *list, *e;
	unsigned int i, j;
	const char *id;
	size_t k, n;
	int ret;

	ret = check_fields(obj, what, fields, err, errlen);
	if (ret)
		return ret;
	ret = -EINVAL;
	if (get_string(obj, what, "version", false, &version, err, errlen) < 0 ||
	    get_string(obj, what, "ipv4_address", false, &addr, err,
		       errlen) < 0 ||
	    get_bool(obj, what, "imds_compat", &m.imds_compat, err,
		     errlen) < 0)
		goto out;
	if (version && strcmp(version, "V1") && strcmp(version, "V2")) {
		err__set(err, errlen, ret,
			 "%s: `version` must be \"V1\" or \"V2\", not `%s`",
			 what, version);
		goto out;
	}
	if (version && !strcmp(version, "V2"))
		m.version = 2;
	if (parse_mmds_ipv4(addr ? addr : "169.254.169.254", &m.ipv4)) {
		err__set(err, errlen, ret,
			 "%s: `ipv4_address` `%s` is not a link-local IPv4 address (169.254.1.0 to 169.254.254.255)",
			 what, addr);
		goto out;
	}
	if (!json_object_object_get_ex(obj, "network_interfaces", &list)) {
		err__set(err, errlen, ret, "%s: missing field `network_interfaces`",
			 what);
		goto out;
	}
	if (!json_object_is_type(list, json_type_array)) {
		err__set(err, errlen, ret,
			 "%s: `network_interfaces` must be an array of interface IDs",
			 what);
		goto out;
	}
	n = json_object_array_length(list);
	if (!n) {
		err__set(err, errlen, ret,
			 "%s: the list of network interface IDs that allow forwarding MMDS requests is empty",
			 what);
		goto out;
	}
	for (k = 0; k < n; k++) {
		e = json_object_array_get_idx(list, k);
		if (!json_object_is_type(e, json_type_string)) {
			err__set(err, errlen, ret,
				 "%s: `network_interfaces` must be an array of interface IDs",
				 what);
			goto out;
		}
		id = json_object_get_string(e);
		for (i = 0; i < cfg->nr_net; i++)
			if (!strcmp(cfg->net[i].iface_id, id))
				break;
		if (i == cfg->nr_net) {
			err__set(err, errlen, ret,
				 "%s: the network interface ID `%s` is not configured",
				 what, id);
			goto out;
		}
		for (j = 0; j < m.nr_ifaces; j++)
			if (!strcmp(m.ifaces[j], id))
				break;
		if (j < m.nr_ifaces) {
			err__set(err, errlen, ret,
				 "%s: network interface `%s` is named twice",
				 what, id);
			goto out;
		}
		snprintf(m.ifaces[m.nr_ifaces++], VM_NET_ID_MAX, "%s", id);
	}
	cfg->mmds = m;
	ret = 0;
out:
	free(version);
	free(addr);
	return ret;
}

/* A device list this VMM does not have: only an empty array is accepted. */
static int parse_absent_devices(json_object *v, const char *key, char *err,
				size_t errlen)
{
	if (!json_object_is_type(v, json_type_array))
		return err__set(err, errlen, -EINVAL, "`%s` must be an array",
				key);
	if (json_object_array_length(v))
		return err__set(err, errlen, -EINVAL,
				"`%s` devices are not supported", key);
	return 0;
}

int vm_config__parse_file(struct vm_config *cfg, const char *text,
			  size_t len, char *err, size_t errlen)
{
	json_object *root, *mmds = NULL;
	int ret = 0;

	root = vm_config__parse_json(text, len, err, errlen);
	if (!root)
		return -EINVAL;
	if (!json_object_is_type(root, json_type_object)) {
		ret = err__set(err, errlen, -EINVAL,
			       "config file: expected a JSON object");
		goto out;
	}
	json_object_object_foreach(root, key, val) {
		if (!strcmp(key, "boot-source"))
			ret = vm_config__parse_boot_source(cfg, val, err, errlen);
		else if (!strcmp(key, "machine-config"))
			ret = vm_config__parse_machine(cfg, val, false, err,
						       errlen);
		else if (!strcmp(key, "vsock"))
			ret = vm_config__parse_vsock(cfg, val, err, errlen);
		else if (!strcmp(key, "logger"))
			ret = vm_config__parse_logger(cfg, val, err, errlen);
		else if (!strcmp(key, "metrics"))
			ret = vm_config__parse_metrics(cfg, val, err, errlen);
		else if (!strcmp(key, "serial"))
			ret = vm_config__parse_serial(cfg, val, err, errlen);
		else if (!strcmp(key, "drives"))
			ret = parse_drives(cfg, val, err, errlen);
		else if (!strcmp(key, "entropy"))
			ret = vm_config__parse_entropy(cfg, val, err, errlen);
		else if (!strcmp(key, "network-interfaces"))
			ret = parse_net_list(cfg, val, err, errlen);
		else if (!strcmp(key, "pmem"))
			ret = parse_absent_devices(val, key, err, errlen);
		else if (!strcmp(key, "mmds-config"))
			mmds = val;	/* after the interfaces it names */
		else
			ret = err__set(err, errlen, -EINVAL,
				       "config file: unknown section `%s`",
				       key);
		if (ret)
			goto out;
	}
	if (mmds)
		ret = vm_config__parse_mmds(cfg, mmds, err, errlen);
	if (!ret && !cfg->has_boot_source)
		ret = err__set(err, errlen, -EINVAL,
			       "config file: missing `boot-source`");
out:
	json_object_put(root);
	return ret;
}

void snapshot_create_params__free(struct snapshot_create_params *p)
{
	free(p->snapshot_path);
	free(p->mem_file_path);
	memset(p, 0, sizeof(*p));
}

int vm_config__parse_snapshot_create(struct snapshot_create_params *p,
				     json_object *obj, char *err,
				     size_t errlen)
{
	static const char *const fields[] = {
		"snapshot_path", "mem_file_path", "snapshot_type", NULL
	};
	static const char what[] = "snapshot/create";
	char *type = NULL;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = check_fields(obj, what, fields, err, errlen);
	if (ret)
		return ret;
	if (get_string(obj, what, "snapshot_path", true, &p->snapshot_path,
		       err, errlen) < 0 ||
	    get_string(obj, what, "mem_file_path", true, &p->mem_file_path,
		       err, errlen) < 0 ||
	    get_string(obj, what, "snapshot_type", false, &type, err,
		       errlen) < 0) {
		ret = -EINVAL;
		goto err;
	}
	if (!p->snapshot_path[0] || !p->mem_file_path[0]) {
		ret = err__set(err, errlen, -EINVAL, "%s: empty path", what);
		goto err;
	}
	if (!strcmp(p->snapshot_path, p->mem_file_path)) {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: snapshot_path and mem_file_path are the same file",
			       what);
		goto err;
	}
	if (type && strcmp(type, "Full") && strcmp(type, "Diff")) {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: `snapshot_type` must be Full or Diff",
			       what);
		goto err;
	}
	p->diff = type && !strcmp(type, "Diff");
	free(type);
	return 0;
err:
	free(type);
	snapshot_create_params__free(p);
	return ret;
}

void snapshot_load_params__free(struct snapshot_load_params *p)
{
	free(p->snapshot_path);
	free(p->backend_path);
	free(p->vsock_uds_path);
	free(p->wset_path);
	for (unsigned int i = 0; i < p->nr_drive_overrides; i++) {
		free(p->drive_overrides[i].drive_id);
		free(p->drive_overrides[i].path_on_host);
	}
	memset(p, 0, sizeof(*p));
}

/* [{drive_id, path_on_host}, ...]: each drive once. */
static int parse_drive_overrides(struct snapshot_load_params *p,
				 json_object *a, char *err, size_t errlen)
{
	static const char *const fields[] = {
		"drive_id", "path_on_host", NULL
	};
	static const char what[] = "snapshot/load: drive_overrides";
	struct snapshot_drive_override *o;
	size_t i, n;
	unsigned int j;
	int ret;

	if (!json_object_is_type(a, json_type_array))
		return err__set(err, errlen, -EINVAL, "%s: expected an array",
				what);
	n = json_object_array_length(a);
	if (n > VM_MAX_DRIVES)
		return err__set(err, errlen, -EINVAL,
				"%s: at most %d entries", what, VM_MAX_DRIVES);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);

		ret = check_fields(e, what, fields, err, errlen);
		if (ret)
			return ret;
		o = &p->drive_overrides[p->nr_drive_overrides++];
		if (get_string(e, what, "drive_id", true, &o->drive_id, err,
			       errlen) < 0 ||
		    get_string(e, what, "path_on_host", true,
			       &o->path_on_host, err, errlen) < 0)
			return -EINVAL;
		if (!o->path_on_host[0] || strlen(o->path_on_host) >= PATH_MAX)
			return err__set(err, errlen, -EINVAL,
					"%s: `path_on_host` is empty or too long",
					what);
		for (j = 0; j + 1 < p->nr_drive_overrides; j++)
			if (!strcmp(p->drive_overrides[j].drive_id,
				    o->drive_id))
				return err__set(err, errlen, -EINVAL,
						"%s: drive %s given twice",
						what, o->drive_id);
	}
	return 0;
}

static int parse_mem_backend(struct snapshot_load_params *p, json_object *o,
			     char *err, size_t errlen)
{
	static const char *const fields[] = {
		"backend_type", "backend_path", NULL
	};
	static const char what[] = "snapshot/load: mem_backend";
	char *type = NULL;
	int ret;

	ret = check_fields(o, what, fields, err, errlen);
	if (ret)
		return ret;
	if (get_string(o, what, "backend_type", true, &type, err, errlen) < 0 ||
	    get_string(o, what, "backend_path", true, &p->backend_path, err,
		       errlen) < 0) {
		free(type);
		return -EINVAL;
	}
	if (!strcmp(type, "File")) {
		p->backend = MEM_BACKEND_FILE;
	} else if (!strcmp(type, "Uffd")) {
		p->backend = MEM_BACKEND_UFFD;
	} else if (!strcmp(type, "Thaw")) {
		p->backend = MEM_BACKEND_THAW;
	} else {
		free(type);
		return err__set(err, errlen, -EINVAL,
				"%s: `backend_type` must be File, Uffd or Thaw",
				what);
	}
	free(type);
	if (!p->backend_path[0])
		return err__set(err, errlen, -EINVAL,
				"%s: `backend_path` is empty", what);
	return 0;
}

static int parse_vsock_override(struct snapshot_load_params *p,
				json_object *o, char *err, size_t errlen)
{
	static const char *const fields[] = { "uds_path", "guest_cid", NULL };
	static const char what[] = "snapshot/load: vsock_override";
	uint64_t cid = 0;
	int ret;

	ret = check_fields(o, what, fields, err, errlen);
	if (ret)
		return ret;
	if (get_string(o, what, "uds_path", true, &p->vsock_uds_path, err,
		       errlen) < 0 ||
	    get_u64(o, what, "guest_cid", false, 3, UINT32_MAX - 1, &cid, err,
		    errlen) < 0)
		return -EINVAL;
	if (!vsock_uds__path_ok(p->vsock_uds_path))
		return uds_path_error(what, err, errlen);
	p->vsock_cid = (uint32_t)cid;
	return 0;
}

/* [{iface_id, host_dev_name}, ...]: which the snapshot has, the load checks. */
static int parse_net_overrides(struct snapshot_load_params *p,
			       json_object *v, char *err, size_t errlen)
{
	static const char *const fields[] = {
		"iface_id", "host_dev_name", NULL
	};
	static const char what[] = "snapshot/load: network_overrides";
	char *id = NULL, *dev = NULL;
	size_t i, j, n;
	int ret = -EINVAL;

	if (!json_object_is_type(v, json_type_array))
		return err__set(err, errlen, -EINVAL, "%s: must be an array",
				what);
	n = json_object_array_length(v);
	if (n > VM_MAX_NET_IFACES)
		return err__set(err, errlen, -EINVAL,
				"%s: at most %d entries", what,
				VM_MAX_NET_IFACES);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		struct snapshot_net_override *o = &p->net_overrides[i];

		if (check_fields(e, what, fields, err, errlen) ||
		    get_string(e, what, "iface_id", true, &id, err,
			       errlen) < 0 ||
		    get_string(e, what, "host_dev_name", true, &dev, err,
			       errlen) < 0)
			goto out;
		if (!name_ok(id, VM_NET_ID_MAX) ||
		    !name_ok(dev, VM_NET_DEV_MAX)) {
			err__set(err, errlen, -EINVAL,
				 "%s: `%s` / `%s`: not an iface_id and an interface name",
				 what, id, dev);
			goto out;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(p->net_overrides[j].iface_id, id)) {
				err__set(err, errlen, -EINVAL,
					 "%s: iface_id `%s` twice", what, id);
				goto out;
			}
		snprintf(o->iface_id, sizeof(o->iface_id), "%s", id);
		snprintf(o->host_dev_name, sizeof(o->host_dev_name), "%s", dev);
		p->nr_net_overrides = i + 1;
	}
	ret = 0;
out:
	free(id);
	free(dev);
	return ret;
}

int vm_config__parse_snapshot_load(struct snapshot_load_params *p,
				   json_object *obj, char *err, size_t errlen)
{
	static const char *const fields[] = {
		"snapshot_path", "mem_backend", "mem_file_path", "resume_vm",
		"track_dirty_pages", "enable_diff_snapshots", "vsock_override",
		"clock_realtime", "huge_pages", "network_overrides",
		"wset_path", "record_wset", "enable_rewind", "drive_overrides",
		NULL
	};
	static const char what[] = "snapshot/load";
	bool diff_old = false;
	char *mem_file = NULL, *huge = NULL;
	json_object *v;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = check_fields(obj, what, fields, err, errlen);
	if (ret)
		return ret;
	if (get_string(obj, what, "snapshot_path", true, &p->snapshot_path,
		       err, errlen) < 0 ||
	    get_string(obj, what, "mem_file_path", false, &mem_file, err,
		       errlen) < 0 ||
	    get_string(obj, what, "huge_pages", false, &huge, err,
		       errlen) < 0 ||
	    get_string(obj, what, "wset_path", false, &p->wset_path, err,
		       errlen) < 0 ||
	    get_bool(obj, what, "resume_vm", &p->resume_vm, err, errlen) < 0 ||
	    get_bool(obj, what, "track_dirty_pages", &p->track_dirty_pages,
		     err, errlen) < 0 ||
	    get_bool(obj, what, "enable_diff_snapshots", &diff_old, err,
		     errlen) < 0 ||
	    get_bool(obj, what, "clock_realtime", &p->clock_realtime, err,
		     errlen) < 0 ||
	    get_bool(obj, what, "record_wset", &p->record_wset, err,
		     errlen) < 0 ||
	    get_bool(obj, what, "enable_rewind", &p->enable_rewind, err,
		     errlen) < 0) {
		ret = -EINVAL;
		goto err;
	}
	p->track_dirty_pages |= diff_old;
	if (json_object_object_get_ex(obj, "mem_backend", &v)) {
		if (mem_file) {
			ret = err__set(err, errlen, -EINVAL,
				       "%s: give `mem_backend` or `mem_file_path`, not both",
				       what);
			goto err;
		}
		ret = parse_mem_backend(p, v, err, errlen);
		if (ret)
			goto err;
	} else if (mem_file) {
		p->backend = MEM_BACKEND_FILE;
		p->backend_path = mem_file;
		mem_file = NULL;
	} else {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: missing field `mem_backend` (or `mem_file_path`)",
			       what);
		goto err;
	}
	if (json_object_object_get_ex(obj, "vsock_override", &v)) {
		ret = parse_vsock_override(p, v, err, errlen);
		if (ret)
			goto err;
	}
	if (json_object_object_get_ex(obj, "drive_overrides", &v)) {
		ret = parse_drive_overrides(p, v, err, errlen);
		if (ret)
			goto err;
	}
	if (json_object_object_get_ex(obj, "network_overrides", &v)) {
		ret = parse_net_overrides(p, v, err, errlen);
		if (ret)
			goto err;
	}
	if (p->enable_rewind && p->backend == MEM_BACKEND_UFFD) {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: `enable_rewind`: the Uffd backend cannot rewind (File or Thaw can)",
			       what);
		goto err;
	}
	if (huge && strcmp(huge, "Snapshot") && strcmp(huge, "None")) {
		ret = err__set(err, errlen, -EINVAL,
			       "%s: `huge_pages` %s: restored RAM uses 4 KiB pages (Snapshot or None)",
			       what, huge);
		goto err;
	}
	if (!p->snapshot_path[0] || (p->wset_path && !p->wset_path[0])) {
		ret = err__set(err, errlen, -EINVAL, "%s: empty path", what);
		goto err;
	}
	free(huge);
	return 0;
err:
	free(mem_file);
	free(huge);
	snapshot_load_params__free(p);
	return ret;
}

int vm_config__parse_snapshot_rewind(struct snapshot_rewind_params *p,
				     json_object *obj, char *err,
				     size_t errlen)
{
	static const char *const fields[] = {
		"resume_vm", "vsock_override", "clock_realtime", NULL
	};
	static const char *const vsock_fields[] = {
		"guest_cid", "uds_path", NULL
	};
	static const char what[] = "snapshot/rewind";
	static const char vwhat[] = "snapshot/rewind: vsock_override";
	struct snapshot_rewind_params tmp = { .resume_vm = true };
	uint64_t cid = 0;
	json_object *v;
	int ret;

	ret = check_fields(obj, what, fields, err, errlen);
	if (ret)
		return ret;
	if (get_bool(obj, what, "resume_vm", &tmp.resume_vm, err,
		     errlen) < 0)
		return -EINVAL;
	ret = get_bool(obj, what, "clock_realtime", &tmp.clock_realtime, err,
		       errlen);
	if (ret < 0)
		return ret;
	tmp.clock_realtime_set = ret;
	if (json_object_object_get_ex(obj, "vsock_override", &v)) {
		ret = check_fields(v, vwhat, vsock_fields, err, errlen);
		if (ret)
			return ret;
		/* The socket is the host's end: it stays with the VM. */
		if (json_object_object_get_ex(v, "uds_path", NULL))
			return err__set(err, errlen, -EINVAL,
					"%s: `uds_path` cannot change on a rewind (the microVM keeps its vsock socket)",
					vwhat);
		if (get_u64(v, vwhat, "guest_cid", true, 3, UINT32_MAX - 1,
			    &cid, err, errlen) < 0)
			return -EINVAL;
		tmp.vsock_cid = (uint32_t)cid;
	}
	*p = tmp;
	return 0;
}

static void add_str(json_object *o, const char *key, const char *val)
{
	if (val)
		json_object_object_add(o, key, json_object_new_string(val));
}

json_object *vm_config__machine_to_json(const struct vm_config *cfg)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "vcpu_count",
			       json_object_new_int64(cfg->machine.vcpu_count));
	json_object_object_add(o, "mem_size_mib",
			       json_object_new_int64((int64_t)cfg->machine.mem_size_mib));
	json_object_object_add(o, "smt",
			       json_object_new_boolean(cfg->machine.smt));
	json_object_object_add(o, "track_dirty_pages",
			       json_object_new_boolean(cfg->machine.track_dirty_pages));
	json_object_object_add(o, "huge_pages",
			       json_object_new_string(huge_pages_name(cfg->machine.huge_pages)));
	return o;
}

static json_object *drives_to_json(const struct vm_config *cfg)
{
	json_object *a = json_object_new_array(), *d;
	unsigned int i;

	for (i = 0; a && i < cfg->nr_drives; i++) {
		const struct vm_drive_config *c = &cfg->drives[i];

		d = json_object_new_object();
		add_str(d, "drive_id", c->drive_id);
		add_str(d, "path_on_host", c->path_on_host);
		json_object_object_add(d, "is_root_device",
				       json_object_new_boolean(c->is_root_device));
		add_str(d, "partuuid", c->partuuid);
		json_object_object_add(d, "is_read_only",
				       json_object_new_boolean(c->is_read_only));
		add_str(d, "cache_type", c->cache_type == VM_CACHE_WRITEBACK ?
			"Writeback" : "Unsafe");
		add_str(d, "io_engine", c->io_async ? "Async" : "Sync");
		if (c->direct_io)
			json_object_object_add(d, "direct_io",
					       json_object_new_boolean(true));
		json_object_array_add(a, d);
	}
	return a;
}

json_object *vm_config__to_json(const struct vm_config *cfg)
{
	json_object *o = json_object_new_object(), *s;
	unsigned int i;

	if (!o)
		return NULL;
	if (cfg->has_boot_source) {
		s = json_object_new_object();
		add_str(s, "kernel_image_path", cfg->boot_source.kernel_image_path);
		add_str(s, "initrd_path", cfg->boot_source.initrd_path);
		add_str(s, "boot_args", cfg->boot_source.boot_args);
		json_object_object_add(o, "boot-source", s);
	}
	json_object_object_add(o, "machine-config",
			       vm_config__machine_to_json(cfg));
	if (cfg->vsock.present) {
		s = json_object_new_object();
		json_object_object_add(s, "guest_cid",
				       json_object_new_int64(cfg->vsock.guest_cid));
		add_str(s, "uds_path", cfg->vsock.uds_path);
		json_object_object_add(o, "vsock", s);
	}
	if (cfg->logger.present) {
		s = json_object_new_object();
		add_str(s, "log_path", cfg->logger.log_path);
		add_str(s, "level", cfg->logger.level);
		json_object_object_add(s, "show_level",
				       json_object_new_boolean(cfg->logger.show_level));
		json_object_object_add(s, "show_log_origin",
				       json_object_new_boolean(cfg->logger.show_log_origin));
		json_object_object_add(o, "logger", s);
	}
	if (cfg->metrics.present) {
		s = json_object_new_object();
		add_str(s, "metrics_path", cfg->metrics.metrics_path);
		json_object_object_add(o, "metrics", s);
	}
	if (cfg->serial_out_path || cfg->serial_rate_limiter.present) {
		const struct vm_token_bucket *rl = &cfg->serial_rate_limiter;

		s = json_object_new_object();
		add_str(s, "serial_out_path", cfg->serial_out_path);
		if (rl->present) {
			json_object *b = json_object_new_object();

			json_object_object_add(b, "size",
					       json_object_new_int64((int64_t)rl->size));
			json_object_object_add(b, "one_time_burst",
					       json_object_new_int64((int64_t)rl->one_time_burst));
			json_object_object_add(b, "refill_time",
					       json_object_new_int64((int64_t)rl->refill_time));
			json_object_object_add(s, "rate_limiter", b);
		}
		json_object_object_add(o, "serial", s);
	}
	json_object_object_add(o, "drives", drives_to_json(cfg));
	if (cfg->entropy.present)
		json_object_object_add(o, "entropy", json_object_new_object());
	s = json_object_new_array();
	for (i = 0; i < cfg->nr_net; i++) {
		const struct vm_net_config *n = &cfg->net[i];
		json_object *e = json_object_new_object();
		char mac[18];

		add_str(e, "iface_id", n->iface_id);
		add_str(e, "host_dev_name", n->host_dev_name);
		if (n->has_mac) {
			snprintf(mac, sizeof(mac),
				 "%02x:%02x:%02x:%02x:%02x:%02x",
				 n->guest_mac[0], n->guest_mac[1],
				 n->guest_mac[2], n->guest_mac[3],
				 n->guest_mac[4], n->guest_mac[5]);
			add_str(e, "guest_mac", mac);
		}
		json_object_array_add(s, e);
	}
	json_object_object_add(o, "network-interfaces", s);
	if (cfg->mmds.present) {
		char ip[INET_ADDRSTRLEN];
		json_object *l = json_object_new_array();

		s = json_object_new_object();
		add_str(s, "version", cfg->mmds.version == 2 ? "V2" : "V1");
		for (i = 0; i < cfg->mmds.nr_ifaces; i++)
			json_object_array_add(l,
					      json_object_new_string(cfg->mmds.ifaces[i]));
		json_object_object_add(s, "network_interfaces", l);
		inet_ntop(AF_INET, &cfg->mmds.ipv4, ip, sizeof(ip));
		add_str(s, "ipv4_address", ip);
		json_object_object_add(s, "imds_compat",
				       json_object_new_boolean(cfg->mmds.imds_compat));
		json_object_object_add(o, "mmds-config", s);
	}
	return o;
}
