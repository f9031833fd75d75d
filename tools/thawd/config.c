// SPDX-License-Identifier: GPL-2.0
/*
 * thawd's configuration file: one JSON object (json-c), strict: an
 * unknown field, a wrong type or a value out of range is an error naming
 * it.  Documentation/admin-guide/thawd.rst lists the fields.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "tools/thawd/thawd.h"

void config__defaults(struct thawd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->listen = strdup("127.0.0.1:9001");
	c->state_dir = strdup("/var/lib/thawd");
	c->run_dir = strdup("/run/thawd");
	c->region = strdup("us-east-1");
	c->account = strdup("000000000000");
	c->max_concurrency = 64;
	c->max_vms = 256;
	c->cid_base = 1000;
	c->cid_count = 65536;
	c->idle_ttl_s = 600;
	c->async_workers = 2;
	c->async_retries = 2;
	c->async_backoff_ms = 60000;
	c->backend_auto = true;
	c->backend = CLONE_FILE;
}

void config__free(struct thawd_config *c)
{
	free(c->listen);
	free(c->unix_socket);
	free(c->state_dir);
	free(c->run_dir);
	free(c->region);
	free(c->account);
	free(c->thawvm);
	free(c->thawctl);
	free(c->uffd_handler);
	for (size_t i = 0; i < c->n_keys; i++) {
		free((char *)c->keys[i].access_key_id);
		free((char *)c->keys[i].secret_access_key);
	}
	free(c->keys);
	memset(c, 0, sizeof(*c));
}

static int set_string(char **dst, struct json_object *v, const char *what,
		      bool may_be_empty, char *err, size_t errlen)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return err__set(err, errlen, -EINVAL, "%s: not a string", what);
	s = json_object_get_string(v);
	if (!may_be_empty && !*s)
		return err__set(err, errlen, -EINVAL, "%s: empty", what);
	free(*dst);
	*dst = strdup(s);
	return *dst ? 0 : err__set(err, errlen, -ENOMEM, "out of memory");
}

static int set_u32(uint32_t *dst, struct json_object *v, const char *what,
		   uint32_t min, uint32_t max, char *err, size_t errlen)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int))
		return err__set(err, errlen, -EINVAL, "%s: not an integer",
				what);
	n = json_object_get_int64(v);
	if (n < min || n > max)
		return err__set(err, errlen, -ERANGE,
				"%s: %lld is outside %u..%u", what,
				(long long)n, min, max);
	*dst = (uint32_t)n;
	return 0;
}

static int parse_async(struct thawd_config *c, struct json_object *o,
		       char *err, size_t errlen)
{
	int ret = 0;

	if (!json_object_is_type(o, json_type_object))
		return err__set(err, errlen, -EINVAL, "async: not an object");
	json_object_object_foreach(o, key, v) {
		if (!strcmp(key, "workers"))
			ret = set_u32(&c->async_workers, v, "async.workers", 1,
				      64, err, errlen);
		else if (!strcmp(key, "retries"))
			ret = set_u32(&c->async_retries, v, "async.retries", 0,
				      2, err, errlen);
		else if (!strcmp(key, "backoff_ms"))
			ret = set_u32(&c->async_backoff_ms, v,
				      "async.backoff_ms", 0, 3600000, err,
				      errlen);
		else
			ret = err__set(err, errlen, -EINVAL,
				       "async: unknown field `%s`", key);
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_programs(struct thawd_config *c, struct json_object *o,
			  char *err, size_t errlen)
{
	int ret = 0;

	if (!json_object_is_type(o, json_type_object))
		return err__set(err, errlen, -EINVAL,
				"programs: not an object");
	json_object_object_foreach(o, key, v) {
		if (!strcmp(key, "thawvm"))
			ret = set_string(&c->thawvm, v, "programs.thawvm",
					 false, err, errlen);
		else if (!strcmp(key, "thawctl"))
			ret = set_string(&c->thawctl, v, "programs.thawctl",
					 false, err, errlen);
		else if (!strcmp(key, "uffd_handler"))
			ret = set_string(&c->uffd_handler, v,
					 "programs.uffd_handler", false, err,
					 errlen);
		else
			ret = err__set(err, errlen, -EINVAL,
				       "programs: unknown field `%s`", key);
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_credentials(struct thawd_config *c, struct json_object *a,
			     char *err, size_t errlen)
{
	size_t n;

	if (!json_object_is_type(a, json_type_array))
		return err__set(err, errlen, -EINVAL,
				"credentials: not an array");
	n = json_object_array_length(a);
	if (n > 64)
		return err__set(err, errlen, -E2BIG,
				"credentials: at most 64 keys");
	c->keys = calloc(n ? n : 1, sizeof(*c->keys));
	if (!c->keys)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct json_object *k = json_object_array_get_idx(a, i);
		char *id = NULL, *secret = NULL;
		int ret = 0;

		if (!json_object_is_type(k, json_type_object))
			return err__set(err, errlen, -EINVAL,
					"credentials[%zu]: not an object", i);
		json_object_object_foreach(k, key, v) {
			if (!strcmp(key, "access_key_id"))
				ret = set_string(&id, v,
						 "credentials[].access_key_id",
						 false, err, errlen);
			else if (!strcmp(key, "secret_access_key"))
				ret = set_string(&secret, v,
						 "credentials[].secret_access_key",
						 false, err, errlen);
			else
				ret = err__set(err, errlen, -EINVAL,
					       "credentials[%zu]: unknown field `%s`",
					       i, key);
			if (ret)
				break;
		}
		if (!ret && (!id || !secret))
			ret = err__set(err, errlen, -EINVAL,
				       "credentials[%zu]: needs access_key_id and secret_access_key",
				       i);
		if (ret) {
			free(id);
			free(secret);
			return ret;
		}
		c->keys[c->n_keys].access_key_id = id;
		c->keys[c->n_keys].secret_access_key = secret;
		c->n_keys++;
	}
	return 0;
}

static int parse_backend(struct thawd_config *c, struct json_object *v,
			 char *err, size_t errlen)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return err__set(err, errlen, -EINVAL, "backend: not a string");
	s = json_object_get_string(v);
	if (!strcmp(s, "auto")) {
		c->backend_auto = true;
		return 0;
	}
	c->backend_auto = false;
	if (clone__parse_backend(s, &c->backend))
		return err__set(err, errlen, -EINVAL,
				"backend: `%s` is not auto, File, Uffd or Thaw",
				s);
	return 0;
}

static int check_listen(const char *s, char *err, size_t errlen)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!*s)
		return 0;
	if (!colon || colon == s)
		return err__set(err, errlen, -EINVAL,
				"listen: `%s` is not HOST:PORT", s);
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return err__set(err, errlen, -EINVAL,
				"listen: `%s` has no port 1..65535", s);
	return 0;
}

static int parse_root(struct thawd_config *c, struct json_object *root,
		      char *err, size_t errlen)
{
	int ret = 0;

	if (!json_object_is_type(root, json_type_object))
		return err__set(err, errlen, -EINVAL, "not a JSON object");
	json_object_object_foreach(root, key, v) {
		if (!strcmp(key, "listen"))
			ret = set_string(&c->listen, v, key, true, err, errlen);
		else if (!strcmp(key, "unix_socket"))
			ret = set_string(&c->unix_socket, v, key, false, err,
					 errlen);
		else if (!strcmp(key, "state_dir"))
			ret = set_string(&c->state_dir, v, key, false, err,
					 errlen);
		else if (!strcmp(key, "run_dir"))
			ret = set_string(&c->run_dir, v, key, false, err,
					 errlen);
		else if (!strcmp(key, "region"))
			ret = set_string(&c->region, v, key, false, err,
					 errlen);
		else if (!strcmp(key, "account"))
			ret = set_string(&c->account, v, key, false, err,
					 errlen);
		else if (!strcmp(key, "max_concurrency"))
			ret = set_u32(&c->max_concurrency, v, key, 1, 100000,
				      err, errlen);
		else if (!strcmp(key, "max_vms"))
			ret = set_u32(&c->max_vms, v, key, 1, 100000, err,
				      errlen);
		else if (!strcmp(key, "cid_base"))
			ret = set_u32(&c->cid_base, v, key, 3, 0x7fffffff,
				      err, errlen);
		else if (!strcmp(key, "cid_count"))
			ret = set_u32(&c->cid_count, v, key, 1, 1u << 24, err,
				      errlen);
		else if (!strcmp(key, "idle_ttl_s"))
			ret = set_u32(&c->idle_ttl_s, v, key, 0, 86400, err,
				      errlen);
		else if (!strcmp(key, "backend"))
			ret = parse_backend(c, v, err, errlen);
		else if (!strcmp(key, "async"))
			ret = parse_async(c, v, err, errlen);
		else if (!strcmp(key, "programs"))
			ret = parse_programs(c, v, err, errlen);
		else if (!strcmp(key, "credentials"))
			ret = parse_credentials(c, v, err, errlen);
		else
			ret = err__set(err, errlen, -EINVAL,
				       "unknown field `%s`", key);
		if (ret)
			return ret;
	}
	ret = check_listen(c->listen, err, errlen);
	if (ret)
		return ret;
	if (!*c->listen && !c->unix_socket)
		return err__set(err, errlen, -EINVAL,
				"neither listen nor unix_socket: nothing to serve on");
	if (strlen(c->account) != 12 ||
	    strspn(c->account, "0123456789") != 12)
		return err__set(err, errlen, -EINVAL,
				"account: `%s` is not 12 digits", c->account);
	if (strlen(c->state_dir) > 200)
		return err__set(err, errlen, -ENAMETOOLONG,
				"state_dir: at most 200 bytes");
	if (strlen(c->run_dir) > 64)
		return err__set(err, errlen, -ENAMETOOLONG,
				"run_dir: at most 64 bytes (the VMs' socket paths live in it)");
	if ((uint64_t)c->cid_base + c->cid_count > 0xffffffffull)
		return err__set(err, errlen, -ERANGE,
				"cid_base + cid_count is past the last CID");
	if (c->max_vms > c->cid_count)
		return err__set(err, errlen, -ERANGE,
				"max_vms (%u) is more than cid_count (%u): every VM needs its own CID",
				c->max_vms, c->cid_count);
	return 0;
}

int config__load(struct thawd_config *c, const char *path, char *err,
		 size_t errlen)
{
	struct json_object *root;
	char tmp[256];
	int ret;

	config__defaults(c);
	if (!c->listen || !c->state_dir || !c->run_dir || !c->region ||
	    !c->account)
		return err__set(err, errlen, -ENOMEM, "out of memory");
	if (!path)
		return 0;
	root = json_object_from_file(path);
	if (!root)
		return err__set(err, errlen, -EINVAL, "%s: %s", path,
				json_util_get_last_err() ?: "cannot read");
	ret = parse_root(c, root, tmp, sizeof(tmp));
	json_object_put(root);
	if (ret)
		err__set(err, errlen, ret, "%s: %s", path, tmp);
	return ret;
}
