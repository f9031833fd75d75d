// SPDX-License-Identifier: GPL-2.0
/* MMDS's data store: see store.h.  json-c holds the values. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "lib/log.h"
#include "vmm/api.h"
#include "vmm/mmds/store.h"

#define TEXT_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static struct mmds_store store;
static pthread_once_t store_once = PTHREAD_ONCE_INIT;

static void store_init(void)
{
	if (mmds_store__init(&store, API_MAX_BODY)) {
		pr_err("mmds: no memory for the data store");
		abort();
	}
}

struct mmds_store *mmds__store(void)
{
	pthread_once(&store_once, store_init);
	return &store;
}

int mmds_store__init(struct mmds_store *s, size_t limit)
{
	s->root = json_object_new_object();
	if (!s->root)
		return -ENOMEM;
	s->limit = limit;
	pthread_mutex_init(&s->lock, NULL);
	return 0;
}

void mmds_store__exit(struct mmds_store *s)
{
	json_object_put(s->root);
	s->root = NULL;
	pthread_mutex_destroy(&s->lock);
}

struct json_object *mmds__merge_patch(struct json_object *target,
				      struct json_object *patch)
{
	json_object *cur, *merged;

	if (!json_object_is_type(patch, json_type_object)) {
		json_object_put(target);
		return patch;
	}
	if (!json_object_is_type(target, json_type_object)) {
		json_object_put(target);
		target = json_object_new_object();
		if (!target) {
			json_object_put(patch);
			return NULL;
		}
	}
	json_object_object_foreach(patch, key, val) {
		if (!val) {		/* null: the member goes */
			json_object_object_del(target, key);
			continue;
		}
		cur = NULL;
		if (json_object_object_get_ex(target, key, &cur))
			json_object_get(cur);
		merged = mmds__merge_patch(cur, json_object_get(val));
		if (!merged || json_object_object_add(target, key, merged)) {
			json_object_put(merged);
			json_object_put(target);
			json_object_put(patch);
			return NULL;
		}
	}
	json_object_put(patch);
	return target;
}

/* Does @root fit the limit?  0 or -EFBIG with a message. */
static int check_size(const struct mmds_store *s, json_object *root,
		      const char *what, char *err, size_t errlen)
{
	size_t len = 0;

	if (!json_object_to_json_string_length(root, TEXT_FLAGS, &len))
		return err__set(err, errlen, -ENOMEM, "Out of memory");
	if (len > s->limit)
		return err__set(err, errlen, -EFBIG,
				"The MMDS %s request doesn't fit: the data store would be %zu bytes, over its limit of %zu",
				what, len, s->limit);
	return 0;
}

