/* gzip into a bounded memory buffer, through a stdio stream. */
#ifndef PROFD_GZBUF_H
#define PROFD_GZBUF_H

#include <stddef.h>
#include <stdio.h>

#include <zlib.h>

struct gzbuf {
	z_stream gz_z;
	unsigned char *gz_data; /* the compressed bytes */
	size_t gz_len;
	size_t gz_cap;
	size_t gz_max; /* more compressed bytes than this: E2BIG */
	size_t gz_in;  /* bytes written in */
	int gz_err;    /* errno of the first failure, 0 if none */
	FILE *gz_f;
	FILE *gz_out; /* gzbuf_open_file: where the bytes go */
};

/* Opens a stream whose bytes are gzipped into g, at most max compressed
 * bytes; NULL with errno on failure. Close it with gzbuf_finish(). */
FILE *gzbuf_open(struct gzbuf *g, size_t max);
/* Opens a stream whose bytes are gzipped into out, through a small
 * buffer; NULL with errno on failure. Close it with gzbuf_finish() and
 * gzbuf_free(). */
FILE *gzbuf_open_file(struct gzbuf *g, FILE *out);
/* Closes the stream and ends the gzip member: 0, or -1 with errno
 * (E2BIG when the output would pass max). g->gz_data stays valid until
 * gzbuf_free(). */
int gzbuf_finish(struct gzbuf *g);
/* Frees the compressed bytes; the stream must be finished. */
void gzbuf_free(struct gzbuf *g);

#endif
