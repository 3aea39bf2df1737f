/* The bounded JSON reader: valid texts, lookups, strings, numbers, and
 * every kind of malformed or over-limit text refused. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "jread.h"

static struct jread J;

static int
parse(const char *s)
{
	return jread_parse(&J, s, strlen(s));
}

START_TEST(test_heartbeat_answer)
{
	const char *s =
	    "{\"success\": true, \"message\": \"ok\", \"command_id\": "
	    "\"c-1\", \"profiling_command\": {\"command_type\": \"start\", "
	    "\"combined_config\": {\"duration\": 60, \"frequency\": 11, "
	    "\"pids\": [12, 345], \"continuous\": false, "
	    "\"profiler_configs\": {\"perf\": \"enabled_restricted\"}}}}";
	char buf[32];
	int cmd, cfg, pids, ok;
	uint64_t v;

	ck_assert_int_eq(parse(s), 0);
	ck_assert_int_eq(jread_bool(&J, jread_get(&J, 0, "success"), &ok), 0);
	ck_assert_int_eq(ok, 1);
	ck_assert_int_eq(
	    jread_string(&J, jread_get(&J, 0, "command_id"), buf, sizeof(buf)),
	    0);
	ck_assert_str_eq(buf, "c-1");
	cmd = jread_get(&J, 0, "profiling_command");
	cfg = jread_get(&J, cmd, "combined_config");
	ck_assert_int_ge(cfg, 0);
	ck_assert_int_eq(
	    jread_u64(&J, jread_get(&J, cfg, "duration"), 3600, &v), 0);
	ck_assert_uint_eq(v, 60);
	pids = jread_get(&J, cfg, "pids");
	ck_assert_uint_eq(J.jr_tok[pids].jt_count, 2);
	ck_assert_int_eq(jread_u64(&J, jread_elem(&J, pids, 1), 1u << 22, &v),
			 0);
	ck_assert_uint_eq(v, 345);
	ck_assert_int_eq(jread_elem(&J, pids, 2), -1);
	ck_assert_int_eq(jread_bool(&J, jread_get(&J, cfg, "continuous"), &ok),
			 0);
	ck_assert_int_eq(ok, 0);
	/* Members after a nested object are found. */
	ck_assert_int_ge(jread_get(&J, cfg, "profiler_configs"), 0);
	ck_assert_int_eq(jread_get(&J, cfg, "nope"), -1);
	ck_assert_int_eq(jread_get(&J, pids, "duration"), -1);
}
END_TEST

START_TEST(test_strings)
{
	char buf[16];

	ck_assert_int_eq(
	    parse("[\"a\\\"b\\\\c\\/\", \"\\u00e9\\ud83d\\ude00\", "
		  "\"\\u0000\", \"\\n\", \"\\ud800\", "
		  "\"0123456789abcdef\"]"),
	    0);
	ck_assert_int_eq(jread_string(&J, jread_elem(&J, 0, 0), buf, 16), 0);
	ck_assert_str_eq(buf, "a\"b\\c/");
	ck_assert_int_eq(jread_string(&J, jread_elem(&J, 0, 1), buf, 16), 0);
	ck_assert_str_eq(buf, "\xc3\xa9\xf0\x9f\x98\x80");
	/* NUL, control characters and lone surrogates are refused. */
	ck_assert_int_eq(jread_string(&J, jread_elem(&J, 0, 2), buf, 16), -1);
	ck_assert_int_eq(jread_string(&J, jread_elem(&J, 0, 3), buf, 16), -1);
	ck_assert_int_eq(jread_string(&J, jread_elem(&J, 0, 4), buf, 16), -1);
	/* Too long for the buffer. */
	ck_assert_int_eq(jread_string(&J, jread_elem(&J, 0, 5), buf, 16), -1);
	ck_assert_int_eq(jread_string(&J, 0, buf, 16), -1);
}
END_TEST

