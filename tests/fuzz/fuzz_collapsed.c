/*
 * libFuzzer target: the collapsed stack reader (what profd-upload reads
 * from .col files and stdin). The input is collapsed text after one
 * control byte that picks the format; what was read is written back and
 * read again, and must keep its sample count.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "collapsed.h"
#include "stacks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads len bytes of text into a new table; NULL when f cannot open. */
static struct stack_table *
read_text(const void *text, size_t len, enum collapsed_fmt fmt,
	  struct collapsed_stats *st)
{
	struct stack_table *t;
	FILE *f;

	if ((t = stacks_new(256u << 20)) == NULL)
		abort();
	if ((f = fmemopen((void *)text, len, "r")) == NULL)
		abort();
	if (collapsed_read(f, t, fmt, st) != 0)
		abort(); /* no read error from memory */
	fclose(f);
	return t;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum collapsed_fmt fmt;
	struct collapsed_stats st = {0, 0}, st2 = {0, 0};
	struct stack_table *t, *t2;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	if (size < 2)
		return 0;
	fmt = data[0] & 1 ? COLLAPSED_GPROFILER : COLLAPSED_PLAIN;
	t = read_text(data + 1, size - 1, fmt, &st);
	if ((f = open_memstream(&out, &outlen)) == NULL)
		abort();
	if (collapsed_write(f, t, fmt) != 0)
		abort();
	fclose(f);
	if (outlen > 0) {
		t2 = read_text(out, outlen, fmt, &st2);
		/* What profd writes, it reads back whole. */
		if (st2.cs_skipped != 0 || st2.cs_lines != stacks_count(t) ||
		    stacks_total(t2) != stacks_total(t))
			abort();
		stacks_free(t2);
	} else if (stacks_count(t) != 0) {
		abort();
	}
	free(out);
	stacks_free(t);
	return 0;
}
