/* Flame graph writer: page shape, escaping of hostile names, size, errors. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_main.h"
#include "flamegraph.h"
#include "stacks.h"

#define DATA_OPEN  "<script type=\"application/json\" id=\"data\">"
#define BIG_STACKS 20000
#define BIG_POOL   1000
#define BIG_LIMIT  (8u << 20) /* bytes */

/* Returns the page for t as a NUL-terminated string of *len bytes. */
static char *
render(const struct stack_table *t, const char *title, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(flamegraph_write(f, t, title), 0);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

/* Returns a copy of the JSON between the data script tags. */
static char *
data_part(const char *html)
{
	const char *start = strstr(html, DATA_OPEN), *end;

	ck_assert_ptr_nonnull(start);
	start += strlen(DATA_OPEN);
	end = strstr(start, "</script>");
	ck_assert_ptr_nonnull(end);
	return strndup(start, (size_t)(end - start));
}

static size_t
count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* Adds the stack names[0..n) (root first) to process proc. */
static void
add(struct stack_table *t, int proc, const char *const *names, size_t n,
    uint64_t count)
{
	uint32_t ids[16];

	ck_assert_uint_le(n, 16);
	for (size_t i = 0; i < n; i++) {
		ids[i] = stacks_intern_str(t, names[i]);
		ck_assert_uint_ne(ids[i], STACKS_NONE);
	}
	ck_assert_int_eq(stacks_add(t, proc, ids, n, count), 0);
}

static int
proc_of(struct stack_table *t, uint32_t pid, const char *comm,
	const char *container)
{
	int p = stacks_proc(t, pid, stacks_intern_str(t, comm),
			    stacks_intern_str(t, container), 0);

	ck_assert_int_ge(p, 0);
	return p;
}

START_TEST(test_page_shape)
{
	struct stack_table *t = stacks_new(0);
	const char *st[] = {"main", "run_[p]", "read_[k]"};
	size_t len;
	char *html;

	add(t, proc_of(t, 1, "app", ""), st, 3, 5);
	html = render(t, "profile <b>&'\"", &len);
	ck_assert_uint_eq(strlen(html), len);
	ck_assert_int_eq(strncmp(html, "<!DOCTYPE html>\n", 16), 0);
	ck_assert_str_eq(html + len - 8, "</html>\n");
	ck_assert_ptr_nonnull(strstr(html, "id=\"reset\""));
	ck_assert_ptr_nonnull(strstr(html, "id=\"search\""));
	ck_assert_ptr_nonnull(strstr(html, "id=\"details\""));
	ck_assert_ptr_nonnull(strstr(html, "<title>profile &lt;b&gt;&amp;&#39;"
					   "&quot;</title>"));
	ck_assert_ptr_null(strstr(html, "<b>"));
	/* No network: nothing is loaded from elsewhere. */
	ck_assert_ptr_null(strstr(html, "http:"));
	ck_assert_ptr_null(strstr(html, "https:"));
	ck_assert_ptr_null(strstr(html, " src="));
	ck_assert_ptr_null(strstr(html, "innerHTML"));
	free(html);
	html = render(t, NULL, &len);
	ck_assert_ptr_nonnull(strstr(html, "<title>" FLAMEGRAPH_DEFAULT_TITLE));
	free(html);
	stacks_free(t);
}
END_TEST

START_TEST(test_hostile_names)
{
	struct stack_table *t = stacks_new(0);
	const char *st[] = {
	    "evil</script><script>alert(1)</script>\"quotes\"\xff",
	    "back\\slash\x01\n&amp;", "line\xe2\x80\xa8par\xe2\x80\xa9"};
	char *html, *data;
	size_t len;

	add(t, proc_of(t, 1, "<comm>", "</script>"), st, 3, 2);
	html = render(t, "</title><script>", &len);
	data = data_part(html);
	ck_assert_ptr_null(strstr(html, "</script><script>"));
	ck_assert_ptr_null(strstr(html, "alert(1)</"));
	ck_assert_uint_eq(count_of(html, "</script>"), 2);
	ck_assert_uint_eq(count_of(html, "<script"), 2);
	ck_assert_ptr_null(memchr(html, 0xff, len));
	ck_assert_ptr_null(strpbrk(data, "<>&\n\x01"));
	ck_assert_ptr_null(strstr(data, "\xe2\x80\xa8"));
	ck_assert_ptr_nonnull(strstr(
	    data, "\"evil\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"
		  "\\u003c/script\\u003e\\\"quotes\\\"\\ufffd\""));
	ck_assert_ptr_nonnull(
	    strstr(data, "\"back\\\\slash\\u0001\\u000a\\u0026amp;\""));
	ck_assert_ptr_nonnull(strstr(data, "\"line\\u2028par\\u2029\""));
	ck_assert_ptr_nonnull(strstr(data, "\"\\u003ccomm\\u003e\""));
	ck_assert_ptr_nonnull(strstr(data, "\"\\u003c/script\\u003e\""));
	ck_assert_ptr_nonnull(strstr(html, "<h1>&lt;/title&gt;&lt;script&gt;"));
	free(data);
	free(html);
	stacks_free(t);
}
END_TEST

START_TEST(test_utf8)
{
	struct stack_table *t = stacks_new(0);
	const char *st[] = {"na\xc3\xafve_[p]", "\xe6\x97\xa5\xf0\x9f\x94\xa5",
			    "over\xc0\xaf", "sur\xed\xa0\x80", "cut\xe6\x97"};
	char *html, *data;
	size_t len;

	add(t, proc_of(t, 1, "app", ""), st, 5, 1);
	html = render(t, "t\xfe", &len);
	data = data_part(html);
	ck_assert_ptr_nonnull(strstr(data, "\"na\xc3\xafve_[p]\""));
	ck_assert_ptr_nonnull(strstr(data, "\"\xe6\x97\xa5\xf0\x9f\x94\xa5\""));
	ck_assert_ptr_nonnull(strstr(data, "\"over\\ufffd\\ufffd\""));
	ck_assert_ptr_nonnull(strstr(data, "\"sur\\ufffd\\ufffd\\ufffd\""));
	ck_assert_ptr_nonnull(strstr(data, "\"cut\\ufffd\\ufffd\""));
	ck_assert_ptr_nonnull(strstr(html, "<title>t\xef\xbf\xbd</title>"));
	free(data);
	free(html);
	stacks_free(t);
}
END_TEST

START_TEST(test_tree)
{
	struct stack_table *t = stacks_new(0);
	const char *b[] = {"main", "a", "b"}, *c[] = {"main", "a", "c"};
	const char *w[] = {"main"};
	int app = proc_of(t, 1, "app", "ctr"),
	    app2 = proc_of(t, 2, "app", "ctr");
	char *html, *data;
	size_t len;

	add(t, app, b, 3, 3);
	add(t, app2, c, 3, 4);
	/* A process named like a container stays its own frame. */
	add(t, proc_of(t, 3, "ctr", ""), w, 1, 1);
	html = render(t, "tree", &len);
	data = data_part(html);
	/* Nodes: all, ctr (container), app, main, a, b, c, ctr (process),
	 * main; the same comm in two processes merges. */
	ck_assert_str_eq(data, "{\"total\":8,"
			       "\"str\":[\"all\",\"ctr\",\"app\",\"main\","
			       "\"a\",\"b\",\"c\"],"
			       "\"name\":[0,1,2,3,4,5,6,1,3],"
			       "\"up\":[0,1,1,1,1,1,2,7,1],"
			       "\"self\":[0,0,0,0,0,3,4,0,1],"
			       "\"proc\":[2,7],\"cont\":[1]}");
	free(data);
	free(html);
	stacks_free(t);
}
END_TEST

START_TEST(test_empty)
{
	struct stack_table *t = stacks_new(0);
	char *html, *data;
	size_t len;

	html = render(t, "empty", &len);
	ck_assert_int_eq(strncmp(html, "<!DOCTYPE html>", 15), 0);
	ck_assert_str_eq(html + len - 8, "</html>\n");
	ck_assert_ptr_nonnull(strstr(html, "no samples"));
	data = data_part(html);
	ck_assert_str_eq(data, "{\"total\":0,\"str\":[\"all\"],\"name\":[0],"
			       "\"up\":[0],\"self\":[0],\"proc\":[],"
			       "\"cont\":[]}");
	free(data);
	free(html);
	stacks_free(t);
}
END_TEST

/* Fills t with BIG_STACKS distinct stacks of 10 to 29 frames: a few shared
 * roots, then names from a pool, like a busy service. */
static void
fill_big(struct stack_table *t)
{
	uint32_t pool[BIG_POOL], ids[32];
	char name[64];
	int proc = proc_of(t, 42, "server", "web-1");

	for (size_t i = 0; i < BIG_POOL; i++) {
		snprintf(name, sizeof(name), "ns::Worker<int>::step_%zu%s", i,
			 i % 5 == 0 ? "_[k]" : "");
		pool[i] = stacks_intern_str(t, name);
	}
	for (uint32_t i = 0; i < BIG_STACKS; i++) {
		size_t n = 10 + i % 20;
		uint32_t h = i * 2654435761u;

		ids[0] = pool[0];
		ids[1] = pool[1 + i % 3];
		ids[2] = pool[4 + i % 7];
		for (size_t k = 3; k < n; k++) {
			h = h * 1103515245u + 12345u;
			ids[k] = pool[(h >> 8) % BIG_POOL];
		}
		ck_assert_int_eq(stacks_add(t, proc, ids, n, 1 + i % 9), 0);
	}
	ck_assert_uint_eq(stacks_count(t), BIG_STACKS);
}

START_TEST(test_big)
{
	struct stack_table *t = stacks_new(0);
	struct timespec a, b;
	char *buf = NULL;
	size_t len;
	double secs;
	FILE *f;

	fill_big(t);
	ck_assert_ptr_nonnull(f = open_memstream(&buf, &len));
	clock_gettime(CLOCK_MONOTONIC, &a);
	ck_assert_int_eq(flamegraph_write(f, t, "big"), 0);
	ck_assert_int_eq(fclose(f), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	fprintf(stderr, "flamegraph: %d stacks, %zu bytes, %.3f s\n",
		BIG_STACKS, len, secs);
	ck_assert_double_lt(secs, 1.0);
	ck_assert_uint_lt(len, BIG_LIMIT);
	ck_assert_str_eq(buf + len - 8, "</html>\n");
	free(buf);
	stacks_free(t);
}
END_TEST

START_TEST(test_write_error)
{
	struct stack_table *t = stacks_new(0);
	const char *st[] = {"main", "work"};
	char small[64];
	FILE *f;

	add(t, proc_of(t, 1, "app", ""), st, 2, 1);
	ck_assert_ptr_nonnull(f = fopen("/dev/null", "re"));
	ck_assert_int_eq(flamegraph_write(f, t, "x"), -1);
	fclose(f);
	ck_assert_ptr_nonnull(f = fmemopen(small, sizeof(small), "w"));
	ck_assert_int_eq(flamegraph_write(f, t, "x"), -1);
	fclose(f);
	/* Unbuffered, so the error shows at the first write past the end. */
	ck_assert_ptr_nonnull(f = fmemopen(small, sizeof(small), "w"));
	setvbuf(f, NULL, _IONBF, 0);
	ck_assert_int_eq(flamegraph_write(f, t, "x"), -1);
	fclose(f);
	stacks_free(t);
}
END_TEST

static Suite *
flamegraph_suite(void)
{
	Suite *s = suite_create("flamegraph");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_page_shape);
	tcase_add_test(tc, test_hostile_names);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_tree);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_big);
	tcase_add_test(tc, test_write_error);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(flamegraph_suite())
