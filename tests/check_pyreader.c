/*
 * The Python reader against synthetic memory images: well-formed stacks
 * for each walk style, then truncated, cyclic, absurd and random images
 * that must never crash or hang it.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "py_code.h"
#include "py_sample.h"
#include "py_versions.h"
#include "stacks.h"

/* --- a fake address space -------------------------------------------- */

#define RT_BASE	   0x10000000ULL /* runtime, interpreter, threads */
#define FR_BASE	   0x20000000ULL /* frames */
#define CO_BASE	   0x30000000ULL /* code objects, str, bytes */
#define REGION_LEN (512u << 10)
#define CODE_TYPE  0x7000100ULL
#define STR_TYPE   0x7000200ULL

struct region {
	uint64_t r_addr;
	uint8_t *r_buf;
	size_t r_len;
};

static struct region img[3];
static uint64_t co_next; /* bump allocator in the code region */

static int
img_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	(void)arg;
	for (size_t i = 0; i < 3; i++) {
		struct region *r = &img[i];

		if (addr >= r->r_addr && addr - r->r_addr <= r->r_len &&
		    len <= r->r_len - (addr - r->r_addr)) {
			memcpy(buf, r->r_buf + (addr - r->r_addr), len);
			return 0;
		}
	}
	return -1;
}

