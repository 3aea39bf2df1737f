/* Collapsed stacks: exact writer output, reader round trip, bad lines. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "collapsed.h"
#include "stacks.h"

#define BIG_LINE     (1u << 20) /* bytes */
#define SMALL_BUDGET (64u << 10)

static struct stack_table *
table_new(size_t budget)
{
	struct stack_table *t = stacks_new(budget);

	ck_assert_ptr_nonnull(t);
	return t;
}

static uint32_t
id_of(struct stack_table *t, const char *s)
{
	uint32_t id = stacks_intern_str(t, s);

	ck_assert_uint_ne(id, STACKS_NONE);
	return id;
}

static int
proc_of(struct stack_table *t, uint32_t pid, const char *comm,
	const char *container, const char *app_id)
{
	int p = stacks_proc(t, pid, id_of(t, comm), id_of(t, container),
			    id_of(t, app_id));

	ck_assert_int_ge(p, 0);
	return p;
}

/* Adds the stack names[0..n) to process p. */
static void
add(struct stack_table *t, int p, const char *const *names, size_t n,
    uint64_t count)
{
	uint32_t ids[8];

	ck_assert_uint_le(n, 8);
	for (size_t i = 0; i < n; i++)
		ids[i] = id_of(t, names[i]);
	ck_assert_int_eq(stacks_add(t, p, ids, n, count), 0);
}

