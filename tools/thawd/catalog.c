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
 * one.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "tools/lib/proc.h"
#include "tools/thawd/thawd.h"

#define FUNCTION_JSON	"function.json"
#define TIMEOUT_MAX_S	900	/* Lambda's */

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
	return fn_validate(fc, err, errlen);
}

static struct json_object *fn_to_json(const struct fn_config *fc)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(fc->name));
	json_object_object_add(o, "revision",
			       json_object_new_int64((int64_t)fc->revision));
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
		  struct fn_config *fc, struct timespec *mtime, char *err,
		  size_t errlen)
{
	struct json_object *o;
	char path[PATH_MAX], why[256];
	struct stat st;
	int ret;

	if (!catalog__name_ok(name))
		return err__set(err, errlen, -EINVAL, "`%.80s` is not a function name",
				name);
	if (catalog__path(path, sizeof(path), state_dir, name, FUNCTION_JSON))
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
	if (mtime)
		*mtime = st.st_mtim;
	return 0;
}

/* Write DIR/function.json durably (a temporary file, fsync, rename). */
static int write_fn(const char *dir, const struct fn_config *fc, char *err,
		    size_t errlen)
{
	struct json_object *o = fn_to_json(fc);
	char tmp[PATH_MAX], path[PATH_MAX];
	const char *text;
	int fd, ret = 0;

	thawd__pathf(path, sizeof(path), "%s/" FUNCTION_JSON, dir);
	thawd__pathf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, FUNCTION_JSON);
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
	ret = catalog__read(a->state_dir, a->fc.name, &prev, NULL, err,
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
	ret = copy_file(a->image, img, err, sizeof(err));
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
			if (!catalog__read(state_dir, ents[i]->d_name, &fc,
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
		"usage: thawd function create NAME IMAGE.cpio.gz [options]\n"
		"       thawd function update NAME IMAGE.cpio.gz [options]\n"
		"       thawd function delete NAME\n"
		"       thawd function show NAME\n"
		"       thawd function list\n"
		"Manage the functions of the catalogue (STATE/functions/).  create\n"
		"boots IMAGE (what mkfunc makes), waits until its runtime asks for\n"
		"its first invocation, snapshots it there and records its working\n"
		"set with one invocation of --payload.\n"
		"  --config FILE         thawd's configuration (its state_dir)\n"
		"  --state-dir DIR       instead of the configuration's\n"
		"  --memory MIB          guest RAM (default 128)\n"
		"  --vcpus N             (default 1)\n"
		"  --timeout SEC         an invocation's limit, 1..900 (default 3)\n"
		"  --reserved N          reserved concurrency (default: none)\n"
		"  --provisioned N       VMs kept restored ahead of traffic\n"
		"  --fresh               a pristine VM for every invocation (rewind)\n"
		"  --backend B           File, Uffd or Thaw (default: the agent's)\n"
		"  --description TEXT\n"
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
	       O_PAYLOAD, O_BOOT_ARGS, O_BOOT_TIMEOUT };
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
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct create_args a = { .payload = "{}", .boot_timeout_s = 300 };
	const char *config = NULL, *state = NULL, *cmd;
	struct thawd_config cfg;
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
		case O_PROVISIONED: a.fc.provisioned = v; break;
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
			snprintf(a.fc.description, sizeof(a.fc.description),
				 "%s", optarg);
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
		char dir[PATH_MAX], gone[PATH_MAX];
		struct fn_config fc;

		if (catalog__read(a.state_dir, argv[optind], &fc, NULL, err,
				  sizeof(err))) {
			fprintf(stderr, "thawd function delete: %s\n", err);
		} else {
			catalog__path(dir, sizeof(dir), a.state_dir,
				      argv[optind], NULL);
			snprintf(gone, sizeof(gone), "%s/functions/.%s.deleted-%d",
				 a.state_dir, argv[optind], (int)getpid());
			/* Out of sight at once, then removed. */
			if (rename(dir, gone) || rm_tree(gone))
				fprintf(stderr, "thawd function delete: %s: %s\n",
					dir, strerror(errno));
			else
				rc = 0;
		}
	} else if (!strcmp(cmd, "show") && optind + 1 == argc) {
		struct fn_config fc;

		if (catalog__read(a.state_dir, argv[optind], &fc, NULL, err,
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
	} else {
		function_usage(stderr);
		rc = 2;
	}
	config__free(&cfg);
	return rc;
}