static uint8_t *
img_at(uint64_t addr, size_t len)
{
	for (size_t i = 0; i < 3; i++)
		if (addr >= img[i].r_addr &&
		    addr + len <= img[i].r_addr + img[i].r_len)
			return img[i].r_buf + (addr - img[i].r_addr);
	ck_abort_msg("write outside the image at %llx",
		     (unsigned long long)addr);
	return NULL;
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

static void
img_reset(void)
{
	const uint64_t base[3] = {RT_BASE, FR_BASE, CO_BASE};

	for (size_t i = 0; i < 3; i++) {
		free(img[i].r_buf);
		img[i].r_addr = base[i];
		img[i].r_len = REGION_LEN;
		img[i].r_buf = calloc(1, REGION_LEN);
	}
	co_next = CO_BASE + 64;
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
	if (n > 0)
		memcpy(img_at(a + l->pl_bytes_data, n), b, n);
	return a;
}

/* Line tables of the same function, from each CPython's compiler:
 *   2 def f(n):  3 x = 0  4 for i in range(n):  5 if i % 3:
 *   6 x += i  7 else:  8 x -= 1  9 return x
 * with the line of each code unit (-1: none). */
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
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t *
lt_for(const struct py_layout *l, size_t *n)
{
	if (l->pl_lines == PYLINES_LNOTAB) {
		*n = sizeof(lt_38);
		return lt_38;
	}
	if (l->pl_lines == PYLINES_LINES310) {
		*n = sizeof(lt_310);
		return lt_310;
	}
	*n = sizeof(lt_312);
	return lt_312;
}

static uint64_t
mk_code(const struct py_layout *l, const char *name)
{
	uint64_t a = co_alloc(l->pl_co_size + 256);
	size_t n;
	const uint8_t *lt = lt_for(l, &n);

	put64(a + 8, CODE_TYPE);
	put32(a + l->pl_co_firstlineno, 2);
	put64(a + l->pl_co_filename, mk_str(l, "t.py"));
	put64(a + l->pl_co_name, mk_str(l, name));
	if (l->pl_co_qualname)
		put64(a + l->pl_co_qualname, mk_str(l, name));
	put64(a + l->pl_co_linetable, mk_bytes(l, lt, n));
	return a;
}

/* Writes frame `at` running code `co` at code unit `unit`. */
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

/* Links runtime -> interpreter -> thread state -> first frame. */
static void
mk_thread(const struct py_layout *l, uint64_t ts, uint64_t top, uint64_t next)
{
	put64(RT_BASE + l->pl_rt_interp_head, INTERP);
	put64(INTERP + l->pl_is_threads_head, TSTATE);
	put64(ts + l->pl_ts_interp, INTERP);
	put64(ts + l->pl_ts_next, next);
	if (l->pl_walk == PYWALK_CFRAME) {
		uint64_t cf = CFRAME + (ts - TSTATE);

		put64(ts + l->pl_ts_frame, cf);
		put64(cf + l->pl_cf_current, top);
	} else {
		put64(ts + l->pl_ts_frame, top);
	}
}

#define U_MODULE 20 /* code units of the three frames */
#define U_MAIN	 12
#define U_LEAF	 16

/* Builds <module> -> main -> leaf. */
static void
mk_stack(const struct py_layout *l)
{
	uint64_t f0 = FR_BASE + 0x100, f1 = FR_BASE + 0x400,
		 f2 = FR_BASE + 0x800;

	mk_frame(l, f0, mk_code(l, "<module>"), U_MODULE, 0);
	mk_frame(l, f1, mk_code(l, "main"), U_MAIN, f0);
	mk_frame(l, f2, mk_code(l, "leaf"), U_LEAF, f1);
	mk_thread(l, TSTATE, f2, 0);
}

/* The stack mk_stack builds, with each version's lines. */
static char expect_stack[256];

static void
mk_expect(const struct py_layout *l)
{
	const int16_t *lines = l->pl_lines == PYLINES_LNOTAB	 ? lt_38_lines
			       : l->pl_lines == PYLINES_LINES310 ? lt_310_lines
								 : lt_312_lines;

	snprintf(expect_stack, sizeof(expect_stack),
		 "<module> (t.py:%d)_[p];main (t.py:%d)_[p];leaf (t.py:%d)_[p]",
		 lines[U_MODULE], lines[U_MAIN], lines[U_LEAF]);
}

static struct pyproc proc;
static struct pysampler sampler;
static struct stack_table *table;

static void
setup_layout(const struct py_layout *l)
{
	struct pyopts o = {.po_idle = 1};

	img_reset();
	memset(&proc, 0, sizeof(proc));
	proc.pp_pid = proc.pp_nspid = getpid();
	pyproc_stat(getpid(), &proc.pp_start, NULL);
	proc.pp_gen = 1;
	proc.pp_layout = *l;
	proc.pp_runtime = RT_BASE;
	proc.pp_code_type = CODE_TYPE;
	proc.pp_str_type = STR_TYPE;
	proc.pp_tid_off = -2;
	snprintf(proc.pp_comm, sizeof(proc.pp_comm), "fake");
	proc.pp_mem.pm_read = img_read;
	ck_assert_int_eq(pysampler_init(&sampler, &o), 0);
	sampler.ps_targets =
	    calloc(PYSAMPLE_MAX_PROCS, sizeof(*sampler.ps_targets));
	sampler.ps_ntargets = 1;
	sampler.ps_targets[0].pt_proc = proc;
	sampler.ps_targets[0].pt_attached = 1;
	table = stacks_new(1u << 20);
	mk_expect(l);
}

static void
teardown(void)
{
	pysampler_free(&sampler);
	stacks_free(table);
	table = NULL;
}

/* Samples once; returns the only stack as text ("" when none). */
static char stack_text[4096];

static int
collect(void *arg, const struct stack_proc *sp, const uint32_t *f, size_t n,
	uint64_t count)
{
	size_t o = strlen(stack_text);

	(void)arg;
	(void)sp;
	(void)count;
	for (size_t i = 0; i < n && o < sizeof(stack_text) - 1; i++) {
		o += (size_t)snprintf(stack_text + o, sizeof(stack_text) - o,
				      "%s%s", i ? ";" : "",
				      stacks_str(table, f[i]));
		if (o >= sizeof(stack_text))
			o = sizeof(stack_text) - 1;
	}
	return 1; /* the first stack only */
}

static const char *
sample_once(void)
{
	stack_text[0] = '\0';
	stacks_clear(table);
	pysampler_tick(&sampler, table);
	stacks_foreach(table, collect, NULL);
	return stack_text;
}

static void
check_layout(uint32_t v)
{
	const struct py_layout *l = pyver_table(v);

	ck_assert_ptr_nonnull(l);
	setup_layout(l);
	mk_stack(l);
	sampler.ps_targets[0].pt_proc = proc;
	ck_assert_str_eq(sample_once(), expect_stack);
	/* A second sample comes from the code cache, the same. */
	ck_assert_str_eq(sample_once(), expect_stack);
	ck_assert_uint_eq(stacks_total(table), 1);
	teardown();
}

START_TEST(test_walk_table_versions)
{
	check_layout(PYVER(3, 8));
	check_layout(PYVER(3, 9));
	check_layout(PYVER(3, 10));
	check_layout(PYVER(3, 11));
	check_layout(PYVER(3, 12));
	ck_assert_ptr_null(pyver_table(PYVER(3, 7)));
	ck_assert_ptr_null(pyver_table(PYVER(3, 13)));
}
END_TEST

/* A 3.13 _Py_DebugOffsets block with the offsets measured on 3.13.0. */
static void
mk_debug(uint8_t *b, uint64_t version)
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

START_TEST(test_debug_offsets)
{
	uint8_t b[PY_DEBUG_MAX];
	struct py_layout l;
	uint64_t bad = 1ULL << 40;

	mk_debug(b, 0x030d00f0);
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), 0);
	ck_assert_uint_eq(l.pl_version, PYVER(3, 13));
	ck_assert_uint_eq(l.pl_rt_interp_head, 632);
	ck_assert_uint_eq(l.pl_is_threads_head, 7344);
	ck_assert_uint_eq(l.pl_gil_locked, 16);
	ck_assert_uint_eq(l.pl_gil_holder, 8);
	ck_assert_uint_eq(l.pl_str_compact, 56);
	ck_assert_int_eq(l.pl_walk, PYWALK_IFRAME);
	/* Walk a 3.13 image with it. */
	setup_layout(&l);
	mk_stack(&l);
	ck_assert_str_eq(sample_once(), expect_stack);
	teardown();
	/* Bad cookie, unknown version, free-threaded, absurd offset. */
	mk_debug(b, 0x030d00f0);
	b[0] = 'y';
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), -1);
	mk_debug(b, 0x032000f0);
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), -1);
	mk_debug(b, 0x030d00f0);
	b[16] = 1;
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), -1);
	mk_debug(b, 0x030d00f0);
	memcpy(b + 184, &bad, 8);
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), -1);
	ck_assert_int_eq(pyver_from_debug(b, 100, &l), -1);
	/* Fields the walker reads from its copies past what it copies: the
	 * interpreter of a thread state (found by fuzz_pyreader), a code
	 * object's type, a str's header. */
	mk_debug(b, 0x030d00f0);
	memcpy(b + 176, &(uint64_t){7000}, 8);
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), -1);
	mk_debug(b, 0x030d00f0);
	memcpy(b + 176, &(uint64_t){200}, 8);
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), 0);
	ck_assert_uint_ge(l.pl_ts_size, 208);
	mk_debug(b, 0x030d00f0);
	for (uint32_t pos = 280; pos <= 312; pos += 8)
		memcpy(b + pos, &(uint64_t){0}, 8);
	memcpy(b + 344, &(uint64_t){8}, 8);
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), -1);
	mk_debug(b, 0x030d00f0);
	memcpy(b + 560, &(uint64_t){24}, 8);
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), -1);
}
END_TEST

