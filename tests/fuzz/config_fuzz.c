// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration JSON (vmm/config.c): the first byte picks the
 * parser, the rest is its document.  0: a whole --config-file; 1-7: one
 * API section into a configuration that may already hold one; 8-10: the
 * snapshot bodies.  A document a parser accepts must leave a
 * configuration that copies, and a whole file one whose GET /vm/config
 * form is a configuration file the parser takes again.
 */
#include <string.h>

#include <json-c/json.h>

#include "tests/fuzz/fuzz.h"
#include "vmm/config.h"
#include "vmm/snapshot/snapshot.h"

typedef int (*section_fn)(struct vm_config *, struct json_object *,
			  char *, size_t);

static int put_machine(struct vm_config *c, struct json_object *o,
		       char *e, size_t n)
{
	return vm_config__parse_machine(c, o, false, e, n);
}

static int patch_machine(struct vm_config *c, struct json_object *o,
			 char *e, size_t n)
{
	return vm_config__parse_machine(c, o, true, e, n);
}

static const section_fn sections[] = {
	vm_config__parse_boot_source, put_machine, patch_machine,
	vm_config__parse_vsock, vm_config__parse_logger,
	vm_config__parse_metrics, vm_config__parse_serial,
};

static void copies(const struct vm_config *cfg)
{
	struct vm_config copy;

	FUZZ_CHECK(!vm_config__copy(&copy, cfg));
	json_object_put(vm_config__machine_to_json(&copy));
	vm_config__free(&copy);
}

static void whole_file(const char *text, size_t len)
{
	struct vm_config cfg, again;
	struct json_object *o;
	const char *out;
	char err[512];

	vm_config__init(&cfg);
	if (!vm_config__parse_file(&cfg, text, len, err, sizeof(err))) {
		copies(&cfg);
		o = vm_config__to_json(&cfg);
		FUZZ_CHECK(o);
		out = json_object_to_json_string(o);
		vm_config__init(&again);
		if (vm_config__parse_file(&again, out, strlen(out), err,
					  sizeof(err))) {
			fprintf(stderr, "%s: %s\n", out, err);
			FUZZ_CHECK(!"GET /vm/config's document parses again");
		}
		vm_config__free(&again);
		json_object_put(o);
	}
	vm_config__free(&cfg);
}

static void snapshot_body(unsigned int which, struct json_object *o)
{
	struct snapshot_create_params c;
	struct snapshot_load_params l;
	struct snapshot_rewind_params r;
	char err[512];

	switch (which) {
	case 0:
		if (!vm_config__parse_snapshot_create(&c, o, err, sizeof(err)))
			snapshot_create_params__free(&c);
		break;
	case 1:
		if (!vm_config__parse_snapshot_load(&l, o, err, sizeof(err)))
			snapshot_load_params__free(&l);
		break;
	default:
		vm_config__parse_snapshot_rewind(&r, o, err, sizeof(err));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t nr = sizeof(sections) / sizeof(sections[0]);
	struct vm_config cfg;
	struct json_object *o;
	const char *text;
	unsigned int which;
	char err[512];

	if (!size)
		return 0;
	which = data[0] % (1 + nr + 3);
	text = (const char *)data + 1;
	size--;
	if (which == 0) {
		whole_file(text, size);
		return 0;
	}
	o = vm_config__parse_json(text, size, err, sizeof(err));
	if (!o)
		return 0;
	if (which <= nr) {
		vm_config__init(&cfg);
		/* Once into a fresh one, once over what it set. */
		for (int i = 0; i < 2; i++)
			if (!sections[which - 1](&cfg, o, err, sizeof(err)))
				copies(&cfg);
		vm_config__free(&cfg);
	} else {
		snapshot_body(which - 1 - nr, o);
	}
	json_object_put(o);
	return 0;
}
