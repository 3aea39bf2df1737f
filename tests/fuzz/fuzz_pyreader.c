/*
 * libFuzzer target: the CPython reader against synthetic memory images,
 * built as tests/check_pyreader.c builds them (<module> -> main -> leaf
 * for each supported layout). Bits 0-1 of byte 0 pick the mode:
 *   0, 1: walk the image of version ((byte0 >> 2) & 7) % NVERS after the
 *         rest of the input patched it: records of region (1 byte),
 *         offset (2 bytes, little-endian), length-1 (low 4 bits of 1
 *         byte) and that many bytes. Bit 5 of byte 0 trusts every type
 *         (as a reader without type checks would), bit 6 samples only the
 *         GIL holder;
 *   2:    the rest is a _Py_DebugOffsets block (3.13+): a layout it
 *         yields walks the 3.13 image;
 *   3:    the rest is a line table for each decoder.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "py_code.h"
#include "py_sample.h"
#include "py_versions.h"
#include "stacks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* --- a fake address space (as in tests/check_pyreader.c) ------------- */

#define RT_BASE	   0x10000000ULL
#define FR_BASE	   0x20000000ULL
#define CO_BASE	   0x30000000ULL
#define REGION_LEN (64u << 10)
#define CODE_TYPE  0x7000100ULL
#define STR_TYPE   0x7000200ULL
#define NREG	   3

static const uint64_t reg_base[NREG] = {RT_BASE, FR_BASE, CO_BASE};
static uint8_t *img; /* NREG regions of REGION_LEN, the one walked */
static uint64_t co_next;

static int
img_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	(void)arg;
	for (size_t i = 0; i < NREG; i++)
		if (addr >= reg_base[i] && addr - reg_base[i] <= REGION_LEN &&
		    len <= REGION_LEN - (addr - reg_base[i])) {
			memcpy(buf, img + i * REGION_LEN + (addr - reg_base[i]),
			       len);
			return 0;
		}
	return -1;
}

static uint8_t *
img_at(uint64_t addr, size_t len)
{
	for (size_t i = 0; i < NREG; i++)
		if (addr >= reg_base[i] &&
		    addr + len <= reg_base[i] + REGION_LEN)
			return img + i * REGION_LEN + (addr - reg_base[i]);
	abort(); /* the builder writes outside the image */
}

static void
put64(uint64_t addr, uint64_t v)
{
	memcpy(img_at(addr, 8), &v, 8);
}

static void
put32(uint64_t addr, uint32_t v)
{
	memcpy(img_at(addr, 4), &v, 4);
}

static uint64_t
co_alloc(size_t len)
{
	uint64_t a = co_next;

	co_next += (len + 15) & ~(size_t)15;
	return a;
}

static uint64_t
mk_str(const struct py_layout *l, const char *s)
{
	uint64_t a = co_alloc(l->pl_str_ascii + strlen(s) + 1);

	put64(a + 8, STR_TYPE);
	put64(a + 16, strlen(s));
	put32(a + 32, (1u << 2) | (1u << 5) | (1u << 6));
	memcpy(img_at(a + l->pl_str_ascii, strlen(s) + 1), s, strlen(s) + 1);
	return a;
}

static uint64_t
mk_bytes(const struct py_layout *l, const uint8_t *b, size_t n)
{
	uint64_t a = co_alloc(l->pl_bytes_data + n + 1);

	put64(a + l->pl_bytes_size, n);
	memcpy(img_at(a + l->pl_bytes_data, n), b, n);
	return a;
}

/* Line tables of one function from each CPython's compiler. */
static const uint8_t lt_38[] = {0, 1, 4, 1, 12, 1, 8, 1, 10, 2, 10, 1};
static const uint8_t lt_310[] = {4, 1, 12, 1, 8, 1, 10, 1, 10, 2, 4, 1};
static const uint8_t lt_312[] = {
    128, 0,   216, 8,	9,   128, 65,  220, 13, 18,  144, 49,  139, 88,	 242,
    0,	 4,   5,   19,	136, 1,	  216, 11,  12, 136, 113, 138, 53,  216, 12,
    13,	 144, 17,  137, 70,  137, 65,  224, 12, 13,  144, 17,  137, 70,	 137,
    65,	 240, 9,   4,	5,   19,  240, 10,  0,	12,  13,  128, 72};

