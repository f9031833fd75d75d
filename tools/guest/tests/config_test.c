// SPDX-License-Identifier: GPL-2.0
/*
 * thaw-init's settings (tools/guest/config.c): the JSON file, the kernel
 * command line and the Lambda environment, with bad input of every kind.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tools/guest/config.h"

static int apply(struct guest_config *cfg, const char *json)
{
	char err[160] = "";
	int ret = guest_config__apply_json(cfg, json, strlen(json), err,
					   sizeof(err));

	if (ret)
		assert_true(err[0]);
	return ret;
}

static const char *env_get(char **env, const char *name)
{
	size_t n = strlen(name);

	for (; *env; env++)
		if (!strncmp(*env, name, n) && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

static void defaults(void **state)
{
	struct guest_config cfg;
	char **env;

	guest_config__init(&cfg);
	assert_string_equal(cfg.function_name, "function");
	assert_int_equal(cfg.api_port, 9001);
	assert_int_equal(cfg.invoke_port, 9000);
	assert_int_equal(cfg.ready_port, 9999);
	assert_int_equal(cfg.uid, 993);
	env = guest_config__build_env(&cfg, 128);
	assert_non_null(env);
	assert_string_equal(env_get(env, "AWS_LAMBDA_RUNTIME_API"),
			    "127.0.0.1:9001");
	assert_string_equal(env_get(env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
			    "128");
	assert_string_equal(env_get(env, "AWS_LAMBDA_FUNCTION_VERSION"),
			    "$LATEST");
	assert_string_equal(env_get(env, "LAMBDA_TASK_ROOT"), "/var/task");
	assert_string_equal(env_get(env, "LAMBDA_RUNTIME_DIR"),
			    "/var/runtime");
	assert_string_equal(env_get(env, "_HANDLER"), "function.handler");
	assert_string_equal(env_get(env, "AWS_REGION"), "us-east-1");
	assert_string_equal(env_get(env, "AWS_DEFAULT_REGION"), "us-east-1");
	assert_string_equal(env_get(env, "TZ"), ":UTC");
	assert_string_equal(env_get(env, "HOME"), "/tmp");
	assert_non_null(env_get(env, "PATH"));
	assert_non_null(env_get(env, "LANG"));
	assert_non_null(env_get(env, "LD_LIBRARY_PATH"));
	assert_string_equal(env_get(env, "AWS_LAMBDA_LOG_GROUP_NAME"),
			    "/aws/lambda/function");
	/* provided.* runtimes: no AWS_EXECUTION_ENV; no role, no keys */
	assert_null(env_get(env, "AWS_EXECUTION_ENV"));
	assert_null(env_get(env, "AWS_ACCESS_KEY_ID"));
	assert_null(env_get(env, "AWS_SESSION_TOKEN"));
	/* made by runtime.c at boot when not set */
	assert_null(env_get(env, "AWS_LAMBDA_LOG_STREAM_NAME"));
	assert_string_equal(cfg.generation_file, "/run/thaw/generation");
	guest_config__free_env(env);
	guest_config__free(&cfg);
}

/* The settings behind the variables Lambda sets for every runtime. */
static void platform_env(void **state)
{
	struct guest_config cfg;
	char **env;

	guest_config__init(&cfg);
	assert_int_equal(apply(&cfg,
		"{\"function_name\":\"fn\",\"execution_env\":\"AWS_Lambda_nodejs20.x\","
		"\"log_stream_name\":\"2026/12/07/[$LATEST]0123456789abcdef0123456789abcdef\","
		"\"access_key_id\":\"ASIAEXAMPLE\",\"secret_access_key\":\"s/e+c=r\","
		"\"session_token\":\"tok\",\"generation_file\":\"/tmp/g\"}"), 0);
	env = guest_config__build_env(&cfg, 512);
	assert_string_equal(env_get(env, "AWS_EXECUTION_ENV"),
			    "AWS_Lambda_nodejs20.x");
	assert_string_equal(env_get(env, "AWS_LAMBDA_LOG_STREAM_NAME"),
		"2026/12/07/[$LATEST]0123456789abcdef0123456789abcdef");
	assert_string_equal(env_get(env, "AWS_LAMBDA_LOG_GROUP_NAME"),
			    "/aws/lambda/fn");
	assert_string_equal(env_get(env, "AWS_ACCESS_KEY_ID"), "ASIAEXAMPLE");
	assert_string_equal(env_get(env, "AWS_ACCESS_KEY"), "ASIAEXAMPLE");
	assert_string_equal(env_get(env, "AWS_SECRET_ACCESS_KEY"), "s/e+c=r");
	assert_string_equal(env_get(env, "AWS_SESSION_TOKEN"), "tok");
	assert_string_equal(env_get(env, "TZ"), ":UTC");
	assert_string_equal(env_get(env, "LANG"), "en_US.UTF-8");
	assert_string_equal(cfg.generation_file, "/tmp/g");
	guest_config__free_env(env);

	/* a group of its own; a token longer than other strings may be */
	assert_int_equal(apply(&cfg, "{\"log_group_name\":\"/custom/group\"}"), 0);
	{
		char *json = malloc(GUEST_TOKEN_MAX + 64);

		memset(json, 'T', GUEST_TOKEN_MAX + 64);
		memcpy(json, "{\"session_token\":\"", 18);
		strcpy(json + 18 + 2000, "\"}");
		assert_int_equal(apply(&cfg, json), 0);
		memset(json + 18, 'T', GUEST_TOKEN_MAX + 1);
		strcpy(json + 18 + GUEST_TOKEN_MAX + 1, "\"}");
		assert_int_not_equal(apply(&cfg, json), 0);
		free(json);
	}
	env = guest_config__build_env(&cfg, 512);
	assert_string_equal(env_get(env, "AWS_LAMBDA_LOG_GROUP_NAME"),
			    "/custom/group");
	assert_int_equal(strlen(env_get(env, "AWS_SESSION_TOKEN")), 2000);
	guest_config__free_env(env);
	guest_config__free(&cfg);
}

