// SPDX-License-Identifier: GPL-2.0
/* vmm/config.c: the JSON bodies of the configuration API and --config-file. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "vmm/config.h"
#include "vmm/snapshot/snapshot.h"

static char err[256];

/* Parse @text as one JSON document, then apply @fn's section parser. */
static int apply(struct vm_config *cfg, const char *text,
		 int (*fn)(struct vm_config *, struct json_object *, char *,
			   size_t))
{
	json_object *o;
	int ret;

	err[0] = 0;
	o = vm_config__parse_json(text, strlen(text), err, sizeof(err));
	if (!o)
		return -1000;
	ret = fn(cfg, o, err, sizeof(err));
	json_object_put(o);
	return ret;
}

static int put_machine(struct vm_config *c, struct json_object *o, char *e,
		       size_t n)
{
	return vm_config__parse_machine(c, o, false, e, n);
}

static int patch_machine(struct vm_config *c, struct json_object *o, char *e,
			 size_t n)
{
	return vm_config__parse_machine(c, o, true, e, n);
}

static void defaults(void **state)
{
	struct vm_config cfg;

	vm_config__init(&cfg);
	assert_int_equal(cfg.machine.vcpu_count, 1);
	assert_int_equal(cfg.machine.mem_size_mib, 128);
	assert_false(cfg.has_boot_source);
	assert_false(cfg.vsock.present);
	vm_config__free(&cfg);
}

static void bad_json(void **state)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":}", "nul", "{} x", "[1,]", "{\"a\" 1}",
		"{\"a\":1,}",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_null(vm_config__parse_json(bad[i], strlen(bad[i]), err,
						  sizeof(err)));
		assert_true(err[0] != 0);
	}
	/* Trailing whitespace is fine. */
	json_object *o = vm_config__parse_json("{}\r\n ", 5, err, sizeof(err));

	assert_non_null(o);
	json_object_put(o);
}

static void boot_source(void **state)
{
	struct vm_config cfg;

	vm_config__init(&cfg);
	assert_int_equal(0, apply(&cfg,
		"{\"kernel_image_path\":\"/k\",\"initrd_path\":\"/i\",\"boot_args\":\"console=ttyS0\"}",
		vm_config__parse_boot_source));
	assert_true(cfg.has_boot_source);
	assert_string_equal(cfg.boot_source.kernel_image_path, "/k");
	assert_string_equal(cfg.boot_source.initrd_path, "/i");
	assert_string_equal(cfg.boot_source.boot_args, "console=ttyS0");

	/* Every failure leaves the previous value. */
	assert_int_equal(-EINVAL, apply(&cfg, "{\"initrd_path\":\"/i\"}",
					vm_config__parse_boot_source));
	assert_non_null(strstr(err, "kernel_image_path"));
	assert_int_equal(-EINVAL, apply(&cfg,
		"{\"kernel_image_path\":\"/k2\",\"bogus\":1}",
		vm_config__parse_boot_source));
	assert_non_null(strstr(err, "unknown field `bogus`"));
	assert_int_equal(-EINVAL, apply(&cfg, "{\"kernel_image_path\":7}",
					vm_config__parse_boot_source));
	assert_int_equal(-EINVAL, apply(&cfg, "{\"kernel_image_path\":\"\"}",
					vm_config__parse_boot_source));
	assert_int_equal(-EINVAL, apply(&cfg,
		"{\"kernel_image_path\":\"/a\\u0000b\"}",
		vm_config__parse_boot_source));
	assert_int_equal(-EINVAL, apply(&cfg, "[]",
					vm_config__parse_boot_source));
	assert_string_equal(cfg.boot_source.kernel_image_path, "/k");
	vm_config__free(&cfg);
}

static void machine_put_and_patch(void **state)
{
	struct vm_config cfg;

	vm_config__init(&cfg);
	assert_int_equal(0, apply(&cfg,
		"{\"vcpu_count\":2,\"mem_size_mib\":256,\"track_dirty_pages\":true}",
		put_machine));
	assert_int_equal(cfg.machine.vcpu_count, 2);
	assert_int_equal(cfg.machine.mem_size_mib, 256);
	assert_true(cfg.machine.track_dirty_pages);

	assert_int_equal(0, apply(&cfg, "{\"mem_size_mib\":512}",
				  patch_machine));
	assert_int_equal(cfg.machine.vcpu_count, 2);
	assert_int_equal(cfg.machine.mem_size_mib, 512);
	assert_true(cfg.machine.track_dirty_pages);

	/* PUT resets what it does not name. */
	assert_int_equal(0, apply(&cfg, "{\"vcpu_count\":1,\"mem_size_mib\":64}",
				  put_machine));
	assert_false(cfg.machine.track_dirty_pages);
	assert_int_equal(0, apply(&cfg,
		"{\"vcpu_count\":1,\"mem_size_mib\":64,\"huge_pages\":\"2M\",\"cpu_template\":\"None\"}",
		put_machine));
	assert_int_equal(cfg.machine.huge_pages, VM_HUGE_PAGES_2M);
	vm_config__free(&cfg);
}

