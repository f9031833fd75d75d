// SPDX-License-Identifier: GPL-2.0
/*
 * thawd's two kinds of settings files, as untrusted input: its
 * configuration (tools/thawd/config.c) and a function's function.json
 * (tools/thawd/catalog.c).  Each bad file is refused with a message that
 * names the field, and a good one gives the values it says.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tools/thawd/thawd.h"

/* catalog.c and config.c need nothing of the agent's state but this. */
struct thawd thawd;

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/thawd-unit.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Load @text as a configuration: the return, the message in @err. */
static int load(const char *text, char *err, size_t len)
{
	struct thawd_config c;
	char path[128];
	int ret;

	snprintf(path, sizeof(path), "%s/cfg.json", dir);
	put_file(path, text);
	err[0] = '\0';
	ret = config__load(&c, path, err, len);
	config__free(&c);
	return ret;
}

static void config_defaults(void **state)
{
	struct thawd_config c;
	char err[256];

	(void)state;
	assert_int_equal(config__load(&c, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.listen, "127.0.0.1:9001");
	assert_string_equal(c.state_dir, "/var/lib/thawd");
	assert_int_equal(c.max_concurrency, 64);
	assert_true(c.backend_auto);
	assert_int_equal(c.n_keys, 0);
	config__free(&c);
}

static void config_good(void **state)
{
	struct thawd_config c;
	char err[256], path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/cfg.json", dir);
	put_file(path,
		 "{\"listen\": \"[::1]:8080\", \"unix_socket\": \"/run/t.sock\","
		 " \"max_concurrency\": 5, \"max_vms\": 7, \"cid_base\": 100,"
		 " \"cid_count\": 10, \"backend\": \"Thaw\","
		 " \"async\": {\"workers\": 3, \"retries\": 1, \"backoff_ms\": 10},"
		 " \"programs\": {\"thawvm\": \"/x/thawvm\"},"
		 " \"credentials\": [{\"access_key_id\": \"A\", \"secret_access_key\": \"S\"},"
		 " {\"access_key_id\": \"B\", \"secret_access_key\": \"T\"}]}");
	assert_int_equal(config__load(&c, path, err, sizeof(err)), 0);
	assert_string_equal(c.listen, "[::1]:8080");
	assert_string_equal(c.unix_socket, "/run/t.sock");
	assert_int_equal(c.max_concurrency, 5);
	assert_int_equal(c.max_vms, 7);
	assert_false(c.backend_auto);
	assert_int_equal(c.backend, CLONE_THAW);
	assert_int_equal(c.async_workers, 3);
	assert_int_equal(c.async_retries, 1);
	assert_string_equal(c.thawvm, "/x/thawvm");
	assert_int_equal(c.n_keys, 2);
	assert_string_equal(c.keys[1].secret_access_key, "T");
	config__free(&c);
}

static void config_bad(void **state)
{
	static const struct {
		const char *text, *says;
	} cases[] = {
		{ "{", "cfg.json" },
		{ "[1]", "not a JSON object" },
		{ "{\"listn\": \"x:1\"}", "unknown field `listn`" },
		{ "{\"max_vms\": \"many\"}", "max_vms: not an integer" },
		{ "{\"max_concurrency\": 0}", "max_concurrency: 0 is outside" },
		{ "{\"max_concurrency\": 1e9}", "max_concurrency: not an integer" },
		{ "{\"listen\": \"localhost\"}", "not HOST:PORT" },
		{ "{\"listen\": \"h:0\"}", "no port" },
		{ "{\"listen\": \"h:99999\"}", "no port" },
		{ "{\"listen\": \"\"}", "nothing to serve on" },
		{ "{\"account\": \"12345\"}", "account" },
		{ "{\"account\": \"12345678901x\"}", "account" },
		{ "{\"max_vms\": 20, \"cid_count\": 10}", "every VM needs its own CID" },
		{ "{\"cid_base\": 4294967000, \"cid_count\": 1000}", "cid_base" },
		{ "{\"cid_base\": 2}", "cid_base: 2 is outside" },
		{ "{\"backend\": \"Floppy\"}", "backend" },
		{ "{\"backend\": 1}", "backend: not a string" },
		{ "{\"async\": {\"retries\": 3}}", "async.retries" },
		{ "{\"async\": {\"lanes\": 3}}", "async: unknown field `lanes`" },
		{ "{\"async\": []}", "async: not an object" },
		{ "{\"programs\": {\"thawvm\": \"\"}}", "programs.thawvm: empty" },
		{ "{\"credentials\": {}}", "credentials: not an array" },
		{ "{\"credentials\": [{\"access_key_id\": \"A\"}]}",
		  "needs access_key_id and secret_access_key" },
		{ "{\"credentials\": [{\"access_key_id\": \"A\", \"secret_access_key\": \"S\", \"x\": 1}]}",
		  "unknown field `x`" },
		{ "{\"credentials\": [7]}", "credentials[0]: not an object" },
		{ "{\"run_dir\": \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		  "run_dir: at most 64 bytes" },
		{ "{\"state_dir\": 5}", "state_dir: not a string" },
	};
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = load(cases[i].text, err, sizeof(err));

		if (!ret || !strstr(err, cases[i].says))
			fail_msg("case %zu (%s): ret %d, '%s' lacks '%s'", i,
				 cases[i].text, ret, err, cases[i].says);
	}
}

/* Write STATE/functions/NAME/function.json. */
static void put_fn(const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/functions", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/functions/%s", dir, name);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/functions/%s/function.json", dir,
		 name);
	put_file(path, text);
}