START_TEST(test_numbers)
{
	uint64_t v;

	ck_assert_int_eq(parse("[0, 3600, 3601, -1, 1.5, 1e3, "
			       "18446744073709551615, 18446744073709551616]"),
			 0);
	ck_assert_int_eq(jread_u64(&J, jread_elem(&J, 0, 0), 10, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(jread_u64(&J, jread_elem(&J, 0, 1), 3600, &v), 0);
	ck_assert_int_eq(jread_u64(&J, jread_elem(&J, 0, 2), 3600, &v), -1);
	ck_assert_int_eq(jread_u64(&J, jread_elem(&J, 0, 3), 3600, &v), -1);
	ck_assert_int_eq(jread_u64(&J, jread_elem(&J, 0, 4), 3600, &v), -1);
	ck_assert_int_eq(jread_u64(&J, jread_elem(&J, 0, 5), 3600, &v), -1);
	ck_assert_int_eq(jread_u64(&J, jread_elem(&J, 0, 6), UINT64_MAX, &v),
			 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(jread_u64(&J, jread_elem(&J, 0, 7), UINT64_MAX, &v),
			 -1);
}
END_TEST

static const char *const bad[] = {
    "",
    "{",
    "{\"a\" 1}",
    "{\"a\": 1,}",
    "[1,]",
    "[1 2]",
    "{a: 1}",
    "\"unterminated",
    "\"bad \\x escape\"",
    "\"bad \\u12g4\"",
    "\"raw \n newline\"",
    "\"\xff\"",
    "\"\xc0\xaf\"",
    "01",
    "1.",
    "-",
    "1e",
    "tru",
    "nul",
    "{} {}",
    "[] x",
    "{\"a\": [1, {\"b\": }]}",
};
/* Every token, keys too, says where the next one starts (a key's
 * jt_next was left 0, found by fuzz_heartbeat): a walk by jt_next over an
 * object's keys and values ends where the object does. */
START_TEST(test_token_links)
{
	uint32_t k = 1;

	ck_assert_int_eq(
	    parse("{\"a\": [1, {\"b\": null}], \"c\": \"d\", \"e\": {}}"), 0);
	for (uint32_t i = 0; i < J.jr_n; i++) {
		ck_assert_uint_gt(J.jr_tok[i].jt_next, i);
		ck_assert_uint_le(J.jr_tok[i].jt_next, J.jr_n);
	}
	for (uint32_t m = 0; m < J.jr_tok[0].jt_count; m++) {
		ck_assert_uint_eq(J.jr_tok[k].jt_type, JREAD_STRING);
		k = J.jr_tok[J.jr_tok[k].jt_next].jt_next;
	}
	ck_assert_uint_eq(k, J.jr_tok[0].jt_next);
	ck_assert_uint_eq(k, J.jr_n);
}
END_TEST

#define NBAD (int)(sizeof(bad) / sizeof(bad[0]))

START_TEST(test_bad)
{
	ck_assert_msg(parse(bad[_i]) == -1, "accepted: %s", bad[_i]);
	ck_assert_uint_eq(J.jr_n, 0);
}
END_TEST

START_TEST(test_limits)
{
	static char deep[256], wide[16384];
	size_t n = 0;

	/* 16 levels pass, 17 do not. */
	for (int d = 16; d <= 17; d++) {
		memset(deep, 0, sizeof(deep));
		memset(deep, '[', (size_t)d);
		memset(deep + d, ']', (size_t)d);
		ck_assert_int_eq(parse(deep), d == 16 ? 0 : -1);
	}
	/* More tokens than the array holds. */
	wide[n++] = '[';
	for (int i = 0; i < JREAD_MAX_TOKENS + 1; i++)
		n += (size_t)snprintf(wide + n, sizeof(wide) - n, "%s1",
				      i ? "," : "");
	wide[n++] = ']';
	ck_assert_int_eq(jread_parse(&J, wide, n), -1);
	ck_assert_int_eq(jread_parse(&J, wide, JREAD_MAX_LEN + 1), -1);
	/* Whitespace around the root is fine. */
	ck_assert_int_eq(parse(" \t\r\n{ } \n"), 0);
	ck_assert_uint_eq(J.jr_tok[0].jt_type, JREAD_OBJECT);
}
END_TEST

static Suite *
jread_suite(void)
{
	Suite *s = suite_create("jread");
	TCase *tc = tcase_create("jread");

	tcase_add_test(tc, test_heartbeat_answer);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_token_links);
	tcase_add_loop_test(tc, test_bad, 0, NBAD);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(jread_suite())
