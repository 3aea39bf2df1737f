/* Tests of the perf script parser (workers/perf/perf_script.c). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "perf_script.h"
#include "stacks.h"

#define FIXTURE "tests/fixtures/perf_script_sample.txt"

/* Two samples as perf 6.1 prints them. */
static const char two_samples[] =
    "sleep  2702/2702  [000]   118.181462:   10101010 cpu-clock: \n"
    "\t           14645 handle_amd+0x25 "
    "(/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)\n"
    "\t               0 [unknown] ([unknown])\n"
    "\n"
    "perf  2698/2698  [001]   118.191626:   10101010 cpu-clock: \n"
    "\tffffffff81444b29 s_show+0x9 ([kernel.kallsyms])\n"
    "\tffffffff816f97d7 seq_read_iter+0x2c7 ([kernel.kallsyms])\n"
    "\t           f82ec read+0x4c (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
    "\t          24ad26 [unknown] (/usr/bin/perf)\n"
    "\n";

static const char two_collapsed[] =
    "sleep 2702 [unknown];handle_amd 1\n"
    "perf 2698 (/usr/bin/perf);read;seq_read_iter_[k];s_show_[k] 1\n";

/* A growing text buffer. */
struct text {
	char *tx_buf;
	size_t tx_len, tx_cap;
};

static void
text_put(struct text *tx, const char *s, size_t n)
{
	if (tx->tx_len + n + 1 > tx->tx_cap) {
		tx->tx_cap = (tx->tx_len + n + 1) * 2;
		tx->tx_buf = realloc(tx->tx_buf, tx->tx_cap);
		ck_assert_ptr_nonnull(tx->tx_buf);
	}
	memcpy(tx->tx_buf + tx->tx_len, s, n);
	tx->tx_len += n;
	tx->tx_buf[tx->tx_len] = '\0';
}

static void
text_puts(struct text *tx, const char *s)
{
	text_put(tx, s, strlen(s));
}

struct dump {
	struct text d_text;
	const struct stack_table *d_t;
};

static int
dump_stack(void *arg, const struct stack_proc *proc, const uint32_t *frames,
	   size_t n, uint64_t count)
{
	struct dump *d = arg;
	char num[64];

	text_puts(&d->d_text, stacks_str(d->d_t, proc->sp_comm));
	snprintf(num, sizeof(num), " %u ", (unsigned)proc->sp_pid);
	text_puts(&d->d_text, num);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			text_puts(&d->d_text, ";");
		text_puts(&d->d_text, stacks_str(d->d_t, frames[i]));
	}
	snprintf(num, sizeof(num), " %llu\n", (unsigned long long)count);
	text_puts(&d->d_text, num);
	return 0;
}

/* Returns every stack of t as "comm pid root;...;leaf count" lines. */
static char *
dump_table(const struct stack_table *t)
{
	struct dump d = {.d_t = t};

	text_put(&d.d_text, "", 0);
	stacks_foreach(t, dump_stack, &d);
	return d.d_text.tx_buf;
}

/* One parse: its table, counters and dump. */
struct run {
	struct stack_table *r_t;
	struct perf_parse_stats r_st;
	char *r_dump;
};

/* Parses text[0..len) fed in chunks of chunk bytes (0: one chunk). */
static void
run_chunks(struct run *r, const char *text, size_t len, int flags, size_t chunk,
	   perf_proc_fn fn, void *arg)
{
	struct perf_parser *p;

	ck_assert_ptr_nonnull(r->r_t = stacks_new(0));
	ck_assert_ptr_nonnull(p = perf_parser_new(r->r_t, flags, fn, arg));
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		ck_assert_int_eq(perf_parser_feed(p, text + off, n), 0);
	}
	ck_assert_int_eq(perf_parser_finish(p), 0);
	perf_parser_stats(p, &r->r_st);
	perf_parser_free(p);
	r->r_dump = dump_table(r->r_t);
	ck_assert_uint_eq(stacks_total(r->r_t), r->r_st.ps_samples);
}

static void
run_text(struct run *r, const char *text, int flags)
{
	run_chunks(r, text, strlen(text), flags, 0, NULL, NULL);
}