static void function_good(void **state)
{
	struct fn_config fc;
	char err[256];

	(void)state;
	put_fn("echo", "{\"name\": \"echo\", \"revision\": 4, \"memory_mib\": 256,"
		       " \"timeout_s\": 900, \"reserved_concurrency\": 3,"
		       " \"provisioned_concurrency\": 2, \"fresh_per_invocation\": true,"
		       " \"backend\": \"Uffd\", \"description\": \"d\"}");
	assert_int_equal(catalog__read(dir, "echo", 0, &fc, NULL, err, sizeof(err)), 0);
	assert_int_equal(fc.revision, 4);
	assert_int_equal(fc.memory_mib, 256);
	assert_int_equal(fc.timeout_s, 900);
	assert_int_equal(fc.reserved, 3);
	assert_int_equal(fc.provisioned, 2);
	assert_true(fc.fresh);
	assert_int_equal(fc.backend, CLONE_UFFD);
	put_fn("plain", "{\"name\": \"plain\", \"reserved_concurrency\": null}");
	assert_int_equal(catalog__read(dir, "plain", 0, &fc, NULL, err, sizeof(err)), 0);
	assert_int_equal(fc.reserved, -1);
	assert_int_equal(fc.timeout_s, 3);
	assert_int_equal(fc.backend, -1);
}

static void function_bad(void **state)
{
	static const struct {
		const char *text, *says;
	} cases[] = {
		{ "{\"name\": \"f\", \"timeout_s\": 901}", "timeout_s: 901 is outside" },
		{ "{\"name\": \"f\", \"timeout_s\": 0}", "timeout_s: 0 is outside" },
		{ "{\"name\": \"f\", \"memory_mib\": 8}", "memory_mib" },
		{ "{\"name\": \"f\", \"vcpus\": 33}", "vcpus" },
		{ "{\"name\": \"f\", \"handler\": \"x\"}", "unknown field `handler`" },
		{ "{\"name\": \"g\"}", "names `g`" },
		{ "{\"name\": \"../f\"}", "not a function name" },
		{ "{\"name\": 5}", "not a function name" },
		{ "{}", "name: missing" },
		{ "{\"name\": \"f\", \"reserved_concurrency\": 1, \"provisioned_concurrency\": 2}",
		  "more than reserved" },
		{ "{\"name\": \"f\", \"fresh_per_invocation\": 1}", "not a boolean" },
		{ "{\"name\": \"f\", \"backend\": \"Disk\"}", "backend" },
		{ "{\"name\": \"f\", \"revision\": 0}", "revision" },
		{ "{\"name\": \"f\", \"description\": 7}", "description" },
		{ "{\"name\": \"f\", \"version\": 0}", "version: not a version" },
		{ "{\"name\": \"f\", \"version\": \"1\"}", "version: not a version" },
		{ "{\"name\": \"f\", \"version\": 3}", "is version 3, not 0" },
		{ "not json", "function.json" },
	};
	struct fn_config fc;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret;

		put_fn("f", cases[i].text);
		err[0] = '\0';
		ret = catalog__read(dir, "f", 0, &fc, NULL, err, sizeof(err));
		if (!ret || !strstr(err, cases[i].says))
			fail_msg("case %zu (%s): ret %d, '%s' lacks '%s'", i,
				 cases[i].text, ret, err, cases[i].says);
	}
	assert_int_equal(catalog__read(dir, "absent", 0, &fc, NULL, err,
				       sizeof(err)), -ENOENT);
	assert_int_equal(catalog__read(dir, "a/b", 0, &fc, NULL, err,
				       sizeof(err)), -EINVAL);
	assert_int_equal(catalog__read(dir, "", 0, &fc, NULL, err,
				       sizeof(err)), -EINVAL);
}

