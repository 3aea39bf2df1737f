/* The window merge: runtime stacks replace perf's for the same PID,
 * scaled to perf's sample count. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "merge.h"
#include "stacks.h"

/* Adds "f1;f2;..." with count to process (pid, comm) of t. */
static void
add(struct stack_table *t, uint32_t pid, const char *comm, const char *stack,
    uint64_t count)
{
	char buf[256], *save = NULL, *f;
	uint32_t ids[16];
	size_t n = 0;
	int proc;

	snprintf(buf, sizeof(buf), "%s", stack);
	for (f = strtok_r(buf, ";", &save); f != NULL && n < 16;
	     f = strtok_r(NULL, ";", &save))
		ids[n++] = stacks_intern_str(t, f);
	proc = stacks_proc(t, pid, stacks_intern_str(t, comm), 0, 0);
	ck_assert_int_ge(proc, 0);
	ck_assert_int_eq(stacks_add(t, proc, ids, n, count), 0);
}

static void
add_error(struct stack_table *t, uint32_t pid, const char *comm,
	  const char *reason)
{
	char buf[128];
	int proc;

	snprintf(buf, sizeof(buf), "[Profiling error: %s]", reason);
	add(t, pid, comm, buf, 1);
	proc = stacks_proc(t, pid, stacks_intern_str(t, comm), 0, 0);
	stacks_proc_at(t, (size_t)proc)->sp_error =
	    stacks_intern_str(t, reason);
}

struct found {
	const struct stack_table *f_t;
	char f_text[4096];
};

static int
dump(void *arg, const struct stack_proc *sp, const uint32_t *frames, size_t n,
     uint64_t count)
{
	struct found *f = arg;
	size_t o = strlen(f->f_text);

	o += (size_t)snprintf(f->f_text + o, sizeof(f->f_text) - o, "%u",
			      sp->sp_pid);
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(f->f_text + o, sizeof(f->f_text) - o,
				      ";%s", stacks_str(f->f_t, frames[i]));
	snprintf(f->f_text + o, sizeof(f->f_text) - o, " %llu\n",
		 (unsigned long long)count);
	return 0;
}

static int
has(const struct found *f, const char *line)
{
	char want[256];

	snprintf(want, sizeof(want), "%s\n", line);
	return strstr(f->f_text, want) != NULL;
}

START_TEST(test_replace_and_scale)
{
	struct stack_table *perf = stacks_new(0), *rt = stacks_new(0),
			   *out = stacks_new(0);
	struct found f = {.f_t = out};

	add(perf, 10, "python3", "_PyEval_EvalFrameDefault;PyObject_Call", 60);
	add(perf, 10, "python3", "PyNumber_Add", 40);
	add(perf, 20, "busy_c", "main;hot", 50);
	add(perf, 30, "sleep", "main;nanosleep", 10);
	add(rt, 10, "python3", "<module>_[p];hot_[p]", 30);
	add(rt, 10, "python3", "<module>_[p];cold_[p]", 10);
	add_error(rt, 30, "sleep", "not a Python process");
	add(rt, 40, "python3", "m_[p]", 7);
	ck_assert_int_eq(merge_runtime(out, perf, rt), 0);
	stacks_foreach(out, dump, &f);
	/* perf's stacks of PID 10 are gone; Python's add up to perf's 100. */
	ck_assert_msg(!strstr(f.f_text, "PyNumber_Add"), "%s", f.f_text);
	ck_assert_msg(!strstr(f.f_text, "10;_PyEval"), "%s", f.f_text);
	ck_assert_msg(has(&f, "10;<module>_[p];hot_[p] 75"), "%s", f.f_text);
	ck_assert_msg(has(&f, "10;<module>_[p];cold_[p] 25"), "%s", f.f_text);
	/* Other processes keep perf's stacks. */
	ck_assert_msg(has(&f, "20;main;hot 50"), "%s", f.f_text);
	/* A runtime error keeps perf's stacks and adds the error frame. */
	ck_assert_msg(has(&f, "30;main;nanosleep 10"), "%s", f.f_text);
	ck_assert_msg(has(&f, "30;[Profiling error: not a Python process] 1"),
		      "%s", f.f_text);
	/* A process perf did not see keeps its own counts. */
	ck_assert_msg(has(&f, "40;m_[p] 7"), "%s", f.f_text);
	ck_assert_uint_eq(stacks_total(out), 75 + 25 + 50 + 10 + 1 + 7);
	stacks_free(perf);
	stacks_free(rt);
	stacks_free(out);
}
END_TEST

START_TEST(test_empty_and_full)
{
	struct stack_table *perf = stacks_new(0), *rt = stacks_new(0),
			   *out = stacks_new(0), *tiny;

	/* No runtime stacks: perf's stacks as they are. */
	add(perf, 20, "busy_c", "main;hot", 50);
	ck_assert_int_eq(merge_runtime(out, perf, rt), 0);
	ck_assert_uint_eq(stacks_total(out), 50);
	/* Rounding to zero drops a stack, never a wrap. */
	add(rt, 20, "busy_c", "a_[p]", 1000);
	add(rt, 20, "busy_c", "b_[p]", 1);
	stacks_clear(out);
	ck_assert_int_eq(merge_runtime(out, perf, rt), 0);
	ck_assert_uint_eq(stacks_total(out), 50);
	/* An output table too small: -1, no crash. */
	for (size_t budget = 2048; budget <= 4096; budget += 512) {
		tiny = stacks_new(budget);
		ck_assert_ptr_nonnull(tiny);
		ck_assert_int_eq(merge_runtime(tiny, perf, rt), -1);
		stacks_free(tiny);
	}
	tiny = NULL;
	stacks_free(tiny);
	stacks_free(perf);
	stacks_free(rt);
	stacks_free(out);
}
END_TEST

CHECK_MAIN(CHECK_SUITE("merge", test_replace_and_scale, test_empty_and_full))