static void
run_free(struct run *r)
{
	stacks_free(r->r_t);
	free(r->r_dump);
}

static void
assert_stats(const struct run *r, uint64_t samples, uint64_t skipped,
	     uint64_t cut)
{
	ck_assert_uint_eq(r->r_st.ps_samples, samples);
	ck_assert_uint_eq(r->r_st.ps_skipped, skipped);
	ck_assert_uint_eq(r->r_st.ps_cut, cut);
}

/* Returns the contents of the fixture file, NUL-terminated. */
static char *
read_fixture(size_t *len)
{
	const char *dir = getenv("srcdir");
	char path[4096];
	struct text tx = {0};
	char buf[65536];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", FIXTURE);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	text_put(&tx, "", 0);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		text_put(&tx, buf, n);
	fclose(f);
	*len = tx.tx_len;
	return tx.tx_buf;
}

START_TEST(test_real_samples)
{
	struct run r = {0};

	run_text(&r, two_samples, 0);
	ck_assert_str_eq(r.r_dump, two_collapsed);
	assert_stats(&r, 2, 0, 0);
	ck_assert_uint_eq(stacks_nproc(r.r_t), 2);
	run_free(&r);
}
END_TEST

START_TEST(test_counts_merge)
{
	struct text tx = {0};
	struct run r = {0};

	for (int i = 0; i < 3; i++)
		text_puts(&tx, two_samples);
	run_text(&r, tx.tx_buf, 0);
	ck_assert_str_eq(r.r_dump,
			 "sleep 2702 [unknown];handle_amd 3\n"
			 "perf 2698 (/usr/bin/perf);read;seq_read_iter_[k];"
			 "s_show_[k] 3\n");
	ck_assert_uint_eq(stacks_count(r.r_t), 2);
	assert_stats(&r, 6, 0, 0);
	run_free(&r);
	free(tx.tx_buf);
}
END_TEST

START_TEST(test_comm_spaces)
{
	struct run r = {0};
	char text[1024], comm[400];

	run_text(&r,
		 "Web Content 1234/1240 [001] 1.000: 1 cpu-clock: \n"
		 "\t1 foo (/lib/a.so)\n\n"
		 ":-1 -1/-1 [000] 2.5: 1 cpu-clock:\n\t1 bar (/lib/a.so)\n\n"
		 "a 1/2 b 3/4 [000] 5.5: 1 cpu-clock:\n\t1 baz (/lib/a.so)\n\n"
		 "   9/9 [000] 5.5: 1 cpu-clock:\n\t1 qux (/lib/a.so)\n\n"
		 "   old perf 77 [003] 1.5: 1 e:\n\t1 x (/y)\n\n"
		 "   old perf 77/77 [003] 1.5: 1 e:\n\t1 x (/y)\n\n",
		 0);
	ck_assert_str_eq(r.r_dump, "Web Content 1234 foo 1\n"
				   ":-1 4294967295 bar 1\n"
				   "a 1/2 b 3 baz 1\n"
				   " 9 qux 1\n"
				   "old perf 77 x 1\n");
	assert_stats(&r, 5, 1, 0);
	run_free(&r);

	memset(comm, 'c', sizeof(comm) - 1);
	comm[sizeof(comm) - 1] = '\0';
	snprintf(text, sizeof(text), "%s 5/5 1.0: e:\n\t1 f (/x)\n", comm);
	run_text(&r, text, 0);
	assert_stats(&r, 1, 0, 0);
	ck_assert_uint_eq(
	    stacks_strlen(r.r_t, stacks_proc_at(r.r_t, 0)->sp_comm),
	    PERF_MAX_COMM);
	run_free(&r);
}
END_TEST

