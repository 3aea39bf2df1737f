/* Runtime stacks replace perf's for the same PID, scaled to perf's count. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_merge.h"
#include "stacks.h"

static struct stack_table *
table(void)
{
	struct stack_table *t = stacks_new(1u << 20);

	ck_assert_ptr_nonnull(t);
	return t;
}

/* Adds count samples of the stack "a;b;c" to (pid, comm, app id). */
static void
add(struct stack_table *t, uint32_t pid, const char *app, const char *stack,
    uint64_t count)
{
	uint32_t frames[16];
	size_t n = 0;
	char buf[256], *save, *f;
	int p = stacks_proc(t, pid, stacks_intern_str(t, "java"), 0,
			    stacks_intern_str(t, app));

	ck_assert_int_ge(p, 0);
	snprintf(buf, sizeof(buf), "%s", stack);
	for (f = strtok_r(buf, ";", &save); f && n < 16;
	     f = strtok_r(NULL, ";", &save))
		frames[n++] = stacks_intern_str(t, f);
	ck_assert_int_eq(stacks_add(t, p, frames, n, count), 0);
}

struct sum {
	const struct stack_table *s_t;
	uint32_t s_pid;
	const char *s_leaf; /* NULL: every stack */
	uint64_t s_count;
	const char *s_app;
};

static int
sum_fn(void *arg, const struct stack_proc *p, const uint32_t *frames, size_t n,
       uint64_t count)
{
	struct sum *s = arg;

	if (p->sp_pid != s->s_pid)
		return 0;
	s->s_app = stacks_str(s->s_t, p->sp_app_id);
	if (s->s_leaf == NULL ||
	    strcmp(stacks_str(s->s_t, frames[n - 1]), s->s_leaf) == 0)
		s->s_count += count;
	return 0;
}

static uint64_t
sum(const struct stack_table *t, uint32_t pid, const char *leaf,
    const char **app)
{
	struct sum s = {.s_t = t, .s_pid = pid, .s_leaf = leaf};

	stacks_foreach(t, sum_fn, &s);
	if (app != NULL)
		*app = s.s_app;
	return s.s_count;
}

START_TEST(test_replace_and_scale)
{
	struct stack_table *perf = table(), *rt = table();
	const char *app = NULL;

	add(perf, 10, "java: app.jar", "libjvm.so;perf_leaf", 70);
	add(perf, 10, "java: app.jar", "libjvm.so;other", 30);
	add(perf, 20, "", "main;busy", 50);
	add(rt, 10, "", "main;hotLeaf", 30);
	add(rt, 10, "", "main;coldLeaf", 10);
	add(rt, 30, "", "main;alone", 7); /* perf saw nothing of it */
	ck_assert_int_eq(runtime_merge(&perf, rt, 1u << 20), 0);
	/* pid 10: only the runtime's stacks, perf's 100 samples, 3:1. */
	ck_assert_uint_eq(sum(perf, 10, NULL, &app), 100);
	ck_assert_uint_eq(sum(perf, 10, "hotLeaf", NULL), 75);
	ck_assert_uint_eq(sum(perf, 10, "coldLeaf", NULL), 25);
	ck_assert_uint_eq(sum(perf, 10, "perf_leaf", NULL), 0);
	ck_assert_str_eq(app, "java: app.jar");
	/* Other processes as they were; a runtime-only one unscaled. */
	ck_assert_uint_eq(sum(perf, 20, "busy", NULL), 50);
	ck_assert_uint_eq(sum(perf, 30, "alone", NULL), 7);
	ck_assert_uint_eq(stacks_total(perf), 157);
	stacks_free(perf);
	stacks_free(rt);
}
END_TEST

START_TEST(test_full_table_keeps_perf)
{
	struct stack_table *perf = table(), *rt = table(), *before;

	add(perf, 10, "", "a;b", 5);
	for (int i = 0; i < 2000; i++) {
		char s[64];

		snprintf(s, sizeof(s), "main;method%d;leaf%d", i, i);
		add(rt, 10, "", s, 1);
	}
	before = perf;
	/* A budget too small for the runtime's stacks: perf's table stays. */
	ck_assert_int_eq(runtime_merge(&perf, rt, 4096), -1);
	ck_assert_ptr_eq(perf, before);
	ck_assert_uint_eq(sum(perf, 10, "b", NULL), 5);
	stacks_free(perf);
	stacks_free(rt);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("runtime_merge");
	TCase *tc = tcase_create("merge");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_replace_and_scale);
	tcase_add_test(tc, test_full_table_keeps_perf);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