static void machine_bad(void **state)
{
	static const char *const bad_put[] = {
		"{\"mem_size_mib\":128}",
		"{\"vcpu_count\":1}",
		"{\"vcpu_count\":0,\"mem_size_mib\":128}",
		"{\"vcpu_count\":33,\"mem_size_mib\":128}",
		"{\"vcpu_count\":-1,\"mem_size_mib\":128}",
		"{\"vcpu_count\":1.5,\"mem_size_mib\":128}",
		"{\"vcpu_count\":\"1\",\"mem_size_mib\":128}",
		"{\"vcpu_count\":1,\"mem_size_mib\":0}",
		"{\"vcpu_count\":1,\"mem_size_mib\":99999999999999999999}",
		"{\"vcpu_count\":1,\"mem_size_mib\":18446744073709551615}",
		"{\"vcpu_count\":3,\"mem_size_mib\":128,\"smt\":true}",
		"{\"vcpu_count\":1,\"mem_size_mib\":127,\"huge_pages\":\"2M\"}",
		"{\"vcpu_count\":1,\"mem_size_mib\":128,\"huge_pages\":\"1G\"}",
		"{\"vcpu_count\":1,\"mem_size_mib\":128,\"cpu_template\":\"T2\"}",
		"{\"vcpu_count\":1,\"mem_size_mib\":128,\"smt\":1}",
		"{\"vcpu_count\":1,\"mem_size_mib\":128,\"extra\":null}",
	};
	struct vm_config cfg;

	vm_config__init(&cfg);
	for (size_t i = 0; i < sizeof(bad_put) / sizeof(bad_put[0]); i++) {
		assert_int_equal(-EINVAL, apply(&cfg, bad_put[i], put_machine));
		assert_true(err[0] != 0);
		assert_int_equal(cfg.machine.vcpu_count, 1);
		assert_int_equal(cfg.machine.mem_size_mib, 128);
	}
	assert_int_equal(-EINVAL, apply(&cfg, "{}", patch_machine));
	assert_int_equal(-EINVAL, apply(&cfg, "{\"vcpu_count\":0}",
					patch_machine));
	vm_config__free(&cfg);
}

static void vsock(void **state)
{
	struct vm_config cfg;
	char body[300];

	vm_config__init(&cfg);
	assert_int_equal(0, apply(&cfg,
		"{\"guest_cid\":3,\"uds_path\":\"/tmp/v.sock\",\"vsock_id\":\"vsock0\"}",
		vm_config__parse_vsock));
	assert_true(cfg.vsock.present);
	assert_int_equal(cfg.vsock.guest_cid, 3);
	assert_string_equal(cfg.vsock.uds_path, "/tmp/v.sock");
	assert_int_equal(-EINVAL, apply(&cfg,
		"{\"guest_cid\":2,\"uds_path\":\"/tmp/v\"}",
		vm_config__parse_vsock));
	assert_int_equal(-EINVAL, apply(&cfg,
		"{\"guest_cid\":4294967295,\"uds_path\":\"/tmp/v\"}",
		vm_config__parse_vsock));
	assert_int_equal(-EINVAL, apply(&cfg, "{\"guest_cid\":5}",
					vm_config__parse_vsock));
	snprintf(body, sizeof(body), "{\"guest_cid\":5,\"uds_path\":\"/%0200d\"}",
		 0);
	assert_int_equal(-EINVAL, apply(&cfg, body, vm_config__parse_vsock));
	assert_int_equal(cfg.vsock.guest_cid, 3);
	vm_config__free(&cfg);
}

static void logger_metrics_serial(void **state)
{
	struct vm_config cfg;

	vm_config__init(&cfg);
	assert_int_equal(0, apply(&cfg,
		"{\"log_path\":\"/tmp/log\",\"level\":\"debug\",\"show_level\":true}",
		vm_config__parse_logger));
	assert_true(cfg.logger.present);
	assert_true(cfg.logger.show_level);
	assert_int_equal(-EINVAL, apply(&cfg, "{\"level\":\"Loud\"}",
					vm_config__parse_logger));
	assert_string_equal(cfg.logger.level, "debug");
	assert_int_equal(0, apply(&cfg, "{\"metrics_path\":\"/tmp/m\"}",
				  vm_config__parse_metrics));
	assert_int_equal(-EINVAL, apply(&cfg, "{}", vm_config__parse_metrics));
	assert_int_equal(0, apply(&cfg, "{\"serial_out_path\":\"/tmp/s\"}",
				  vm_config__parse_serial));
	assert_string_equal(cfg.serial_out_path, "/tmp/s");
	/* refused, and the value before is kept */
	assert_int_equal(-EINVAL, apply(&cfg, "{\"serial_out_path\":\"\"}",
					vm_config__parse_serial));
	assert_non_null(strstr(err, "`serial_out_path` is empty"));
	assert_int_equal(-EINVAL, apply(&cfg, "{\"metrics_path\":\"\"}",
					vm_config__parse_metrics));
	assert_non_null(strstr(err, "metrics: `metrics_path` is empty"));
	assert_int_equal(-EINVAL,
			 apply(&cfg, "{\"metrics_path\":\"/x\",\"extra\":1}",
			       vm_config__parse_metrics));
	assert_string_equal(cfg.metrics.metrics_path, "/tmp/m");
	assert_string_equal(cfg.serial_out_path, "/tmp/s");
	/* serial_out_path is optional: without it, no serial file */
	assert_int_equal(0, apply(&cfg, "{}", vm_config__parse_serial));
	assert_null(cfg.serial_out_path);
	vm_config__free(&cfg);
}

