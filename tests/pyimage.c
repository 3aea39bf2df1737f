/* Synthetic CPython memory images for the Python reader's tests (see
 * pyimage.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyimage.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct pyimg_region pyimg[PYIMG_NREG];
static uint64_t co_next; /* bump allocator in the code region */

void
pyimg_reset(size_t len)
{
	static const uint64_t base[PYIMG_NREG] = {PYIMG_RT_BASE, PYIMG_FR_BASE,
						  PYIMG_CO_BASE};

	for (size_t i = 0; i < PYIMG_NREG; i++) {
		free(pyimg[i].r_buf);
		pyimg[i].r_addr = base[i];
		pyimg[i].r_len = len;
		if ((pyimg[i].r_buf = calloc(1, len)) == NULL)
			abort();
	}
	co_next = PYIMG_CO_BASE + 64;
}

int
pyimg_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	(void)arg;
	for (size_t i = 0; i < PYIMG_NREG; i++) {
		const struct pyimg_region *r = &pyimg[i];

		if (addr >= r->r_addr && addr - r->r_addr <= r->r_len &&
		    len <= r->r_len - (addr - r->r_addr)) {
			memcpy(buf, r->r_buf + (addr - r->r_addr), len);
			return 0;
		}
	}
	return -1;
}

uint8_t *
pyimg_at(uint64_t addr, size_t len)
{
	for (size_t i = 0; i < PYIMG_NREG; i++)
		if (addr >= pyimg[i].r_addr &&
		    addr + len <= pyimg[i].r_addr + pyimg[i].r_len)
			return pyimg[i].r_buf + (addr - pyimg[i].r_addr);
	fprintf(stderr, "pyimage: write outside the image at %llx\n",
		(unsigned long long)addr);
	abort();
}

void
pyimg_put64(uint64_t addr, uint64_t v)
{
	memcpy(pyimg_at(addr, 8), &v, 8);
}

void
pyimg_put32(uint64_t addr, uint32_t v)
{
	memcpy(pyimg_at(addr, 4), &v, 4);
}

uint64_t
pyimg_alloc(size_t len)
{
	uint64_t a = co_next;

	co_next += (len + 15) & ~(size_t)15;
	return a;
}

static uint64_t
mk_str(const struct py_layout *l, const char *s)
{
	uint64_t a = pyimg_alloc(l->pl_str_ascii + strlen(s) + 1);

	pyimg_put64(a + 8, PYIMG_STR_TYPE);
	pyimg_put64(a + 16, strlen(s));
	pyimg_put32(a + 32, (1u << 2) | (1u << 5) | (1u << 6));
	memcpy(pyimg_at(a + l->pl_str_ascii, strlen(s) + 1), s, strlen(s) + 1);
	return a;
}

static uint64_t
mk_bytes(const struct py_layout *l, const uint8_t *b, size_t n)
{
	uint64_t a = pyimg_alloc(l->pl_bytes_data + n + 1);

	pyimg_put64(a + l->pl_bytes_size, n);
	if (n > 0)
		memcpy(pyimg_at(a + l->pl_bytes_data, n), b, n);
	return a;
}

/* The function of pyimage.h from each CPython's compiler. */
static const uint8_t lt_38[] = {0, 1, 4, 1, 12, 1, 8, 1, 10, 2, 10, 1};
static const int16_t lt_38_lines[] = {3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5,
				      6, 6, 6, 6, 6, 8, 8, 8, 8, 8, 9, 9};
static const uint8_t lt_310[] = {4, 1, 12, 1, 8, 1, 10, 1, 10, 2, 4, 1};
static const int16_t lt_310_lines[] = {3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5,
				       6, 6, 6, 6, 6, 8, 8, 8, 8, 8, 9, 9};
static const uint8_t lt_312[] = {
    128, 0,   216, 8,	9,   128, 65,  220, 13, 18,  144, 49,  139, 88,	 242,
    0,	 4,   5,   19,	136, 1,	  216, 11,  12, 136, 113, 138, 53,  216, 12,
    13,	 144, 17,  137, 70,  137, 65,  224, 12, 13,  144, 17,  137, 70,	 137,
    65,	 240, 9,   4,	5,   19,  240, 10,  0,	12,  13,  128, 72};