START_TEST(test_missing_cpu)
{
	struct run r = {0};

	run_text(&r,
		 "x 5/6 1.5: 1 cpu-clock:\n\t1 f (/a)\n\n"
		 "x 5/6 12.25: cpu-clock:\n\t1 f (/a)\n\n"
		 "y 7/7 [] 1.5: e:\n\t1 f (/a)\n\n"
		 "z 8/8 [001] 1.: e:\n\t1 f (/a)\n\n"
		 "z 8/8 [001] .5: e:\n\t1 f (/a)\n\n"
		 "z 8/8 [001] 1.5 e:\n\t1 f (/a)\n\n",
		 0);
	ck_assert_str_eq(r.r_dump, "x 5 f 2\n");
	assert_stats(&r, 2, 4, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_operator_plus)
{
	struct run r = {0};

	run_text(&r,
		 "c 1/1 [000] 1.0: 1 e:\n"
		 "\t1 operator+(A const&, A const&)+0x12 (/usr/lib/libx.so)\n"
		 "\t2 operator+ (/usr/lib/libx.so)\n"
		 "\t3 operator+=+0x5 (/usr/lib/libx.so)\n"
		 "\t4 a+b+0x (/x)\n"
		 "\t5 x+0xZ (/x)\n"
		 "\t6 y+0XAB (/x)\n"
		 "\t7 z+0xAb9 (/x)\n"
		 "\t8 tbl_0x1f (/x)\n",
		 0);
	ck_assert_str_eq(r.r_dump,
			 "c 1 tbl_0x1f;z;y+0XAB;x+0xZ;a+b+0x;operator+=;"
			 "operator+;operator+(A const&, A const&) 1\n");
	run_free(&r);
}
END_TEST

static const char cpp_sample[] =
    "c 1/1 [000] 1.0: 1 e:\n"
    "\t1 foo::bar(int, char const*)+0x12 (/usr/lib/libx.so)\n"
    "\t2 std::function<void (int)>::operator()(int) const+0x1 "
    "(/usr/lib/libx.so)\n"
    "\t3 (anonymous namespace)::run() (/usr/lib/libx.so)\n";

START_TEST(test_cpp_symbols)
{
	struct run r = {0};

	run_text(&r, cpp_sample, 0);
	ck_assert_str_eq(r.r_dump,
			 "c 1 (anonymous namespace)::run();"
			 "std::function<void (int)>::operator()(int) const;"
			 "foo::bar(int, char const*) 1\n");
	run_free(&r);
	run_text(&r, cpp_sample, PERF_INSERT_DSO_NAME);
	ck_assert_str_eq(r.r_dump,
			 "c 1 (anonymous namespace)::run() (/usr/lib/libx.so);"
			 "std::function<void (int)>::operator()(int) const "
			 "(/usr/lib/libx.so);"
			 "foo::bar(int, char const*) (/usr/lib/libx.so) 1\n");
	run_free(&r);
}
END_TEST

START_TEST(test_insert_dso_name)
{
	struct run r = {0};

	run_text(&r, two_samples, PERF_INSERT_DSO_NAME);
	ck_assert_str_eq(r.r_dump,
			 "sleep 2702 [unknown];handle_amd "
			 "(/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2) 1\n"
			 "perf 2698 (/usr/bin/perf);read "
			 "(/usr/lib/x86_64-linux-gnu/libc.so.6);"
			 "seq_read_iter_[k];s_show_[k] 1\n");
	run_free(&r);
	run_text(&r,
		 "c 1/1 [000] 1.0: 1 e:\n"
		 "\t7fff1 __vdso_clock_gettime+0x5 ([vdso])\n"
		 "\t7fff2 jit+0x1 (/tmp/lib.so (deleted))\n"
		 "\t7fff3 [unknown] (/memfd:x (deleted))\n"
		 "\t7fff4 main+0x1 (/opt/a(b/c)\n"
		 "\t7fff5 [unknown] ()\n",
		 PERF_INSERT_DSO_NAME);
	ck_assert_str_eq(r.r_dump, "c 1 [unknown];main (/opt/a(b/c);"
				   "(/memfd:x (deleted));"
				   "jit (/tmp/lib.so (deleted));"
				   "__vdso_clock_gettime (vdso) 1\n");
	run_free(&r);
}
END_TEST

START_TEST(test_kernel_frames)
{
	struct run r = {0};

	run_text(&r,
		 "c 1/1 [000] 1.0: 1 e:\n"
		 "\tffffffff81000000 do_syscall_64+0x5 ([kernel.kallsyms])\n"
		 "\tffffffff81000001 foo+0x1 (/usr/lib/debug/vmlinux-6.1)\n"
		 "\tffffffff81000002 [unknown] ([kernel.kallsyms])\n"
		 "\t1 bar (/lib/x.so)\n",
		 PERF_INSERT_DSO_NAME);
	ck_assert_str_eq(r.r_dump, "c 1 bar (/lib/x.so);(kernel.kallsyms);"
				   "foo_[k];do_syscall_64_[k] 1\n");
	run_free(&r);
}
END_TEST

START_TEST(test_semicolons)
{
	struct run r = {0};

	run_text(&r,
		 "c 1/1 [000] 1.0: 1 e:\n"
		 "\t1 a;b;+0x1 (/x)\n"
		 "\t2 [unknown] (/p;q)\n"
		 "\t3 k;k ([kernel.kallsyms])\n"
		 "\t4 d;d (/x;y)\n",
		 PERF_INSERT_DSO_NAME);
	ck_assert_str_eq(r.r_dump,
			 "c 1 d:d (/x:y);k:k_[k];(/p:q);a:b: (/x) 1\n");
	run_free(&r);
}
END_TEST

START_TEST(test_malformed)
{
	struct run r = {0};

	run_text(&r,
		 "garbage line without pid\n\t1 a (/x)\n\n"
		 "c 1/1 [0] 1.0: 1 e:\n\tzz nothex (/x)\n\t1 b (/x)\n\n"
		 "c 2/2 [0] 1.0: 1 e:\n\t1 nodso\n\n"
		 "c 2/2 [0] 1.0: 1 e:\n\t1 (/x)\n\n"
		 "c 2/2 [0] 1.0: 1 e:\n\t1 f (/x) trailing\n\n"
		 "c 2/2 [0] 1.0: 1 e:\n\t1 f (/x)\nnot a frame\n\n"
		 "c 3/3 [0]: 1 e:\n\t1 b (/x)\n\n"
		 "c 3/3 [0] 1.0: 1 e:\n\t1 b (/x)\n\t2  (/x)\n\n"
		 "\t1 a (/x)\n\n"
		 "ok 4/4 [0] 1.0: 1 e:\n\t1 good (/x)\n\n",
		 0);
	ck_assert_str_eq(r.r_dump, "ok 4 good 1\n");
	ck_assert_uint_eq(stacks_nproc(r.r_t), 1);
	assert_stats(&r, 1, 9, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_comments_and_empty)
{
	struct run r = {0};

	run_text(&r,
		 "# ========\n# captured on: x\n#\n\n"
		 "a 1/1 [0] 1.0: 1 e:\n\n"
		 "b 2/2 [0] 1.0: 1 e: \n"
		 "c 3/3 [0] 1.0: 1 e: \n\t1 f (/x)\n \t \n"
		 "\n\n\n"
		 "d 4/4 [0] 1.0: 1 e:  1 f (/x)\n"
		 "d 4/4 [0] 1.0: 1 e:  1 f (/x)\n\n"
		 "# trailing comment",
		 0);
	ck_assert_str_eq(r.r_dump, "c 3 f 1\n");
	assert_stats(&r, 1, 4, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_truncated)
{
	struct text tx = {0};
	struct run r = {0};

	text_puts(&tx, two_samples);
	text_puts(&tx, "perf  2698/2698  [001]   118.191626:   10101010 e: \n"
		       "\tffffffff81444b29 s_show+0x9 ([kernel.kallsyms])\n"
		       "\t           f82ec read+0x4c (/usr/lib/x86_64-li");
	run_text(&r, tx.tx_buf, 0);
	ck_assert_str_eq(r.r_dump, two_collapsed);
	assert_stats(&r, 2, 1, 0);
	run_free(&r);

	/* A complete last sample without its blank line is kept. */
	tx.tx_buf[strlen(two_samples) - 1] = '\0';
	run_text(&r, tx.tx_buf, 0);
	ck_assert_str_eq(r.r_dump, two_collapsed);
	assert_stats(&r, 2, 0, 0);
	run_free(&r);

	/* A last line without its newline may be cut: skipped. */
	run_text(&r, "x 1/1 [0] 1.0: e:\n\t1 f (/x)", 0);
	assert_stats(&r, 0, 1, 0);
	run_free(&r);
	run_text(&r, "x 1/1 [0] 1.0: e:\n\t1 f (/x)\n  ", 0);
	assert_stats(&r, 1, 0, 0);
	run_free(&r);
	run_text(&r, "perf  2698/26", 0);
	assert_stats(&r, 0, 1, 0);
	run_free(&r);
	free(tx.tx_buf);
}
END_TEST

/* Text with every case of the tests above, and the fixture. */
static char *
mixed_text(size_t *len)
{
	struct text tx = {0};
	size_t flen;
	char *fix = read_fixture(&flen);

	text_puts(&tx, two_samples);
	text_puts(&tx, cpp_sample);
	text_puts(&tx, "\n# comment\nbad header\n\t1 f (/x)\n\n");
	text_puts(&tx, "x 1/1 1.0: e:\n\t1 a;b (/x)\n\t2 c ([vdso])\n\n");
	text_put(&tx, fix, flen);
	text_puts(&tx, two_samples);
	text_puts(&tx, "x 1/1 [0] 1.0: e:\n\t1 f (/x");
	free(fix);
	*len = tx.tx_len;
	return tx.tx_buf;
}

START_TEST(test_chunking)
{
	static const size_t chunks[] = {1, 2, 3, 7, 64, 4093, 8192, 8193};
	struct run whole = {0};
	size_t len;
	char *text = mixed_text(&len);

	run_chunks(&whole, text, len, PERF_INSERT_DSO_NAME, 0, NULL, NULL);
	ck_assert_uint_gt(whole.r_st.ps_samples, 100);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct run r = {0};

		run_chunks(&r, text, len, PERF_INSERT_DSO_NAME, chunks[i], NULL,
			   NULL);
		ck_assert_str_eq(r.r_dump, whole.r_dump);
		assert_stats(&r, whole.r_st.ps_samples, whole.r_st.ps_skipped,
			     whole.r_st.ps_cut);
		run_free(&r);
	}
	run_free(&whole);
	free(text);
}
END_TEST

/* Appends a frame line of exactly len bytes (newline excluded). */
static void
put_long_frame(struct text *tx, size_t len)
{
	char *line = malloc(len);

	ck_assert_ptr_nonnull(line);
	memset(line, 's', len);
	memcpy(line, "\t1 ", 3);
	memcpy(line + len - 5, " (/x)", 5);
	text_put(tx, line, len);
	text_puts(tx, "\n");
	free(line);
}

START_TEST(test_overlong_line)
{
	struct text tx = {0};
	size_t len = 100 * 1024;
	char *big = malloc(len + 1);

	ck_assert_ptr_nonnull(big);
	memset(big, 'a', len);
	big[len] = '\0';
	text_puts(&tx, two_samples);
	text_puts(&tx, "x 1/1 [0] 1.0: 1 e:\n");
	put_long_frame(&tx, len);
	text_puts(&tx, "\n");
	text_puts(&tx, big);
	text_puts(&tx, " 5/5 [0] 1.0: e:\n\t1 f (/x)\n\n#");
	text_puts(&tx, big);
	text_puts(&tx, "\ny 6/6 [0] 1.0: e:\n");
	put_long_frame(&tx, PERF_MAX_LINE);
	text_puts(&tx, "\nz 7/7 [0] 1.0: e:\n");
	put_long_frame(&tx, PERF_MAX_LINE + 1);
	text_puts(&tx, "\n");
	text_puts(&tx, big);
	for (size_t chunk = 0; chunk < 3000; chunk += 1000) {
		struct run r = {0};

		run_chunks(&r, tx.tx_buf, tx.tx_len, 0, chunk, NULL, NULL);
		/* The 8192-byte line is kept; its frame is cut by stacks. */
		assert_stats(&r, 3, 4, 0);
		ck_assert_uint_eq(stacks_proc_at(r.r_t, 2)->sp_pid, 6);
		run_free(&r);
	}
	free(tx.tx_buf);
	free(big);
}
END_TEST

struct deep {
	const struct stack_table *dp_t;
	size_t dp_depth;
};

static int
check_deep(void *arg, const struct stack_proc *proc, const uint32_t *frames,
	   size_t n, uint64_t count)
{
	struct deep *dp = arg;
	size_t want =
	    dp->dp_depth < STACKS_MAX_FRAMES ? dp->dp_depth : STACKS_MAX_FRAMES;
	char name[32];

	(void)proc;
	ck_assert_uint_eq(count, 1);
	ck_assert_uint_eq(n, want);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%zu", dp->dp_depth - 1 - i);
		ck_assert_str_eq(stacks_str(dp->dp_t, frames[i]), name);
	}
	return 0;
}

START_TEST(test_deep_stack)
{
	static const size_t depths[] = {1,    1023, 1024, 1025,
					2000, 2048, 2049, 3000};

	for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
		struct text tx = {0};
		struct run r = {0};
		struct deep dp = {.dp_depth = depths[d]};
		char line[64];

		text_puts(&tx, "deep 1/1 [0] 1.0: e:\n");
		for (size_t k = 0; k < depths[d]; k++) {
			snprintf(line, sizeof(line), "\t%zx f%zu (/x)\n", k, k);
			text_puts(&tx, line);
		}
		run_text(&r, tx.tx_buf, 0);
		assert_stats(&r, 1, 0, depths[d] > STACKS_MAX_FRAMES);
		dp.dp_t = r.r_t;
		stacks_foreach(r.r_t, check_deep, &dp);
		run_free(&r);
		free(tx.tx_buf);
	}
}
END_TEST

