// SPDX-License-Identifier: GPL-2.0
/*
 * The catalogue: one folder per function under STATE/functions/:
 *
 *	NAME/function.json	its settings (struct fn_config)
 *	NAME/image.cpio.gz	the initramfs mkfunc made
 *	NAME/snapshot/		its SnapStart snapshot (state, memory, wset)
 *
 * 'thawd function create' builds a folder beside the others under a
 * temporary name (the snapshot taken by 'thawctl snapshot --record-wset')
 * and renames it into place, so a running agent never sees half a
 * function; 'update' does the same and swaps the folders, with the
 * revision one higher, which tells the agent to retire the VMs of the old
 * one.  That folder is $LATEST.
 *
 * Published versions and aliases live beside, under STATE/versions/NAME/,
 * where an update of $LATEST (which replaces its whole folder) leaves
 * them alone:
 *
 *	N/			version N: function.json (with "version": N),
 *				image and snapshot, hard links to the files
 *				of $LATEST when it was published (copies
 *				across file systems); never changed after
 *	aliases/ALIAS.json	{"name", "function_version", "description"}
 *	last			the last version number handed out: a
 *				number is never given twice, as in Lambda
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "tools/lib/proc.h"
#include "tools/thawd/thawd.h"

#define FUNCTION_JSON	"function.json"
#define TIMEOUT_MAX_S	900	/* Lambda's */
#define VERSION_MAX	999999999u