START_TEST(test_line_tables)
{
	for (size_t u = 0; u < NELEM(lt_38_lines); u++)
		ck_assert_int_eq(
		    pycode_line_lnotab(lt_38, sizeof(lt_38), 2, (int64_t)u * 2),
		    lt_38_lines[u]);
	for (size_t u = 0; u < NELEM(lt_310_lines); u++)
		ck_assert_int_eq(
		    pycode_line_310(lt_310, sizeof(lt_310), 2, (int64_t)u * 2),
		    lt_310_lines[u]);
	for (size_t u = 0; u < NELEM(lt_312_lines); u++)
		ck_assert_int_eq(
		    pycode_line_311(lt_312, sizeof(lt_312), 2, (int64_t)u),
		    lt_312_lines[u]);
	/* Before the first instruction, past the end, empty tables. */
	ck_assert_int_eq(pycode_line_310(lt_310, sizeof(lt_310), 2, -2), 2);
	ck_assert_int_eq(pycode_line_311(lt_312, sizeof(lt_312), 2, -1), 2);
	ck_assert_int_eq(pycode_line_311(NULL, 0, 7, 5), 7);
	ck_assert_int_eq(pycode_line_lnotab(NULL, 0, 7, 5), 7);
}
END_TEST

START_TEST(test_line_tables_garbage)
{
	uint8_t t[4096];

	srandom(1);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)random() % sizeof(t);

		for (size_t i = 0; i < n; i++)
			t[i] = (uint8_t)random();
		pycode_line_lnotab(t, n, 1, random() % 10000);
		pycode_line_310(t, n, 1, random() % 10000);
		pycode_line_311(t, n, 1, random() % 10000);
	}
	/* A varint that never ends. */
	memset(t, 0x7f, sizeof(t));
	t[0] = 0x80 | (14 << 3);
	pycode_line_311(t, sizeof(t), 1, 100000);
}
END_TEST