static uint32_t
rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

START_TEST(test_garbage)
{
	static const char alpha[] = "\n\n\n\t\t    ()[]/:.-+;#0123456789abcdefx"
				    "[unknown]kernel";
	uint32_t seed = 12345;
	char buf[4096];

	for (int round = 0; round < 300; round++) {
		struct perf_parse_stats st;
		struct stack_table *t = stacks_new(round % 3 ? 0 : 16384);
		struct perf_parser *p;
		size_t len = rng_next(&seed) % sizeof(buf);

		ck_assert_ptr_nonnull(t);
		ck_assert_ptr_nonnull(
		    p = perf_parser_new(t, round & 1, NULL, NULL));
		for (size_t i = 0; i < len; i++) {
			uint32_t v = rng_next(&seed);

			buf[i] = round % 4 == 0
				     ? (char)v
				     : alpha[v % (sizeof(alpha) - 1)];
		}
		if (round % 5 == 0)
			perf_parser_feed(p, two_samples, sizeof(two_samples));
		for (size_t off = 0, n; off < len; off += n) {
			n = 1 + rng_next(&seed) % 300;
			n = n < len - off ? n : len - off;
			ck_assert_int_eq(perf_parser_feed(p, buf + off, n), 0);
		}
		perf_parser_finish(p);
		perf_parser_stats(p, &st);
		ck_assert_uint_eq(stacks_total(t), st.ps_samples);
		perf_parser_free(p);
		stacks_free(t);
	}
}
END_TEST

