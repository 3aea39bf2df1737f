/* smart mode's merge, and the scaled copy it is built on. */
#include "config.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "perf_smart.h"
#include "stacks.h"

static struct stack_table *
table(void)
{
	struct stack_table *t = stacks_new(1u << 20);

	ck_assert_ptr_nonnull(t);
	return t;
}

/* Adds count samples of "a;b;c" style stack to (pid, comm). */
static void
add(struct stack_table *t, uint32_t pid, const char *comm, const char *stack,
    uint64_t count)
{
	uint32_t frames[16];
	size_t n = 0;
	char buf[256], *save, *f;
	int p = stacks_proc(t, pid, stacks_intern_str(t, comm), 0, 0);

	ck_assert_int_ge(p, 0);
	snprintf(buf, sizeof(buf), "%s", stack);
	for (f = strtok_r(buf, ";", &save); f && n < 16;
	     f = strtok_r(NULL, ";", &save))
		frames[n++] = stacks_intern_str(t, f);
	ck_assert_int_eq(stacks_add(t, p, frames, n, count), 0);
}

struct find {
	const char *fd_stack;
	uint32_t fd_pid;
	uint64_t fd_count;
	uint64_t fd_pid_total;
	const struct stack_table *fd_t;
};

static int
find_fn(void *arg, const struct stack_proc *p, const uint32_t *frames, size_t n,
	uint64_t count)
{
	struct find *f = arg;
	char buf[256] = "";

	if (p->sp_pid != f->fd_pid)
		return 0;
	f->fd_pid_total += count;
	for (size_t i = 0; i < n; i++) {
		strcat(buf, i ? ";" : "");
		strcat(buf, stacks_str(f->fd_t, frames[i]));
	}
	if (strcmp(buf, f->fd_stack) == 0)
		f->fd_count += count;
	return 0;
}

/* Returns the count of stack for pid in t; *total gets pid's total. */
static uint64_t
count_of(const struct stack_table *t, uint32_t pid, const char *stack,
	 uint64_t *total)
{
	struct find f = {stack, pid, 0, 0, t};

	stacks_foreach(t, find_fn, &f);
	if (total)
		*total = f.fd_pid_total;
	return f.fd_count;
}

START_TEST(copy_scales_exactly)
{
	struct stack_table *src = table(), *dst = table();
	uint64_t total;

	add(src, 7, "x", "main;a", 3);
	add(src, 7, "x", "main;b", 3);
	add(src, 7, "x", "main;c", 3);
	/* 9 samples scaled to 10: each third rounds, the total is exact. */
	ck_assert_int_eq(stacks_copy_proc(dst, src, 0, 10, 9), 0);
	count_of(dst, 7, "", &total);
	ck_assert_uint_eq(total, 10);
	ck_assert_uint_eq(stacks_total(dst), 10);
	/* Strings are the destination's own. */
	ck_assert_uint_eq(count_of(dst, 7, "main;a", NULL) +
			      count_of(dst, 7, "main;b", NULL) +
			      count_of(dst, 7, "main;c", NULL),
			  10);
	stacks_free(src);
	stacks_free(dst);
}
END_TEST

START_TEST(copy_drops_zeroes_and_rejects_bad)
{
	struct stack_table *src = table(), *dst = table();

	add(src, 1, "x", "main;rare", 1);
	add(src, 1, "x", "main;common", 99);
	ck_assert_int_eq(stacks_copy_proc(dst, src, 0, 10, 100), 0);
	ck_assert_uint_eq(stacks_total(dst), 10);
	ck_assert_uint_eq(stacks_count(dst), 1);
	ck_assert_int_eq(stacks_copy_proc(dst, src, 5, 1, 1), -1);
	ck_assert_int_eq(stacks_copy_proc(dst, src, 0, 1, 0), -1);
	stacks_free(src);
	stacks_free(dst);
}
END_TEST

START_TEST(depth_is_sample_weighted)
{
	struct stack_table *t = table();

	add(t, 1, "x", "a", 1);
	add(t, 1, "x", "a;b;c;d", 3);
	ck_assert(stacks_proc_depth(t, 0) == 3.25);
	ck_assert(stacks_proc_depth(t, 9) == 0);
	stacks_free(t);
}
END_TEST

START_TEST(smart_keeps_deeper_scaled_to_fp)
{
	struct stack_table *fp = table(), *dw = table(), *out = table();
	uint64_t total;

	/* PID 10: dwarf is deeper; its 50 samples become fp's 100. */
	add(fp, 10, "app", "[unknown];leaf", 100);
	add(dw, 10, "app", "main;run;hot;leaf", 30);
	add(dw, 10, "app", "main;run;cold;leaf", 20);
	/* PID 20: fp is deeper; kept as it is. */
	add(fp, 20, "db", "main;loop;work", 40);
	add(dw, 20, "db", "work", 80);
	/* PID 30 only in dwarf, PID 40 only in fp: both kept unscaled. */
	add(dw, 30, "late", "main;x", 5);
	add(fp, 40, "gone", "main;y", 6);
	ck_assert_int_eq(perf_smart_merge(out, fp, dw), 0);

	ck_assert_uint_eq(count_of(out, 10, "main;run;hot;leaf", &total), 60);
	ck_assert_uint_eq(count_of(out, 10, "main;run;cold;leaf", NULL), 40);
	ck_assert_uint_eq(total, 100);
	ck_assert_uint_eq(count_of(out, 10, "[unknown];leaf", NULL), 0);

	ck_assert_uint_eq(count_of(out, 20, "main;loop;work", &total), 40);
	ck_assert_uint_eq(total, 40);

	ck_assert_uint_eq(count_of(out, 30, "main;x", NULL), 5);
	ck_assert_uint_eq(count_of(out, 40, "main;y", NULL), 6);
	ck_assert_uint_eq(stacks_total(out), 100 + 40 + 5 + 6);
	stacks_free(fp);
	stacks_free(dw);
	stacks_free(out);
}
END_TEST

START_TEST(smart_sums_threads_of_a_pid)
{
	struct stack_table *fp = table(), *dw = table(), *out = table();
	uint64_t total;

	/* Two comms (threads) of PID 5 count as one process. */
	add(fp, 5, "t1", "a", 10);
	add(fp, 5, "t2", "a", 10);
	add(dw, 5, "t1", "m;a", 5);
	add(dw, 5, "t2", "m;b", 5);
	ck_assert_int_eq(perf_smart_merge(out, fp, dw), 0);
	count_of(out, 5, "", &total);
	ck_assert_uint_eq(total, 20);
	ck_assert_uint_eq(count_of(out, 5, "m;a", NULL), 10);
	ck_assert_uint_eq(count_of(out, 5, "m;b", NULL), 10);
	stacks_free(fp);
	stacks_free(dw);
	stacks_free(out);
}
END_TEST

START_TEST(smart_empty_tables)
{
	struct stack_table *fp = table(), *dw = table(), *out = table();

	ck_assert_int_eq(perf_smart_merge(out, fp, dw), 0);
	ck_assert_uint_eq(stacks_total(out), 0);
	stacks_free(fp);
	stacks_free(dw);
	stacks_free(out);
}
END_TEST

CHECK_MAIN(CHECK_SUITE("perf_smart", copy_scales_exactly,
		       copy_drops_zeroes_and_rejects_bad,
		       depth_is_sample_weighted,
		       smart_keeps_deeper_scaled_to_fp,
		       smart_sums_threads_of_a_pid, smart_empty_tables))