/* A reserved name is refused with what sets it instead. */
static void reserved_names(void **state)
{
	static const char *const names[][2] = {
		{ "AWS_LAMBDA_LOG_STREAM_NAME", "'log_stream_name' setting" },
		{ "AWS_LAMBDA_LOG_GROUP_NAME", "'log_group_name' setting" },
		{ "AWS_EXECUTION_ENV", "'execution_env' setting" },
		{ "AWS_ACCESS_KEY_ID", "'access_key_id' setting" },
		{ "AWS_ACCESS_KEY", "'access_key_id' setting" },
		{ "AWS_SECRET_ACCESS_KEY", "'secret_access_key' setting" },
		{ "AWS_SESSION_TOKEN", "'session_token' setting" },
		{ "_HANDLER", "'handler' setting" },
		{ "_X_AMZN_TRACE_ID", "Lambda-Runtime-Trace-Id" },
		{ "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "'memory_size' setting" },
	};
	struct guest_config cfg;
	char key[64], err[160];

	guest_config__init(&cfg);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(key, sizeof(key), "env.%s", names[i][0]);
		err[0] = '\0';
		assert_int_equal(guest_config__set(&cfg, key, "x", err,
						   sizeof(err)), -EINVAL);
		if (!strstr(err, names[i][0]) || !strstr(err, names[i][1]))
			fail_msg("%s: '%s'", names[i][0], err);
	}
	/* not reserved: Lambda lets a function set these */
	assert_int_equal(guest_config__set(&cfg, "env.TZ", "Europe/Paris", err,
					   sizeof(err)), 0);
	assert_int_equal(guest_config__set(&cfg, "env.NODE_OPTIONS", "--x",
					   err, sizeof(err)), 0);
	assert_int_equal(cfg.env_count, 2);
	guest_config__free(&cfg);
}

static void log_stream(void **state)
{
	static const uint8_t rnd[16] = {
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
	};
	char out[96];

	/* 2026-12-07 12:00:00 UTC */
	assert_int_equal(guest_config__log_stream_name("$LATEST", 1796644800LL,
						       rnd, out, sizeof(out)),
			 52);
	assert_string_equal(out,
		"2026/12/07/[$LATEST]0123456789abcdeffedcba9876543210");
	assert_int_equal(guest_config__log_stream_name("12", 951782400LL, rnd,
						       out, sizeof(out)), 47);
	assert_memory_equal(out, "2000/02/29/[12]", 15);
	assert_int_equal(guest_config__log_stream_name("12", 0, rnd, out, 40),
			 -ENOSPC);
}