int thawd__pathf(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

bool catalog__name_ok(const char *name)
{
	size_t n = strlen(name);

	/* Lambda's function names: letters, digits, '-' and '_'. */
	return n >= 1 && n <= THAWD_NAME_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

int catalog__path(char *out, size_t len, const char *state_dir,
		  const char *name, const char *file)
{
	int n = snprintf(out, len, "%s/functions/%s%s%s", state_dir, name,
			 file ? "/" : "", file ? file : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int catalog__dir(char *out, size_t len, const char *state_dir,
		 const char *name, uint32_t version)
{
	if (!version)
		return catalog__path(out, len, state_dir, name, NULL);
	return thawd__pathf(out, len, "%s/versions/%s/%u", state_dir, name,
			    version);
}

/* Lambda's alias names: 1-128 of A-Z a-z 0-9 - _, not all digits. */
static bool alias_ok(const char *alias)
{
	size_t n = strlen(alias);
	const char *set = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789-_";

	return n >= 1 && n <= THAWD_ALIAS_MAX && strspn(alias, set) == n &&
	       strspn(alias, "0123456789") != n;
}

/* A version number as Lambda writes one: 1.., no leading zero. */
static int parse_version(const char *s, uint32_t *out)
{
	size_t n = strspn(s, "0123456789");
	unsigned long v;

	if (!n || s[n] || s[0] == '0' || n > 9)
		return -EINVAL;
	v = strtoul(s, NULL, 10);
	if (v > VERSION_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static void fn_defaults(struct fn_config *fc)
{
	memset(fc, 0, sizeof(*fc));
	fc->memory_mib = 128;
	fc->vcpus = 1;
	fc->timeout_s = 3;
	fc->reserved = -1;
	fc->backend = -1;
}

static int get_u32(struct json_object *o, const char *key, uint32_t min,
		   uint32_t max, uint32_t *dst, char *err, size_t errlen)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return err__set(err, errlen, -EINVAL, "%s: not an integer", key);
	n = json_object_get_int64(v);
	if (n < min || n > max)
		return err__set(err, errlen, -ERANGE, "%s: %lld is outside %u..%u",
				key, (long long)n, min, max);
	*dst = (uint32_t)n;
	return 0;
}

/* What holds between the fields, and the ranges the command line skips. */
static int fn_validate(const struct fn_config *fc, char *err, size_t errlen)
{
	if (fc->memory_mib < 16 || fc->memory_mib > 65536)
		return err__set(err, errlen, -ERANGE,
				"memory: %u MiB is outside 16..65536",
				fc->memory_mib);
	if (fc->vcpus < 1 || fc->vcpus > 32)
		return err__set(err, errlen, -ERANGE,
				"vcpus: %u is outside 1..32", fc->vcpus);
	if (fc->timeout_s < 1 || fc->timeout_s > TIMEOUT_MAX_S)
		return err__set(err, errlen, -ERANGE,
				"timeout: %u s is outside 1..%d", fc->timeout_s,
				TIMEOUT_MAX_S);
	if (fc->reserved >= 0 && fc->provisioned > (uint32_t)fc->reserved)
		return err__set(err, errlen, -EINVAL,
				"provisioned concurrency (%u) is more than reserved concurrency (%d)",
				fc->provisioned, fc->reserved);
	return 0;
}

static int fn_from_json(struct json_object *o, struct fn_config *fc,
			char *err, size_t errlen)
{
	static const char *const known[] = {
		"name", "memory_mib", "vcpus", "timeout_s",
		"reserved_concurrency", "provisioned_concurrency",
		"fresh_per_invocation", "backend", "description", "revision",
		"version",
	};
	struct json_object *v;
	uint32_t reserved = 0;
	int ret;

	fn_defaults(fc);
	if (!json_object_is_type(o, json_type_object))
		return err__set(err, errlen, -EINVAL, "not a JSON object");
	json_object_object_foreach(o, key, val) {
		size_t i;

		(void)val;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!strcmp(key, known[i]))
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return err__set(err, errlen, -EINVAL,
					"unknown field `%s`", key);
	}
	if (!json_object_object_get_ex(o, "name", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !catalog__name_ok(json_object_get_string(v)))
		return err__set(err, errlen, -EINVAL,
				"name: missing or not a function name");
	snprintf(fc->name, sizeof(fc->name), "%s", json_object_get_string(v));
	ret = get_u32(o, "memory_mib", 16, 65536, &fc->memory_mib, err,
		      errlen);
	if (!ret)
		ret = get_u32(o, "vcpus", 1, 32, &fc->vcpus, err, errlen);
	if (!ret)
		ret = get_u32(o, "timeout_s", 1, TIMEOUT_MAX_S, &fc->timeout_s,
			      err, errlen);
	if (!ret)
		ret = get_u32(o, "provisioned_concurrency", 0, 10000,
			      &fc->provisioned, err, errlen);
	if (!ret && json_object_object_get_ex(o, "reserved_concurrency", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		ret = get_u32(o, "reserved_concurrency", 0, 100000, &reserved,
			      err, errlen);
		fc->reserved = (int32_t)reserved;
	}
	if (ret)
		return ret;
	if (json_object_object_get_ex(o, "fresh_per_invocation", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return err__set(err, errlen, -EINVAL,
					"fresh_per_invocation: not a boolean");
		fc->fresh = json_object_get_boolean(v);
	}
	if (json_object_object_get_ex(o, "backend", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		enum clone_backend b;

		if (!json_object_is_type(v, json_type_string) ||
		    clone__parse_backend(json_object_get_string(v), &b))
			return err__set(err, errlen, -EINVAL,
					"backend: not File, Uffd or Thaw");
		fc->backend = (int)b;
	}
	if (json_object_object_get_ex(o, "description", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    strlen(json_object_get_string(v)) >= sizeof(fc->description))
			return err__set(err, errlen, -EINVAL,
					"description: not a string of at most %zu bytes",
					sizeof(fc->description) - 1);
		snprintf(fc->description, sizeof(fc->description), "%s",
			 json_object_get_string(v));
	}
	if (json_object_object_get_ex(o, "revision", &v)) {
		if (!json_object_is_type(v, json_type_int) ||
		    json_object_get_int64(v) < 1)
			return err__set(err, errlen, -EINVAL,
					"revision: not a positive integer");
		fc->revision = (uint64_t)json_object_get_int64(v);
	}
	if (json_object_object_get_ex(o, "version", &v)) {
		if (!json_object_is_type(v, json_type_int) ||
		    json_object_get_int64(v) < 1 ||
		    json_object_get_int64(v) > VERSION_MAX)
			return err__set(err, errlen, -EINVAL,
					"version: not a version number");
		fc->version = (uint32_t)json_object_get_int64(v);
	}
	return fn_validate(fc, err, errlen);
}

static struct json_object *fn_to_json(const struct fn_config *fc)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(fc->name));
	json_object_object_add(o, "revision",
			       json_object_new_int64((int64_t)fc->revision));
	if (fc->version)
		json_object_object_add(o, "version",
				       json_object_new_int64(fc->version));
	json_object_object_add(o, "memory_mib",
			       json_object_new_int64(fc->memory_mib));
	json_object_object_add(o, "vcpus", json_object_new_int64(fc->vcpus));
	json_object_object_add(o, "timeout_s",
			       json_object_new_int64(fc->timeout_s));
	json_object_object_add(o, "reserved_concurrency", fc->reserved < 0 ?
			       NULL : json_object_new_int64(fc->reserved));
	json_object_object_add(o, "provisioned_concurrency",
			       json_object_new_int64(fc->provisioned));
	json_object_object_add(o, "fresh_per_invocation",
			       json_object_new_boolean(fc->fresh));
	json_object_object_add(o, "backend", fc->backend < 0 ? NULL :
			       json_object_new_string(clone__backend_name(
					(enum clone_backend)fc->backend)));
	if (fc->description[0])
		json_object_object_add(o, "description",
				       json_object_new_string(fc->description));
	return o;
}

int catalog__read(const char *state_dir, const char *name,
		  uint32_t version, struct fn_config *fc,
		  struct timespec *mtime, char *err, size_t errlen)
{
	struct json_object *o;
	char path[PATH_MAX], dir[PATH_MAX], why[256];
	struct stat st;
	int ret;

	if (!catalog__name_ok(name))
		return err__set(err, errlen, -EINVAL, "`%.80s` is not a function name",
				name);
	if (catalog__dir(dir, sizeof(dir), state_dir, name, version) ||
	    thawd__pathf(path, sizeof(path), "%s/" FUNCTION_JSON, dir))
		return err__set(err, errlen, -ENAMETOOLONG, "path too long");
	if (stat(path, &st))
		return err__set(err, errlen, -errno, "%s: %s", path,
				strerror(errno));
	o = json_object_from_file(path);
	if (!o)
		return err__set(err, errlen, -EINVAL, "%s: %s", path,
				json_util_get_last_err() ?: "cannot read");
	ret = fn_from_json(o, fc, why, sizeof(why));
	json_object_put(o);
	if (ret)
		return err__set(err, errlen, ret, "%s: %s", path, why);
	if (strcmp(fc->name, name))
		return err__set(err, errlen, -EINVAL, "%s: names `%s`", path,
				fc->name);
	if (fc->version != version)
		return err__set(err, errlen, -EINVAL, "%s: is version %u, not %u",
				path, fc->version, version);
	if (mtime)
		*mtime = st.st_mtim;
	return 0;
}

/* Write DIR/FILE durably (a temporary file, fsync, rename). */
static int write_json(const char *dir, const char *file,
		      struct json_object *o, char *err, size_t errlen)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	const char *text;
	int fd, ret = 0;

	if (thawd__pathf(path, sizeof(path), "%s/%s", dir, file) ||
	    thawd__pathf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, file))
		return err__set(err, errlen, -ENAMETOOLONG, "%s: path too long",
				dir);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    write(fd, "\n", 1) != 1 || fsync(fd) || rename(tmp, path))
		ret = err__set(err, errlen, -errno, "%s: %s", path,
			       strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

static int write_fn(const char *dir, const struct fn_config *fc, char *err,
		    size_t errlen)
{
	struct json_object *o = fn_to_json(fc);
	int ret = write_json(dir, FUNCTION_JSON, o, err, errlen);

	json_object_put(o);
	return ret;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) && errno != ENOENT ? -1 : 0;
}

static int rm_tree(const char *dir)
{
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) ? -errno : 0;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(tmp, 0755) && errno != EEXIST ? -errno : 0;
}

static int copy_file(const char *from, const char *to, char *err,
		     size_t errlen)
{
	char buf[65536];
	ssize_t n;
	int in, out, ret = 0;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return err__set(err, errlen, -errno, "%s: %s", from,
				strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0) {
		ret = err__set(err, errlen, -errno, "%s: %s", to,
			       strerror(errno));
		close(in);
		return ret;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n) {
			n = -1;
			break;
		}
	if (n < 0 || fsync(out))
		ret = err__set(err, errlen, -errno, "copying %s: %s", from,
			       strerror(errno));
	close(in);
	close(out);
	return ret;
}

/* What 'function create' and 'update' are given. */
struct create_args {
	const char *state_dir, *image, *payload, *thawctl, *boot_args;
	struct fn_config fc;
	struct image_opts zip;		/* for an image that is a zip */
	uint32_t boot_timeout_s;
	bool update;
};

/* Boot IMAGE in a thawvm and snapshot it (thawctl snapshot). */
static int take_snapshot(const struct create_args *a, const char *dir)
{
	char prog[PATH_MAX], snap[PATH_MAX], log[PATH_MAX], con[PATH_MAX];
	char img[PATH_MAX], mem[16], vcpus[16], timeout[16];
	const char *argv[24];
	int n = 0, status;
	pid_t pid;

	if (proc__find(prog, sizeof(prog), "thawctl", a->thawctl,
		       "THAWCTL")) {
		fprintf(stderr, "thawd function: %s\n", prog);
		return -ENOENT;
	}
	thawd__pathf(img, sizeof(img), "%s/image.cpio.gz", dir);
	thawd__pathf(snap, sizeof(snap), "%s/snapshot", dir);
	thawd__pathf(log, sizeof(log), "%s/snapshot.log", dir);
	thawd__pathf(con, sizeof(con), "%s/snapshot.console", dir);
	snprintf(mem, sizeof(mem), "%u", a->fc.memory_mib);
	snprintf(vcpus, sizeof(vcpus), "%u", a->fc.vcpus);
	snprintf(timeout, sizeof(timeout), "%u", a->boot_timeout_s);
	argv[n++] = prog;
	argv[n++] = "snapshot";
	argv[n++] = img;
	argv[n++] = snap;
	argv[n++] = "--mem";
	argv[n++] = mem;
	argv[n++] = "--vcpus";
	argv[n++] = vcpus;
	argv[n++] = "--record-wset";
	argv[n++] = "--payload";
	argv[n++] = a->payload;
	argv[n++] = "--timeout";
	argv[n++] = timeout;
	argv[n++] = "--log";
	argv[n++] = log;
	argv[n++] = "--console";
	argv[n++] = con;
	if (a->boot_args) {
		argv[n++] = "--boot-args";
		argv[n++] = a->boot_args;
	}
	argv[n] = NULL;
	fprintf(stderr, "thawd function: booting %s and taking its snapshot\n",
		a->fc.name);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "thawd function: thawctl snapshot failed (%s/snapshot.log and snapshot.console say why)\n",
			dir);
		return -EIO;
	}
	return 0;
}

static int create(struct create_args *a)
{
	char final[PATH_MAX], tmp[PATH_MAX], old[PATH_MAX], img[PATH_MAX];
	char err[512], top[PATH_MAX];
	struct fn_config prev;
	int ret;

	if (catalog__path(final, sizeof(final), a->state_dir, a->fc.name,
			  NULL)) {
		fprintf(stderr, "thawd function: path too long\n");
		return 1;
	}
	snprintf(top, sizeof(top), "%s/functions", a->state_dir);
	ret = mkdir_p(top);
	if (ret) {
		fprintf(stderr, "thawd function: %s: %s\n", top, strerror(-ret));
		return 1;
	}
	ret = catalog__read(a->state_dir, a->fc.name, 0, &prev, NULL, err,
			    sizeof(err));
	if (a->update && ret) {
		fprintf(stderr, "thawd function: %s\n", err);
		return 1;
	}
	if (!a->update && ret != -ENOENT) {
		fprintf(stderr, "thawd function: %s already exists (update changes it)\n",
			a->fc.name);
		return 1;
	}
	a->fc.revision = a->update ? prev.revision + 1 : 1;
	thawd__pathf(tmp, sizeof(tmp), "%s/.%s.new-%d", top, a->fc.name,
		 (int)getpid());
	rm_tree(tmp);
	if (mkdir(tmp, 0755)) {
		fprintf(stderr, "thawd function: %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	thawd__pathf(img, sizeof(img), "%s/image.cpio.gz", tmp);
	ret = image__is_zip(a->image);
	if (ret < 0) {
		err__set(err, sizeof(err), ret, "%s: %s", a->image,
			 strerror(-ret));
	} else if (ret) {
		char code[PATH_MAX];

		a->zip.name = a->fc.name;
		a->zip.memory_mib = a->fc.memory_mib;
		thawd__pathf(code, sizeof(code), "%s/.code", tmp);
		ret = image__from_zip(a->image, code, img, &a->zip, err,
				      sizeof(err));
		rm_tree(code);
	} else if (a->zip.handler || a->zip.n_envs) {
		ret = err__set(err, sizeof(err), -EINVAL,
			       "--handler and --env are for a zip: %s is an image, whose settings mkfunc put inside",
			       a->image);
	} else {
		ret = copy_file(a->image, img, err, sizeof(err));
	}
	if (!ret)
		ret = take_snapshot(a, tmp);
	if (!ret)
		ret = write_fn(tmp, &a->fc, err, sizeof(err));
	if (ret) {
		if (ret != -EIO && ret != -ENOENT)
			fprintf(stderr, "thawd function: %s\n", err);
		fprintf(stderr, "thawd function: %s left as it was; the attempt is in %s\n",
			a->fc.name, tmp);
		return 1;
	}
	/*
	 * update swaps the folders in one step where the file system can
	 * (renameat2 RENAME_EXCHANGE), so that the function never looks
	 * deleted to a running agent; elsewhere, two renames.
	 */
	if (a->update && !renameat2(AT_FDCWD, tmp, AT_FDCWD, final,
				    RENAME_EXCHANGE)) {
		rm_tree(tmp);
	} else if (a->update && errno != EINVAL && errno != ENOSYS) {
		fprintf(stderr, "thawd function: %s: %s\n", final,
			strerror(errno));
		return 1;
	} else {
		if (a->update) {
			thawd__pathf(old, sizeof(old), "%s/.%s.old-%d", top,
				     a->fc.name, (int)getpid());
			if (rename(final, old)) {
				fprintf(stderr, "thawd function: %s: %s\n",
					final, strerror(errno));
				return 1;
			}
		}
		if (rename(tmp, final)) {
			fprintf(stderr, "thawd function: %s: %s\n", final,
				strerror(errno));
			if (a->update && rename(old, final))
				fprintf(stderr, "thawd function: and %s is now %s\n",
					final, old);
			return 1;
		}
		if (a->update)
			rm_tree(old);
	}
	printf("%s revision %llu\n", a->fc.name,
	       (unsigned long long)a->fc.revision);
	return 0;
}

/* --- versions and aliases --- */

static int versions_path(char *out, size_t len, const char *state_dir,
			 const char *name, const char *file)
{
	return thawd__pathf(out, len, "%s/versions/%s%s%s", state_dir, name,
			    file ? "/" : "", file ? file : "");
}

static int alias_path(char *out, size_t len, const char *state_dir,
		      const char *name, const char *alias)
{
	return thawd__pathf(out, len, "%s/versions/%s/aliases/%s.json",
			    state_dir, name, alias);
}

/* ALIAS's version (0: $LATEST) and description, from its file. */
static int read_alias(const char *state_dir, const char *name,
		      const char *alias, uint32_t *version, char *desc,
		      size_t dlen, char *err, size_t errlen)
{
	struct json_object *o, *v;
	char path[PATH_MAX];
	const char *ver;
	int ret = 0;

	if (alias_path(path, sizeof(path), state_dir, name, alias))
		return err__set(err, errlen, -ENAMETOOLONG, "path too long");
	if (access(path, F_OK))
		return err__set(err, errlen, -errno, "no alias `%s`: %s", alias,
				strerror(errno));
	o = json_object_from_file(path);
	if (!o)
		return err__set(err, errlen, -EIO, "%s: %s", path,
				json_util_get_last_err() ?: "cannot read");
	ver = json_object_object_get_ex(o, "function_version", &v) &&
	      json_object_is_type(v, json_type_string) ?
	      json_object_get_string(v) : "";
	if (!strcmp(ver, "$LATEST"))
		*version = 0;
	else if (parse_version(ver, version))
		ret = err__set(err, errlen, -EIO,
			       "%s: function_version: not $LATEST or a version",
			       path);
	if (!ret && desc) {
		desc[0] = '\0';
		if (json_object_object_get_ex(o, "description", &v) &&
		    json_object_is_type(v, json_type_string))
			snprintf(desc, dlen, "%s", json_object_get_string(v));
	}
	json_object_put(o);
	return ret;
}

int catalog__resolve(const char *state_dir, const char *name,
		     const char *qual, uint32_t *version, char *err,
		     size_t errlen)
{
	*version = 0;
	if (!qual[0] || !strcmp(qual, "$LATEST"))
		return 0;
	if (strspn(qual, "0123456789") == strlen(qual))
		return parse_version(qual, version) ?
		       err__set(err, errlen, -EINVAL,
				"`%.16s` is not a version number", qual) : 0;
	if (!alias_ok(qual))
		return err__set(err, errlen, -EINVAL,
				"`%.140s` is neither a version nor an alias name",
				qual);
	return read_alias(state_dir, name, qual, version, NULL, 0, err,
			  errlen);
}

/* NAME or NAME:QUALIFIER, as the command line takes them. */
static int split_qual(const char *arg, char *name, size_t nlen, char *qual,
		      size_t qlen)
{
	const char *colon = strchr(arg, ':');
	size_t n = colon ? (size_t)(colon - arg) : strlen(arg);

	if (n >= nlen || (colon && strlen(colon + 1) >= qlen))
		return -EINVAL;
	memcpy(name, arg, n);
	name[n] = '\0';
	snprintf(qual, qlen, "%s", colon ? colon + 1 : "");
	return catalog__name_ok(name) ? 0 : -EINVAL;
}

/* A hard link, or a copy where none can be made (another file system). */
static int link_or_copy(const char *from, const char *to, char *err,
			size_t errlen)
{
	if (!link(from, to))
		return 0;
	if (errno == EXDEV || errno == EPERM || errno == EMLINK)
		return copy_file(from, to, err, errlen);
	return err__set(err, errlen, -errno, "%s: %s", to, strerror(errno));
}

/* Hard links (or copies) in DST, made here, of SRC's files, folders walked. */
static int link_tree(const char *src, const char *dst, char *err,
		     size_t errlen)
{
	DIR *d = opendir(src);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return err__set(err, errlen, -errno, "%s: %s", src,
				strerror(errno));
	if (mkdir(dst, 0755) && errno != EEXIST)
		ret = err__set(err, errlen, -errno, "%s: %s", dst,
			       strerror(errno));
	while (!ret && (e = readdir(d))) {
		char from[PATH_MAX], to[PATH_MAX];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (thawd__pathf(from, sizeof(from), "%s/%s", src, e->d_name) ||
		    thawd__pathf(to, sizeof(to), "%s/%s", dst, e->d_name)) {
			ret = err__set(err, errlen, -ENAMETOOLONG,
				       "%s: path too long", src);
		} else if (lstat(from, &st)) {
			ret = err__set(err, errlen, -errno, "%s: %s", from,
				       strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			ret = link_tree(from, to, err, errlen);
		} else if (S_ISREG(st.st_mode)) {
			ret = link_or_copy(from, to, err, errlen);
		}
	}
	closedir(d);
	return ret;
}

/* The versions folder, locked against other publishers; the lock's fd. */
static int lock_versions(const char *state_dir, const char *name,
			 char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int fd, ret;

	if (versions_path(dir, sizeof(dir), state_dir, name, NULL) ||
	    versions_path(path, sizeof(path), state_dir, name, ".lock"))
		return err__set(err, errlen, -ENAMETOOLONG, "path too long");
	ret = mkdir_p(dir);
	if (ret)
		return err__set(err, errlen, ret, "%s: %s", dir, strerror(-ret));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		ret = err__set(err, errlen, -errno, "%s: %s", path,
			       strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

/* The last version number handed out for NAME; 0: none yet. */
static uint32_t last_version(const char *state_dir, const char *name)
{
	struct json_object *o;
	char path[PATH_MAX];
	int64_t n = 0;

	if (versions_path(path, sizeof(path), state_dir, name, "last") ||
	    access(path, F_OK))
		return 0;
	o = json_object_from_file(path);
	if (o && json_object_is_type(o, json_type_int))
		n = json_object_get_int64(o);
	json_object_put(o);
	return n > 0 && n <= VERSION_MAX ? (uint32_t)n : 0;
}

/*
 * 'thawd function publish NAME': version N+1 from $LATEST as it is now,
 * or the newest version again if it was published from this revision
 * (as Lambda returns the last version when nothing changed).
 */
static int publish(const char *state_dir, const char *name,
		   const char *desc, int provisioned)
{
	char vdir[PATH_MAX], latest[PATH_MAX], tmp[PATH_MAX], final[PATH_MAX];
	char from[PATH_MAX], to[PATH_MAX], err[512], why[256];
	struct fn_config fc, again, newest;
	uint32_t last, n;
	int lock, ret = -EAGAIN;

	if (catalog__read(state_dir, name, 0, &fc, NULL, err, sizeof(err))) {
		fprintf(stderr, "thawd function publish: %s\n", err);
		return 1;
	}
	lock = lock_versions(state_dir, name, err, sizeof(err));
	if (lock < 0) {
		fprintf(stderr, "thawd function publish: %s\n", err);
		return 1;
	}
	last = last_version(state_dir, name);
	n = last + 1;
	if (last && !catalog__read(state_dir, name, last, &newest, NULL, err,
				   sizeof(err)) &&
	    newest.revision == fc.revision && !desc && provisioned < 0) {
		printf("%s version %u (revision %llu, unchanged)\n", name, last,
		       (unsigned long long)fc.revision);
		close(lock);
		return 0;
	}
	versions_path(vdir, sizeof(vdir), state_dir, name, NULL);
	catalog__path(latest, sizeof(latest), state_dir, name, NULL);
	thawd__pathf(tmp, sizeof(tmp), "%s/.%u.new-%d", vdir, n, (int)getpid());
	thawd__pathf(final, sizeof(final), "%s/%u", vdir, n);
	/* An update may swap $LATEST's folder while we link: then again. */
	for (int i = 0; i < 3 && ret == -EAGAIN; i++) {
		rm_tree(tmp);
		ret = catalog__read(state_dir, name, 0, &fc, NULL, err,
				    sizeof(err));
		if (!ret && mkdir(tmp, 0755))
			ret = err__set(err, sizeof(err), -errno, "%s: %s",
				       tmp, strerror(errno));
		thawd__pathf(from, sizeof(from), "%s/image.cpio.gz", latest);
		thawd__pathf(to, sizeof(to), "%s/image.cpio.gz", tmp);
		if (!ret)
			ret = link_or_copy(from, to, err, sizeof(err));
		thawd__pathf(from, sizeof(from), "%s/snapshot", latest);
		thawd__pathf(to, sizeof(to), "%s/snapshot", tmp);
		if (!ret)
			ret = link_tree(from, to, err, sizeof(err));
		if (!catalog__read(state_dir, name, 0, &again, NULL, why,
				   sizeof(why)) && again.revision != fc.revision)
			ret = -EAGAIN;
	}
	fc.version = n;
	if (desc)
		snprintf(fc.description, sizeof(fc.description), "%s", desc);
	fc.provisioned = provisioned < 0 ? 0 : (uint32_t)provisioned;
	if (!ret)
		ret = fn_validate(&fc, err, sizeof(err));
	if (!ret)
		ret = write_fn(tmp, &fc, err, sizeof(err));
	if (!ret) {
		/* The number first: a crash before the rename skips it. */
		struct json_object *o = json_object_new_int64(n);

		ret = write_json(vdir, "last", o, err, sizeof(err));
		json_object_put(o);
	}
	if (!ret && rename(tmp, final))
		ret = err__set(err, sizeof(err), -errno, "%s: %s", final,
			       strerror(errno));
	close(lock);
	if (ret) {
		fprintf(stderr, "thawd function publish: %s\n",
			ret == -EAGAIN ? "$LATEST kept changing" : err);
		rm_tree(tmp);
		return 1;
	}
	printf("%s version %u (revision %llu)\n", name, n,
	       (unsigned long long)fc.revision);
	return 0;
}

/* 'thawd function alias NAME ALIAS VERSION': make or move an alias. */
static int alias_set(const char *state_dir, const char *name,
		     const char *alias, const char *ver, const char *desc)
{
	char dir[PATH_MAX], file[THAWD_ALIAS_MAX + 8], err[512];
	struct json_object *o;
	struct fn_config fc;
	uint32_t v = 0;
	int ret;

	if (!alias_ok(alias)) {
		fprintf(stderr, "thawd function alias: `%s` is not an alias name (1-128 of A-Z a-z 0-9 - _, not only digits)\n",
			alias);
		return 2;
	}
	if (strcmp(ver, "$LATEST") && parse_version(ver, &v)) {
		fprintf(stderr, "thawd function alias: `%s` is not $LATEST or a version number\n",
			ver);
		return 2;
	}
	ret = catalog__read(state_dir, name, v, &fc, NULL, err, sizeof(err));
	if (ret == -ENOENT && v)
		snprintf(err, sizeof(err), "%s has no version %u ('thawd function versions %s' lists them)",
			 name, v, name);
	if (ret) {
		fprintf(stderr, "thawd function alias: %s\n", err);
		return 1;
	}
	ret = lock_versions(state_dir, name, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "thawd function alias: %s\n", err);
		return 1;
	}
	close(ret);
	versions_path(dir, sizeof(dir), state_dir, name, "aliases");
	ret = mkdir_p(dir);
	snprintf(file, sizeof(file), "%s.json", alias);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(alias));
	json_object_object_add(o, "function_version",
			       json_object_new_string(ver));
	if (desc)
		json_object_object_add(o, "description",
				       json_object_new_string(desc));
	if (ret)
		err__set(err, sizeof(err), ret, "%s: %s", dir, strerror(-ret));
	else
		ret = write_json(dir, file, o, err, sizeof(err));
	json_object_put(o);
	if (ret) {
		fprintf(stderr, "thawd function alias: %s\n", err);
		return 1;
	}
	printf("%s:%s -> %s\n", name, alias, ver);
	return 0;
}

static int alias_delete(const char *state_dir, const char *name,
			const char *alias)
{
	char path[PATH_MAX];

	if (!alias_ok(alias) ||
	    alias_path(path, sizeof(path), state_dir, name, alias)) {
		fprintf(stderr, "thawd function alias: `%s` is not an alias name\n",
			alias);
		return 2;
	}
	if (unlink(path)) {
		fprintf(stderr, "thawd function alias: %s:%s: %s\n", name, alias,
			errno == ENOENT ? "no such alias" : strerror(errno));
		return 1;
	}
	return 0;
}

/* Call @fn for every alias of NAME (sorted); stops at a non-zero return. */
static int for_each_alias(const char *state_dir, const char *name,
			  int (*fn)(const char *alias, uint32_t version,
				    const char *desc, void *arg),
			  void *arg)
{
	char dir[PATH_MAX], alias[THAWD_ALIAS_MAX + 1], desc[256], err[512];
	struct dirent **ents;
	int n, ret = 0;

	versions_path(dir, sizeof(dir), state_dir, name, "aliases");
	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(ents[i]->d_name);
		uint32_t v;

		if (!ret && len > 5 && len - 5 <= THAWD_ALIAS_MAX &&
		    !strcmp(ents[i]->d_name + len - 5, ".json")) {
			snprintf(alias, sizeof(alias), "%.*s", (int)(len - 5),
				 ents[i]->d_name);
			if (alias_ok(alias) &&
			    !read_alias(state_dir, name, alias, &v, desc,
					sizeof(desc), err, sizeof(err)))
				ret = fn(alias, v, desc, arg);
		}
		free(ents[i]);
	}
	free(ents);
	return ret;
}

static int alias_names(const char *alias, uint32_t version,
		       const char *desc, void *arg)
{
	(void)desc;
	if (version != *(uint32_t *)arg)
		return 0;
	fprintf(stderr, "thawd function delete: alias `%s` points at version %u: move or delete it first\n",
		alias, version);
	return 1;
}

static int alias_row(const char *alias, uint32_t version, const char *desc,
		     void *arg)
{
	char v[16];

	(void)arg;
	snprintf(v, sizeof(v), version ? "%u" : "$LATEST", version);
	printf("alias    %-24s -> %-8s %s\n", alias, v, desc);
	return 0;
}

/* 'thawd function versions NAME': $LATEST, the versions, the aliases. */
static int versions_list(const char *state_dir, const char *name)
{
	char dir[PATH_MAX], err[512];
	struct dirent **ents;
	struct fn_config fc;
	int n;

	if (catalog__read(state_dir, name, 0, &fc, NULL, err, sizeof(err))) {
		fprintf(stderr, "thawd function versions: %s\n", err);
		return 1;
	}
	printf("version  %-24s revision %llu  %s\n", "$LATEST",
	       (unsigned long long)fc.revision, fc.description);
	versions_path(dir, sizeof(dir), state_dir, name, NULL);
	n = scandir(dir, &ents, NULL, versionsort);
	for (int i = 0; i < n; i++) {
		uint32_t v;

		if (!parse_version(ents[i]->d_name, &v) &&
		    !catalog__read(state_dir, name, v, &fc, NULL, err,
				   sizeof(err)))
			printf("version  %-24u revision %llu  %s\n", v,
			       (unsigned long long)fc.revision,
			       fc.description);
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	for_each_alias(state_dir, name, alias_row, NULL);
	return 0;
}

/* Out of sight at once (a rename), then removed. */
static int remove_dir(const char *dir, const char *parent, const char *what)
{
	char gone[PATH_MAX];

	if (thawd__pathf(gone, sizeof(gone), "%s/.%s.deleted-%d", parent,
			 what, (int)getpid()))
		return -ENAMETOOLONG;
	if (rename(dir, gone))
		return errno == ENOENT ? 0 : -errno;
	return rm_tree(gone);
}

/* 'thawd function delete NAME[:VERSION]' */
static int delete(const char *state_dir, const char *arg)
{
	char name[THAWD_NAME_MAX + 1], qual[THAWD_QUAL_MAX], err[512];
	char dir[PATH_MAX], parent[PATH_MAX];
	struct fn_config fc;
	uint32_t v = 0;
	int ret, lock;

	if (split_qual(arg, name, sizeof(name), qual, sizeof(qual))) {
		fprintf(stderr, "thawd function delete: `%s` is not NAME or NAME:VERSION\n",
			arg);
		return 2;
	}
	if (qual[0] && (!strcmp(qual, "$LATEST") || parse_version(qual, &v))) {
		fprintf(stderr, "thawd function delete: %s: a version number, or no qualifier to delete the whole function (aliases: thawd function alias NAME ALIAS --delete)\n",
			arg);
		return 2;
	}
	if (catalog__read(state_dir, name, v, &fc, NULL, err, sizeof(err))) {
		fprintf(stderr, "thawd function delete: %s\n", err);
		return 1;
	}
	if (v) {
		lock = lock_versions(state_dir, name, err, sizeof(err));
		if (lock < 0) {
			fprintf(stderr, "thawd function delete: %s\n", err);
			return 1;
		}
		ret = for_each_alias(state_dir, name, alias_names, &v);
		versions_path(parent, sizeof(parent), state_dir, name, NULL);
		catalog__dir(dir, sizeof(dir), state_dir, name, v);
		if (!ret)
			ret = remove_dir(dir, parent, qual);
		close(lock);
		if (ret < 0)
			fprintf(stderr, "thawd function delete: %s: %s\n", dir,
				strerror(-ret));
		return ret ? 1 : 0;
	}
	/* $LATEST first: the agent sees the function gone at once. */
	catalog__path(dir, sizeof(dir), state_dir, name, NULL);
	snprintf(parent, sizeof(parent), "%s/functions", state_dir);
	ret = remove_dir(dir, parent, name);
	if (!ret) {
		versions_path(dir, sizeof(dir), state_dir, name, NULL);
		snprintf(parent, sizeof(parent), "%s/versions", state_dir);
		ret = remove_dir(dir, parent, name);
	}
	if (ret)
		fprintf(stderr, "thawd function delete: %s: %s\n", dir,
			strerror(-ret));
	return ret ? 1 : 0;
}

static void list_one(const struct fn_config *fc)
{
	char reserved[16];

	if (fc->reserved < 0)
		snprintf(reserved, sizeof(reserved), "-");
	else
		snprintf(reserved, sizeof(reserved), "%d", fc->reserved);
	printf("%-24s %8llu %6u %5u %7u %8s %11u %5s\n", fc->name,
	       (unsigned long long)fc->revision, fc->memory_mib, fc->vcpus,
	       fc->timeout_s, reserved, fc->provisioned,
	       fc->fresh ? "yes" : "no");
}

static int list(const char *state_dir)
{
	char top[PATH_MAX], err[512];
	struct dirent **ents;
	struct fn_config fc;
	int n;

	snprintf(top, sizeof(top), "%s/functions", state_dir);
	n = scandir(top, &ents, NULL, alphasort);
	if (n < 0) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "thawd function list: %s: %s\n", top,
			strerror(errno));
		return 1;
	}
	printf("%-24s %8s %6s %5s %7s %8s %11s %5s\n", "NAME", "REVISION",
	       "MEMORY", "VCPUS", "TIMEOUT", "RESERVED", "PROVISIONED",
	       "FRESH");
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			if (!catalog__read(state_dir, ents[i]->d_name, 0, &fc,
					   NULL, err, sizeof(err)))
				list_one(&fc);
			else
				fprintf(stderr, "thawd function list: %s\n",
					err);
		}
		free(ents[i]);
	}
	free(ents);
	return 0;
}