int mmds_store__put(struct mmds_store *s, struct json_object *body,
		    char *err, size_t errlen)
{
	int ret;

	if (!json_object_is_type(body, json_type_object)) {
		json_object_put(body);
		return err__set(err, errlen, -EINVAL,
				"The MMDS data store must be a JSON object");
	}
	ret = check_size(s, body, "PUT", err, errlen);
	if (ret) {
		json_object_put(body);
		return ret;
	}
	pthread_mutex_lock(&s->lock);
	json_object_put(s->root);
	s->root = body;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int mmds_store__patch(struct mmds_store *s, struct json_object *patch,
		      char *err, size_t errlen)
{
	json_object *copy = NULL;
	int ret;

	if (!json_object_is_type(patch, json_type_object)) {
		json_object_put(patch);
		return err__set(err, errlen, -EINVAL,
				"The MMDS patch must be a JSON object");
	}
	pthread_mutex_lock(&s->lock);
	/* On a copy: a patch that does not fit leaves the store as it was. */
	if (json_object_deep_copy(s->root, &copy, NULL)) {
		ret = err__set(err, errlen, -ENOMEM, "Out of memory");
		json_object_put(patch);
		goto out;
	}
	copy = mmds__merge_patch(copy, patch);
	if (!copy) {
		ret = err__set(err, errlen, -ENOMEM, "Out of memory");
		goto out;
	}
	ret = check_size(s, copy, "patch", err, errlen);
	if (ret) {
		json_object_put(copy);
		goto out;
	}
	json_object_put(s->root);
	s->root = copy;
out:
	pthread_mutex_unlock(&s->lock);
	return ret;
}

struct json_object *mmds_store__get(struct mmds_store *s)
{
	json_object *copy = NULL;

	pthread_mutex_lock(&s->lock);
	if (json_object_deep_copy(s->root, &copy, NULL))
		copy = NULL;
	pthread_mutex_unlock(&s->lock);
	return copy;
}

/* One part of a path, as an array index: 0 and *@i, or -ENOENT. */
static int index_of(const char *part, size_t n, size_t len, size_t *i)
{
	size_t v = 0, k;

	if (!n || n > 9 || (n > 1 && part[0] == '0'))
		return -ENOENT;
	for (k = 0; k < n; k++) {
		if (part[k] < '0' || part[k] > '9')
			return -ENOENT;
		v = v * 10 + (part[k] - '0');
	}
	if (v >= len)
		return -ENOENT;
	*i = v;
	return 0;
}

/* The value at @path under @v (borrowed), or NULL (and *@found false). */
static json_object *walk(json_object *v, const char *path, bool *found)
{
	char key[256];
	size_t n, i;

	*found = true;
	while (*path) {
		if (*path == '/') {
			path++;
			continue;
		}
		n = strcspn(path, "/");
		if (json_object_is_type(v, json_type_object)) {
			if (n >= sizeof(key))
				goto none;
			memcpy(key, path, n);
			key[n] = '\0';
			if (!json_object_object_get_ex(v, key, &v))
				goto none;
		} else if (json_object_is_type(v, json_type_array)) {
			if (index_of(path, n, json_object_array_length(v), &i))
				goto none;
			v = json_object_array_get_idx(v, i);
		} else {
			goto none;
		}
		path += n;
	}
	return v;
none:
	*found = false;
	return NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* EC2 IMDS's listing of an object: its keys, sorted, one a line. */
static int imds_keys(json_object *o, char **out, size_t *len)
{
	size_t n = json_object_object_length(o), k = 0, size = 1, i;
	const char **keys;
	char *text, *p;

	keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	json_object_object_foreach(o, key, val) {
		(void)val;
		keys[k++] = key;
		size += strlen(key) + 2;
	}
	qsort(keys, k, sizeof(*keys), by_name);
	text = malloc(size);
	if (!text) {
		free(keys);
		return -ENOMEM;
	}
	p = text;
	for (i = 0; i < k; i++) {
		json_object *v = NULL;

		json_object_object_get_ex(o, keys[i], &v);
		if (i)
			*p++ = '\n';
		p = stpcpy(p, keys[i]);
		if (json_object_is_type(v, json_type_object))
			*p++ = '/';
	}
	*p = '\0';
	free(keys);
	*out = text;
	*len = p - text;
	return 0;
}

int mmds_store__lookup(struct mmds_store *s, const char *path, bool json,
		       char **out, size_t *len)
{
	const char *text;
	json_object *v;
	bool found;
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	v = walk(s->root, path, &found);
	if (!found) {
		ret = -ENOENT;
	} else if (json) {
		text = json_object_to_json_string_length(v, TEXT_FLAGS, len);
		*out = text ? strndup(text, *len) : NULL;
		if (!*out)
			ret = -ENOMEM;
	} else if (json_object_is_type(v, json_type_string)) {
		*len = json_object_get_string_len(v);
		*out = strndup(json_object_get_string(v), *len);
		if (!*out)
			ret = -ENOMEM;
		else
			*len = strlen(*out);	/* a NUL ends the text */
	} else if (json_object_is_type(v, json_type_object)) {
		ret = imds_keys(v, out, len);
	} else {
		ret = -EOPNOTSUPP;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}
