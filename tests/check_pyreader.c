/*
 * The Python reader against synthetic memory images: well-formed stacks
 * for each walk style, then truncated, cyclic, absurd and random images
 * that must never crash or hang it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "procfs.h"
#include "py_code.h"
#include "py_sample.h"
#include "py_versions.h"
#include "pyimage.h"
#include "stacks.h"

#define REGION_LEN (512u << 10) /* bytes of each region of the image */

#define U_MODULE 20 /* code units of the three frames */
#define U_MAIN	 12
#define U_LEAF	 16

/* Builds <module> -> main -> leaf. */
static void
mk_stack(const struct py_layout *l)
{
	uint64_t f0 = PYIMG_FR_BASE + 0x100, f1 = PYIMG_FR_BASE + 0x400,
		 f2 = PYIMG_FR_BASE + 0x800;

	pyimg_frame(l, f0, pyimg_code(l, "<module>"), U_MODULE, 0);
	pyimg_frame(l, f1, pyimg_code(l, "main"), U_MAIN, f0);
	pyimg_frame(l, f2, pyimg_code(l, "leaf"), U_LEAF, f1);
	pyimg_thread(l, PYIMG_TSTATE, f2, 0);
}

/* The stack mk_stack builds, with each version's lines. */
static char expect_stack[256];

static void
mk_expect(const struct py_layout *l)
{
	const int16_t *lines = pyimg_lines(l->pl_lines)->li_line;

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

	pyimg_reset(REGION_LEN);
	memset(&proc, 0, sizeof(proc));
	proc.pp_pid = proc.pp_nspid = getpid();
	proc.pp_start = procfs_start_time(getpid());
	proc.pp_gen = 1;
	proc.pp_layout = *l;
	proc.pp_runtime = PYIMG_RT_BASE;
	proc.pp_code_type = PYIMG_CODE_TYPE;
	proc.pp_str_type = PYIMG_STR_TYPE;
	proc.pp_tid_off = -2;
	snprintf(proc.pp_comm, sizeof(proc.pp_comm), "fake");
	proc.pp_mem.pm_read = pyimg_read;
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

START_TEST(test_debug_offsets)
{
	uint8_t b[PY_DEBUG_MAX];
	struct py_layout l;
	uint64_t bad = 1ULL << 40;

	pyimg_debug(b, 0x030d00f0);
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
	pyimg_debug(b, 0x030d00f0);
	b[0] = 'y';
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), -1);
	pyimg_debug(b, 0x032000f0);
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), -1);
	pyimg_debug(b, 0x030d00f0);
	b[16] = 1;
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), -1);
	pyimg_debug(b, 0x030d00f0);
	memcpy(b + 184, &bad, 8);
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), -1);
	ck_assert_int_eq(pyver_from_debug(b, 100, &l), -1);
	/* Fields the walker reads from its copies past what it copies: the
	 * interpreter of a thread state (found by fuzz_pyreader), a code
	 * object's type, a str's header. */
	pyimg_debug(b, 0x030d00f0);
	memcpy(b + 176, &(uint64_t){7000}, 8);
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), -1);
	pyimg_debug(b, 0x030d00f0);
	memcpy(b + 176, &(uint64_t){200}, 8);
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), 0);
	ck_assert_uint_ge(l.pl_ts_size, 208);
	pyimg_debug(b, 0x030d00f0);
	for (uint32_t pos = 280; pos <= 312; pos += 8)
		memcpy(b + pos, &(uint64_t){0}, 8);
	memcpy(b + 344, &(uint64_t){8}, 8);
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), -1);
	pyimg_debug(b, 0x030d00f0);
	memcpy(b + 560, &(uint64_t){24}, 8);
	ck_assert_int_eq(pyver_from_debug(b, sizeof(b), &l), -1);
}
END_TEST

