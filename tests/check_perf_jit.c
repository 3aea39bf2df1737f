/* JIT symbols: perf maps read through /proc/PID/root, safely and bounded. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "perf_jit.h"
#include "perf_script.h"

static char map_path[64];
static char dso[64];

static void
map_setup(void)
{
	snprintf(map_path, sizeof(map_path), "/tmp/perf-%d.map", (int)getpid());
	snprintf(dso, sizeof(dso), "%s", map_path);
	unlink(map_path);
}

static void
map_teardown(void)
{
	unlink(map_path);
}

static void
map_write(const char *text)
{
	FILE *f = fopen(map_path, "we");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

struct out {
	struct stack_table *o_t;
	char o_buf[16384];
};

static int
out_stack(void *arg, const struct stack_proc *p, const uint32_t *frames,
	  size_t n, uint64_t count)
{
	struct out *o = arg;
	size_t len = strlen(o->o_buf);

	(void)p;
	(void)count;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(o->o_buf + len, sizeof(o->o_buf) - len,
					"%s%s", i ? ";" : "",
					stacks_str(o->o_t, frames[i]));
	return 0;
}

/* Parses one sample of this process whose frames (leaf first) are at the
 * given addresses in memory perf calls d; returns the stack, root first. */
static const char *
parse(const char *d, const unsigned long long *addrs, size_t n)
{
	static struct out o;
	char text[8192];
	size_t off;
	struct perf_jit *j = perf_jit_new();
	struct perf_parser *p;

	ck_assert_ptr_nonnull(o.o_t = stacks_new(0));
	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_nonnull(p = perf_parser_new(o.o_t, 0, NULL, NULL));
	perf_parser_set_jit(p, perf_jit_lookup, perf_jit_dso, j);
	off = (size_t)snprintf(text, sizeof(text),
			       "node %d/%d [0] 1.0: 1 cpu-clock:\n",
			       (int)getpid(), (int)getpid());
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"\t%llx [unknown] (%s)\n", addrs[i], d);
	snprintf(text + off, sizeof(text) - off, "\n");
	ck_assert_int_eq(perf_parser_feed(p, text, strlen(text)), 0);
	ck_assert_int_eq(perf_parser_finish(p), 0);
	o.o_buf[0] = '\0';
	stacks_foreach(o.o_t, out_stack, &o);
	perf_parser_free(p);
	perf_jit_free(j);
	stacks_free(o.o_t);
	return o.o_buf;
}

/* "(dso)": how a frame perf and the map could not name is written. */
static const char *
unnamed(void)
{
	static char buf[80];

	snprintf(buf, sizeof(buf), "(%s)", dso);
	return buf;
}

START_TEST(test_names_in_range)
{
	char want[512];

	map_write("1000 100 JS:*hot /app/x.js:1\n"
		  "2000 20 LazyCompile:~main /app/x.js:9\n");
	/* Leaf first in perf's output, root first in ours; a symbol's end
	 * is exclusive, and what no symbol holds stays (dso). */
	snprintf(want, sizeof(want),
		 "%s;%s;LazyCompile:~main /app/x.js:9;JS:*hot /app/x.js:1",
		 unnamed(), unnamed());
	ck_assert_str_eq(
	    parse(dso,
		  (const unsigned long long[]){0x10ff, 0x2010, 0x1100, 0x50},
		  4),
	    want);
}
END_TEST

START_TEST(test_later_line_wins)
{
	/* The JVM's format, 0x-prefixed; JIT code reuses addresses. */
	map_write("0x0000000000003000 0x0000000000000010 old\n"
		  "0x3000 0x10 new\n");
	ck_assert_str_eq(parse(dso, (const unsigned long long[]){0x3005}, 1),
			 "new");
}
END_TEST

START_TEST(test_anon_dso)
{
	map_write("4000 10 Interpreter\n");
	ck_assert_str_eq(
	    parse("//anon", (const unsigned long long[]){0x4000}, 1),
	    "Interpreter");
	/* A library's unknown address is never looked up in the map. */
	ck_assert_str_eq(
	    parse("/usr/lib/libx.so", (const unsigned long long[]){0x4000}, 1),
	    "(/usr/lib/libx.so)");
}
END_TEST

START_TEST(test_symlink_not_followed)
{
	char target[64];
	FILE *f;

	snprintf(target, sizeof(target), "/tmp/perf-jit-target-%d",
		 (int)getpid());
	f = fopen(target, "we");
	ck_assert_ptr_nonnull(f);
	fputs("1000 100 secret\n", f);
	fclose(f);
	ck_assert_int_eq(symlink(target, map_path), 0);
	ck_assert_str_eq(parse(dso, (const unsigned long long[]){0x1000}, 1),
			 unnamed());
	unlink(target);
}
END_TEST