START_TEST(test_truncated)
{
	const struct py_layout *l = pyver_table(PYVER(3, 12));

	setup_layout(l);
	mk_stack(l);
	/* main's caller lies outside any mapping. */
	put64(FR_BASE + 0x400 + l->pl_fr_back, 0x60000000ULL);
	sampler.ps_targets[0].pt_proc = proc;
	ck_assert_str_eq(sample_once(), "");
	/* A code object whose name is outside too. */
	mk_stack(l);
	put64(co_alloc(0), 0); /* keep the allocator moving */
	sampler.ps_targets[0].pt_proc.pp_gen = 2;
	put64(FR_BASE + 0x800 + l->pl_fr_code, CO_BASE + REGION_LEN - 16);
	ck_assert_str_eq(sample_once(), "");
	/* The runtime itself unreadable: no stack, an error for the
	 * window. */
	pysampler_window_end(&sampler, table);
	stacks_clear(table);
	sampler.ps_targets[0].pt_proc.pp_runtime = 0x50000000ULL;
	ck_assert_str_eq(sample_once(), "");
	pysampler_window_end(&sampler, table);
	stacks_foreach(table, collect, NULL);
	ck_assert_msg(
	    strstr(stack_text, "[Profiling error: cannot read memory") != NULL,
	    "no error frame: %s", stack_text);
	teardown();
}
END_TEST

START_TEST(test_cycles)
{
	const struct py_layout *l = pyver_table(PYVER(3, 11));
	uint64_t f1 = FR_BASE + 0x400, f2 = FR_BASE + 0x800;

	setup_layout(l);
	mk_stack(l);
	put64(f1 + l->pl_fr_back, f2); /* main -> leaf -> main ... */
	ck_assert_str_eq(sample_once(), "");
	put64(f2 + l->pl_fr_back, f2); /* leaf -> leaf */
	ck_assert_str_eq(sample_once(), "");
	/* Thread list: a thread state whose next is itself. */
	mk_stack(l);
	put64(TSTATE + l->pl_ts_next, TSTATE);
	ck_assert_str_eq(sample_once(), expect_stack);
	ck_assert_uint_eq(stacks_total(table), 1);
	teardown();
}
END_TEST

START_TEST(test_deep_chain)
{
	const struct py_layout *l = pyver_table(PYVER(3, 10));
	uint64_t co, back = 0, at = 0;

	setup_layout(l);
	co = mk_code(l, "rec");
	for (int i = 0; i < 3000; i++) {
		at = FR_BASE + 0x100 + (uint64_t)i * 128;
		mk_frame(l, at, co, 12, back);
		back = at;
	}
	mk_thread(l, TSTATE, at, 0);
	sample_once();
	ck_assert_msg(strncmp(stack_text, "[truncated]_[p];rec (t.py:6)", 28) ==
			  0,
		      "%.80s", stack_text);
	teardown();
}
END_TEST