START_TEST(test_line_tables)
{
	const struct pyimg_lines *a = pyimg_lines(PYLINES_LNOTAB),
				 *b = pyimg_lines(PYLINES_LINES310),
				 *c = pyimg_lines(PYLINES_LOCATIONS);

	for (size_t u = 0; u < a->li_units; u++)
		ck_assert_int_eq(pycode_line_lnotab(a->li_table, a->li_len, 2,
						    (int64_t)u * 2),
				 a->li_line[u]);
	for (size_t u = 0; u < b->li_units; u++)
		ck_assert_int_eq(
		    pycode_line_310(b->li_table, b->li_len, 2, (int64_t)u * 2),
		    b->li_line[u]);
	for (size_t u = 0; u < c->li_units; u++)
		ck_assert_int_eq(
		    pycode_line_311(c->li_table, c->li_len, 2, (int64_t)u),
		    c->li_line[u]);
	/* Before the first instruction, past the end, empty tables. */
	ck_assert_int_eq(pycode_line_310(b->li_table, b->li_len, 2, -2), 2);
	ck_assert_int_eq(pycode_line_311(c->li_table, c->li_len, 2, -1), 2);
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
	/* main's caller lies outside any mapping: what was read is kept
	 * under a torn marker, and counted. */
	pyimg_put64(PYIMG_FR_BASE + 0x400 + l->pl_fr_back, 0x60000000ULL);
	sampler.ps_targets[0].pt_proc = proc;
	ck_assert_str_eq(sample_once(), "[torn stack]_[p];main (t.py:4)_[p];"
					"leaf (t.py:4)_[p]");
	ck_assert_uint_eq(sampler.ps_window.st_torn, 1);
	/* A code object whose name is outside too: an unknown frame. */
	mk_stack(l);
	pyimg_put64(pyimg_alloc(0), 0); /* keep the allocator moving */
	sampler.ps_targets[0].pt_proc.pp_gen = 2;
	pyimg_put64(PYIMG_FR_BASE + 0x800 + l->pl_fr_code,
		    PYIMG_CO_BASE + REGION_LEN - 16);
	ck_assert_str_eq(sample_once(),
			 "<module> (t.py:5)_[p];main (t.py:4)_[p];"
			 "[unknown code]_[p]");
	ck_assert_uint_eq(sampler.ps_window.st_torn, 2);
	ck_assert_uint_eq(sampler.ps_window.st_unknown_frames, 1);
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
	uint64_t f1 = PYIMG_FR_BASE + 0x400, f2 = PYIMG_FR_BASE + 0x800;

	setup_layout(l);
	mk_stack(l);
	pyimg_put64(f1 + l->pl_fr_back, f2); /* main -> leaf -> main ... */
	ck_assert_str_eq(sample_once(), "[torn stack]_[p];main (t.py:4)_[p];"
					"leaf (t.py:4)_[p]");
	pyimg_put64(f2 + l->pl_fr_back, f2); /* leaf -> leaf */
	ck_assert_str_eq(sample_once(), "[torn stack]_[p];leaf (t.py:4)_[p]");
	/* Thread list: a thread state whose next is itself. */
	mk_stack(l);
	pyimg_put64(PYIMG_TSTATE + l->pl_ts_next, PYIMG_TSTATE);
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
	co = pyimg_code(l, "rec");
	for (int i = 0; i < 3000; i++) {
		at = PYIMG_FR_BASE + 0x100 + (uint64_t)i * 128;
		pyimg_frame(l, at, co, 12, back);
		back = at;
	}
	pyimg_thread(l, PYIMG_TSTATE, at, 0);
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
	leafco = pymem_u64(pyimg_at(PYIMG_FR_BASE + 0x800, 8), 0);
	/* A name of 2^40 characters. */
	pyimg_put64(pymem_u64(pyimg_at(leafco + l->pl_co_name, 8), 0) + 16,
		    1ULL << 40);
	pyimg_put64(pymem_u64(pyimg_at(leafco + l->pl_co_qualname, 8), 0) + 16,
		    1ULL << 40);
	ck_assert_str_eq(sample_once(),
			 "<module> (t.py:5)_[p];main (t.py:4)_[p];"
			 "[unknown code]_[p]");
	/* A name longer than kept: cut, and the stack still there. */
	sampler.ps_targets[0].pt_proc.pp_gen = 3;
	pyimg_put64(pymem_u64(pyimg_at(leafco + l->pl_co_qualname, 8), 0) + 16,
		    5000);
	sample_once();
	ck_assert_msg(strstr(stack_text, ";leaf") != NULL, "%s", stack_text);
	/* A line table of 2^40 bytes is refused; of 2^29, it is capped. */
	sampler.ps_targets[0].pt_proc.pp_gen = 4;
	pyimg_put64(pymem_u64(pyimg_at(leafco + l->pl_co_linetable, 8), 0) + 16,
		    1ULL << 40);
	ck_assert_str_eq(sample_once(),
			 "<module> (t.py:5)_[p];main (t.py:4)_[p];"
			 "[unknown code]_[p]");
	sampler.ps_targets[0].pt_proc.pp_gen = 6;
	pyimg_put64(pymem_u64(pyimg_at(leafco + l->pl_co_linetable, 8), 0) + 16,
		    1ULL << 29);
	sample_once();
	/* A string of kind 3, or not compact. */
	sampler.ps_targets[0].pt_proc.pp_gen = 5;
	mk_stack(l);
	leafco = pymem_u64(pyimg_at(PYIMG_FR_BASE + 0x800, 8), 0);
	pyimg_put32(pymem_u64(pyimg_at(leafco + l->pl_co_filename, 8), 0) + 32,
		    3u << 2 | 1u << 5);
	ck_assert_str_eq(sample_once(),
			 "<module> (t.py:5)_[p];main (t.py:4)_[p];"
			 "[unknown code]_[p]");
	teardown();
}
END_TEST

