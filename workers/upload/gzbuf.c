/* gzip into a bounded memory buffer, through a stdio stream. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gzbuf.h"

#define GZBUF_STEP (64u << 10)

/* Makes room for at least GZBUF_STEP more compressed bytes: in memory,
 * or by writing them out. */
static int
gzbuf_grow(struct gzbuf *g)
{
	size_t cap = g->gz_cap ? g->gz_cap * 2 : GZBUF_STEP;
	unsigned char *p;

	if (g->gz_out != NULL && g->gz_cap > 0) {
		if (fwrite(g->gz_data, 1, g->gz_len, g->gz_out) != g->gz_len)
			return -1;
		g->gz_len = 0;
		return 0;
	}
	if (g->gz_out != NULL)
		cap = GZBUF_STEP;

	if (g->gz_out == NULL && g->gz_len >= g->gz_max) {
		errno = E2BIG;
		return -1;
	}
	if (cap > g->gz_max + GZBUF_STEP)
		cap = g->gz_max + GZBUF_STEP;
	if ((p = realloc(g->gz_data, cap)) == NULL)
		return -1;
	g->gz_data = p;
	g->gz_cap = cap;
	return 0;
}

/* Runs deflate over the pending input with flush until it is consumed
 * (or, for Z_FINISH, until the stream ends). */
static int
gzbuf_deflate(struct gzbuf *g, int flush)
{
	int zr;

	for (;;) {
		if (g->gz_cap - g->gz_len < 256 && gzbuf_grow(g) == -1)
			return -1;
		g->gz_z.next_out = g->gz_data + g->gz_len;
		g->gz_z.avail_out = (uInt)(g->gz_cap - g->gz_len);
		zr = deflate(&g->gz_z, flush);
		g->gz_len = g->gz_cap - g->gz_z.avail_out;
		if (zr == Z_STREAM_END)
			break;
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			errno = EIO;
			return -1;
		}
		if (flush == Z_NO_FLUSH && g->gz_z.avail_in == 0)
			break;
	}
	if (g->gz_len > g->gz_max) {
		errno = E2BIG;
		return -1;
	}
	if (flush == Z_FINISH && g->gz_out != NULL &&
	    fwrite(g->gz_data, 1, g->gz_len, g->gz_out) != g->gz_len)
		return -1;
	return 0;
}

static ssize_t
gzbuf_write(void *cookie, const char *buf, size_t len)
{
	struct gzbuf *g = cookie;

	if (g->gz_err != 0) {
		errno = g->gz_err;
		return -1;
	}
	g->gz_z.next_in = (unsigned char *)buf;
	g->gz_z.avail_in = (uInt)len;
	if (gzbuf_deflate(g, Z_NO_FLUSH) == -1) {
		g->gz_err = errno;
		return -1;
	}
	g->gz_in += len;
	return (ssize_t)len;
}

FILE *
gzbuf_open(struct gzbuf *g, size_t max)
{
	cookie_io_functions_t io = {.write = gzbuf_write};

	memset(g, 0, sizeof(*g));
	g->gz_max = max;
	/* 15 + 16: a gzip header and trailer around the deflate data. */
	if (deflateInit2(&g->gz_z, 6, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		errno = ENOMEM;
		return NULL;
	}
	if ((g->gz_f = fopencookie(g, "w", io)) == NULL) {
		deflateEnd(&g->gz_z);
		return NULL;
	}
	return g->gz_f;
}

FILE *
gzbuf_open_file(struct gzbuf *g, FILE *out)
{
	FILE *f = gzbuf_open(g, SIZE_MAX - GZBUF_STEP);

	g->gz_out = out;
	return f;
}

int
gzbuf_finish(struct gzbuf *g)
{
	int rv = fclose(g->gz_f) == EOF ? -1 : 0;

	g->gz_f = NULL;
	if (rv == 0 && g->gz_err == 0) {
		g->gz_z.next_in = NULL;
		g->gz_z.avail_in = 0;
		if (gzbuf_deflate(g, Z_FINISH) == -1)
			g->gz_err = errno;
	}
	deflateEnd(&g->gz_z);
	if (g->gz_err != 0) {
		errno = g->gz_err;
		return -1;
	}
	return rv;
}

void
gzbuf_free(struct gzbuf *g)
{
	free(g->gz_data);
	g->gz_data = NULL;
	g->gz_len = g->gz_cap = 0;
}