START_TEST(test_absurd_lengths)
{
	const struct py_layout *l = pyver_table(PYVER(3, 12));
	uint64_t leafco;

	setup_layout(l);
	mk_stack(l);
	leafco = pymem_u64(img_at(FR_BASE + 0x800, 8), 0);
	/* A name of 2^40 characters. */
	put64(pymem_u64(img_at(leafco + l->pl_co_name, 8), 0) + 16, 1ULL << 40);
	put64(pymem_u64(img_at(leafco + l->pl_co_qualname, 8), 0) + 16,
	      1ULL << 40);
	ck_assert_str_eq(sample_once(), "");
	/* A name longer than kept: cut, and the stack still there. */
	sampler.ps_targets[0].pt_proc.pp_gen = 3;
	put64(pymem_u64(img_at(leafco + l->pl_co_qualname, 8), 0) + 16, 5000);
	sample_once();
	ck_assert_msg(strstr(stack_text, ";leaf") != NULL, "%s", stack_text);
	/* A line table of 2^40 bytes is refused; of 2^29, it is capped. */
	sampler.ps_targets[0].pt_proc.pp_gen = 4;
	put64(pymem_u64(img_at(leafco + l->pl_co_linetable, 8), 0) + 16,
	      1ULL << 40);
	ck_assert_str_eq(sample_once(), "");
	sampler.ps_targets[0].pt_proc.pp_gen = 6;
	put64(pymem_u64(img_at(leafco + l->pl_co_linetable, 8), 0) + 16,
	      1ULL << 29);
	sample_once();
	/* A string of kind 3, or not compact. */
	sampler.ps_targets[0].pt_proc.pp_gen = 5;
	mk_stack(l);
	leafco = pymem_u64(img_at(FR_BASE + 0x800, 8), 0);
	put32(pymem_u64(img_at(leafco + l->pl_co_filename, 8), 0) + 32,
	      3u << 2 | 1u << 5);
	ck_assert_str_eq(sample_once(), "");
	teardown();
}
END_TEST

/* Random words, half of them pointers into the image. */
static void
img_garbage(unsigned seed)
{
	srandom(seed);
	for (size_t r = 0; r < 3; r++)
		for (size_t i = 0; i + 8 <= img[r].r_len; i += 8) {
			uint64_t v =
			    ((uint64_t)random() << 32) | (uint64_t)random();

			if (random() & 1)
				v = img[random() % 3].r_addr +
				    ((uint64_t)random() % REGION_LEN & ~7ULL);
			memcpy(img[r].r_buf + i, &v, 8);
		}
}

START_TEST(test_garbage)
{
	static const uint32_t vers[] = {PYVER(3, 8), PYVER(3, 10), PYVER(3, 11),
					PYVER(3, 12)};

	for (unsigned seed = 1; seed <= 40; seed++) {
		const struct py_layout *l = pyver_table(vers[seed % 4]);

		setup_layout(l);
		img_garbage(seed);
		sampler.ps_targets[0].pt_proc.pp_code_type = 0; /* trust all */
		sampler.ps_targets[0].pt_proc.pp_str_type = 0;
		for (int i = 0; i < 20; i++)
			pysampler_tick(&sampler, table);
		pysampler_window_end(&sampler, table);
		teardown();
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pyreader");
	TCase *tc = tcase_create("pyreader");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_walk_table_versions);
	tcase_add_test(tc, test_debug_offsets);
	tcase_add_test(tc, test_line_tables);
	tcase_add_test(tc, test_line_tables_garbage);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_cycles);
	tcase_add_test(tc, test_deep_chain);
	tcase_add_test(tc, test_absurd_lengths);
	tcase_add_test(tc, test_garbage);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