static void json_file(void **state)
{
	struct guest_config cfg;
	char **env;

	guest_config__init(&cfg);
	assert_int_equal(apply(&cfg,
		"{\"function_name\":\"my-fn_1\",\"memory_size\":512,"
		"\"function_version\":\"7\",\"handler\":\"app.main\","
		"\"region\":\"eu-west-1\",\"initialization_type\":\"snap-start\","
		"\"task_root\":\"/srv/fn\",\"timeout\":30,\"user\":\"1000:1001\","
		"\"api_port\":9101,\"invoke_port\":5000,\"ready_port\":0,"
		"\"quiet\":true,\"environment\":{\"PATH\":\"/x\",\"A_1\":\"v w\"}}"),
		0);
	assert_string_equal(cfg.function_name, "my-fn_1");
	assert_int_equal(cfg.memory_size, 512);
	assert_int_equal(cfg.timeout, 30);
	assert_int_equal(cfg.uid, 1000);
	assert_int_equal(cfg.gid, 1001);
	assert_int_equal(cfg.ready_port, 0);
	assert_true(cfg.quiet);
	env = guest_config__build_env(&cfg, 512);
	assert_string_equal(env_get(env, "AWS_LAMBDA_RUNTIME_API"),
			    "127.0.0.1:9101");
	assert_string_equal(env_get(env, "AWS_LAMBDA_INITIALIZATION_TYPE"),
			    "snap-start");
	assert_string_equal(env_get(env, "LAMBDA_TASK_ROOT"), "/srv/fn");
	/* the function may replace PATH, not add a second one */
	assert_string_equal(env_get(env, "PATH"), "/x");
	assert_string_equal(env_get(env, "A_1"), "v w");
	{
		int paths = 0;

		for (char **e = env; *e; e++)
			paths += !strncmp(*e, "PATH=", 5);
		assert_int_equal(paths, 1);
	}
	guest_config__free_env(env);

	/* user as a number */
	assert_int_equal(apply(&cfg, "{\"user\":0}"), 0);
	assert_int_equal(cfg.uid, 0);
	assert_int_equal(cfg.gid, 0);
	guest_config__free(&cfg);
}

static void json_hostile(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{", "{} x", "{\"nope\":1}",
		"{\"memory_size\":\"128\"}", "{\"memory_size\":0}",
		"{\"memory_size\":-5}", "{\"memory_size\":1.5}",
		"{\"memory_size\":99999999999999999999}",
		"{\"function_name\":\"a b\"}", "{\"function_name\":\"\"}",
		"{\"function_name\":7}", "{\"handler\":\"a\\nb\"}",
		"{\"task_root\":\"relative\"}", "{\"bootstrap\":\"x\"}",
		"{\"initialization_type\":\"warm\"}",
		"{\"user\":\"root\"}", "{\"user\":\"1:x\"}", "{\"user\":true}",
		"{\"api_port\":0}", "{\"api_port\":65536}",
		"{\"invoke_port\":4294967295}", "{\"quiet\":\"yes\"}",
		"{\"environment\":[]}", "{\"environment\":{\"A\":1}}",
		"{\"environment\":{\"1A\":\"x\"}}",
		"{\"environment\":{\"A-B\":\"x\"}}",
		"{\"environment\":{\"\":\"x\"}}",
		"{\"environment\":{\"AWS_REGION\":\"x\"}}",
		"{\"environment\":{\"_HANDLER\":\"x\"}}",
		"{\"environment\":{\"AWS_LAMBDA_RUNTIME_API\":\"x\"}}",
		"{\"environment\":{\"A\":\"a\\u0000b\"}}",
		"{\"environment\":{\"A\":\"a\\nb\"}}",
		"{\"environment\":{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}}",
		"{\"environment\":{\"AWS_LAMBDA_LOG_STREAM_NAME\":\"x\"}}",
		"{\"environment\":{\"AWS_SECRET_ACCESS_KEY\":\"x\"}}",
		"{\"execution_env\":\"a\\tb\"}", "{\"access_key_id\":\"\"}",
		"{\"log_stream_name\":\"a\\nb\"}",
		"{\"generation_file\":\"run/g\"}",
	};
	struct guest_config cfg;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		guest_config__init(&cfg);
		if (apply(&cfg, bad[i]) == 0)
			fail_msg("accepted: %s", bad[i]);
		guest_config__free(&cfg);
	}
}