START_TEST(test_fifo_not_read)
{
	ck_assert_int_eq(mkfifo(map_path, 0600), 0);
	ck_assert_str_eq(parse(dso, (const unsigned long long[]){0x1000}, 1),
			 unnamed());
}
END_TEST

START_TEST(test_garbage_lines)
{
	map_write("zz 10 a\n1000\n1000 zz b\n\n1000 10 \n"
		  "99999999999999999999 10 big\n5000 ffffffffff huge\n"
		  "\x01\x02\xff\n4000 10 ok\n");
	ck_assert_str_eq(parse(dso, (const unsigned long long[]){0x4001}, 1),
			 "ok");
	ck_assert_str_eq(parse(dso, (const unsigned long long[]){0x1000}, 1),
			 unnamed());
	ck_assert_str_eq(parse(dso, (const unsigned long long[]){0x5000}, 1),
			 unnamed());
}
END_TEST

START_TEST(test_long_name_cut)
{
	char *text = malloc(4000);

	ck_assert_ptr_nonnull(text);
	strcpy(text, "1000 10 ");
	memset(text + 8, 'n', 3000);
	strcpy(text + 3008, "\n");
	map_write(text);
	ck_assert_uint_eq(
	    strlen(parse(dso, (const unsigned long long[]){0x1000}, 1)),
	    PERF_JIT_MAX_NAME);
	free(text);
}
END_TEST

START_TEST(test_big_map_tail)
{
	FILE *f = fopen(map_path, "we");
	char line[128];

	ck_assert_ptr_nonnull(f);
	fputs("1000 10 head\n", f);
	memset(line, 'f', sizeof(line));
	/* More than PERF_JIT_MAX_FILE: only the newest part is read. */
	for (unsigned i = 0; i < (PERF_JIT_MAX_FILE / 100) + 1000; i++)
		fprintf(f, "%x 1 %.*s\n", 0x100000 + i, 90, line);
	fputs("9000 10 tail\n", f);
	fclose(f);
	ck_assert_str_eq(parse(dso, (const unsigned long long[]){0x9000}, 1),
			 "tail");
	ck_assert_str_eq(parse(dso, (const unsigned long long[]){0x1000}, 1),
			 unnamed());
}
END_TEST

START_TEST(test_no_map)
{
	ck_assert_str_eq(parse(dso, (const unsigned long long[]){0x1000}, 1),
			 unnamed());
	ck_assert(perf_jit_dso("/tmp/perf-12.map", 16));
	ck_assert(!perf_jit_dso("/tmp/perf-.map", 14));
	ck_assert(!perf_jit_dso("/tmp/perf-12x.map", 17));
	ck_assert(!perf_jit_dso("/usr/bin/node", 13));
}
END_TEST

/* A map given as text (what fuzz_perf_jit feeds): parsed as the file is,
 * its first line dropped when it is a tail, loaded once per pid. */
START_TEST(test_load_text)
{
	static const char text[] = "6000 10 cut\n5000 10 a\n5000 10 b\nzz\n";
	struct perf_jit *j = perf_jit_new();
	const char *name;
	size_t len = 0;

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(perf_jit_load_text(j, 7, text, strlen(text), 1), 0);
	ck_assert_int_eq(perf_jit_load_text(j, 7, text, strlen(text), 0), -1);
	name = perf_jit_lookup(j, 7, 0x5008, "", 0, &len);
	ck_assert_ptr_nonnull(name);
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(name[0], 'b');
	ck_assert_ptr_null(perf_jit_lookup(j, 7, 0x5010, "", 0, &len));
	ck_assert_ptr_null(perf_jit_lookup(j, 7, 0x6000, "", 0, &len));
	ck_assert_int_eq(perf_jit_load_text(j, 8, text, 0, 0), 0);
	ck_assert_ptr_null(perf_jit_lookup(j, 8, 0x5000, "", 0, &len));
	perf_jit_free(j);
}
END_TEST

static Suite *
perf_jit_suite(void)
{
	Suite *s = suite_create("perf_jit");
	TCase *tc = tcase_create("maps");

	tcase_add_checked_fixture(tc, map_setup, map_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_names_in_range);
	tcase_add_test(tc, test_later_line_wins);
	tcase_add_test(tc, test_anon_dso);
	tcase_add_test(tc, test_symlink_not_followed);
	tcase_add_test(tc, test_fifo_not_read);
	tcase_add_test(tc, test_garbage_lines);
	tcase_add_test(tc, test_long_name_cut);
	tcase_add_test(tc, test_big_map_tail);
	tcase_add_test(tc, test_no_map);
	tcase_add_test(tc, test_load_text);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(perf_jit_suite())
