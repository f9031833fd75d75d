// SPDX-License-Identifier: GPL-2.0
/*
 * thaw-init's settings and the runtime's Lambda environment (config.h).
 *
 * The kernel command line is split by hand: it is a few space-separated
 * words with optional double quotes (the kernel's own next_arg() rules),
 * and no Debian library exposes that parser.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "lib/err.h"
#include "tools/guest/config.h"

#define JSON_DEPTH	4

#ifndef fallthrough
#define fallthrough	__attribute__((__fallthrough__))
#endif

/*
 * The names Lambda reserves (its "defined runtime environment variables"),
 * each with what sets it here, for the message that refuses it.
 */
static const struct {
	const char *name;
	const char *source;
} reserved[] = {
	{ "_HANDLER", "the 'handler' setting" },
	{ "_X_AMZN_TRACE_ID",
	  "the runtime, per invocation, from Lambda-Runtime-Trace-Id" },
	{ "AWS_DEFAULT_REGION", "the 'region' setting" },
	{ "AWS_REGION", "the 'region' setting" },
	{ "AWS_EXECUTION_ENV", "the 'execution_env' setting" },
	{ "AWS_LAMBDA_FUNCTION_NAME", "the 'function_name' setting" },
	{ "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "the 'memory_size' setting" },
	{ "AWS_LAMBDA_FUNCTION_VERSION", "the 'function_version' setting" },
	{ "AWS_LAMBDA_INITIALIZATION_TYPE",
	  "the 'initialization_type' setting" },
	{ "AWS_LAMBDA_LOG_GROUP_NAME", "the 'log_group_name' setting" },
	{ "AWS_LAMBDA_LOG_STREAM_NAME", "the 'log_stream_name' setting" },
	{ "AWS_ACCESS_KEY", "the 'access_key_id' setting" },
	{ "AWS_ACCESS_KEY_ID", "the 'access_key_id' setting" },
	{ "AWS_SECRET_ACCESS_KEY", "the 'secret_access_key' setting" },
	{ "AWS_SESSION_TOKEN", "the 'session_token' setting" },
	{ "AWS_LAMBDA_RUNTIME_API", "the 'api_port' setting" },
	{ "LAMBDA_TASK_ROOT", "the 'task_root' setting" },
	{ "LAMBDA_RUNTIME_DIR", "the 'runtime_dir' setting" },
};

static const char *const init_types[] = {
	"on-demand", "provisioned-concurrency", "snap-start",
};

enum opt_kind { OPT_STRING, OPT_PATH, OPT_NAME, OPT_U32, OPT_BOOL, OPT_USER };

struct opt {
	const char *key;
	enum opt_kind kind;
	size_t offset;		/* into struct guest_config */
	uint32_t min, max;	/* OPT_U32; max: length of a string (0: default) */
};

#define CFG_OFF(f) offsetof(struct guest_config, f)

static const struct opt opts[] = {
	{ "function_name", OPT_NAME, CFG_OFF(function_name) },
	{ "function_version", OPT_STRING, CFG_OFF(function_version) },
	{ "memory_size", OPT_U32, CFG_OFF(memory_size), 1, 1024 * 1024 },
	{ "handler", OPT_STRING, CFG_OFF(handler) },
	{ "region", OPT_NAME, CFG_OFF(region) },
	{ "initialization_type", OPT_STRING, CFG_OFF(initialization_type) },
	{ "task_root", OPT_PATH, CFG_OFF(task_root) },
	{ "runtime_dir", OPT_PATH, CFG_OFF(runtime_dir) },
	{ "bootstrap", OPT_PATH, CFG_OFF(bootstrap) },
	{ "log_group_name", OPT_STRING, CFG_OFF(log_group_name) },
	{ "log_stream_name", OPT_STRING, CFG_OFF(log_stream_name) },
	{ "execution_env", OPT_STRING, CFG_OFF(execution_env) },
	{ "access_key_id", OPT_NAME, CFG_OFF(access_key_id) },
	{ "secret_access_key", OPT_STRING, CFG_OFF(secret_access_key) },
	{ "session_token", OPT_STRING, CFG_OFF(session_token), 0,
	  GUEST_TOKEN_MAX },
	{ "generation_file", OPT_PATH, CFG_OFF(generation_file) },
	{ "code_disk", OPT_PATH, CFG_OFF(code_disk) },
	{ "timeout", OPT_U32, CFG_OFF(timeout), 1, 86400 },
	{ "user", OPT_USER, 0 },
	{ "api_port", OPT_U32, CFG_OFF(api_port), 1, 65535 },
	{ "invoke_port", OPT_U32, CFG_OFF(invoke_port), 1, 0xfffffffe },
	{ "ready_port", OPT_U32, CFG_OFF(ready_port), 0, 0xfffffffe },
	{ "ready_timeout", OPT_U32, CFG_OFF(ready_timeout), 0, 86400 },
	{ "quiet", OPT_BOOL, CFG_OFF(quiet) },
};

static char **str_field(struct guest_config *cfg, const struct opt *o)
{
	return (char **)((char *)cfg + o->offset);
}

static int set_str(char **field, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

void guest_config__init(struct guest_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* strdup of literals: every string is owned, so set/free are uniform */
	cfg->function_name = strdup("function");
	cfg->function_version = strdup("$LATEST");
	cfg->handler = strdup("function.handler");
	cfg->region = strdup("us-east-1");
	cfg->initialization_type = strdup("on-demand");
	cfg->task_root = strdup("/var/task");
	cfg->runtime_dir = strdup("/var/runtime");
	cfg->generation_file = strdup(GUEST_GENERATION_PATH);
	cfg->timeout = 3;
	/* Lambda runs the runtime as an unprivileged sandbox user. */
	cfg->uid = 993;
	cfg->gid = 990;
	cfg->api_port = 9001;
	cfg->invoke_port = 9000;
	cfg->ready_port = 9999;
	cfg->ready_timeout = 60;
}

void guest_config__free(struct guest_config *cfg)
{
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (opts[i].kind == OPT_STRING || opts[i].kind == OPT_PATH ||
		    opts[i].kind == OPT_NAME)
			free(*str_field(cfg, &opts[i]));
	for (size_t i = 0; i < cfg->env_count; i++)
		free(cfg->env[i]);
	memset(cfg, 0, sizeof(*cfg));
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

bool guest_config__valid_env_name(const char *name, size_t len)
{
	if (len < 1 || len > 128)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '_' || (i > 0 && c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

const char *guest_config__reserved_name(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++)
		if (strlen(reserved[i].name) == len &&
		    !memcmp(reserved[i].name, name, len))
			return reserved[i].source;
	return NULL;
}

static size_t env_bytes(const struct guest_config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->env_count; i++)
		n += strlen(cfg->env[i]);
	return n;
}

static int set_env(struct guest_config *cfg, const char *name,
		   const char *value, char *err, size_t errlen)
{
	size_t nlen = strlen(name), i;
	const char *source;
	char *entry;

	if (!guest_config__valid_env_name(name, nlen))
		return err__set(err, errlen, -EINVAL,
				"bad environment variable name '%.64s'", name);
	source = guest_config__reserved_name(name, nlen);
	if (source)
		return err__set(err, errlen, -EINVAL,
				"'%s' is reserved by Lambda: it comes from %s",
				name, source);
	if (strchr(value, '\n') || strlen(value) > GUEST_ENV_BYTES_MAX)
		return err__set(err, errlen, -EINVAL, "bad value for '%s'",
				name);
	for (i = 0; i < cfg->env_count; i++)
		if (!strncmp(cfg->env[i], name, nlen) &&
		    cfg->env[i][nlen] == '=')
			break;
	if (i == cfg->env_count && i == GUEST_ENV_MAX)
		return err__set(err, errlen, -E2BIG,
				"more than %d environment variables",
				GUEST_ENV_MAX);
	if (asprintf(&entry, "%s=%s", name, value) < 0)
		return -ENOMEM;
	if (env_bytes(cfg) - (i < cfg->env_count ? strlen(cfg->env[i]) : 0) +
	    strlen(entry) > GUEST_ENV_BYTES_MAX) {
		snprintf(err, errlen, "the environment exceeds %d bytes",
			 GUEST_ENV_BYTES_MAX);
		free(entry);
		return -E2BIG;
	}
	if (i < cfg->env_count)
		free(cfg->env[i]);
	else
		cfg->env_count++;
	cfg->env[i] = entry;
	return 0;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_user(const char *s, uid_t *uid, gid_t *gid)
{
	char buf[32], *colon;
	uint32_t u, g;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	if (parse_u32(buf, 0, 0xfffffffe, &u))
		return -EINVAL;
	g = u;
	if (colon && parse_u32(colon + 1, 0, 0xfffffffe, &g))
		return -EINVAL;
	*uid = u;
	*gid = g;
	return 0;
}

static int check_string(const struct opt *o, const char *value, char *err,
			size_t errlen)
{
	size_t len = strlen(value), max = o->max ?: GUEST_STRING_MAX;

	if (len < 1 || len > max || !printable(value))
		return err__set(err, errlen, -EINVAL,
				"'%s' must be 1..%zu printable ASCII characters",
				o->key, max);
	if (o->kind == OPT_PATH && value[0] != '/')
		return err__set(err, errlen, -EINVAL,
				"'%s' must be an absolute path", o->key);
	if (o->kind == OPT_NAME) {
		for (const char *c = value; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') ||
			      (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '-' ||
			      *c == '_'))
				return err__set(err, errlen, -EINVAL,
						"'%s' must be of [A-Za-z0-9_-]",
						o->key);
	}
	if (!strcmp(o->key, "initialization_type")) {
		for (size_t i = 0; i < sizeof(init_types) / sizeof(*init_types);
		     i++)
			if (!strcmp(value, init_types[i]))
				return 0;
		return err__set(err, errlen, -EINVAL,
				"'initialization_type' must be on-demand, provisioned-concurrency or snap-start");
	}
	return 0;
}

static const struct opt *find_opt(const char *key)
{
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (!strcmp(opts[i].key, key))
			return &opts[i];
	return NULL;
}

int guest_config__set(struct guest_config *cfg, const char *key,
		      const char *value, char *err, size_t errlen)
{
	const struct opt *o;
	int ret;

	if (!strncmp(key, "env.", 4))
		return set_env(cfg, key + 4, value, err, errlen);
	o = find_opt(key);
	if (!o)
		return err__set(err, errlen, -ENOENT, "unknown option '%.64s'",
				key);
	switch (o->kind) {
	case OPT_STRING:
	case OPT_PATH:
	case OPT_NAME:
		ret = check_string(o, value, err, errlen);
		if (!ret)
			ret = set_str(str_field(cfg, o), value);
		return ret;
	case OPT_U32:
		ret = parse_u32(value, o->min, o->max,
				(uint32_t *)((char *)cfg + o->offset));
		if (ret)
			snprintf(err, errlen, "'%s' must be an integer in [%u, %u]",
				 o->key, o->min, o->max);
		return ret;
	case OPT_BOOL:
		if (!strcmp(value, "1") || !strcmp(value, "true")) {
			*(bool *)((char *)cfg + o->offset) = true;
		} else if (!strcmp(value, "0") || !strcmp(value, "false")) {
			*(bool *)((char *)cfg + o->offset) = false;
		} else {
			return err__set(err, errlen, -EINVAL,
					"'%s' must be true or false", o->key);
		}
		return 0;
	case OPT_USER:
		ret = parse_user(value, &cfg->uid, &cfg->gid);
		if (ret)
			snprintf(err, errlen, "'user' must be UID or UID:GID");
		return ret;
	}
	return -EINVAL;
}

/* One JSON member as the string guest_config__set() takes. */
static int json_value_string(const struct opt *o, struct json_object *v,
			     char *buf, size_t buflen, const char **out,
			     char *err, size_t errlen)
{
	enum json_type t = json_object_get_type(v);

	switch (o->kind) {
	case OPT_U32:
		if (t != json_type_int)
			return err__set(err, errlen, -EINVAL,
					"'%s' must be an integer", o->key);
		errno = 0;
		snprintf(buf, buflen, "%lld",
			 (long long)json_object_get_int64(v));
		if (errno || json_object_get_int64(v) < 0)
			return err__set(err, errlen, -EINVAL,
					"'%s' is out of range", o->key);
		*out = buf;
		return 0;
	case OPT_BOOL:
		if (t != json_type_boolean)
			return err__set(err, errlen, -EINVAL,
					"'%s' must be a boolean", o->key);
		*out = json_object_get_boolean(v) ? "true" : "false";
		return 0;
	case OPT_USER:
		if (t == json_type_int) {
			snprintf(buf, buflen, "%lld",
				 (long long)json_object_get_int64(v));
			*out = buf;
			return 0;
		}
		/* "UID:GID" */
		fallthrough;
	default:
		if (t != json_type_string ||
		    strlen(json_object_get_string(v)) !=
		    (size_t)json_object_get_string_len(v))
			return err__set(err, errlen, -EINVAL,
					"'%s' must be a string", o->key);
		*out = json_object_get_string(v);
		return 0;
	}
}

static int apply_environment(struct guest_config *cfg, struct json_object *v,
			     char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_object))
		return err__set(err, errlen, -EINVAL,
				"'environment' must be an object");
	json_object_object_foreach(v, name, val) {
		int ret;

		if (!json_object_is_type(val, json_type_string))
			return err__set(err, errlen, -EINVAL,
					"environment '%.64s' must be a string",
					name);
		if (strlen(json_object_get_string(val)) !=
		    (size_t)json_object_get_string_len(val))
			return err__set(err, errlen, -EINVAL,
					"environment '%.64s' contains a NUL byte",
					name);
		ret = set_env(cfg, name, json_object_get_string(val), err,
			      errlen);
		if (ret)
			return ret;
	}
	return 0;
}

int guest_config__apply_json(struct guest_config *cfg, const char *text,
			     size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *root;
	int ret = 0;

	tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    (size_t)json_tokener_get_parse_end(tok) != len) {
		snprintf(err, errlen, "not valid JSON: %s",
			 json_tokener_error_desc(json_tokener_get_error(tok)));
		ret = -EINVAL;
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "not a JSON object");
		ret = -EINVAL;
		goto out;
	}
	json_object_object_foreach(root, key, val) {
		const struct opt *o;
		const char *s = NULL;
		char buf[32];

		if (!strcmp(key, "environment")) {
			ret = apply_environment(cfg, val, err, errlen);
			if (ret)
				goto out;
			continue;
		}
		o = find_opt(key);
		if (!o) {
			snprintf(err, errlen, "unknown key '%.64s'", key);
			ret = -EINVAL;
			goto out;
		}
		ret = json_value_string(o, val, buf, sizeof(buf), &s, err,
					errlen);
		if (!ret)
			ret = guest_config__set(cfg, key, s, err, errlen);
		if (ret)
			goto out;
	}
out:
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}

