/*
 * Streaming parser of `perf script -F +pid` text into a stack table.
 *
 * The parser keeps one line, one stack and a fixed cache of frame lines at
 * most, whatever the size of the input: memory is allocated once, by
 * perf_parser_new().
 */
#ifndef PROFD_PERF_SCRIPT_H
#define PROFD_PERF_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "stacks.h"

#define PERF_MAX_LINE	 8192	    /* bytes kept of one line; longer: skip */
#define PERF_MAX_COMM	 256	    /* bytes kept of a command name */
#define PERF_PID_UNKNOWN UINT32_MAX /* the pid perf prints as -1 */

#define PERF_INSERT_DSO_NAME 0x1 /* symbolised frames become "sym (dso)" */

struct perf_parser;

/* Returns the process index in t for a sample of pid with thread comm
 * comm[0..len); -1 to drop the sample. It must give the same index for the
 * same pid and comm: the parser may remember it and not ask again. */
typedef int (*perf_proc_fn)(void *arg, struct stack_table *t, uint32_t pid,
			    const char *comm, size_t len);

/* Returns a name for the frame at addr that perf left [unknown] in JIT
 * memory named dso[0..dlen) by perf, with its length in *len; or NULL. */
typedef const char *(*perf_jit_fn)(void *arg, uint32_t pid, uint64_t addr,
				   const char *dso, size_t dlen, size_t *len);

struct perf_parse_stats {
	uint64_t ps_samples; /* added */
	uint64_t ps_skipped; /* malformed/truncated/dropped samples */
	uint64_t ps_cut;     /* stacks deeper than STACKS_MAX_FRAMES, cut */
};

/* Returns a parser adding to t, or NULL with errno ENOMEM. resolve may be
 * NULL: then the process is stacks_proc(t, pid, intern(comm), 0, 0). The
 * parser remembers ids of t's strings: t must not be cleared while the
 * parser lives. */
struct perf_parser *perf_parser_new(struct stack_table *t, int flags,
				    perf_proc_fn resolve, void *arg);
/* Names [unknown] frames in JIT memory with fn (see perf_jit_fn); fn
 * tells which dso names are JIT memory through is_jit. */
void perf_parser_set_jit(struct perf_parser *p, perf_jit_fn fn,
			 int (*is_jit)(const char *dso, size_t n), void *arg);
/* Feeds len bytes of output; chunks may split lines and samples anywhere.
 * 0, or -1 only on allocation failure (never on bad input). */
int perf_parser_feed(struct perf_parser *p, const char *buf, size_t len);
/* Ends the stream: a final sample without a trailing blank line is added if
 * complete; a last line without its newline makes its sample skipped. The
 * parser may then be fed a new stream. */
int perf_parser_finish(struct perf_parser *p);
/* Copies the counters of p into st. */
void perf_parser_stats(const struct perf_parser *p,
		       struct perf_parse_stats *st);
/* Frees the parser (not its table); NULL is allowed. */
void perf_parser_free(struct perf_parser *p);

#endif
