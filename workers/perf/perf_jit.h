/*
 * JIT symbols: names for the addresses perf left [unknown] in anonymous
 * executable memory, read from the process's /tmp/perf-PID.map (Node with
 * --perf-basic-prof, JVMs after `jcmd PID Compiler.perfmap`), also inside
 * another mount and PID namespace.
 */
#ifndef PROFD_PERF_JIT_H
#define PROFD_PERF_JIT_H

#include <stddef.h>
#include <stdint.h>

#define PERF_JIT_MAX_FILE  (4u << 20) /* bytes read of one map: its tail */
#define PERF_JIT_MAX_BYTES (8u << 20) /* bytes of all maps held at once */
#define PERF_JIT_MAX_PIDS  4096	      /* processes looked up per window */
#define PERF_JIT_MAX_NAME  1024	      /* bytes kept of one symbol */

struct perf_jit;

/* Returns an empty cache, or NULL. */
struct perf_jit *perf_jit_new(void);
/* Frees the cache and every map it holds; NULL is allowed. */
void perf_jit_free(struct perf_jit *j);
/* Returns 1 if perf's dso name dso[0..n) is anonymous JIT memory. */
int perf_jit_dso(const char *dso, size_t n);
/* Returns the symbol of addr in host process pid's perf map (loaded once
 * per cache, named by the PID the process has in its own namespace) and
 * its length in *len, or NULL when there is none. */
const char *perf_jit_lookup(void *j, uint32_t pid, uint64_t addr,
			    const char *dso, size_t dlen, size_t *len);

/* Parses text[0..len), the content of a perf map (its tail, first line
 * cut, when skip_first), as pid's map, as if read from its file; for
 * tests and fuzzing. 0, or -1 if pid has a map already or on ENOMEM. */
int perf_jit_load_text(struct perf_jit *j, uint32_t pid, const char *text,
		       size_t len, int skip_first);

#endif
