/* ProfileChunk <-> stack table conversion, with validation. */
#ifndef PROFD_CHUNK_H
#define PROFD_CHUNK_H

#include <stdint.h>

#include "profd.pb-c.h"
#include "stacks.h"

#define CHUNK_MAX_STRINGS (1u << 20)
#define CHUNK_MAX_PROCS	  (1u << 16)
#define CHUNK_MAX_STACKS  (1u << 20)
#define CHUNK_MAX_FRAMES  (16u << 20)  /* frame ids in one chunk */
#define CHUNK_MAX_COUNT	  (1ULL << 53) /* samples of one stack */

/* Storage behind a chunk built from a table; the chunk points into the
 * table's strings, so the table must outlive it. */
struct chunk_buf {
	Profd__ProfileChunk cb_chunk;
	Profd__Process *cb_procs;
	Profd__Process **cb_procp;
	uint32_t *cb_frames;
	uint32_t *cb_depths;
	uint64_t *cb_counts;
	char **cb_strings;
};

/* Fills b->cb_chunk with every string, process and stack of t. 0 or -1. */
int chunk_build(struct chunk_buf *b, const struct stack_table *t,
		const char *worker, uint64_t window);
/* Frees what chunk_build allocated. */
void chunk_buf_free(struct chunk_buf *b);
/* Checks every id, count and size of a received chunk against its bounds;
 * 0, or -1 with errno EBADMSG (fail closed: drop the whole chunk). */
int chunk_validate(const Profd__ProfileChunk *c);
/* Adds a validated chunk to t; -1 with errno ENOMEM when t is full. */
int chunk_merge(struct stack_table *t, const Profd__ProfileChunk *c);

#endif