/* The serial section's rate_limiter: Firecracker's TokenBucket. */
static void serial_rate_limiter(void **state)
{
	static const char *const bad[] = {
		"{\"rate_limiter\":{\"size\":10}}",
		"{\"rate_limiter\":{\"refill_time\":10}}",
		"{\"rate_limiter\":{\"size\":-1,\"refill_time\":10}}",
		"{\"rate_limiter\":{\"size\":1,\"refill_time\":1,\"x\":1}}",
		"{\"rate_limiter\":{\"size\":\"1\",\"refill_time\":1}}",
		"{\"rate_limiter\":[]}",
	};
	struct vm_config cfg;

	vm_config__init(&cfg);
	assert_int_equal(0, apply(&cfg,
		"{\"serial_out_path\":\"/tmp/s\",\"rate_limiter\":"
		"{\"size\":4096,\"one_time_burst\":100,\"refill_time\":1000}}",
		vm_config__parse_serial));
	assert_string_equal(cfg.serial_out_path, "/tmp/s");
	assert_true(cfg.serial_rate_limiter.present);
	assert_int_equal(4096, cfg.serial_rate_limiter.size);
	assert_int_equal(100, cfg.serial_rate_limiter.one_time_burst);
	assert_int_equal(1000, cfg.serial_rate_limiter.refill_time);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(-EINVAL, apply(&cfg, bad[i],
						vm_config__parse_serial));
		assert_non_null(strstr(err, "serial: rate_limiter"));
		/* refused: what was there stays */
		assert_int_equal(4096, cfg.serial_rate_limiter.size);
		assert_string_equal(cfg.serial_out_path, "/tmp/s");
	}
	/* A new PUT /serial replaces the whole section. */
	assert_int_equal(0, apply(&cfg, "{\"serial_out_path\":\"/tmp/t\"}",
				  vm_config__parse_serial));
	assert_false(cfg.serial_rate_limiter.present);
	vm_config__free(&cfg);
}

static const char full_file[] =
	"{\"boot-source\":{\"kernel_image_path\":\"/vmlinuz\",\"initrd_path\":\"/f.cpio.gz\",\"boot_args\":\"console=ttyS0\"},"
	"\"machine-config\":{\"vcpu_count\":2,\"mem_size_mib\":256},"
	"\"vsock\":{\"guest_cid\":7,\"uds_path\":\"/tmp/v.sock\"},"
	"\"logger\":{\"log_path\":\"/tmp/l\",\"level\":\"Info\"},"
	"\"metrics\":{\"metrics_path\":\"/tmp/m\"},"
	"\"serial\":{\"rate_limiter\":{\"size\":4096,\"refill_time\":1000}},"
	"\"drives\":[],\"network-interfaces\":[]}";

static void config_file(void **state)
{
	struct vm_config cfg, again, copy;
	json_object *out;
	const char *text;

	vm_config__init(&cfg);
	assert_int_equal(0, vm_config__parse_file(&cfg, full_file,
						  strlen(full_file), err,
						  sizeof(err)));
	assert_int_equal(cfg.machine.vcpu_count, 2);
	assert_int_equal(cfg.vsock.guest_cid, 7);

	/* GET /vm/config output is itself a valid config file. */
	out = vm_config__to_json(&cfg);
	text = json_object_to_json_string(out);
	vm_config__init(&again);
	assert_int_equal(0, vm_config__parse_file(&again, text, strlen(text),
						  err, sizeof(err)));
	assert_string_equal(again.boot_source.initrd_path, "/f.cpio.gz");
	assert_int_equal(again.machine.mem_size_mib, 256);
	assert_string_equal(again.metrics.metrics_path, "/tmp/m");
	assert_true(again.serial_rate_limiter.present);
	assert_int_equal(4096, again.serial_rate_limiter.size);
	assert_int_equal(1000, again.serial_rate_limiter.refill_time);
	assert_null(again.serial_out_path);
	json_object_put(out);

	assert_int_equal(0, vm_config__copy(&copy, &again));
	assert_string_equal(copy.vsock.uds_path, "/tmp/v.sock");
	assert_ptr_not_equal(copy.vsock.uds_path, again.vsock.uds_path);
	vm_config__free(&copy);
	vm_config__free(&again);
	vm_config__free(&cfg);
}