struct resolve_ctx {
	int rc_calls;
	char rc_comm[32];
};

static int
resolve_drop_sleep(void *arg, struct stack_table *t, uint32_t pid,
		   const char *comm, size_t len)
{
	struct resolve_ctx *rc = arg;

	rc->rc_calls++;
	ck_assert_uint_lt(len, sizeof(rc->rc_comm));
	memcpy(rc->rc_comm, comm, len);
	rc->rc_comm[len] = '\0';
	if (pid == 2702)
		return -1;
	return stacks_proc(t, pid, stacks_intern(t, comm, len),
			   stacks_intern_str(t, "box"), 0);
}

START_TEST(test_resolve)
{
	struct resolve_ctx rc = {0};
	struct run r = {0};

	run_chunks(&r, two_samples, strlen(two_samples), 0, 0,
		   resolve_drop_sleep, &rc);
	ck_assert_int_eq(rc.rc_calls, 2);
	ck_assert_str_eq(rc.rc_comm, "perf");
	ck_assert_str_eq(r.r_dump, "perf 2698 (/usr/bin/perf);read;"
				   "seq_read_iter_[k];s_show_[k] 1\n");
	ck_assert_str_eq(
	    stacks_str(r.r_t, stacks_proc_at(r.r_t, 0)->sp_container), "box");
	assert_stats(&r, 1, 1, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_resolve_once)
{
	struct resolve_ctx rc = {0};
	struct text tx = {0};
	struct run r = {0};

	/* An index is asked for once per pid and comm; a dropped sample's
	 * process is asked for again. */
	for (int i = 0; i < 3; i++)
		text_puts(&tx, two_samples);
	text_puts(&tx, "perf-thr 2698/2700 [001] 118.2: 1 cpu-clock:\n"
		       "\t1 f (/x)\n\n");
	run_chunks(&r, tx.tx_buf, tx.tx_len, 0, 0, resolve_drop_sleep, &rc);
	ck_assert_int_eq(rc.rc_calls, 5);
	ck_assert_str_eq(rc.rc_comm, "perf-thr");
	ck_assert_uint_eq(stacks_nproc(r.r_t), 2);
	assert_stats(&r, 4, 3, 0);
	run_free(&r);
	free(tx.tx_buf);
}
END_TEST

START_TEST(test_table_full)
{
	struct stack_table *t = stacks_new(16384);
	struct perf_parse_stats st;
	struct perf_parser *p;
	char line[128];

	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(p = perf_parser_new(t, 0, NULL, NULL));
	for (int i = 0; i < 500; i++) {
		snprintf(line, sizeof(line),
			 "c%d %d/%d [0] 1.0: e:\n\t1 f%d (/x)\n\t2 g (/x)\n\n",
			 i, i, i, i);
		ck_assert_int_eq(perf_parser_feed(p, line, strlen(line)), 0);
	}
	perf_parser_finish(p);
	perf_parser_stats(p, &st);
	ck_assert_uint_eq(st.ps_samples + st.ps_skipped, 500);
	ck_assert_uint_gt(st.ps_samples, 0);
	ck_assert_uint_gt(st.ps_skipped, 0);
	ck_assert_uint_eq(stacks_total(t), st.ps_samples);
	perf_parser_free(p);
	stacks_free(t);
}
END_TEST

/* Names a JIT frame after the pid of its sample. */
static const char *
jit_by_pid(void *arg, uint32_t pid, uint64_t addr, const char *dso, size_t dlen,
	   size_t *len)
{
	static char name[32];

	(void)arg;
	(void)dso;
	(void)dlen;
	ck_assert_uint_eq(addr, 0x7f0012);
	*len = (size_t)snprintf(name, sizeof(name), "jit_of_%u", (unsigned)pid);
	return name;
}

static int
jit_dso(const char *dso, size_t n)
{
	return n > 10 && memcmp(dso, "/tmp/perf-", 10) == 0;
}

START_TEST(test_jit_line_per_pid)
{
	static const char text[] = "a 1/1 [0] 1.0: e:\n"
				   "\t7f0012 [unknown] (/tmp/perf-1.map)\n"
				   "\n"
				   "b 2/2 [0] 1.1: e:\n"
				   "\t7f0012 [unknown] (/tmp/perf-1.map)\n"
				   "\n"
				   "a 1/1 [0] 1.2: e:\n"
				   "\t7f0012 [unknown] (/tmp/perf-1.map)\n"
				   "\n";
	struct stack_table *t = stacks_new(0);
	struct perf_parser *p;
	char *dump;

	/* The same frame line may name another frame in another process:
	 * the JIT callback is asked each time, never the cache of lines. */
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(p = perf_parser_new(t, 0, NULL, NULL));
	perf_parser_set_jit(p, jit_by_pid, jit_dso, NULL);
	ck_assert_int_eq(perf_parser_feed(p, text, strlen(text)), 0);
	ck_assert_int_eq(perf_parser_finish(p), 0);
	dump = dump_table(t);
	ck_assert_str_eq(dump, "a 1 jit_of_1 2\nb 2 jit_of_2 1\n");
	free(dump);
	perf_parser_free(p);
	stacks_free(t);
}
END_TEST

/* Longer than any cache key of the parser. */
#define LONG_SUFFIX                                                            \
	"_with_a_name_long_enough_to_pass_the_cache_key_limit_of_the_parser"

/* Appends a sample of pid 7 with frames fI, gI (long names for every
 * seventh I) and a root that differs from the others in its last bytes. */
static void
put_sample(struct text *tx, int i)
{
	const char *x = i % 7 == 0 ? LONG_SUFFIX : "";
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "c 7/7 [0] 1.0: e:\n\t%x f%d%s+0x1 (/x)\n\t%x g%d%s+0x2 (/x)\n"
		 "\t0 [unknown] (/usr/lib/some/dir/lib%d.so)\n\n",
		 i, i, x, i + 1, i, x, i);
	text_puts(tx, buf);
}

