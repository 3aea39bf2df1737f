/*
 * libFuzzer target: what profd-upload makes of collapsed input (.col
 * files, stdin). After one control byte (bit 0: gProfiler format) the
 * input is collapsed text; its stacks are written as a pprof profile,
 * which must decode with every id in range and the same samples, and as
 * a flame graph page, which no frame name may break out of.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "collapsed.h"
#include "flamegraph.h"
#include "pprof.h"
#include "pprof.pb-c.h"
#include "stacks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Gunzips in[0..n) into a new buffer; its length in *out_n. */
static uint8_t *
gunzip(const uint8_t *in, size_t n, size_t *out_n)
{
	z_stream z;
	size_t cap = 1u << 16, len = 0;
	uint8_t *out = malloc(cap);
	int rv;

	memset(&z, 0, sizeof(z));
	if (out == NULL || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		abort();
	z.next_in = (uint8_t *)in;
	z.avail_in = (uInt)n;
	do {
		if (len == cap && (out = realloc(out, cap *= 2)) == NULL)
			abort();
		z.next_out = out + len;
		z.avail_out = (uInt)(cap - len);
		rv = inflate(&z, Z_NO_FLUSH);
		len = cap - z.avail_out;
	} while (rv == Z_OK);
	if (rv != Z_STREAM_END)
		abort(); /* not a whole gzip stream */
	inflateEnd(&z);
	*out_n = len;
	return out;
}

/* Decodes the profile and checks its ids and its sample total. */
static void
check_pprof(const uint8_t *gz, size_t n, const struct stack_table *t)
{
	Perftools__Profiles__Profile *p;
	size_t len, si = SIZE_MAX;
	uint8_t *raw = gunzip(gz, n, &len);
	uint64_t total = 0;
	int64_t ns;

	if ((p = perftools__profiles__profile__unpack(NULL, len, raw)) == NULL)
		abort();
	ns = (int64_t)p->n_string_table;
	if (ns == 0 || p->string_table[0][0] != '\0')
		abort();
	for (size_t i = 0; i < p->n_sample_type; i++) {
		if (p->sample_type[i]->type < 0 ||
		    p->sample_type[i]->type >= ns)
			abort();
		if (strcmp(p->string_table[p->sample_type[i]->type],
			   "samples") == 0)
			si = i;
	}
	for (size_t i = 0; i < p->n_function; i++)
		if (p->function[i]->id != i + 1 || p->function[i]->name < 0 ||
		    p->function[i]->name >= ns)
			abort();
	for (size_t i = 0; i < p->n_location; i++) {
		if (p->location[i]->id != i + 1)
			abort();
		for (size_t k = 0; k < p->location[i]->n_line; k++)
			if (p->location[i]->line[k]->function_id == 0 ||
			    p->location[i]->line[k]->function_id >
				p->n_function)
				abort();
	}
	for (size_t i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];

		if (s->n_value != p->n_sample_type)
			abort();
		for (size_t k = 0; k < s->n_location_id; k++)
			if (s->location_id[k] == 0 ||
			    s->location_id[k] > p->n_location)
				abort();
		for (size_t k = 0; k < s->n_label; k++)
			if (s->label[k]->key <= 0 || s->label[k]->key >= ns ||
			    s->label[k]->str < 0 || s->label[k]->str >= ns)
				abort();
		if (si != SIZE_MAX)
			total += (uint64_t)s->value[si];
	}
	if (si == SIZE_MAX || total != stacks_total(t))
		abort();
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(raw);
}

/* Counts s in the NUL-ended buf, case-insensitively. */
static size_t
count(const char *buf, const char *s)
{
	size_t c = 0;

	for (const char *p = buf; (p = strcasestr(p, s)) != NULL; p++)
		c++;
	return c;
}

static size_t page_scripts = SIZE_MAX, page_comments;

/* Writes a flame graph of t; returns it (free it) and its size. */
static char *
page(const struct stack_table *t, size_t *n)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, n);

	if (f == NULL || flamegraph_write(f, t, NULL) != 0)
		abort();
	fclose(f);
	return buf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct window_meta m = {.wm_window = 1,
				.wm_start = 1767225600,
				.wm_end = 1767225660,
				.wm_frequency = 11,
				.wm_duration = 60,
				.wm_perf_mode = "fp"};
	struct collapsed_stats st = {0, 0};
	struct stack_table *t;
	char *out = NULL, *html;
	size_t outlen = 0, n;
	FILE *f;

	if (page_scripts == SIZE_MAX) { /* the page of an empty table */
		if ((t = stacks_new(0)) == NULL)
			abort();
		html = page(t, &n);
		page_scripts = count(html, "</script");
		page_comments = count(html, "<!--");
		free(html);
		stacks_free(t);
	}
	if (size < 2)
		return 0;
	if ((t = stacks_new(64u << 20)) == NULL ||
	    (f = fmemopen((void *)(data + 1), size - 1, "r")) == NULL)
		abort();
	collapsed_read(
	    f, t, data[0] & 1 ? COLLAPSED_GPROFILER : COLLAPSED_PLAIN, &st);
	fclose(f);
	if ((f = open_memstream(&out, &outlen)) == NULL ||
	    pprof_write(f, t, &m) != 0)
		abort();
	fclose(f);
	check_pprof((const uint8_t *)out, outlen, t);
	free(out);
	html = page(t, &n);
	if (count(html, "</script") != page_scripts ||
	    count(html, "<!--") != page_comments)
		abort(); /* a frame name escaped the embedded JSON */
	free(html);
	stacks_free(t);
	return 0;
}
