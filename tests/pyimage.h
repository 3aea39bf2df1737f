/*
 * Synthetic CPython memory images for the Python reader's tests
 * (tests/check_pyreader.c, tests/fuzz/fuzz_pyreader.c): three regions
 * (runtime and thread states, frames, code objects and their strings)
 * filled through the offsets of a py_layout. One image at a time.
 */
#ifndef PROFD_TESTS_PYIMAGE_H
#define PROFD_TESTS_PYIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "py_versions.h"

#define PYIMG_RT_BASE	0x10000000ULL /* runtime, interpreter, threads */
#define PYIMG_FR_BASE	0x20000000ULL /* frames */
#define PYIMG_CO_BASE	0x30000000ULL /* code objects, str, bytes */
#define PYIMG_CODE_TYPE 0x7000100ULL  /* the type of every code object */
#define PYIMG_STR_TYPE	0x7000200ULL  /* the type of every str */
#define PYIMG_NREG	3
#define PYIMG_INTERP	(PYIMG_RT_BASE + 0x1000)
#define PYIMG_TSTATE	(PYIMG_RT_BASE + 0x8000) /* the first thread */
#define PYIMG_CFRAME	(PYIMG_RT_BASE + 0xc000) /* 3.11-3.12 cframes */

struct pyimg_region {
	uint64_t r_addr;
	uint8_t *r_buf;
	size_t r_len;
};

/* The image: PYIMG_RT_BASE, PYIMG_FR_BASE, PYIMG_CO_BASE, in order. */
extern struct pyimg_region pyimg[PYIMG_NREG];

/* The line table pyimg_code gives each function (one per encoding) and
 * the line of each of its code units (-1: none). The function is
 *   2 def f(n):  3 x = 0  4 for i in range(n):  5 if i % 3:
 *   6 x += i  7 else:  8 x -= 1  9 return x */
struct pyimg_lines {
	const uint8_t *li_table;
	size_t li_len;
	const int16_t *li_line;
	size_t li_units;
};

/* Allocates (again) every region with len zeroed bytes; the code
 * allocator starts over. Aborts when out of memory. */
void pyimg_reset(size_t len);
/* A pymem_read_fn over the image (arg unused): 0, or -1 outside it. */
int pyimg_read(void *arg, uint64_t addr, void *buf, size_t len);
/* Returns where addr..addr+len lies in the image; aborts outside it. */
uint8_t *pyimg_at(uint64_t addr, size_t len);
/* Stores v at addr (native byte order). */
void pyimg_put64(uint64_t addr, uint64_t v);
/* Stores v at addr (native byte order). */
void pyimg_put32(uint64_t addr, uint32_t v);
/* Reserves len bytes (16-aligned) in the code region; their address. */
uint64_t pyimg_alloc(size_t len);
/* Returns the line table of encoding lines. */
const struct pyimg_lines *pyimg_lines(enum py_lines lines);
/* Writes a code object named name (file t.py, first line 2, the line
 * table of l's encoding); its address. */
uint64_t pyimg_code(const struct py_layout *l, const char *name);
/* Writes frame at running code co at code unit unit, called from back. */
void pyimg_frame(const struct py_layout *l, uint64_t at, uint64_t co,
		 unsigned unit, uint64_t back);
/* Links runtime -> interpreter -> PYIMG_TSTATE and thread state ts (next
 * ts: next) to its top frame top. */
void pyimg_thread(const struct py_layout *l, uint64_t ts, uint64_t top,
		  uint64_t next);
/* Fills b[PY_DEBUG_MAX] with a _Py_DebugOffsets block of version (such
 * as 0x030d00f0) with the offsets measured on 3.13.0. */
void pyimg_debug(uint8_t *b, uint64_t version);

#endif