size_t guest_config__next_word(const char **p, const char **word)
{
	const char *s = *p;
	bool quoted = false;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	*word = s;
	while (*s && (quoted || (*s != ' ' && *s != '\t' && *s != '\n'))) {
		if (*s == '"')
			quoted = !quoted;
		s++;
	}
	*p = s;
	return s - *word;
}

void guest_config__apply_cmdline(struct guest_config *cfg, const char *cmdline,
				 void (*warn)(const char *msg))
{
	const char *p = cmdline, *word;
	size_t len;

	while ((len = guest_config__next_word(&p, &word))) {
		char buf[GUEST_ENV_BYTES_MAX + 64], err[160], msg[256];
		char *key, *value, *o = buf;

		if (len == 2 && !memcmp(word, "--", 2))
			break;	/* the rest are init's arguments */
		if (len < 5 || (memcmp(word, "thaw.", 5) &&
				 memcmp(word, "\"thaw.", 6)))
			continue;
		if (len >= sizeof(buf)) {
			snprintf(msg, sizeof(msg), "%.40s...: too long", word);
			warn(msg);
			continue;
		}
		/* The kernel strips the quotes; so do we. */
		for (size_t i = 0; i < len; i++)
			if (word[i] != '"')
				*o++ = word[i];
		*o = '\0';
		key = buf + 5;
		value = strchr(key, '=');
		if (value)
			*value++ = '\0';
		else
			value = "true";		/* "thaw.quiet" alone */
		if (guest_config__set(cfg, key, value, err, sizeof(err))) {
			snprintf(msg, sizeof(msg), "thaw.%.64s: %s", key, err);
			warn(msg);
		}
	}
}