/* Write STATE/versions/NAME/SUB/FILE. */
static void put_version_file(const char *name, const char *sub,
			     const char *file, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/versions", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/versions/%s", dir, name);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/versions/%s/%s", dir, name, sub);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/versions/%s/%s/%s", dir, name, sub,
		 file);
	put_file(path, text);
}

/* Qualifiers: $LATEST, version numbers, aliases, and what is none. */
static void function_qualifiers(void **state)
{
	static const char *const bad[] = {
		"0", "01", "1234567890", "a b", "x:y", "-1x/", "$LATEST2",
	};
	struct fn_config fc;
	char err[512];
	uint32_t v = 99;

	(void)state;
	put_fn("q", "{\"name\": \"q\", \"revision\": 2}");
	assert_int_equal(catalog__resolve(dir, "q", "", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(catalog__resolve(dir, "q", "$LATEST", &v, err,
					  sizeof(err)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(catalog__resolve(dir, "q", "17", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 17);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (catalog__resolve(dir, "q", bad[i], &v, err, sizeof(err)) !=
		    -EINVAL)
			fail_msg("qualifier '%s' was taken", bad[i]);
	/* An alias: its file names the version. */
	assert_int_equal(catalog__resolve(dir, "q", "live", &v, err,
					  sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no alias `live`"));
	put_version_file("q", "aliases", "live.json",
			 "{\"name\": \"live\", \"function_version\": \"3\"}");
	assert_int_equal(catalog__resolve(dir, "q", "live", &v, err,
					  sizeof(err)), 0);
	assert_int_equal(v, 3);
	put_version_file("q", "aliases", "edge.json",
			 "{\"name\": \"edge\", \"function_version\": \"$LATEST\"}");
	assert_int_equal(catalog__resolve(dir, "q", "edge", &v, err,
					  sizeof(err)), 0);
	assert_int_equal(v, 0);
	put_version_file("q", "aliases", "broken.json",
			 "{\"name\": \"broken\", \"function_version\": \"../1\"}");
	assert_int_equal(catalog__resolve(dir, "q", "broken", &v, err,
					  sizeof(err)), -EIO);
	/* A published version's file says which version it is. */
	put_version_file("q", "3", "function.json",
			 "{\"name\": \"q\", \"revision\": 2, \"version\": 3}");
	assert_int_equal(catalog__read(dir, "q", 3, &fc, NULL, err, sizeof(err)), 0);
	assert_int_equal(fc.version, 3);
	assert_int_equal(fc.revision, 2);
	put_version_file("q", "4", "function.json",
			 "{\"name\": \"q\", \"revision\": 2, \"version\": 3}");
	assert_int_equal(catalog__read(dir, "q", 4, &fc, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "is version 3, not 4"));
	assert_int_equal(catalog__read(dir, "q", 5, &fc, NULL, err, sizeof(err)),
			 -ENOENT);
}

static void function_names(void **state)
{
	char n65[66];

	(void)state;
	memset(n65, 'a', 65);
	n65[65] = '\0';
	assert_true(catalog__name_ok("my-fn_2"));
	assert_false(catalog__name_ok(n65));
	n65[64] = '\0';
	assert_true(catalog__name_ok(n65));
	assert_false(catalog__name_ok("a:b"));
	assert_false(catalog__name_ok("."));
	assert_false(catalog__name_ok("a b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_defaults),
		cmocka_unit_test(config_good),
		cmocka_unit_test(config_bad),
		cmocka_unit_test(function_good),
		cmocka_unit_test(function_bad),
		cmocka_unit_test(function_names),
		cmocka_unit_test(function_qualifiers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