static void env_limits(void **state)
{
	struct guest_config cfg;
	char name[16], err[160], *big;
	int i;

	guest_config__init(&cfg);
	for (i = 0; i < GUEST_ENV_MAX; i++) {
		snprintf(name, sizeof(name), "env.V%d", i);
		assert_int_equal(guest_config__set(&cfg, name, "x", err,
						   sizeof(err)), 0);
	}
	assert_int_equal(guest_config__set(&cfg, "env.ONE_MORE", "x", err,
					   sizeof(err)), -E2BIG);
	/* replacing one that exists is still fine */
	assert_int_equal(guest_config__set(&cfg, "env.V3", "y", err,
					   sizeof(err)), 0);
	guest_config__free(&cfg);

	/* all values together stay under Lambda's 4 KiB */
	guest_config__init(&cfg);
	big = malloc(GUEST_ENV_BYTES_MAX + 1);
	memset(big, 'v', 3000);
	big[3000] = '\0';
	assert_int_equal(guest_config__set(&cfg, "env.A", big, err,
					   sizeof(err)), 0);
	assert_int_equal(guest_config__set(&cfg, "env.B", big, err,
					   sizeof(err)), -E2BIG);
	memset(big, 'v', GUEST_ENV_BYTES_MAX);
	big[GUEST_ENV_BYTES_MAX] = '\0';
	assert_int_not_equal(guest_config__set(&cfg, "env.A", big, err,
					       sizeof(err)), 0);
	free(big);
	guest_config__free(&cfg);
}

static int warnings;

static void count_warn(const char *msg)
{
	assert_non_null(strstr(msg, "thaw."));
	warnings++;
}

static void cmdline(void **state)
{
	struct guest_config cfg;
	char **env;

	guest_config__init(&cfg);
	warnings = 0;
	guest_config__apply_cmdline(&cfg,
		"console=ttyS0 quiet thaw.memory_size=256 "
		"thaw.env.GREETING=\"hello world\" \"thaw.handler=a.b\" "
		"thaw.quiet thaw.user=0:0 virtio_mmio.device=4K@0xd0000000:5 "
		"thaw.nope=1 thaw.memory_size=abc thaw.env.AWS_REGION=x "
		"thaw.env.1BAD=x -- thaw.timeout=99\n",
		count_warn);
	assert_int_equal(cfg.memory_size, 256);
	assert_string_equal(cfg.handler, "a.b");
	assert_true(cfg.quiet);
	assert_int_equal(cfg.uid, 0);
	/* after "--" the words are init's arguments, not options */
	assert_int_equal(cfg.timeout, 3);
	assert_int_equal(warnings, 4);
	env = guest_config__build_env(&cfg, 256);
	assert_string_equal(env_get(env, "GREETING"), "hello world");
	assert_string_equal(env_get(env, "AWS_REGION"), "us-east-1");
	guest_config__free_env(env);
	guest_config__free(&cfg);
}

static void cmdline_hostile(void **state)
{
	struct guest_config cfg;
	char *line;

	/* unbalanced quotes, empty words, a word longer than any buffer */
	guest_config__init(&cfg);
	warnings = 0;
	guest_config__apply_cmdline(&cfg, "thaw.env.A=\"x y", count_warn);
	guest_config__apply_cmdline(&cfg, "   \t\n ", count_warn);
	guest_config__apply_cmdline(&cfg, "thaw. thaw.= thaw.env.=x",
				    count_warn);
	line = malloc(3 * GUEST_ENV_BYTES_MAX);
	memset(line, 'a', 3 * GUEST_ENV_BYTES_MAX - 1);
	memcpy(line, "thaw.env.A=", 11);
	line[3 * GUEST_ENV_BYTES_MAX - 1] = '\0';
	guest_config__apply_cmdline(&cfg, line, count_warn);
	free(line);
	assert_true(warnings >= 4);
	guest_config__free(&cfg);
}

static void words(void **state)
{
	const char *p = " a \"b c\"  d=\"e f\"g ", *w;
	size_t n;

	n = guest_config__next_word(&p, &w);
	assert_int_equal(n, 1);
	assert_memory_equal(w, "a", 1);
	n = guest_config__next_word(&p, &w);
	assert_int_equal(n, 5);
	assert_memory_equal(w, "\"b c\"", 5);
	n = guest_config__next_word(&p, &w);
	assert_int_equal(n, 8);
	assert_memory_equal(w, "d=\"e f\"g", 8);
	assert_int_equal(guest_config__next_word(&p, &w), 0);
}

static void names(void **state)
{
	assert_true(guest_config__valid_env_name("_A1", 3));
	assert_false(guest_config__valid_env_name("1A", 2));
	assert_false(guest_config__valid_env_name("", 0));
	assert_non_null(guest_config__reserved_name("AWS_SESSION_TOKEN", 17));
	assert_null(guest_config__reserved_name("AWS_SESSION", 11));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(json_file),
		cmocka_unit_test(platform_env),
		cmocka_unit_test(reserved_names),
		cmocka_unit_test(log_stream),
		cmocka_unit_test(json_hostile),
		cmocka_unit_test(env_limits),
		cmocka_unit_test(cmdline),
		cmocka_unit_test(cmdline_hostile),
		cmocka_unit_test(words),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests_name("guest_config", tests, NULL, NULL);
}