static void function_usage(FILE *f)
{
	fprintf(f,
		"usage: thawd function create NAME IMAGE.cpio.gz|CODE.zip [options]\n"
		"       thawd function update NAME IMAGE.cpio.gz|CODE.zip [options]\n"
		"       thawd function delete NAME[:VERSION]\n"
		"       thawd function show NAME[:QUALIFIER]\n"
		"       thawd function list\n"
		"       thawd function publish NAME [--description TEXT] [--provisioned N]\n"
		"       thawd function alias NAME ALIAS VERSION [--description TEXT]\n"
		"       thawd function alias NAME ALIAS --delete\n"
		"       thawd function versions NAME\n"
		"Manage the functions of the catalogue (STATE/functions/).  create\n"
		"boots IMAGE (what mkfunc makes, or one made with mkfunc from a zip\n"
		"with an executable bootstrap at its top, unpacked at /var/task),\n"
		"waits until its runtime asks for\n"
		"its first invocation, snapshots it there and records its working\n"
		"set with one invocation of --payload.  That is $LATEST; publish\n"
		"freezes it as version N (1, 2, ...), which an alias can name, and\n"
		"an invocation's qualifier picks ($LATEST, N or an alias).\n"
		"  --config FILE         thawd's configuration (its state_dir)\n"
		"  --state-dir DIR       instead of the configuration's\n"
		"  --memory MIB          guest RAM (default 128)\n"
		"  --vcpus N             (default 1)\n"
		"  --timeout SEC         an invocation's limit, 1..900 (default 3)\n"
		"  --reserved N          reserved concurrency (default: none)\n"
		"  --provisioned N       VMs kept restored ahead of traffic (publish:\n"
		"                        of the new version; default 0)\n"
		"  --fresh               a pristine VM for every invocation (rewind)\n"
		"  --backend B           File, Uffd or Thaw (default: the agent's)\n"
		"  --description TEXT\n"
		"  --handler H           a zip's _HANDLER\n"
		"  --env NAME=VALUE      a zip's environment variable; repeatable\n"
		"  --payload JSON        the working-set recording's event (default {})\n"
		"  --boot-args ARGS      added to the guest kernel's command line\n"
		"  --boot-timeout SEC    for the first boot (default 300)\n"
		"A running thawd sees the change at the function's next invocation\n"
		"and retires the VMs of an older revision.\n");
}

