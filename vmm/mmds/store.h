/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MMDS's data store: one JSON object that the host sets (PUT /mmds),
 * merges into (PATCH /mmds, a JSON merge patch, RFC 7396) and reads
 * (GET /mmds), and that the guest reads a key of, by path, over HTTP
 * (vmm/mmds/http.h).  The store is host state: it is not in a snapshot.
 *
 * Every call takes @lock: the API thread writes while the MMDS thread
 * reads.  The serialized store never grows past @limit bytes.
 */
#ifndef THAW_VMM_MMDS_STORE_H
#define THAW_VMM_MMDS_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct json_object;

struct mmds_store {
	pthread_mutex_t lock;
	struct json_object *root;	/* an object; under @lock */
	size_t limit;			/* bytes of its JSON text */
};

/*
 * The process's store (thawvm runs one machine), made at the first call
 * with a limit of API_MAX_BODY bytes, as Firecracker's default
 * mmds_size_limit is its payload limit; never NULL.
 */
struct mmds_store *mmds__store(void);

int mmds_store__init(struct mmds_store *s, size_t limit);
void mmds_store__exit(struct mmds_store *s);

/*
 * PUT /mmds: @body (a JSON object, taken: the caller's reference is
 * dropped either way) replaces the store.  PATCH /mmds: @patch is merged
 * in.  0, or -EINVAL (not an object) or -EFBIG (over the limit) with a
 * message; then the store is as it was.
 */
int mmds_store__put(struct mmds_store *s, struct json_object *body,
		    char *err, size_t errlen);
int mmds_store__patch(struct mmds_store *s, struct json_object *patch,
		      char *err, size_t errlen);
/* GET /mmds: a copy of the whole store (a new reference). */
struct json_object *mmds_store__get(struct mmds_store *s);

/*
 * The guest's read of @path ("/a/b": keys, or array indexes, from the
 * root; empty parts are skipped): 0 and *@out (malloc'd, NUL-terminated,
 * *@len bytes) as JSON (@json) or in EC2 IMDS's text format (a string
 * as it is; an object as its keys, one a line, sorted, an object's with
 * a '/' after it); -ENOENT: no such key; -EOPNOTSUPP: IMDS's format has
 * no text for the value (a number, a boolean, an array, null);
 * -ENOMEM.
 */
int mmds_store__lookup(struct mmds_store *s, const char *path, bool json,
		       char **out, size_t *len);

/* RFC 7396 on json-c values: @target merged with @patch (both taken). */
struct json_object *mmds__merge_patch(struct json_object *target,
				      struct json_object *patch);

#endif