static const int16_t lt_312_lines[] = {2, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
				       4, 4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 6, 6,
				       6, 6, 8, 8, 8, 8, 8, 8, 4, 9, 9};

const struct pyimg_lines *
pyimg_lines(enum py_lines lines)
{
	static const struct pyimg_lines t[] = {
	    [PYLINES_LNOTAB] = {lt_38, sizeof(lt_38), lt_38_lines,
				NELEM(lt_38_lines)},
	    [PYLINES_LINES310] = {lt_310, sizeof(lt_310), lt_310_lines,
				  NELEM(lt_310_lines)},
	    [PYLINES_LOCATIONS] = {lt_312, sizeof(lt_312), lt_312_lines,
				   NELEM(lt_312_lines)},
	};

	if ((size_t)lines >= NELEM(t))
		abort();
	return &t[lines];
}

uint64_t
pyimg_code(const struct py_layout *l, const char *name)
{
	uint64_t a = pyimg_alloc(l->pl_co_size + 256);
	const struct pyimg_lines *lt = pyimg_lines(l->pl_lines);

	pyimg_put64(a + 8, PYIMG_CODE_TYPE);
	pyimg_put32(a + l->pl_co_firstlineno, 2);
	pyimg_put64(a + l->pl_co_filename, mk_str(l, "t.py"));
	pyimg_put64(a + l->pl_co_name, mk_str(l, name));
	if (l->pl_co_qualname)
		pyimg_put64(a + l->pl_co_qualname, mk_str(l, name));
	pyimg_put64(a + l->pl_co_linetable,
		    mk_bytes(l, lt->li_table, lt->li_len));
	return a;
}

void
pyimg_frame(const struct py_layout *l, uint64_t at, uint64_t co, unsigned unit,
	    uint64_t back)
{
	pyimg_put64(at + l->pl_fr_code, co);
	pyimg_put64(at + l->pl_fr_back, back);
	if (l->pl_walk == PYWALK_FRAMEOBJ)
		pyimg_put32(at + l->pl_fr_lasti,
			    l->pl_lines == PYLINES_LNOTAB ? unit * 2 : unit);
	else
		pyimg_put64(at + l->pl_fr_lasti, co + l->pl_co_code + unit * 2);
}

void
pyimg_thread(const struct py_layout *l, uint64_t ts, uint64_t top,
	     uint64_t next)
{
	pyimg_put64(PYIMG_RT_BASE + l->pl_rt_interp_head, PYIMG_INTERP);
	pyimg_put64(PYIMG_INTERP + l->pl_is_threads_head, PYIMG_TSTATE);
	pyimg_put64(ts + l->pl_ts_interp, PYIMG_INTERP);
	pyimg_put64(ts + l->pl_ts_next, next);
	if (l->pl_walk == PYWALK_CFRAME) {
		uint64_t cf = PYIMG_CFRAME + (ts - PYIMG_TSTATE);

		pyimg_put64(ts + l->pl_ts_frame, cf);
		pyimg_put64(cf + l->pl_cf_current, top);
	} else {
		pyimg_put64(ts + l->pl_ts_frame, top);
	}
}

void
pyimg_debug(uint8_t *b, uint64_t version)
{
	static const struct {
		uint32_t pos;
		uint64_t val;
	} f[] = {
	    {40, 632},	 {72, 7344}, {112, 16},	 {120, 7752}, {136, 7768},
	    {144, 7760}, {168, 8},   {176, 16},	 {184, 72},   {192, 152},
	    {200, 160},	 {232, 8},   {240, 0},	 {248, 56},   {264, 70},
	    {280, 112},	 {288, 120}, {296, 128}, {304, 136},  {312, 68},
	    {344, 200},	 {520, 16},  {528, 32},	 {560, 40},
	};

	memset(b, 0, PY_DEBUG_MAX);
	memcpy(b, PY_DEBUG_COOKIE, 8);
	memcpy(b + 8, &version, 8);
	for (size_t i = 0; i < NELEM(f); i++)
		memcpy(b + f[i].pos, &f[i].val, 8);
}