int thawd__function_cmd(int argc, char **argv)
{
	enum { O_CONFIG = 256, O_STATE, O_MEMORY, O_VCPUS, O_TIMEOUT,
	       O_RESERVED, O_PROVISIONED, O_FRESH, O_BACKEND, O_DESC,
	       O_PAYLOAD, O_BOOT_ARGS, O_BOOT_TIMEOUT, O_DELETE, O_HANDLER,
	       O_ENV };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, O_CONFIG },
		{ "state-dir", required_argument, NULL, O_STATE },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "vcpus", required_argument, NULL, O_VCPUS },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "reserved", required_argument, NULL, O_RESERVED },
		{ "provisioned", required_argument, NULL, O_PROVISIONED },
		{ "fresh", no_argument, NULL, O_FRESH },
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "description", required_argument, NULL, O_DESC },
		{ "payload", required_argument, NULL, O_PAYLOAD },
		{ "boot-args", required_argument, NULL, O_BOOT_ARGS },
		{ "boot-timeout", required_argument, NULL, O_BOOT_TIMEOUT },
		{ "delete", no_argument, NULL, O_DELETE },
		{ "handler", required_argument, NULL, O_HANDLER },
		{ "env", required_argument, NULL, O_ENV },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct create_args a = { .payload = "{}", .boot_timeout_s = 300 };
	const char *config = NULL, *state = NULL, *cmd, *desc = NULL;
	bool del = false, provisioned_set = false;
	struct thawd_config cfg;
	char *envs[256];
	char err[512], *end;
	unsigned long v;
	int c, rc = 1;

	fn_defaults(&a.fc);
	if (argc < 2) {
		function_usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		function_usage(stdout);
		return 0;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		v = 0;
		if (c >= O_MEMORY && c <= O_PROVISIONED) {
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || v > 100000) {
				fprintf(stderr, "thawd function: bad number '%s'\n",
					optarg);
				return 2;
			}
		}
		switch (c) {
		case O_CONFIG: config = optarg; break;
		case O_STATE: state = optarg; break;
		case O_MEMORY: a.fc.memory_mib = v; break;
		case O_VCPUS: a.fc.vcpus = v; break;
		case O_TIMEOUT: a.fc.timeout_s = v; break;
		case O_RESERVED: a.fc.reserved = (int32_t)v; break;
		case O_PROVISIONED:
			a.fc.provisioned = v;
			provisioned_set = true;
			break;
		case O_FRESH: a.fc.fresh = true; break;
		case O_BACKEND: {
			enum clone_backend b;

			if (clone__parse_backend(optarg, &b)) {
				fprintf(stderr, "thawd function: --backend is File, Uffd or Thaw\n");
				return 2;
			}
			a.fc.backend = (int)b;
			break;
		}
		case O_DESC:
			if (strlen(optarg) >= sizeof(a.fc.description)) {
				fprintf(stderr, "thawd function: --description: at most %zu bytes\n",
					sizeof(a.fc.description) - 1);
				return 2;
			}
			snprintf(a.fc.description, sizeof(a.fc.description),
				 "%s", optarg);
			desc = optarg;
			break;
		case O_DELETE: del = true; break;
		case O_HANDLER: a.zip.handler = optarg; break;
		case O_ENV:
			/* mkfunc judges the name and value. */
			if (a.zip.n_envs == sizeof(envs) / sizeof(envs[0])) {
				fprintf(stderr, "thawd function: at most %zu --env\n",
					sizeof(envs) / sizeof(envs[0]));
				return 2;
			}
			envs[a.zip.n_envs++] = optarg;
			a.zip.envs = envs;
			break;
		case O_PAYLOAD: a.payload = optarg; break;
		case O_BOOT_ARGS: a.boot_args = optarg; break;
		case O_BOOT_TIMEOUT:
			a.boot_timeout_s = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'h':
			function_usage(stdout);
			return 0;
		default:
			function_usage(stderr);
			return 2;
		}
	}
	if (config__load(&cfg, config, err, sizeof(err))) {
		fprintf(stderr, "thawd function: %s\n", err);
		return 1;
	}
	a.state_dir = state ? state : cfg.state_dir;
	a.thawctl = cfg.thawctl;
	if (!strcmp(cmd, "list") && optind == argc) {
		rc = list(a.state_dir);
	} else if ((!strcmp(cmd, "create") || !strcmp(cmd, "update")) &&
		   optind + 2 == argc) {
		struct json_object *p = json_tokener_parse(a.payload);
		char why[256];

		snprintf(a.fc.name, sizeof(a.fc.name), "%s", argv[optind]);
		a.image = argv[optind + 1];
		a.update = !strcmp(cmd, "update");
		/* The same checks as a hand-written function.json gets. */
		rc = 2;
		if (!catalog__name_ok(argv[optind]))
			fprintf(stderr, "thawd function: `%s` is not a function name (1-64 of A-Z a-z 0-9 - _)\n",
				argv[optind]);
		else if (!p)
			fprintf(stderr, "thawd function: --payload is not JSON\n");
		else if (fn_validate(&a.fc, why, sizeof(why)))
			fprintf(stderr, "thawd function: %s\n", why);
		else
			rc = create(&a);
		json_object_put(p);
	} else if (!strcmp(cmd, "delete") && optind + 1 == argc) {
		rc = delete(a.state_dir, argv[optind]);
	} else if (!strcmp(cmd, "show") && optind + 1 == argc) {
		char name[THAWD_NAME_MAX + 1], qual[THAWD_QUAL_MAX];
		struct fn_config fc;
		uint32_t ver = 0;

		if (split_qual(argv[optind], name, sizeof(name), qual,
			       sizeof(qual))) {
			fprintf(stderr, "thawd function show: `%s` is not NAME or NAME:QUALIFIER\n",
				argv[optind]);
			rc = 2;
		} else if (catalog__resolve(a.state_dir, name, qual, &ver, err,
					    sizeof(err)) ||
			   catalog__read(a.state_dir, name, ver, &fc, NULL, err,
					 sizeof(err))) {
			fprintf(stderr, "thawd function show: %s\n", err);
		} else {
			struct json_object *o = fn_to_json(&fc);

			printf("%s\n", json_object_to_json_string_ext(o,
				JSON_C_TO_STRING_PRETTY |
				JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(o);
			rc = 0;
		}
	} else if (!strcmp(cmd, "publish") && optind + 1 == argc) {
		rc = publish(a.state_dir, argv[optind], desc,
			     provisioned_set ? (int)a.fc.provisioned : -1);
	} else if (!strcmp(cmd, "alias") && optind + 2 + !del == argc) {
		if (del)
			rc = alias_delete(a.state_dir, argv[optind],
					  argv[optind + 1]);
		else
			rc = alias_set(a.state_dir, argv[optind],
				       argv[optind + 1], argv[optind + 2],
				       desc);
	} else if (!strcmp(cmd, "versions") && optind + 1 == argc) {
		rc = versions_list(a.state_dir, argv[optind]);
	} else {
		function_usage(stderr);
		rc = 2;
	}
	config__free(&cfg);
	return rc;
}
