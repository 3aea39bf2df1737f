/*
 * libFuzzer target: perf map parsing (/tmp/perf-PID.map, written by the
 * profiled process, so untrusted). After one control byte (bit 0: the
 * text is a file's tail whose first line is cut) the input is the map;
 * every address the lines start with, and its neighbours, is looked up,
 * and every name returned is read whole.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "perf_jit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PID	 4242
#define MAX_LOOK 256

static volatile unsigned sink;

static void
look(struct perf_jit *j, uint64_t addr)
{
	size_t len = 0;
	const char *name = perf_jit_lookup(j, PID, addr, "", 0, &len);

	if (name == NULL)
		return;
	if (len > PERF_JIT_MAX_NAME)
		abort();
	for (size_t i = 0; i < len; i++) /* ASan checks every byte */
		sink += (unsigned char)name[i];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;
	struct perf_jit *j;
	size_t len, n = 0;

	if (size < 1)
		return 0;
	len = size - 1;
	if ((j = perf_jit_new()) == NULL ||
	    perf_jit_load_text(j, PID, text, len, data[0] & 1) != 0)
		abort();
	if (perf_jit_load_text(j, PID, text, len, 0) != -1)
		abort(); /* loaded once */
	look(j, 0);
	look(j, UINT64_MAX);
	for (size_t off = 0; off < len && n < MAX_LOOK; n++) {
		const char *nl = memchr(text + off, '\n', len - off);
		uint64_t a = 0;

		for (size_t i = off + (len - off > 2 && text[off] == '0' &&
					       text[off + 1] == 'x'
					   ? 2
					   : 0);
		     i < len && i < off + 16; i++) {
			int c = (unsigned char)text[i], v;

			if (c >= '0' && c <= '9')
				v = c - '0';
			else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
				v = (c | 0x20) - 'a' + 10;
			else
				break;
			a = a << 4 | (uint64_t)v;
		}
		look(j, a - 1);
		look(j, a);
		look(j, a + 1);
		off = nl ? (size_t)(nl - text) + 1 : len;
	}
	perf_jit_free(j);
	return 0;
}