START_TEST(test_many_frame_lines)
{
	enum { LINES = 5000 };
	struct text tx = {0}, want = {0};
	struct run r = {0};
	char buf[512];

	/* More distinct lines than any cache holds, each seen three times,
	 * once in reverse order: every one keeps its own name. */
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < LINES; i++)
			put_sample(&tx, k == 1 ? LINES - 1 - i : i);
	run_text(&r, tx.tx_buf, 0);
	assert_stats(&r, 3 * LINES, 0, 0);
	text_put(&want, "", 0);
	for (int i = 0; i < LINES; i++) {
		const char *x = i % 7 == 0 ? LONG_SUFFIX : "";

		snprintf(buf, sizeof(buf),
			 "c 7 (/usr/lib/some/dir/lib%d.so);g%d%s;f%d%s 3\n", i,
			 i, x, i, x);
		text_puts(&want, buf);
	}
	/* Not ck_assert_str_eq: Check cannot print 400 kB. */
	ck_assert_msg(strcmp(r.r_dump, want.tx_buf) == 0,
		      "the stacks differ from the lines parsed");
	run_free(&r);
	free(tx.tx_buf);
	free(want.tx_buf);
}
END_TEST

/* Counts blank-line separated blocks that have a frame line. */
static uint64_t
count_stacks(const char *s, size_t len)
{
	uint64_t n = 0;
	int frames = 0;

	for (size_t i = 0; i < len;) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - s) : len;

		if (end == i) {
			n += frames;
			frames = 0;
		} else if (s[i] == '\t') {
			frames = 1;
		}
		i = end + 1;
	}
	return n + frames;
}