static void config_file_bad(void **state)
{
	static const char *const bad[] = {
		"{}",
		"[]",
		"{\"boot-source\":{\"kernel_image_path\":\"/k\"},\"unknown\":{}}",
		"{\"boot-source\":{\"kernel_image_path\":\"/k\"},\"drives\":[{\"drive_id\":\"x\"}]}",
		"{\"boot-source\":{\"kernel_image_path\":\"/k\"},\"drives\":{}}",
		"{\"boot-source\":{\"kernel_image_path\":\"/k\"},\"machine-config\":{\"vcpu_count\":0,\"mem_size_mib\":1}}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vm_config cfg;

		vm_config__init(&cfg);
		err[0] = 0;
		assert_int_equal(-EINVAL, vm_config__parse_file(&cfg, bad[i],
								strlen(bad[i]),
								err, sizeof(err)));
		assert_true(err[0] != 0);
		vm_config__free(&cfg);
	}
}

/* Parse @text as a PUT /snapshot/rewind body into *@p. */
static int rewind_body(struct snapshot_rewind_params *p, const char *text)
{
	json_object *o;
	int ret;

	err[0] = 0;
	o = vm_config__parse_json(text, strlen(text), err, sizeof(err));
	if (!o)
		return -1000;
	ret = vm_config__parse_snapshot_rewind(p, o, err, sizeof(err));
	json_object_put(o);
	return ret;
}

static void snapshot_rewind(void **state)
{
	struct snapshot_rewind_params p;

	/* Defaults: resume, keep the CID, the load's clock choice. */
	memset(&p, 0xff, sizeof(p));
	assert_int_equal(0, rewind_body(&p, "{}"));
	assert_true(p.resume_vm);
	assert_int_equal(p.vsock_cid, 0);
	assert_false(p.clock_realtime_set);

	assert_int_equal(0, rewind_body(&p,
		"{\"resume_vm\":false,\"vsock_override\":{\"guest_cid\":77},"
		"\"clock_realtime\":true}"));
	assert_false(p.resume_vm);
	assert_int_equal(p.vsock_cid, 77);
	assert_true(p.clock_realtime_set);
	assert_true(p.clock_realtime);
	assert_int_equal(0, rewind_body(&p,
		"{\"vsock_override\":{\"guest_cid\":4294967294}}"));
	assert_int_equal(p.vsock_cid, 4294967294u);
	assert_true(p.resume_vm);
}

static void snapshot_rewind_bad(void **state)
{
	static const struct {
		const char *body, *says;
	} bad[] = {
		{ "[]", "expected a JSON object" },
		{ "{\"resume\":true}", "unknown field `resume`" },
		{ "{\"resume_vm\":1}", "`resume_vm` must be true or false" },
		{ "{\"resume_vm\":\"yes\"}", "must be true or false" },
		{ "{\"clock_realtime\":null}", "must be true or false" },
		{ "{\"vsock_override\":7}", "expected a JSON object" },
		{ "{\"vsock_override\":{}}", "missing field `guest_cid`" },
		{ "{\"vsock_override\":{\"guest_cid\":2}}",
		  "between 3 and 4294967294" },
		{ "{\"vsock_override\":{\"guest_cid\":4294967295}}",
		  "between 3 and 4294967294" },
		{ "{\"vsock_override\":{\"guest_cid\":-3}}", "between" },
		{ "{\"vsock_override\":{\"guest_cid\":\"7\"}}",
		  "must be an integer" },
		{ "{\"vsock_override\":{\"guest_cid\":7,\"uds_path\":\"/v\"}}",
		  "cannot change on a rewind" },
		{ "{\"vsock_override\":{\"guest_cid\":7,\"port\":1}}",
		  "unknown field `port`" },
	};
	struct snapshot_rewind_params p;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&p, 0x5a, sizeof(p));
		assert_int_equal(-EINVAL, rewind_body(&p, bad[i].body));
		if (!strstr(err, bad[i].says))
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].body,
				 err, bad[i].says);
		assert_non_null(strstr(err, "snapshot/rewind"));
		/* A refused body leaves the parameters untouched. */
		assert_int_equal(p.vsock_cid, 0x5a5a5a5a);
	}
	assert_int_equal(-1000, rewind_body(&p, "{\"resume_vm\":tru"));
	assert_int_equal(-1000, rewind_body(&p, "{} x"));
}

/* Parse @text as a PUT /snapshot/load body into *@p. */
static int load_body(struct snapshot_load_params *p, const char *text)
{
	json_object *o;
	int ret;

	err[0] = 0;
	o = vm_config__parse_json(text, strlen(text), err, sizeof(err));
	if (!o)
		return -1000;
	ret = vm_config__parse_snapshot_load(p, o, err, sizeof(err));
	json_object_put(o);
	return ret;
}

#define LOAD(backend, extra)						\
	"{\"snapshot_path\":\"/s\",\"mem_backend\":{\"backend_type\":\""	\
	backend "\",\"backend_path\":\"/m\"}" extra "}"