/* Every tick is accounted for: a sample, or a reason. */
START_TEST(test_accounting)
{
	const struct py_layout *l = pyver_table(PYVER(3, 11));
	struct pystats *w = &sampler.ps_window;
	char line[512];

	setup_layout(l);
	mk_stack(l);
	ck_assert_str_eq(sample_once(), expect_stack);
	/* No frame: the thread runs no Python code. */
	pyimg_thread(l, PYIMG_TSTATE, 0, 0);
	ck_assert_str_eq(sample_once(), "");
	/* No thread state at all. */
	pyimg_put64(PYIMG_INTERP + l->pl_is_threads_head, 0);
	ck_assert_str_eq(sample_once(), "");
	/* Two missed ticks, then an unreadable runtime. */
	pysampler_late(&sampler, 2);
	sampler.ps_targets[0].pt_proc.pp_runtime = 0x50000000ULL;
	ck_assert_str_eq(sample_once(), "");
	ck_assert_uint_eq(w->st_ticks, 6);
	ck_assert_uint_eq(w->st_target_ticks, 6);
	ck_assert_uint_eq(w->st_sampled, 1);
	ck_assert_uint_eq(w->st_samples, 1);
	ck_assert_uint_eq(w->st_nosample[PYNS_NO_FRAMES], 1);
	ck_assert_uint_eq(w->st_nosample[PYNS_NO_THREAD], 1);
	ck_assert_uint_eq(w->st_nosample[PYNS_LATE], 2);
	ck_assert_uint_eq(w->st_nosample[PYNS_READ_ERROR], 1);
	pysampler_window_end(&sampler, table);
	ck_assert_uint_eq(w->st_ticks, 0);
	pysampler_stats_format(&sampler.ps_last, line, sizeof(line));
	ck_assert_str_eq(line, "ticks=6 target_ticks=6 sampled=1 no_sample=5 "
			       "samples=1 torn=0 unknown_frames=0 (idle=0 "
			       "no_thread=1 no_frames=1 read_error=1 gone=0 "
			       "full=0 late=2)");
	teardown();
}
END_TEST

/* Random words, half of them pointers into the image. */
static void
img_garbage(unsigned seed)
{
	srandom(seed);
	for (size_t r = 0; r < 3; r++)
		for (size_t i = 0; i + 8 <= pyimg[r].r_len; i += 8) {
			uint64_t v =
			    ((uint64_t)random() << 32) | (uint64_t)random();

			if (random() & 1)
				v = pyimg[random() % 3].r_addr +
				    ((uint64_t)random() % REGION_LEN & ~7ULL);
			memcpy(pyimg[r].r_buf + i, &v, 8);
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

static Suite *
pyreader_suite(void)
{
	Suite *s = suite_create("pyreader");
	TCase *tc = tcase_create("pyreader");

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
	tcase_add_test(tc, test_accounting);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(pyreader_suite())