static uint64_t
mk_code(const struct py_layout *l, const char *name)
{
	uint64_t a = co_alloc(l->pl_co_size + 256);
	const uint8_t *lt = lt_312;
	size_t n = sizeof(lt_312);

	if (l->pl_lines == PYLINES_LNOTAB)
		lt = lt_38, n = sizeof(lt_38);
	else if (l->pl_lines == PYLINES_LINES310)
		lt = lt_310, n = sizeof(lt_310);
	put64(a + 8, CODE_TYPE);
	put32(a + l->pl_co_firstlineno, 2);
	put64(a + l->pl_co_filename, mk_str(l, "t.py"));
	put64(a + l->pl_co_name, mk_str(l, name));
	if (l->pl_co_qualname)
		put64(a + l->pl_co_qualname, mk_str(l, name));
	put64(a + l->pl_co_linetable, mk_bytes(l, lt, n));
	return a;
}

static void
mk_frame(const struct py_layout *l, uint64_t at, uint64_t co, unsigned unit,
	 uint64_t back)
{
	put64(at + l->pl_fr_code, co);
	put64(at + l->pl_fr_back, back);
	if (l->pl_walk == PYWALK_FRAMEOBJ)
		put32(at + l->pl_fr_lasti,
		      l->pl_lines == PYLINES_LNOTAB ? unit * 2 : unit);
	else
		put64(at + l->pl_fr_lasti, co + l->pl_co_code + unit * 2);
}

#define INTERP (RT_BASE + 0x1000)
#define TSTATE (RT_BASE + 0x8000)
#define CFRAME (RT_BASE + 0xc000)

/* Two threads: <module> -> main -> leaf, and main alone. */
static void
mk_image(const struct py_layout *l)
{
	uint64_t f0 = FR_BASE + 0x100, f1 = FR_BASE + 0x400,
		 f2 = FR_BASE + 0x800, f3 = FR_BASE + 0x1000,
		 ts2 = TSTATE + 0x1000, top[2] = {f2, f3},
		 ts[2] = {TSTATE, ts2};
	uint64_t co_main;

	memset(img, 0, NREG * REGION_LEN);
	co_next = CO_BASE + 64;
	co_main = mk_code(l, "main");
	mk_frame(l, f0, mk_code(l, "<module>"), 20, 0);
	mk_frame(l, f1, co_main, 12, f0);
	mk_frame(l, f2, mk_code(l, "leaf"), 16, f1);
	mk_frame(l, f3, co_main, 3, 0);
	put64(RT_BASE + l->pl_rt_interp_head, INTERP);
	put64(INTERP + l->pl_is_threads_head, TSTATE);
	for (int i = 0; i < 2; i++) {
		put64(ts[i] + l->pl_ts_interp, INTERP);
		put64(ts[i] + l->pl_ts_next, i ? 0 : ts2);
		if (l->pl_walk == PYWALK_CFRAME) {
			uint64_t cf = CFRAME + (ts[i] - TSTATE);

			put64(ts[i] + l->pl_ts_frame, cf);
			put64(cf + l->pl_cf_current, top[i]);
		} else {
			put64(ts[i] + l->pl_ts_frame, top[i]);
		}
	}
}

/* A 3.13 _Py_DebugOffsets block, with the offsets measured on 3.13.0. */
static void
mk_debug(uint8_t *b)
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
	uint64_t version = 0x030d00f0;

	memset(b, 0, PY_DEBUG_MAX);
	memcpy(b, PY_DEBUG_COOKIE, 8);
	memcpy(b + 8, &version, 8);
	for (size_t i = 0; i < NELEM(f); i++)
		memcpy(b + f[i].pos, &f[i].val, 8);
}

/* --- the versions, their images built once ---------------------------- */

#define NVERS 6 /* 3.8 .. 3.12 from the table, 3.13 from debug offsets */

static struct py_layout layouts[NVERS];
static uint8_t *pristine[NVERS];
static uint64_t start_time;