/* PUT /snapshot/load's enable_rewind: a bool, refused with Uffd. */
static void snapshot_load_rewind(void **state)
{
	struct snapshot_load_params p;

	assert_int_equal(0, load_body(&p, LOAD("File", ",\"enable_rewind\":true")));
	assert_true(p.enable_rewind);
	snapshot_load_params__free(&p);
	assert_int_equal(0, load_body(&p, LOAD("Thaw", ",\"enable_rewind\":true")));
	assert_true(p.enable_rewind);
	snapshot_load_params__free(&p);
	assert_int_equal(0, load_body(&p, LOAD("File", "")));
	assert_false(p.enable_rewind);
	snapshot_load_params__free(&p);
	assert_int_equal(0, load_body(&p, LOAD("Uffd", ",\"enable_rewind\":false")));
	snapshot_load_params__free(&p);

	assert_int_equal(-EINVAL,
			 load_body(&p, LOAD("Uffd", ",\"enable_rewind\":true")));
	assert_non_null(strstr(err, "Uffd backend cannot rewind"));
	assert_int_equal(-EINVAL,
			 load_body(&p, LOAD("File", ",\"enable_rewind\":1")));
	assert_non_null(strstr(err, "`enable_rewind` must be true or false"));
}

/* A scratch backing file; its path in @path (PATH_MAX). */
static void scratch(char *path)
{
	int fd;

	strcpy(path, "/tmp/config_test.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(0, ftruncate(fd, 1 << 20));
	close(fd);
}

/* A PUT of a section whose path ends in an id: the parser, @id, @body. */
typedef int (*id_parser)(struct vm_config *cfg, const char *id,
			 json_object *o, char *err, size_t errlen);

static int put_id(struct vm_config *cfg, id_parser parse, const char *id,
		  const char *body)
{
	json_object *o;
	int ret;

	err[0] = 0;
	o = vm_config__parse_json(body, strlen(body), err, sizeof(err));
	if (!o)
		return -1000;
	ret = parse(cfg, id, o, err, sizeof(err));
	json_object_put(o);
	return ret;
}

static int parse_drive(struct vm_config *cfg, const char *id, json_object *o,
		       char *e, size_t elen)
{
	return vm_config__parse_drive(cfg, o, id, e, elen);
}

/* PUT /drives/{@id} with @body into @cfg. */
static int put_drive(struct vm_config *cfg, const char *id, const char *body)
{
	return put_id(cfg, parse_drive, id, body);
}

static void drives(void **state)
{
	char a[PATH_MAX], b[PATH_MAX], body[2 * PATH_MAX], file[4 * PATH_MAX];
	struct vm_config cfg, again, copy;
	const char *text;
	json_object *out, *o;
	char *path = NULL;

	scratch(a);
	scratch(b);
	vm_config__init(&cfg);
	snprintf(body, sizeof(body),
		 "{\"drive_id\":\"rootfs\",\"path_on_host\":\"%s\",\"is_root_device\":true,\"is_read_only\":false,\"io_engine\":\"Async\",\"cache_type\":\"Writeback\",\"partuuid\":\"0eaa91a0-01\",\"rate_limiter\":{\"bandwidth\":{\"size\":0,\"refill_time\":100}}}",
		 a);
	assert_int_equal(0, put_drive(&cfg, "rootfs", body));
	snprintf(body, sizeof(body),
		 "{\"drive_id\":\"data_1\",\"path_on_host\":\"%s\",\"is_root_device\":false,\"is_read_only\":true,\"rate_limiter\":null}",
		 b);
	assert_int_equal(0, put_drive(&cfg, "data_1", body));
	/* A PUT of a known id replaces it. */
	assert_int_equal(0, put_drive(&cfg, "data_1", body));
	assert_int_equal(2, cfg.nr_drives);
	assert_true(cfg.drives[0].is_root_device);
	assert_true(cfg.drives[0].io_async);
	assert_int_equal(VM_CACHE_WRITEBACK, cfg.drives[0].cache_type);
	assert_string_equal("0eaa91a0-01", cfg.drives[0].partuuid);
	assert_true(cfg.drives[1].is_read_only);
	assert_false(cfg.drives[1].io_async);

	/* Refused, and the configuration as it was. */
	snprintf(body, sizeof(body),
		 "{\"drive_id\":\"two\",\"path_on_host\":\"%s\",\"is_root_device\":true}",
		 b);
	assert_int_equal(-EINVAL, put_drive(&cfg, "two", body));
	assert_non_null(strstr(err, "root block device already exists"));
	assert_int_equal(-EINVAL, put_drive(&cfg, "x", "{\"drive_id\":\"x\",\"path_on_host\":\"/nonexistent/disk\",\"is_root_device\":false}"));
	assert_non_null(strstr(err, "cannot open path_on_host /nonexistent/disk"));
	assert_int_equal(-EINVAL, put_drive(&cfg, "a-b", "{\"drive_id\":\"a-b\",\"path_on_host\":\"/x\",\"is_root_device\":false}"));
	assert_non_null(strstr(err, "letters, digits or underscores"));
	assert_int_equal(-EINVAL, put_drive(&cfg, "y", "{\"drive_id\":\"x\",\"path_on_host\":\"/x\",\"is_root_device\":false}"));
	assert_non_null(strstr(err, "differ"));
	assert_int_equal(-EINVAL, put_drive(&cfg, "x", "{\"drive_id\":\"x\",\"path_on_host\":\"/x\"}"));
	assert_non_null(strstr(err, "missing field `is_root_device`"));
	assert_int_equal(-EINVAL, put_drive(&cfg, "x", "{\"drive_id\":\"x\",\"path_on_host\":\"/x\",\"is_root_device\":false,\"cache_type\":\"None\"}"));
	assert_non_null(strstr(err, "Unsafe or Writeback"));
	assert_int_equal(-EINVAL, put_drive(&cfg, "x", "{\"drive_id\":\"x\",\"path_on_host\":\"/x\",\"is_root_device\":false,\"io_engine\":\"Fast\"}"));
	assert_int_equal(-EINVAL, put_drive(&cfg, "x", "{\"drive_id\":\"x\",\"socket\":\"/s\",\"is_root_device\":false}"));
	assert_non_null(strstr(err, "vhost-user"));
	assert_int_equal(-EINVAL, put_drive(&cfg, "x", "{\"drive_id\":\"x\",\"path_on_host\":\"/x\",\"is_root_device\":false,\"rate_limiter\":{\"ops\":{\"size\":10,\"refill_time\":1000}}}"));
	assert_non_null(strstr(err, "does not rate-limit"));
	assert_int_equal(-EINVAL, put_drive(&cfg, "x", "{\"drive_id\":\"x\",\"path_on_host\":\"/x\",\"is_root_device\":false,\"partuuid\":\"zz\"}"));
	assert_int_equal(2, cfg.nr_drives);

	/* PATCH: drive_id and a path. */
	o = json_tokener_parse("{\"drive_id\":\"data_1\",\"path_on_host\":\"/new\"}");
	assert_int_equal(0, vm_config__parse_drive_patch(o, "data_1", &path, err,
							 sizeof(err)));
	assert_string_equal("/new", path);
	free(path);
	path = NULL;
	assert_int_equal(-EINVAL, vm_config__parse_drive_patch(o, "other", &path,
							       err, sizeof(err)));
	json_object_put(o);
	o = json_tokener_parse("{\"drive_id\":\"data_1\",\"is_read_only\":true}");
	assert_int_equal(-EINVAL, vm_config__parse_drive_patch(o, "data_1", &path,
							       err, sizeof(err)));
	json_object_put(o);

	/* GET /vm/config round-trips through a config file, entropy too. */
	cfg.entropy.present = true;
	assert_int_equal(0, apply(&cfg, "{\"kernel_image_path\":\"/k\"}",
				  vm_config__parse_boot_source));
	out = vm_config__to_json(&cfg);
	text = json_object_to_json_string(out);
	vm_config__init(&again);
	assert_int_equal(0, vm_config__parse_file(&again, text, strlen(text),
						  err, sizeof(err)));
	assert_int_equal(2, again.nr_drives);
	assert_string_equal(again.drives[1].path_on_host, b);
	assert_true(again.drives[1].is_read_only);
	assert_true(again.entropy.present);
	json_object_put(out);
	assert_int_equal(0, vm_config__copy(&copy, &again));
	assert_ptr_not_equal(copy.drives[0].path_on_host,
			     again.drives[0].path_on_host);
	assert_string_equal(copy.drives[0].partuuid, "0eaa91a0-01");
	vm_config__free(&copy);
	vm_config__free(&again);

	/* A config file: the same id twice, two roots. */
	snprintf(file, sizeof(file),
		 "{\"boot-source\":{\"kernel_image_path\":\"/k\"},\"drives\":[{\"drive_id\":\"a\",\"path_on_host\":\"%s\",\"is_root_device\":false},{\"drive_id\":\"a\",\"path_on_host\":\"%s\",\"is_root_device\":false}]}",
		 a, b);
	vm_config__init(&again);
	assert_int_equal(-EINVAL, vm_config__parse_file(&again, file,
							strlen(file), err,
							sizeof(err)));
	assert_non_null(strstr(err, "given twice"));
	vm_config__free(&again);
	vm_config__free(&cfg);
	unlink(a);
	unlink(b);
}

/* PUT /snapshot/load's drive_overrides. */
static void snapshot_load_drives(void **state)
{
	struct snapshot_load_params p;

	assert_int_equal(0, load_body(&p, LOAD("File", ",\"drive_overrides\":[{\"drive_id\":\"rootfs\",\"path_on_host\":\"/c/1.ext4\"},{\"drive_id\":\"data\",\"path_on_host\":\"/c/2.ext4\"}]")));
	assert_int_equal(2, p.nr_drive_overrides);
	assert_string_equal("data", p.drive_overrides[1].drive_id);
	assert_string_equal("/c/1.ext4", p.drive_overrides[0].path_on_host);
	snapshot_load_params__free(&p);
	assert_int_equal(-EINVAL, load_body(&p, LOAD("File", ",\"drive_overrides\":[{\"drive_id\":\"a\",\"path_on_host\":\"/1\"},{\"drive_id\":\"a\",\"path_on_host\":\"/2\"}]")));
	assert_non_null(strstr(err, "given twice"));
	assert_int_equal(-EINVAL, load_body(&p, LOAD("File", ",\"drive_overrides\":{}")));
	assert_int_equal(-EINVAL, load_body(&p, LOAD("File", ",\"drive_overrides\":[{\"drive_id\":\"a\"}]")));
	assert_non_null(strstr(err, "missing field `path_on_host`"));
	assert_int_equal(-EINVAL, load_body(&p, LOAD("File", ",\"drive_overrides\":[{\"drive_id\":\"a\",\"path_on_host\":\"/1\",\"x\":1}]")));
	assert_int_equal(-EINVAL, load_body(&p, LOAD("File", ",\"drive_overrides\":[1,2,3,4,5]")));
}

static int net_put(struct vm_config *cfg, const char *id, const char *text)
{
	return put_id(cfg, vm_config__parse_net, id, text);
}

static void network_interfaces(void **state)
{
	struct vm_config cfg;
	uint8_t mac[6];

	vm_config__init(&cfg);
	assert_int_equal(0, net_put(&cfg, "eth0",
		"{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\",\"guest_mac\":\"06:00:AC:10:00:02\",\"rx_rate_limiter\":null}"));
	assert_int_equal(cfg.nr_net, 1);
	assert_true(cfg.net[0].has_mac);
	assert_int_equal(cfg.net[0].guest_mac[2], 0xac);
	/* The same id replaces it. */
	assert_int_equal(0, net_put(&cfg, "eth0",
		"{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap1\"}"));
	assert_int_equal(cfg.nr_net, 1);
	assert_false(cfg.net[0].has_mac);
	assert_string_equal(cfg.net[0].host_dev_name, "tap1");

	/* Each refused, nothing changed. */
	assert_int_equal(-EINVAL, net_put(&cfg, "eth1",
		"{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap1\"}"));
	assert_non_null(strstr(err, "already interface eth0's"));
	assert_int_equal(-EINVAL, net_put(&cfg, "eth1",
		"{\"iface_id\":\"eth2\",\"host_dev_name\":\"tap2\"}"));
	assert_non_null(strstr(err, "differ"));
	assert_int_equal(-EINVAL, net_put(&cfg, "eth1",
		"{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap2\",\"guest_mac\":\"06:00:ac:10:00\"}"));
	assert_non_null(strstr(err, "not a unicast MAC"));
	assert_int_equal(-EINVAL, net_put(&cfg, "eth1",
		"{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap2\",\"tx_rate_limiter\":{\"bandwidth\":{}}}"));
	assert_non_null(strstr(err, "no rate limiters"));
	assert_int_equal(-EINVAL, net_put(&cfg, "eth1",
		"{\"iface_id\":\"eth1\",\"host_dev_name\":\"a-name-far-too-long\"}"));
	assert_int_equal(-EINVAL, net_put(&cfg, "eth1",
		"{\"iface_id\":\"eth1\"}"));
	assert_int_equal(cfg.nr_net, 1);

	assert_int_equal(0, vm_config__parse_mac("02:fc:00:00:00:05", mac));
	assert_int_equal(mac[5], 5);
	assert_int_equal(-EINVAL, vm_config__parse_mac("02:fc:00:00:00:5", mac));
	assert_int_equal(-EINVAL, vm_config__parse_mac("02:fc:00:00:00:05:", mac));
	assert_int_equal(-EINVAL, vm_config__parse_mac("02:fc:00:00:+0:05", mac));
	assert_int_equal(-EINVAL, vm_config__parse_mac("zz:fc:00:00:00:05", mac));
	assert_int_equal(-EINVAL, vm_config__parse_mac("01:00:5e:00:00:01", mac));
	vm_config__free(&cfg);
}

/* PUT /mmds/config and the config file's `mmds-config`. */
static void mmds_config(void **state)
{
	static const char file[] =
		"{\"mmds-config\":{\"version\":\"V2\",\"network_interfaces\":[\"eth0\"],\"ipv4_address\":\"169.254.170.2\"},"
		"\"boot-source\":{\"kernel_image_path\":\"/k\"},"
		"\"network-interfaces\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"vmtap0\"}]}";
	struct vm_config cfg;
	json_object *out, *m;

	vm_config__init(&cfg);
	/* No interface yet: refused. */
	assert_int_equal(-EINVAL, apply(&cfg, "{\"network_interfaces\":[\"eth0\"]}",
					vm_config__parse_mmds));
	assert_non_null(strstr(err, "`eth0` is not configured"));
	assert_int_equal(0, net_put(&cfg, "eth0",
		"{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\"}"));
	assert_int_equal(0, apply(&cfg, "{\"network_interfaces\":[\"eth0\"]}",
				  vm_config__parse_mmds));
	assert_true(cfg.mmds.present);
	assert_int_equal(cfg.mmds.version, 1);
	assert_int_equal(cfg.mmds.ipv4, htonl(0xa9fea9fe));
	assert_string_equal(cfg.mmds.ifaces[0], "eth0");
	assert_int_equal(0, apply(&cfg, "{\"version\":\"V2\",\"network_interfaces\":[\"eth0\"],\"ipv4_address\":\"169.254.1.0\",\"imds_compat\":true}",
				  vm_config__parse_mmds));
	assert_int_equal(cfg.mmds.version, 2);
	assert_true(cfg.mmds.imds_compat);

	/* Each refused, nothing changed. */
	assert_int_equal(-EINVAL, apply(&cfg, "{\"version\":\"V3\",\"network_interfaces\":[\"eth0\"]}",
					vm_config__parse_mmds));
	assert_non_null(strstr(err, "\"V1\" or \"V2\""));
	assert_int_equal(-EINVAL, apply(&cfg, "{\"network_interfaces\":[]}",
					vm_config__parse_mmds));
	assert_non_null(strstr(err, "is empty"));
	assert_int_equal(-EINVAL, apply(&cfg, "{}", vm_config__parse_mmds));
	assert_int_equal(-EINVAL, apply(&cfg, "{\"network_interfaces\":\"eth0\"}",
					vm_config__parse_mmds));
	assert_int_equal(-EINVAL, apply(&cfg, "{\"network_interfaces\":[\"eth0\",\"eth0\"]}",
					vm_config__parse_mmds));
	assert_int_equal(-EINVAL, apply(&cfg, "{\"network_interfaces\":[1]}",
					vm_config__parse_mmds));
	assert_int_equal(-EINVAL, apply(&cfg, "{\"network_interfaces\":[\"eth0\"],\"x\":1}",
					vm_config__parse_mmds));
	static const char *const bad_ip[] = {
		"10.0.0.1", "169.254.0.1", "169.254.255.1", "169.254.169",
		"169.254.169.254.1", "", "169.254.169.256",
	};
	for (size_t i = 0; i < sizeof(bad_ip) / sizeof(bad_ip[0]); i++) {
		char body[200];

		snprintf(body, sizeof(body),
			 "{\"network_interfaces\":[\"eth0\"],\"ipv4_address\":\"%s\"}",
			 bad_ip[i]);
		assert_int_equal(-EINVAL, apply(&cfg, body, vm_config__parse_mmds));
		assert_non_null(strstr(err, "not a link-local IPv4 address"));
	}
	assert_int_equal(cfg.mmds.version, 2);
	assert_int_equal(cfg.mmds.ipv4, htonl(0xa9fe0100));
	vm_config__free(&cfg);

	/* The file's section may come before the interfaces it names. */
	vm_config__init(&cfg);
	assert_int_equal(0, vm_config__parse_file(&cfg, file, strlen(file),
						  err, sizeof(err)));
	assert_int_equal(cfg.mmds.version, 2);
	assert_int_equal(cfg.mmds.ipv4, htonl(0xa9feaa02));
	out = vm_config__to_json(&cfg);
	assert_true(json_object_object_get_ex(out, "mmds-config", &m));
	assert_string_equal(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN),
			    "{\"version\":\"V2\",\"network_interfaces\":[\"eth0\"],\"ipv4_address\":\"169.254.170.2\",\"imds_compat\":false}");
	json_object_put(out);
	vm_config__free(&cfg);
}