START_TEST(test_fixture)
{
	struct run r = {0};
	size_t len;
	char *text = read_fixture(&len);
	uint64_t want = count_stacks(text, len);

	run_chunks(&r, text, len, 0, 0, NULL, NULL);
	ck_assert_uint_gt(r.r_st.ps_samples, 0);
	ck_assert_uint_eq(r.r_st.ps_skipped, 0);
	ck_assert_uint_eq(r.r_st.ps_samples, want);
	ck_assert_uint_eq(stacks_total(r.r_t), want);
	ck_assert_ptr_nonnull(strstr(r.r_dump, "swapper 0 "));
	ck_assert_ptr_null(strstr(r.r_dump, "+0x"));
	run_free(&r);
	free(text);
}
END_TEST

static Suite *
perf_script_suite(void)
{
	Suite *s = suite_create("perf_script");
	TCase *tc = tcase_create("parse");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_real_samples);
	tcase_add_test(tc, test_counts_merge);
	tcase_add_test(tc, test_comm_spaces);
	tcase_add_test(tc, test_missing_cpu);
	tcase_add_test(tc, test_operator_plus);
	tcase_add_test(tc, test_cpp_symbols);
	tcase_add_test(tc, test_insert_dso_name);
	tcase_add_test(tc, test_kernel_frames);
	tcase_add_test(tc, test_semicolons);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_comments_and_empty);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_chunking);
	tcase_add_test(tc, test_overlong_line);
	tcase_add_test(tc, test_deep_stack);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_resolve);
	tcase_add_test(tc, test_resolve_once);
	tcase_add_test(tc, test_table_full);
	tcase_add_test(tc, test_fixture);
	tcase_add_test(tc, test_jit_line_per_pid);
	tcase_add_test(tc, test_many_frame_lines);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(perf_script_suite())
