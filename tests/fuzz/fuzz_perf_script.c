/*
 * libFuzzer target: the perf script parser. The input is perf script
 * text after one control byte; it is parsed once whole and once in
 * chunks of a size the control byte picks, and both parses must agree.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perf_script.h"
#include "stacks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Names every [unknown] JIT frame after its address's low bits. */
static const char *
fake_jit(void *arg, uint32_t pid, uint64_t addr, const char *dso, size_t dlen,
	 size_t *len)
{
	static const char names[] = "jit_a jit_bb jit_ccc";

	(void)arg;
	(void)pid;
	(void)dso;
	(void)dlen;
	if (addr & 1)
		return NULL;
	*len = (addr >> 1) % (sizeof(names) - 1);
	return names;
}

static int
fake_is_jit(const char *dso, size_t n)
{
	return n >= 4 && memcmp(dso, "/tmp", 4) == 0;
}

/* Parses text in chunks of at most step bytes (0: whole); the stats. */
static void
parse(const char *text, size_t len, size_t step, int flags, int jit,
      struct perf_parse_stats *st, uint64_t *total)
{
	struct stack_table *t = stacks_new(64u << 20);
	struct perf_parser *p;

	if (t == NULL || (p = perf_parser_new(t, flags, NULL, NULL)) == NULL)
		abort();
	if (jit)
		perf_parser_set_jit(p, fake_jit, fake_is_jit, NULL);
	for (size_t off = 0; off < len;) {
		size_t n = step == 0 || len - off < step ? len - off : step;

		if (perf_parser_feed(p, text + off, n) != 0)
			abort(); /* only on allocation failure */
		off += n;
	}
	if (perf_parser_finish(p) != 0)
		abort();
	perf_parser_stats(p, st);
	*total = stacks_total(t);
	perf_parser_free(p);
	stacks_free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct perf_parse_stats a, b;
	uint64_t ta, tb;
	int flags, jit;
	size_t step;

	if (size < 1)
		return 0;
	flags = data[0] & 1 ? PERF_INSERT_DSO_NAME : 0;
	jit = (data[0] >> 1) & 1;
	step = 1 + (data[0] >> 2); /* 1..64 bytes */
	parse((const char *)data + 1, size - 1, 0, flags, jit, &a, &ta);
	parse((const char *)data + 1, size - 1, step, flags, jit, &b, &tb);
	if (a.ps_samples != b.ps_samples || a.ps_skipped != b.ps_skipped ||
	    a.ps_cut != b.ps_cut || ta != tb)
		abort(); /* the result depends on where chunks split */
	return 0;
}