static void network_config_file_and_overrides(void **state)
{
	static const char text[] =
		"{\"boot-source\":{\"kernel_image_path\":\"/k\"},"
		"\"network-interfaces\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"vmtap0\",\"guest_mac\":\"06:00:ac:10:00:02\"}]}";
	struct snapshot_load_params p;
	struct vm_config cfg;
	json_object *out;
	const char *s;

	vm_config__init(&cfg);
	assert_int_equal(0, vm_config__parse_file(&cfg, text, strlen(text),
						  err, sizeof(err)));
	assert_int_equal(cfg.nr_net, 1);
	out = vm_config__to_json(&cfg);
	s = json_object_to_json_string(out);
	assert_non_null(strstr(s, "\"guest_mac\": \"06:00:ac:10:00:02\""));
	json_object_put(out);
	vm_config__free(&cfg);

	assert_int_equal(0, load_body(&p, LOAD("File",
		",\"network_overrides\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap7\"}]")));
	assert_int_equal(p.nr_net_overrides, 1);
	assert_string_equal(p.net_overrides[0].host_dev_name, "tap7");
	snapshot_load_params__free(&p);
	assert_int_equal(-EINVAL, load_body(&p, LOAD("File",
		",\"network_overrides\":[{\"iface_id\":\"eth0\"}]")));
	assert_int_equal(-EINVAL, load_body(&p, LOAD("File",
		",\"network_overrides\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"a\"},{\"iface_id\":\"eth0\",\"host_dev_name\":\"b\"}]")));
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(-EINVAL, load_body(&p, LOAD("File",
		",\"network_overrides\":{}")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(bad_json),
		cmocka_unit_test(boot_source),
		cmocka_unit_test(machine_put_and_patch),
		cmocka_unit_test(machine_bad),
		cmocka_unit_test(vsock),
		cmocka_unit_test(network_interfaces),
		cmocka_unit_test(network_config_file_and_overrides),
		cmocka_unit_test(network_interfaces),
		cmocka_unit_test(network_config_file_and_overrides),
		cmocka_unit_test(logger_metrics_serial),
		cmocka_unit_test(serial_rate_limiter),
		cmocka_unit_test(config_file),
		cmocka_unit_test(config_file_bad),
		cmocka_unit_test(snapshot_rewind),
		cmocka_unit_test(snapshot_rewind_bad),
		cmocka_unit_test(snapshot_load_rewind),
		cmocka_unit_test(drives),
		cmocka_unit_test(snapshot_load_drives),
		cmocka_unit_test(mmds_config),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