static void
init(void)
{
	static const uint32_t vers[NVERS - 1] = {
	    PYVER(3, 8), PYVER(3, 9), PYVER(3, 10), PYVER(3, 11), PYVER(3, 12)};
	uint8_t dbg[PY_DEBUG_MAX];

	if ((img = malloc(NREG * REGION_LEN)) == NULL)
		abort();
	for (size_t i = 0; i < NVERS - 1; i++) {
		if (pyver_table(vers[i]) == NULL)
			abort();
		layouts[i] = *pyver_table(vers[i]);
	}
	mk_debug(dbg);
	if (pyver_from_debug(dbg, sizeof(dbg), &layouts[NVERS - 1]) != 0)
		abort();
	for (size_t i = 0; i < NVERS; i++) {
		mk_image(&layouts[i]);
		if ((pristine[i] = malloc(NREG * REGION_LEN)) == NULL)
			abort();
		memcpy(pristine[i], img, NREG * REGION_LEN);
	}
	pyproc_stat(getpid(), &start_time, NULL);
}

/* Samples the image in img as a process with layout l, a few times. */
static void
walk(const struct py_layout *l, int trust_all, int gil)
{
	struct pyopts o = {.po_idle = 1, .po_gil = gil};
	struct pysampler s;
	struct pyproc *p;
	struct stack_table *t;

	if (pysampler_init(&s, &o) != 0 ||
	    (s.ps_targets = calloc(1, sizeof(*s.ps_targets))) == NULL ||
	    (t = stacks_new(16u << 20)) == NULL)
		abort();
	s.ps_ntargets = 1;
	s.ps_targets[0].pt_attached = 1;
	p = &s.ps_targets[0].pt_proc;
	p->pp_pid = p->pp_nspid = getpid();
	p->pp_start = start_time;
	p->pp_gen = 1;
	p->pp_layout = *l;
	p->pp_runtime = RT_BASE;
	p->pp_code_type = trust_all ? 0 : CODE_TYPE;
	p->pp_str_type = trust_all ? 0 : STR_TYPE;
	p->pp_tid_off = -2;
	snprintf(p->pp_comm, sizeof(p->pp_comm), "fake");
	p->pp_mem.pm_read = img_read;
	for (int i = 0; i < 3; i++) /* the later ones hit the code cache */
		pysampler_tick(&s, t);
	pysampler_window_end(&s, t);
	pysampler_free(&s);
	stacks_free(t);
}

static void
patch_and_walk(const uint8_t *d, size_t n, unsigned v, int trust_all, int gil)
{
	memcpy(img, pristine[v], NREG * REGION_LEN);
	while (n >= 4) {
		size_t r = d[0] % NREG, off = (size_t)d[1] | (size_t)d[2] << 8,
		       len = (size_t)(d[3] & 15) + 1;

		d += 4, n -= 4;
		if (len > n)
			len = n;
		if (off + len > REGION_LEN)
			len = REGION_LEN - off;
		memcpy(img + r * REGION_LEN + off, d, len);
		d += len, n -= len;
	}
	walk(&layouts[v], trust_all, gil);
}

static void
debug_offsets(const uint8_t *d, size_t n)
{
	struct py_layout l;

	if (pyver_from_debug(d, n, &l) != 0)
		return;
	memcpy(img, pristine[NVERS - 1], NREG * REGION_LEN);
	walk(&l, 0, 0);
}

static void
line_tables(const uint8_t *d, size_t n)
{
	int first;
	int64_t off;

	if (n < 4)
		return;
	first = (int)(d[0] | d[1] << 8) - 1000;
	off = (int64_t)(d[2] | d[3] << 8) - 100;
	pycode_line_lnotab(d + 4, n - 4, first, off);
	pycode_line_310(d + 4, n - 4, first, off);
	pycode_line_311(d + 4, n - 4, first, off);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (img == NULL)
		init();
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
	case 1:
		patch_and_walk(data + 1, size - 1, ((data[0] >> 2) & 7) % NVERS,
			       (data[0] >> 5) & 1, (data[0] >> 6) & 1);
		break;
	case 2:
		debug_offsets(data + 1, size - 1);
		break;
	case 3:
		line_tables(data + 1, size - 1);
		break;
	}
	return 0;
}