/* Returns what collapsed_write makes of t, NUL-terminated. */
static char *
write_str(const struct stack_table *t, enum collapsed_fmt fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(collapsed_write(f, t, fmt), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_eq(strlen(buf), len);
	return buf;
}

/* Reads data[0..len) into t; returns the stats. */
static struct collapsed_stats
read_buf(struct stack_table *t, const char *data, size_t len,
	 enum collapsed_fmt fmt)
{
	struct collapsed_stats st = {0, 0};
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	rewind(f);
	ck_assert_int_eq(collapsed_read(f, t, fmt, &st), 0);
	ck_assert_int_eq(fclose(f), 0);
	return st;
}

static struct collapsed_stats
read_str(struct stack_table *t, const char *s, enum collapsed_fmt fmt)
{
	return read_buf(t, s, strlen(s), fmt);
}

/* Two processes: one plain, one with a container and an app id. */
static struct stack_table *
sample_table(void)
{
	static const char *const s1[] = {"main", "f1", "f2"};
	static const char *const s2[] = {"main", "f1"};
	static const char *const s3[] = {"run"};
	struct stack_table *t = table_new(0);
	int a = proc_of(t, 0, "bash", "", "");
	int b = proc_of(t, 0, "py", "ctr", "svc");

	add(t, a, s1, 3, 3);
	add(t, b, s3, 1, 1);
	add(t, a, s2, 2, 7);
	return t;
}

START_TEST(test_write_plain)
{
	struct stack_table *t = sample_table();
	char *out = write_str(t, COLLAPSED_PLAIN);

	ck_assert_str_eq(out, "bash;main;f1;f2 3\n"
			      "bash;main;f1 7\n"
			      "py;run 1\n");
	free(out);
	stacks_free(t);
}
END_TEST

START_TEST(test_write_gprofiler)
{
	struct stack_table *t = sample_table();
	char *out = write_str(t, COLLAPSED_GPROFILER);

	ck_assert_str_eq(out, "0;;bash;main;f1;f2 3\n"
			      "0;;bash;main;f1 7\n"
			      "0;ctr;py;appid: svc;run 1\n");
	free(out);
	stacks_free(t);
}
END_TEST

START_TEST(test_write_empty)
{
	struct stack_table *t = table_new(0);
	char *out = write_str(t, COLLAPSED_GPROFILER);

	ck_assert_str_eq(out, "");
	free(out);
	stacks_free(t);
}
END_TEST

START_TEST(test_write_sanitizes)
{
	static const char *const s[] = {"a;b", "x\ny\tz\r", "\x7f\xc3\xa9 ok"};
	struct stack_table *t = table_new(0);
	int p = proc_of(t, 0, "c;d", "k;\n", "");
	char *out;

	add(t, p, s, 3, 12);
	out = write_str(t, COLLAPSED_PLAIN);
	ck_assert_str_eq(out, "c_d;a_b;x_y_z_;\x7f\xc3\xa9 ok 12\n");
	free(out);
	out = write_str(t, COLLAPSED_GPROFILER);
	ck_assert_str_eq(out, "0;k__;c_d;a_b;x_y_z_;\x7f\xc3\xa9 ok 12\n");
	free(out);
	stacks_free(t);
}
END_TEST

START_TEST(test_put_frame)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(collapsed_put_frame(f, "a\0b;;c\x1f", 7), 0);
	ck_assert_int_eq(collapsed_put_frame(f, "", 0), 0);
	ck_assert_int_eq(collapsed_put_frame(f, ";", 1), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_uint_eq(len, 8);
	ck_assert_str_eq(buf, "a_b__c__");
	free(buf);
}
END_TEST

START_TEST(test_write_error)
{
	struct stack_table *t = sample_table();
	FILE *f = fopen("/dev/full", "we");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(collapsed_write(f, t, COLLAPSED_PLAIN), -1);
	fclose(f);
	stacks_free(t);
}
END_TEST

/* Writes t, reads it back, and checks the copy writes the same bytes. */
static void
assert_round_trip(const struct stack_table *t, enum collapsed_fmt fmt)
{
	struct stack_table *u = table_new(0);
	char *out = write_str(t, fmt), *again;
	struct collapsed_stats st = read_str(u, out, fmt);

	ck_assert_uint_eq(st.cs_lines, stacks_count(t));
	ck_assert_uint_eq(st.cs_skipped, 0);
	ck_assert_uint_eq(stacks_count(u), stacks_count(t));
	ck_assert_uint_eq(stacks_total(u), stacks_total(t));
	ck_assert_uint_eq(stacks_nproc(u), stacks_nproc(t));
	again = write_str(u, fmt);
	ck_assert_str_eq(again, out);
	free(again);
	free(out);
	stacks_free(u);
}

START_TEST(test_round_trip_plain)
{
	struct stack_table *t = sample_table();

	assert_round_trip(t, COLLAPSED_PLAIN);
	stacks_free(t);
}
END_TEST

START_TEST(test_round_trip_gprofiler)
{
	struct stack_table *t = sample_table();

	assert_round_trip(t, COLLAPSED_GPROFILER);
	stacks_free(t);
}
END_TEST

START_TEST(test_round_trip_many)
{
	struct stack_table *t = table_new(0);
	char a[32], b[32];
	int p = proc_of(t, 0, "java", "pod-1", "");
	int q = proc_of(t, 0, "java", "pod-2", "shop");

	for (int i = 0; i < 2000; i++) {
		const char *s[3] = {"root", a, b};

		snprintf(a, sizeof(a), "mid %d", i % 37);
		snprintf(b, sizeof(b), "leaf(%d)", i);
		add(t, i % 3 ? p : q, s, 3, (uint64_t)i + 1);
	}
	assert_round_trip(t, COLLAPSED_GPROFILER);
	stacks_free(t);
}
END_TEST

/* Parses one line and expects it rejected, leaving t untouched. */
static void
assert_bad(struct stack_table *t, const char *line, enum collapsed_fmt fmt)
{
	size_t count = stacks_count(t);

	errno = 0;
	ck_assert_msg(collapsed_parse_line(t, line, strlen(line), fmt) == -1,
		      "accepted \"%s\"", line);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(stacks_count(t), count);
}

START_TEST(test_parse_bad_lines)
{
	struct stack_table *t = table_new(0);

	assert_bad(t, "a;b", COLLAPSED_PLAIN);
	assert_bad(t, "a;b 0", COLLAPSED_PLAIN);
	assert_bad(t, "a;b 00", COLLAPSED_PLAIN);
	assert_bad(t, "a;b 12a", COLLAPSED_PLAIN);
	assert_bad(t, "a;b a12", COLLAPSED_PLAIN);
	assert_bad(t, "a;b 1.5", COLLAPSED_PLAIN);
	assert_bad(t, "a;b -1", COLLAPSED_PLAIN);
	assert_bad(t, "a;b +1", COLLAPSED_PLAIN);
	assert_bad(t, "a;b 1000000000000001", COLLAPSED_PLAIN);
	assert_bad(t, "a;b 99999999999999999999999999", COLLAPSED_PLAIN);
	assert_bad(t, "a 5", COLLAPSED_PLAIN);
	assert_bad(t, "5", COLLAPSED_PLAIN);
	assert_bad(t, " 5", COLLAPSED_PLAIN);
	assert_bad(t, "a;b\t5", COLLAPSED_PLAIN);
	ck_assert_uint_eq(stacks_total(t), 0);
	stacks_free(t);
}
END_TEST

/* Parses one line and expects it added with count. */
static void
assert_good(struct stack_table *t, const char *line, enum collapsed_fmt fmt,
	    uint64_t count)
{
	uint64_t total = stacks_total(t);

	ck_assert_msg(collapsed_parse_line(t, line, strlen(line), fmt) == 0,
		      "rejected \"%s\"", line);
	ck_assert_uint_eq(stacks_total(t), total + count);
}

START_TEST(test_parse_good_lines)
{
	struct stack_table *t = table_new(0);

	assert_good(t, "a;b 5", COLLAPSED_PLAIN, 5);
	assert_good(t, "a;b 5\r", COLLAPSED_PLAIN, 5);
	assert_good(t, "a;b 5  ", COLLAPSED_PLAIN, 5);
	assert_good(t, "a;b 007", COLLAPSED_PLAIN, 7);
	ck_assert_uint_eq(stacks_count(t), 1);
	assert_good(t, "a;foo bar;baz 2", COLLAPSED_PLAIN, 2);
	ck_assert_uint_eq(stacks_count(t), 2);
	ck_assert_uint_eq(stacks_intern_str(t, "foo bar"), 3);
	ck_assert_uint_eq(stacks_nstr(t), 5);
	ck_assert_uint_eq(stacks_nproc(t), 1);
	stacks_free(t);
	t = table_new(0);
	assert_good(t, "a;b 1000000000000000", COLLAPSED_PLAIN,
		    COLLAPSED_MAX_COUNT);
	stacks_free(t);
}
END_TEST

/* Found by fuzz_collapsed: two lines of the largest count added up to a
 * stack whose written line could not be read back. */
START_TEST(test_parse_total_bound)
{
	struct stack_table *t = table_new(0);
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	assert_good(t, "a;b 999999999999990", COLLAPSED_PLAIN,
		    COLLAPSED_MAX_COUNT - 10);
	assert_good(t, "a;b 10", COLLAPSED_PLAIN, 10);
	errno = 0;
	ck_assert_int_eq(collapsed_parse_line(t, "a;b 1", 5, COLLAPSED_PLAIN),
			 -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(collapsed_parse_line(t, "a;c 1", 5, COLLAPSED_PLAIN),
			 -1);
	ck_assert_uint_eq(stacks_total(t), COLLAPSED_MAX_COUNT);
	ck_assert_ptr_nonnull(f = open_memstream(&out, &outlen));
	ck_assert_int_eq(collapsed_write(f, t, COLLAPSED_PLAIN), 0);
	fclose(f);
	ck_assert_str_eq(out, "a;b 1000000000000000\n");
	stacks_free(t);
	t = table_new(0);
	ck_assert_int_eq(
	    collapsed_parse_line(t, out, outlen - 1, COLLAPSED_PLAIN), 0);
	ck_assert_uint_eq(stacks_total(t), COLLAPSED_MAX_COUNT);
	stacks_free(t);
	free(out);
}
END_TEST

START_TEST(test_parse_blank_and_comments)
{
	struct stack_table *t = table_new(0);

	ck_assert_int_eq(collapsed_parse_line(t, "", 0, COLLAPSED_PLAIN), 1);
	ck_assert_int_eq(collapsed_parse_line(t, "   ", 3, COLLAPSED_PLAIN), 1);
	ck_assert_int_eq(collapsed_parse_line(t, "\r", 1, COLLAPSED_PLAIN), 1);
	ck_assert_int_eq(collapsed_parse_line(t, "# a;b 5", 7, COLLAPSED_PLAIN),
			 1);
	ck_assert_int_eq(collapsed_parse_line(t, "#", 1, COLLAPSED_GPROFILER),
			 1);
	ck_assert_uint_eq(stacks_count(t), 0);
	stacks_free(t);
}
END_TEST

START_TEST(test_parse_gprofiler)
{
	struct stack_table *t = table_new(0);
	struct stack_proc *p;

	assert_good(t, "0;ctr;comm;appid: x;f;g 4", COLLAPSED_GPROFILER, 4);
	assert_good(t, "123456789;ctr;comm;appid: x;f;g 1", COLLAPSED_GPROFILER,
		    1);
	assert_good(t, "0;;comm;f 2", COLLAPSED_GPROFILER, 2);
	ck_assert_uint_eq(stacks_nproc(t), 2);
	ck_assert_uint_eq(stacks_count(t), 2);
	p = stacks_proc_at(t, 0);
	ck_assert_str_eq(stacks_str(t, p->sp_container), "ctr");
	ck_assert_str_eq(stacks_str(t, p->sp_comm), "comm");
	ck_assert_str_eq(stacks_str(t, p->sp_app_id), "x");
	ck_assert_uint_eq(p->sp_samples, 5);
	p = stacks_proc_at(t, 1);
	ck_assert_uint_eq(p->sp_container, 0);
	ck_assert_uint_eq(p->sp_app_id, 0);
	stacks_free(t);
}
END_TEST

START_TEST(test_parse_gprofiler_bad)
{
	struct stack_table *t = table_new(0);

	assert_bad(t, "x;ctr;comm;f 1", COLLAPSED_GPROFILER);
	assert_bad(t, ";ctr;comm;f 1", COLLAPSED_GPROFILER);
	assert_bad(t, "-1;ctr;comm;f 1", COLLAPSED_GPROFILER);
	assert_bad(t, "1x;ctr;comm;f 1", COLLAPSED_GPROFILER);
	assert_bad(t, "1234567890;ctr;comm;f 1", COLLAPSED_GPROFILER);
	assert_bad(t, "0;ctr;comm 1", COLLAPSED_GPROFILER);
	assert_bad(t, "0;ctr 1", COLLAPSED_GPROFILER);
	assert_bad(t, "0 1", COLLAPSED_GPROFILER);
	assert_bad(t, "0;ctr;comm;appid: x 1", COLLAPSED_GPROFILER);
	assert_bad(t, "0;ctr;comm;f", COLLAPSED_GPROFILER);
	ck_assert_uint_eq(stacks_nproc(t), 0);
	stacks_free(t);
}
END_TEST

/* A gProfiler file without application metadata: container;comm;frames. */
START_TEST(test_parse_gprofiler_noidx)
{
	struct stack_table *t = table_new(0);
	struct stack_proc *p;
	char *out;

	assert_good(t, "ctr;comm;appid: x;f;g 4", COLLAPSED_GPROFILER_NOIDX, 4);
	assert_good(t, ";comm;f 2", COLLAPSED_GPROFILER_NOIDX, 2);
	assert_bad(t, "ctr;comm 1", COLLAPSED_GPROFILER_NOIDX);
	assert_bad(t, "ctr 1", COLLAPSED_GPROFILER_NOIDX);
	ck_assert_uint_eq(stacks_nproc(t), 2);
	p = stacks_proc_at(t, 0);
	ck_assert_str_eq(stacks_str(t, p->sp_container), "ctr");
	ck_assert_str_eq(stacks_str(t, p->sp_comm), "comm");
	ck_assert_str_eq(stacks_str(t, p->sp_app_id), "x");
	out = write_str(t, COLLAPSED_GPROFILER);
	ck_assert_str_eq(out, "0;ctr;comm;appid: x;f;g 4\n0;;comm;f 2\n");
	free(out);
	out = write_str(t, COLLAPSED_GPROFILER_NOIDX);
	ck_assert_str_eq(out, "ctr;comm;appid: x;f;g 4\n;comm;f 2\n");
	free(out);
	stacks_free(t);
}
END_TEST

/* The header says which: the index exactly when the flag is true. */
START_TEST(test_header_fmt)
{
	ck_assert_int_eq(
	    collapsed_header_fmt("# {\"application_metadata_enabled\": true}"),
	    COLLAPSED_GPROFILER);
	ck_assert_int_eq(
	    collapsed_header_fmt("# {\"application_metadata_enabled\":true}"),
	    COLLAPSED_GPROFILER);
	ck_assert_int_eq(
	    collapsed_header_fmt("# {\"application_metadata_enabled\": false}"),
	    COLLAPSED_GPROFILER_NOIDX);
	ck_assert_int_eq(collapsed_header_fmt("# {\"metadata\": {}}"),
			 COLLAPSED_GPROFILER_NOIDX);
}
END_TEST

START_TEST(test_parse_too_many_frames)
{
	struct stack_table *t = table_new(0);
	size_t len = 5 + 2 * (STACKS_MAX_FRAMES + 1) + 2;
	char *line = malloc(len + 1), *p = line;

	ck_assert_ptr_nonnull(line);
	p += sprintf(p, "comm");
	for (size_t i = 0; i < STACKS_MAX_FRAMES; i++)
		p += sprintf(p, ";f");
	strcpy(p, " 1");
	assert_good(t, line, COLLAPSED_PLAIN, 1);
	strcpy(p, ";f 1");
	assert_bad(t, line, COLLAPSED_PLAIN);
	free(line);
	stacks_free(t);
}
END_TEST

START_TEST(test_read_mixed)
{
	static const char in[] = "# comment\n"
				 "\n"
				 "a;b 5\r\n"
				 "a;b\n"
				 "a;b 0\n"
				 "a;b 3x\n"
				 "5\n"
				 "a 5\n"
				 "   \r\n"
				 "a;c 1000000000000001\n"
				 "a;c 2\n"
				 "a;b 1";
	struct stack_table *t = table_new(0);
	struct collapsed_stats st = read_str(t, in, COLLAPSED_PLAIN);

	ck_assert_uint_eq(st.cs_lines, 3);
	ck_assert_uint_eq(st.cs_skipped, 6);
	ck_assert_uint_eq(stacks_total(t), 8);
	ck_assert_uint_eq(stacks_count(t), 2);
	stacks_free(t);
}
END_TEST

START_TEST(test_read_stats_accumulate)
{
	struct stack_table *t = table_new(0);
	struct collapsed_stats st = {10, 20};
	FILE *f = fmemopen((void *)"a;b 1\nbad\n", 10, "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(collapsed_read(f, t, COLLAPSED_PLAIN, &st), 0);
	fclose(f);
	ck_assert_uint_eq(st.cs_lines, 11);
	ck_assert_uint_eq(st.cs_skipped, 21);
	stacks_free(t);
}
END_TEST

/* Returns "a;xxx...x 1\n" of exactly len bytes before the newline. */
static char *
long_line(size_t len)
{
	char *s = malloc(len + 2);

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_ge(len, 5);
	memset(s, 'x', len);
	memcpy(s, "a;", 2);
	memcpy(s + len - 2, " 1\n", 4);
	return s;
}

START_TEST(test_read_huge_line)
{
	struct stack_table *t = table_new(0);
	char *big = long_line(BIG_LINE);
	char *in = malloc(2 * BIG_LINE + 32);
	struct collapsed_stats st;

	ck_assert_ptr_nonnull(in);
	strcpy(in, "c;d 2\n");
	strcat(in, big);
	strcat(in, "c;e 4\n");
	strcat(in, big);
	in[strlen(in) - 1] = '\0'; /* the last line has no newline */
	st = read_str(t, in, COLLAPSED_PLAIN);
	ck_assert_uint_eq(st.cs_lines, 2);
	ck_assert_uint_eq(st.cs_skipped, 2);
	ck_assert_uint_eq(stacks_total(t), 6);
	free(in);
	free(big);
	stacks_free(t);
}
END_TEST

START_TEST(test_read_line_limit)
{
	struct stack_table *t = table_new(0);
	char *ok = long_line(COLLAPSED_MAX_LINE);
	char *over = long_line(COLLAPSED_MAX_LINE + 1);
	struct collapsed_stats st;

	st = read_str(t, ok, COLLAPSED_PLAIN);
	ck_assert_uint_eq(st.cs_lines, 1);
	ck_assert_uint_eq(st.cs_skipped, 0);
	st = read_str(t, over, COLLAPSED_PLAIN);
	ck_assert_uint_eq(st.cs_lines, 0);
	ck_assert_uint_eq(st.cs_skipped, 1);
	errno = 0;
	ck_assert_int_eq(collapsed_parse_line(t, over, COLLAPSED_MAX_LINE + 1,
					      COLLAPSED_PLAIN),
			 -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(stacks_total(t), 1);
	free(ok);
	free(over);
	stacks_free(t);
}
END_TEST

START_TEST(test_read_nul_bytes)
{
	static const char in[] = "a;b 4\n"
				 "a;b\0c 3\n";
	static const char last[] = "a;c 1\n"
				   "a;b\0";
	struct stack_table *t = table_new(0);
	struct collapsed_stats st;

	st = read_buf(t, in, sizeof(in) - 1, COLLAPSED_PLAIN);
	ck_assert_uint_eq(st.cs_lines, 1);
	ck_assert_uint_eq(st.cs_skipped, 1);
	st = read_buf(t, last, sizeof(last) - 1, COLLAPSED_PLAIN);
	ck_assert_uint_eq(st.cs_lines, 1);
	ck_assert_uint_eq(st.cs_skipped, 1);
	ck_assert_uint_eq(stacks_total(t), 5);
	ck_assert_uint_eq(stacks_count(t), 2);
	stacks_free(t);
}
END_TEST

/* A NUL inside a line costs that line only, never the next one. */
START_TEST(test_read_nul_mid_file)
{
	static const char in[] = "a;b\0c 3\nd;e 4\nf;g 5\n";
	struct stack_table *t = table_new(0);
	struct collapsed_stats st;

	st = read_buf(t, in, sizeof(in) - 1, COLLAPSED_PLAIN);
	ck_assert_uint_eq(st.cs_lines, 2);
	ck_assert_uint_eq(st.cs_skipped, 1);
	ck_assert_uint_eq(stacks_total(t), 9);
	stacks_free(t);
}
END_TEST

START_TEST(test_parse_nul_bytes)
{
	struct stack_table *t = table_new(0);
	uint32_t id;

	ck_assert_int_eq(
	    collapsed_parse_line(t, "a;b\0c 3", 7, COLLAPSED_PLAIN), 0);
	id = stacks_intern(t, "b\0c", 3);
	ck_assert_uint_eq(id, 2);
	ck_assert_uint_eq(stacks_nstr(t), 3);
	stacks_free(t);
}
END_TEST

START_TEST(test_read_error)
{
	struct stack_table *t = table_new(0);
	struct collapsed_stats st = {0, 0};
	FILE *f = fopen("/dev/null", "we");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(collapsed_read(f, t, COLLAPSED_PLAIN, &st), -1);
	fclose(f);
	stacks_free(t);
}
END_TEST

START_TEST(test_read_budget)
{
	struct stack_table *t = table_new(SMALL_BUDGET);
	struct collapsed_stats st;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 20000; i++)
		fprintf(f, "comm;frame_%d 1\n", i);
	ck_assert_int_eq(fclose(f), 0);
	st = read_buf(t, buf, len, COLLAPSED_PLAIN);
	ck_assert_uint_gt(st.cs_lines, 100);
	ck_assert_uint_gt(st.cs_skipped, 0);
	ck_assert_uint_eq(st.cs_lines + st.cs_skipped, 20000);
	ck_assert_uint_eq(stacks_total(t), st.cs_lines);
	ck_assert_uint_eq(stacks_count(t), st.cs_lines);
	ck_assert_uint_le(stacks_memory(t), SMALL_BUDGET + 1024);
	errno = 0;
	ck_assert_int_eq(
	    collapsed_parse_line(t, "comm;new_one 1", 14, COLLAPSED_PLAIN), -1);
	ck_assert_int_eq(errno, ENOMEM);
	free(buf);
	stacks_free(t);
}
END_TEST

static Suite *
collapsed_suite(void)
{
	Suite *s = suite_create("collapsed");
	TCase *w = tcase_create("write"), *p = tcase_create("parse");
	TCase *r = tcase_create("read");

	tcase_add_test(w, test_write_plain);
	tcase_add_test(w, test_write_gprofiler);
	tcase_add_test(w, test_write_empty);
	tcase_add_test(w, test_write_sanitizes);
	tcase_add_test(w, test_put_frame);
	tcase_add_test(w, test_write_error);
	tcase_add_test(w, test_round_trip_plain);
	tcase_add_test(w, test_round_trip_gprofiler);
	tcase_add_test(w, test_round_trip_many);
	tcase_add_test(p, test_parse_bad_lines);
	tcase_add_test(p, test_parse_good_lines);
	tcase_add_test(p, test_parse_total_bound);
	tcase_add_test(p, test_parse_blank_and_comments);
	tcase_add_test(p, test_parse_gprofiler);
	tcase_add_test(p, test_parse_gprofiler_bad);
	tcase_add_test(p, test_parse_gprofiler_noidx);
	tcase_add_test(p, test_header_fmt);
	tcase_add_test(p, test_parse_too_many_frames);
	tcase_add_test(p, test_parse_nul_bytes);
	tcase_add_test(r, test_read_mixed);
	tcase_add_test(r, test_read_stats_accumulate);
	tcase_add_test(r, test_read_huge_line);
	tcase_add_test(r, test_read_line_limit);
	tcase_add_test(r, test_read_nul_bytes);
	tcase_add_test(r, test_read_nul_mid_file);
	tcase_add_test(r, test_read_error);
	tcase_add_test(r, test_read_budget);
	tcase_set_timeout(r, 30);
	suite_add_tcase(s, w);
	suite_add_tcase(s, p);
	suite_add_tcase(s, r);
	return s;
}

CHECK_MAIN(collapsed_suite())