static int env_push(char **env, size_t *n, const char *name,
		    const char *value)
{
	if (asprintf(&env[*n], "%s=%s", name, value) < 0) {
		env[*n] = NULL;
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

void guest_config__free_env(char **env)
{
	if (!env)
		return;
	for (char **e = env; *e; e++)
		free(*e);
	free(env);
}

int guest_config__log_stream_name(const char *version, long long now,
				  const uint8_t rnd[16], char *out, size_t len)
{
	time_t t = now > 0 ? (time_t)now : 0;
	struct tm tm;
	int n;

	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	n = snprintf(out, len, "%04d/%02d/%02d/[%s]", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, version);
	if (n < 0 || (size_t)n + 32 >= len)
		return -ENOSPC;
	for (int i = 0; i < 16; i++)
		snprintf(out + n + 2 * i, 3, "%02x", rnd[i]);
	return n + 32;
}

char **guest_config__build_env(const struct guest_config *cfg,
			       uint32_t memory_mb)
{
	/* reserved ones, the overridable defaults, the function's own */
	size_t cap = 24 + GUEST_ENV_MAX + 1, n = 0, fixed;
	char api[32], mem[16], *lib = NULL, *group = NULL;
	char **env = calloc(cap, sizeof(*env));
	int err = 0;

	if (!env)
		return NULL;
	snprintf(api, sizeof(api), "127.0.0.1:%u", cfg->api_port);
	snprintf(mem, sizeof(mem), "%u", memory_mb);
	if (asprintf(&lib, "/lib64:/usr/lib64:%s:%s/lib:%s:%s/lib:/opt/lib",
		     cfg->runtime_dir, cfg->runtime_dir, cfg->task_root,
		     cfg->task_root) < 0)
		lib = NULL;
	if (cfg->log_group_name)
		group = strdup(cfg->log_group_name);
	else if (asprintf(&group, "/aws/lambda/%s", cfg->function_name) < 0)
		group = NULL;
	if (!lib || !group)
		goto fail;

	err |= env_push(env, &n, "AWS_LAMBDA_RUNTIME_API", api);
	err |= env_push(env, &n, "_HANDLER", cfg->handler);
	err |= env_push(env, &n, "LAMBDA_TASK_ROOT", cfg->task_root);
	err |= env_push(env, &n, "LAMBDA_RUNTIME_DIR", cfg->runtime_dir);
	err |= env_push(env, &n, "AWS_LAMBDA_FUNCTION_NAME",
			cfg->function_name);
	err |= env_push(env, &n, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", mem);
	err |= env_push(env, &n, "AWS_LAMBDA_FUNCTION_VERSION",
			cfg->function_version);
	err |= env_push(env, &n, "AWS_LAMBDA_INITIALIZATION_TYPE",
			cfg->initialization_type);
	err |= env_push(env, &n, "AWS_LAMBDA_LOG_GROUP_NAME", group);
	if (cfg->log_stream_name)
		err |= env_push(env, &n, "AWS_LAMBDA_LOG_STREAM_NAME",
				cfg->log_stream_name);
	err |= env_push(env, &n, "AWS_REGION", cfg->region);
	err |= env_push(env, &n, "AWS_DEFAULT_REGION", cfg->region);
	/* Lambda sets it for its managed runtimes, not for provided.* */
	if (cfg->execution_env)
		err |= env_push(env, &n, "AWS_EXECUTION_ENV",
				cfg->execution_env);
	/* The execution role's keys; Lambda sets the old name too. */
	if (cfg->access_key_id) {
		err |= env_push(env, &n, "AWS_ACCESS_KEY_ID",
				cfg->access_key_id);
		err |= env_push(env, &n, "AWS_ACCESS_KEY", cfg->access_key_id);
	}
	if (cfg->secret_access_key)
		err |= env_push(env, &n, "AWS_SECRET_ACCESS_KEY",
				cfg->secret_access_key);
	if (cfg->session_token)
		err |= env_push(env, &n, "AWS_SESSION_TOKEN",
				cfg->session_token);
	fixed = n;
	err |= env_push(env, &n, "PATH", "/usr/local/bin:/usr/bin:/bin:/opt/bin");
	err |= env_push(env, &n, "LD_LIBRARY_PATH", lib);
	err |= env_push(env, &n, "LANG", "en_US.UTF-8");
	err |= env_push(env, &n, "TZ", ":UTC");
	err |= env_push(env, &n, "HOME", "/tmp");
	if (err)
		goto fail;

	for (size_t i = 0; i < cfg->env_count; i++) {
		const char *eq = strchr(cfg->env[i], '=');
		size_t nlen = eq ? (size_t)(eq - cfg->env[i]) : 0, j;
		char *entry;

		/* set_env() keeps reserved names out; check again anyway */
		if (!eq || guest_config__reserved_name(cfg->env[i], nlen))
			continue;
		entry = strdup(cfg->env[i]);
		if (!entry)
			goto fail;
		for (j = fixed; j < n; j++)
			if (!strncmp(env[j], cfg->env[i], nlen + 1))
				break;
		if (j < n)
			free(env[j]);
		env[j] = entry;
		if (j == n)
			n++;
	}
	env[n] = NULL;
	free(lib);
	free(group);
	return env;
fail:
	free(lib);
	free(group);
	guest_config__free_env(env);
	return NULL;
}
