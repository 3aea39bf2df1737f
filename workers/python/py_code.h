/*
 * Code objects read from a remote process: names, file names and line
 * tables, cached by (process, address) within a byte budget.
 */
#ifndef PROFD_PY_CODE_H
#define PROFD_PY_CODE_H

#include <stddef.h>
#include <stdint.h>

#include "py_proc.h"

#define PYCODE_SLOTS	 4096	     /* cached code objects */
#define PYCODE_BUDGET	 (4u << 20)  /* bytes of cached names and tables */
#define PYCODE_MAX_NAME	 256	     /* characters of a name kept */
#define PYCODE_MAX_FILE	 1024	     /* characters of a file name kept */
#define PYCODE_MAX_LINES (64u << 10) /* bytes of a line table kept */
#define PYCODE_BATCH	 512	     /* code headers read at once, at most */
#define PYCODE_HDR_MAX	 512	     /* bytes of one batched code header */

struct pycode {
	uint32_t pc_gen;  /* process generation; 0: empty slot */
	uint64_t pc_addr; /* remote address of the code object */
	int pc_firstlineno;
	uint64_t pc_sig; /* hash of the code object's fields read */
	char *pc_name;	 /* qualified name where known (3.11+) */
	char *pc_file;
	uint8_t *pc_lines; /* line table bytes */
	size_t pc_nlines;
	size_t pc_bytes; /* bytes charged to the budget */
};

struct pycode_cache {
	struct pycode pcc_slot[PYCODE_SLOTS];
	size_t pcc_bytes;
	uint64_t pcc_hits, pcc_misses;
	uint8_t pcc_hdr[PYCODE_BATCH * PYCODE_HDR_MAX]; /* scratch */
};

/* Returns the code object at addr of p, read or cached; NULL when it
 * cannot be read or does not look like a code object. A cached entry is
 * checked against the object's fields (one read): addresses of freed
 * code objects are reused. */
const struct pycode *pycode_get(struct pycode_cache *c, struct pyproc *p,
				uint64_t addr);
/* Reads the headers of the n (<= PYCODE_BATCH) code objects at addrs[]
 * of p into the cache's scratch with as few batched reads as it can:
 * hdr[k] points at the copy, or is NULL where unreadable. Valid until
 * the next call. */
void pycode_headers(struct pycode_cache *c, struct pyproc *p,
		    const uint64_t *addrs, size_t n, const uint8_t **hdr);
/* Returns the entry of the code object at addr whose header copy is co
 * (see pycode_headers), cached or read now, checked as pycode_get checks
 * it; NULL when unreadable. Valid until the next lookup. */
const struct pycode *pycode_lookup(struct pycode_cache *c, struct pyproc *p,
				   uint64_t addr, const uint8_t *co);
/* Forgets every entry of process generation gen (0: all). */
void pycode_forget(struct pycode_cache *c, uint32_t gen);
/* Frees everything the cache holds. */
void pycode_clear(struct pycode_cache *c);
/* Returns the line of instruction `pos` of code co: pos is f_lasti for
 * 3.8-3.10, the instruction pointer for 3.11+. Falls back to the first
 * line when the table says nothing. */
int pycode_line(const struct py_layout *l, const struct pycode *co,
		uint64_t pos);
/* Reads the str object at addr as UTF-8 into buf (at most max
 * characters, NUL-terminated). 0, or -1 when it is not a compact str. */
int pycode_string(struct pyproc *p, uint64_t addr, char *buf, size_t len,
		  size_t max);
/* Line lookups on raw tables, for tests: the 3.8-3.9 lnotab (byte
 * offset), the 3.10 table (byte offset), the 3.11+ locations (code unit
 * index). */
int pycode_line_lnotab(const uint8_t *t, size_t n, int first, int64_t off);
int pycode_line_310(const uint8_t *t, size_t n, int first, int64_t off);
int pycode_line_311(const uint8_t *t, size_t n, int first, int64_t idx);

#endif
