/* SPDX-License-Identifier: GPL-2.0 */
/*
 * thaw-init's settings: built-in defaults, then the function's config file
 * in the initramfs (/etc/thaw/function.json, written by mkfunc), then
 * thaw.* options on the kernel command line.  And the Lambda environment
 * the runtime is started with.  Pure logic: no I/O beyond what the caller
 * hands in.
 */
#ifndef THAW_GUEST_CONFIG_H
#define THAW_GUEST_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GUEST_CONFIG_PATH	"/etc/thaw/function.json"
#define GUEST_ENV_MAX		64
/* Lambda's limit on the function's own variables, all together. */
#define GUEST_ENV_BYTES_MAX	4096
#define GUEST_STRING_MAX	256
/* An STS session token runs to about 1 KiB; leave room. */
#define GUEST_TOKEN_MAX		4096
#define GUEST_GENERATION_PATH	"/run/thaw/generation"

struct guest_config {
	char *function_name;		/* AWS_LAMBDA_FUNCTION_NAME */
	char *function_version;		/* AWS_LAMBDA_FUNCTION_VERSION */
	uint32_t memory_size;		/* MiB; 0: from /proc/meminfo */
	char *handler;			/* _HANDLER */
	char *region;			/* AWS_REGION, AWS_DEFAULT_REGION */
	char *initialization_type;	/* AWS_LAMBDA_INITIALIZATION_TYPE */
	char *task_root;		/* LAMBDA_TASK_ROOT */
	char *runtime_dir;		/* LAMBDA_RUNTIME_DIR */
	char *bootstrap;		/* NULL: task_root/bootstrap, /opt/.. */
	char *log_group_name;		/* NULL: /aws/lambda/NAME */
	char *log_stream_name;		/* NULL: made at boot (runtime.c) */
	char *execution_env;		/* AWS_EXECUTION_ENV; NULL: unset */
	/* The platform's credentials for the function; NULL: unset. */
	char *access_key_id;
	char *secret_access_key;
	char *session_token;
	char *generation_file;		/* the restore counter (generation.c) */
	char *code_disk;		/* a block device mounted read-only on
					 * task_root; NULL: none
					 */
	uint32_t timeout;		/* s, when a request has no deadline */
	uid_t uid;			/* the runtime's user and group */
	gid_t gid;
	uint32_t api_port;		/* Runtime API on 127.0.0.1 */
	uint32_t invoke_port;		/* vsock, host -> guest */
	uint32_t ready_port;		/* vsock CID 2, guest -> host; 0: off */
	uint32_t ready_timeout;		/* s to keep retrying "ready" */
	bool quiet;			/* only errors on the console */
	size_t env_count;		/* the function's variables */
	char *env[GUEST_ENV_MAX];	/* "NAME=value" */
};

void guest_config__init(struct guest_config *cfg);
void guest_config__free(struct guest_config *cfg);

/*
 * Apply a JSON config file's text.  Unknown keys and wrong types are
 * errors.  Returns 0 or -EINVAL with a reason in @err.
 */
int guest_config__apply_json(struct guest_config *cfg, const char *text,
			     size_t len, char *err, size_t errlen);

/*
 * Apply the thaw.* options of a kernel command line (as /proc/cmdline
 * holds it: words split by spaces, double quotes group).  Options that are
 * not thaw.* are ignored; a bad thaw.* option is reported through @warn
 * (one call per problem) and skipped: a typo on the command line must not
 * keep the function from booting.
 */
void guest_config__apply_cmdline(struct guest_config *cfg, const char *cmdline,
				 void (*warn)(const char *msg));

/* Set one option by name ("memory_size", "env.NAME", ...). */
int guest_config__set(struct guest_config *cfg, const char *key,
		      const char *value, char *err, size_t errlen);

/*
 * The runtime's environment, NULL-terminated, malloc'd (free with
 * guest_config__free_env).  @memory_mb is the resolved memory size.
 */
char **guest_config__build_env(const struct guest_config *cfg,
			       uint32_t memory_mb);
void guest_config__free_env(char **env);

/*
 * Lambda reserves these names: a function may not set them.  NULL if
 * @name is free, else what sets it ("the 'region' setting"), for the
 * message that refuses it.
 */
const char *guest_config__reserved_name(const char *name, size_t len);

/*
 * Lambda's log stream name for an execution environment started at @now
 * (UTC) running @version: "2026/12/07/[$LATEST]" and 32 hex digits of
 * @rnd.  Returns the length, or -ENOSPC if @len is too small.
 */
int guest_config__log_stream_name(const char *version, long long now,
				  const uint8_t rnd[16], char *out,
				  size_t len);
bool guest_config__valid_env_name(const char *name, size_t len);

/*
 * Split the next word off a kernel command line at *@p: returns its length
 * (0 at the end), the word's start in @word, with quotes kept; advances *@p.
 */
size_t guest_config__next_word(const char **p, const char **word);

#endif
