/* Stack table: interning, processes, counts, walk order, budget. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "stacks.h"

#define SMALL_BUDGET (64u << 10) /* bytes */
#define MANY_STACKS  100000
#define SAME_ADDS    1000000

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
proc_of(struct stack_table *t, uint32_t pid, const char *comm)
{
	int p = stacks_proc(t, pid, id_of(t, comm), 0, 0);

	ck_assert_int_ge(p, 0);
	return p;
}

/* One stack seen by a walk. */
struct seen {
	int sn_proc; /* pid of the process */
	uint32_t sn_frames[4];
	size_t sn_n;
	uint64_t sn_count;
};

struct walk {
	struct seen wk_seen[16];
	size_t wk_n;
	size_t wk_stop_after; /* 0: never stop */
};

static int
record(void *arg, const struct stack_proc *p, const uint32_t *frames, size_t n,
       uint64_t count)
{
	struct walk *w = arg;
	struct seen *s;

	ck_assert_uint_lt(w->wk_n, 16);
	ck_assert_uint_le(n, 4);
	s = &w->wk_seen[w->wk_n++];
	s->sn_proc = (int)p->sp_pid;
	memcpy(s->sn_frames, frames, n * sizeof(*frames));
	s->sn_n = n;
	s->sn_count = count;
	if (w->wk_stop_after != 0 && w->wk_n == w->wk_stop_after)
		return 7;
	return 0;
}

/* Sums counts and frames so a walk over many stacks can be checked. */
struct sums {
	uint64_t su_count;
	uint64_t su_frames;
	size_t su_stacks;
};

static int
sum_up(void *arg, const struct stack_proc *p, const uint32_t *frames, size_t n,
       uint64_t count)
{
	struct sums *s = arg;

	(void)p;
	s->su_count += count;
	s->su_stacks++;
	for (size_t i = 0; i < n; i++)
		s->su_frames += frames[i];
	return 0;
}

START_TEST(test_intern_empty_is_zero)
{
	struct stack_table *t = table_new(0);

	ck_assert_uint_eq(stacks_nstr(t), 1);
	ck_assert_str_eq(stacks_str(t, 0), "");
	ck_assert_uint_eq(stacks_strlen(t, 0), 0);
	ck_assert_uint_eq(stacks_intern_str(t, ""), 0);
	ck_assert_uint_eq(stacks_intern(t, "abc", 0), 0);
	ck_assert_uint_eq(stacks_nstr(t), 1);
	stacks_free(t);
}
END_TEST

START_TEST(test_intern_same_and_different)
{
	struct stack_table *t = table_new(0);
	uint32_t a = id_of(t, "main"), b = id_of(t, "malloc");

	ck_assert_uint_eq(a, 1);
	ck_assert_uint_eq(b, 2);
	ck_assert_uint_eq(id_of(t, "main"), a);
	ck_assert_uint_eq(stacks_intern(t, "mainx", 4), a);
	ck_assert_uint_eq(stacks_intern(t, "mal", 3), 3);
	ck_assert_uint_eq(stacks_nstr(t), 4);
	ck_assert_str_eq(stacks_str(t, a), "main");
	ck_assert_str_eq(stacks_str(t, b), "malloc");
	ck_assert_str_eq(stacks_str(t, 3), "mal");
	ck_assert_uint_eq(stacks_strlen(t, b), 6);
	stacks_free(t);
}
END_TEST

START_TEST(test_intern_out_of_range)
{
	struct stack_table *t = table_new(0);

	ck_assert_ptr_null(stacks_str(t, 1));
	ck_assert_ptr_null(stacks_str(t, STACKS_NONE));
	ck_assert_uint_eq(stacks_strlen(t, 1), 0);
	ck_assert_uint_eq(stacks_strlen(t, STACKS_NONE), 0);
	stacks_free(t);
}
END_TEST

START_TEST(test_intern_long_is_cut)
{
	struct stack_table *t = table_new(0);
	size_t len = STACKS_MAX_STRING * 2;
	char *s = malloc(len);
	uint32_t id, id2;

	ck_assert_ptr_nonnull(s);
	memset(s, 'x', len);
	id = stacks_intern(t, s, len);
	ck_assert_uint_eq(id, 1);
	ck_assert_uint_eq(stacks_strlen(t, id), STACKS_MAX_STRING);
	ck_assert_uint_eq(strlen(stacks_str(t, id)), STACKS_MAX_STRING);
	/* Same first STACKS_MAX_STRING bytes: the same string once cut. */
	s[len - 1] = 'y';
	ck_assert_uint_eq(stacks_intern(t, s, len), id);
	ck_assert_uint_eq(stacks_intern(t, s, STACKS_MAX_STRING), id);
	id2 = stacks_intern(t, s, STACKS_MAX_STRING - 1);
	ck_assert_uint_eq(id2, 2);
	ck_assert_uint_eq(stacks_strlen(t, id2), STACKS_MAX_STRING - 1);
	free(s);
	stacks_free(t);
}
END_TEST

START_TEST(test_intern_embedded_bytes)
{
	struct stack_table *t = table_new(0);
	uint32_t a = stacks_intern(t, "a\0b", 3);
	uint32_t b = stacks_intern(t, "a\0c", 3);
	uint32_t c = stacks_intern(t, "a", 1);
	uint32_t d = stacks_intern(t, "\xff\x01\n;", 4);

	ck_assert_uint_eq(a, 1);
	ck_assert_uint_eq(b, 2);
	ck_assert_uint_eq(c, 3);
	ck_assert_uint_eq(d, 4);
	ck_assert_uint_eq(stacks_strlen(t, a), 3);
	ck_assert_mem_eq(stacks_str(t, a), "a\0b", 4);
	ck_assert_mem_eq(stacks_str(t, b), "a\0c", 4);
	ck_assert_mem_eq(stacks_str(t, d), "\xff\x01\n;", 5);
	ck_assert_uint_eq(stacks_intern(t, "a\0b", 3), a);
	ck_assert_uint_eq(stacks_intern(t, "\0", 1), 5);
	stacks_free(t);
}
END_TEST

START_TEST(test_intern_many)
{
	struct stack_table *t = table_new(0);
	char buf[32];

	for (int i = 0; i < 50000; i++) {
		snprintf(buf, sizeof(buf), "fn_%d", i);
		ck_assert_uint_eq(stacks_intern_str(t, buf), (uint32_t)i + 1);
	}
	for (int i = 0; i < 50000; i += 997) {
		snprintf(buf, sizeof(buf), "fn_%d", i);
		ck_assert_uint_eq(stacks_intern_str(t, buf), (uint32_t)i + 1);
		ck_assert_str_eq(stacks_str(t, (uint32_t)i + 1), buf);
	}
	ck_assert_uint_eq(stacks_nstr(t), 50001);
	stacks_free(t);
}
END_TEST

START_TEST(test_proc_same_key)
{
	struct stack_table *t = table_new(0);
	uint32_t c = id_of(t, "bash"), k = id_of(t, "ctr"), a = id_of(t, "app");
	struct stack_proc *p;

	ck_assert_int_eq(stacks_proc(t, 10, c, k, a), 0);
	ck_assert_int_eq(stacks_proc(t, 11, c, k, a), 1);
	ck_assert_int_eq(stacks_proc(t, 10, c, k, a), 0);
	ck_assert_int_eq(stacks_proc(t, 11, c, k, a), 1);
	ck_assert_uint_eq(stacks_nproc(t), 2);
	p = stacks_proc_at(t, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->sp_pid, 10);
	ck_assert_uint_eq(p->sp_comm, c);
	ck_assert_uint_eq(p->sp_container, k);
	ck_assert_uint_eq(p->sp_app_id, a);
	ck_assert_uint_eq(p->sp_error, 0);
	ck_assert_uint_eq(p->sp_samples, 0);
	ck_assert_ptr_null(stacks_proc_at(t, 2));
	ck_assert_ptr_null(stacks_proc_at(t, SIZE_MAX));
	stacks_free(t);
}
END_TEST

START_TEST(test_proc_key_parts)
{
	struct stack_table *t = table_new(0);
	uint32_t c = id_of(t, "bash"), c2 = id_of(t, "zsh");

	ck_assert_int_eq(stacks_proc(t, 1, c, 0, 0), 0);
	ck_assert_int_eq(stacks_proc(t, 2, c, 0, 0), 1);
	ck_assert_int_eq(stacks_proc(t, 1, c2, 0, 0), 2);
	ck_assert_int_eq(stacks_proc(t, 1, c, c2, 0), 3);
	ck_assert_int_eq(stacks_proc(t, 1, c, 0, c2), 4);
	ck_assert_int_eq(stacks_proc(t, 1, c, c2, c2), 5);
	ck_assert_int_eq(stacks_proc(t, 1, c, 0, 0), 0);
	ck_assert_int_eq(stacks_proc(t, 1, c, 0, c2), 4);
	ck_assert_uint_eq(stacks_nproc(t), 6);
	stacks_free(t);
}
END_TEST

START_TEST(test_proc_bad_id)
{
	struct stack_table *t = table_new(0);
	uint32_t n = (uint32_t)stacks_nstr(t);

	errno = 0;
	ck_assert_int_eq(stacks_proc(t, 1, n, 0, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(stacks_proc(t, 1, 0, n, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(stacks_proc(t, 1, 0, 0, STACKS_NONE), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(stacks_nproc(t), 0);
	stacks_free(t);
}
END_TEST

START_TEST(test_add_merges_same_stack)
{
	struct stack_table *t = table_new(0);
	int p = proc_of(t, 5, "a");
	uint32_t f[3] = {id_of(t, "main"), id_of(t, "f"), id_of(t, "g")};

	ck_assert_int_eq(stacks_add(t, p, f, 3, 2), 0);
	ck_assert_int_eq(stacks_add(t, p, f, 3, 5), 0);
	ck_assert_uint_eq(stacks_count(t), 1);
	ck_assert_uint_eq(stacks_total(t), 7);
	ck_assert_uint_eq(stacks_proc_at(t, (size_t)p)->sp_samples, 7);
	/* Prefixes and reorderings are other stacks. */
	ck_assert_int_eq(stacks_add(t, p, f, 2, 1), 0);
	ck_assert_int_eq(stacks_add(t, p, f + 1, 2, 1), 0);
	ck_assert_int_eq(stacks_add(t, p, f, 1, 1), 0);
	ck_assert_uint_eq(stacks_count(t), 4);
	ck_assert_uint_eq(stacks_total(t), 10);
	stacks_free(t);
}
END_TEST

START_TEST(test_add_not_across_procs)
{
	struct stack_table *t = table_new(0);
	int p = proc_of(t, 5, "a"), q = proc_of(t, 6, "a");
	uint32_t f[2] = {id_of(t, "main"), id_of(t, "f")};

	ck_assert_int_ne(p, q);
	ck_assert_int_eq(stacks_add(t, p, f, 2, 3), 0);
	ck_assert_int_eq(stacks_add(t, q, f, 2, 4), 0);
	ck_assert_uint_eq(stacks_count(t), 2);
	ck_assert_uint_eq(stacks_total(t), 7);
	ck_assert_uint_eq(stacks_proc_at(t, (size_t)p)->sp_samples, 3);
	ck_assert_uint_eq(stacks_proc_at(t, (size_t)q)->sp_samples, 4);
	stacks_free(t);
}
END_TEST

static void
assert_add_einval(struct stack_table *t, int p, const uint32_t *f, size_t n)
{
	errno = 0;
	ck_assert_int_eq(stacks_add(t, p, f, n, 1), -1);
	ck_assert_int_eq(errno, EINVAL);
}

START_TEST(test_add_invalid)
{
	struct stack_table *t = table_new(0);
	int p = proc_of(t, 5, "a");
	uint32_t *f = calloc(STACKS_MAX_FRAMES + 1, sizeof(*f));
	uint32_t bad[2] = {1, 0};

	ck_assert_ptr_nonnull(f);
	assert_add_einval(t, p, f, 0);
	assert_add_einval(t, p, f, STACKS_MAX_FRAMES + 1);
	assert_add_einval(t, -1, f, 1);
	assert_add_einval(t, p + 1, f, 1);
	assert_add_einval(t, INT32_MAX, f, 1);
	bad[1] = (uint32_t)stacks_nstr(t);
	assert_add_einval(t, p, bad, 2);
	bad[1] = STACKS_NONE;
	assert_add_einval(t, p, bad, 2);
	ck_assert_uint_eq(stacks_count(t), 0);
	ck_assert_uint_eq(stacks_total(t), 0);
	ck_assert_int_eq(stacks_add(t, p, f, STACKS_MAX_FRAMES, 1), 0);
	ck_assert_uint_eq(stacks_count(t), 1);
	free(f);
	stacks_free(t);
}
END_TEST

START_TEST(test_add_overflow)
{
	struct stack_table *t = table_new(0);
	int p = proc_of(t, 5, "a");
	uint32_t f[2] = {id_of(t, "x"), id_of(t, "y")};

	ck_assert_int_eq(stacks_add(t, p, f, 1, UINT64_MAX - 1), 0);
	errno = 0;
	ck_assert_int_eq(stacks_add(t, p, f, 1, 2), -1);
	ck_assert_int_eq(errno, EOVERFLOW);
	/* The total bounds every count, also of another stack. */
	errno = 0;
	ck_assert_int_eq(stacks_add(t, p, f + 1, 1, 2), -1);
	ck_assert_int_eq(errno, EOVERFLOW);
	ck_assert_uint_eq(stacks_count(t), 1);
	ck_assert_uint_eq(stacks_total(t), UINT64_MAX - 1);
	ck_assert_int_eq(stacks_add(t, p, f + 1, 1, 1), 0);
	ck_assert_uint_eq(stacks_total(t), UINT64_MAX);
	ck_assert_uint_eq(stacks_proc_at(t, 0)->sp_samples, UINT64_MAX);
	stacks_free(t);
}
END_TEST

static void
assert_seen(const struct seen *s, int pid, uint32_t frame, uint64_t count)
{
	ck_assert_int_eq(s->sn_proc, pid);
	ck_assert_uint_eq(s->sn_n, 1);
	ck_assert_uint_eq(s->sn_frames[0], frame);
	ck_assert_uint_eq(s->sn_count, count);
}

/* Adds one-frame stacks 1..4 alternating between two processes. */
static struct stack_table *
interleaved(void)
{
	struct stack_table *t = table_new(0);
	int a = proc_of(t, 100, "a"), b = proc_of(t, 200, "b");
	uint32_t f[4] = {id_of(t, "s1"), id_of(t, "s2"), id_of(t, "s3"),
			 id_of(t, "s4")};

	ck_assert_int_eq(stacks_add(t, a, &f[0], 1, 1), 0);
	ck_assert_int_eq(stacks_add(t, b, &f[1], 1, 2), 0);
	ck_assert_int_eq(stacks_add(t, a, &f[2], 1, 3), 0);
	ck_assert_int_eq(stacks_add(t, b, &f[3], 1, 4), 0);
	ck_assert_int_eq(stacks_add(t, a, &f[0], 1, 10), 0);
	return t;
}

START_TEST(test_foreach_order)
{
	struct stack_table *t = interleaved();
	uint32_t s1 = id_of(t, "s1"), s2 = id_of(t, "s2");
	uint32_t s3 = id_of(t, "s3"), s4 = id_of(t, "s4");
	struct walk w = {0};

	ck_assert_int_eq(stacks_foreach(t, record, &w), 0);
	ck_assert_uint_eq(w.wk_n, 4);
	assert_seen(&w.wk_seen[0], 100, s1, 11);
	assert_seen(&w.wk_seen[1], 100, s3, 3);
	assert_seen(&w.wk_seen[2], 200, s2, 2);
	assert_seen(&w.wk_seen[3], 200, s4, 4);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(stacks_foreach_proc(t, 1, record, &w), 0);
	ck_assert_uint_eq(w.wk_n, 2);
	assert_seen(&w.wk_seen[0], 200, s2, 2);
	assert_seen(&w.wk_seen[1], 200, s4, 4);
	ck_assert_int_eq(stacks_foreach_proc(t, 2, record, &w), 0);
	ck_assert_uint_eq(w.wk_n, 2);
	stacks_free(t);
}
END_TEST

START_TEST(test_foreach_early_stop)
{
	struct stack_table *t = interleaved();
	struct walk w = {0};

	w.wk_stop_after = 3;
	ck_assert_int_eq(stacks_foreach(t, record, &w), 7);
	ck_assert_uint_eq(w.wk_n, 3);
	memset(&w, 0, sizeof(w));
	w.wk_stop_after = 1;
	ck_assert_int_eq(stacks_foreach_proc(t, 1, record, &w), 7);
	ck_assert_uint_eq(w.wk_n, 1);
	ck_assert_int_eq(w.wk_seen[0].sn_proc, 200);
	stacks_free(t);
}
END_TEST

START_TEST(test_foreach_empty)
{
	struct stack_table *t = table_new(0);
	struct walk w = {0};

	proc_of(t, 1, "idle");
	ck_assert_int_eq(stacks_foreach(t, record, &w), 0);
	ck_assert_uint_eq(w.wk_n, 0);
	ck_assert_uint_eq(stacks_count(t), 0);
	ck_assert_uint_eq(stacks_total(t), 0);
	stacks_free(t);
}
END_TEST

START_TEST(test_clear)
{
	struct stack_table *t = interleaved();
	size_t empty_mem;
	struct walk w = {0};
	uint32_t f;

	ck_assert_uint_eq(stacks_count(t), 4);
	ck_assert_uint_eq(stacks_total(t), 20);
	stacks_clear(t);
	ck_assert_uint_eq(stacks_count(t), 0);
	ck_assert_uint_eq(stacks_total(t), 0);
	ck_assert_uint_eq(stacks_nproc(t), 0);
	ck_assert_uint_eq(stacks_nstr(t), 1);
	ck_assert_str_eq(stacks_str(t, 0), "");
	ck_assert_ptr_null(stacks_str(t, 1));
	ck_assert_int_eq(stacks_foreach(t, record, &w), 0);
	ck_assert_uint_eq(w.wk_n, 0);
	empty_mem = stacks_memory(t);
	/* Usable again, with fresh ids. */
	f = id_of(t, "s9");
	ck_assert_uint_eq(f, 1);
	ck_assert_int_eq(stacks_add(t, proc_of(t, 3, "c"), &f, 1, 9), 0);
	ck_assert_uint_eq(stacks_total(t), 9);
	ck_assert_uint_ge(stacks_memory(t), empty_mem);
	stacks_free(t);
}
END_TEST

/* Budgets that run out of different parts first (bytes). */
static const size_t budgets[] = {SMALL_BUDGET, 50176, 40000, 100000};

#define NBUDGETS ((int)(sizeof(budgets) / sizeof(budgets[0])))

/* Interns "s<i>" for i = 0.. until the table is full; returns how many. */
static size_t
fill_strings(struct stack_table *t)
{
	char buf[32];
	size_t i;

	for (i = 0;; i++) {
		uint32_t id;

		snprintf(buf, sizeof(buf), "s%zu", i);
		errno = 0;
		id = stacks_intern_str(t, buf);
		if (id == STACKS_NONE)
			break;
		ck_assert_uint_eq(id, i + 1);
	}
	ck_assert_int_eq(errno, ENOMEM);
	return i;
}

START_TEST(test_budget_strings)
{
	size_t budget = budgets[_i];
	struct stack_table *t = table_new(budget);
	char buf[32];
	size_t n = fill_strings(t), mem = stacks_memory(t);

	ck_assert_uint_gt(n, 100);
	ck_assert_uint_le(mem, budget + 1024);
	ck_assert_uint_eq(stacks_nstr(t), n + 1);
	ck_assert_uint_eq(stacks_intern_str(t, "another new one"), STACKS_NONE);
	/* A full table still finds every string it has. */
	ck_assert_uint_eq(stacks_intern(t, "", 0), 0);
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "s%zu", i);
		ck_assert_str_eq(stacks_str(t, (uint32_t)i + 1), buf);
		ck_assert_uint_eq(stacks_intern_str(t, buf), i + 1);
	}
	ck_assert_uint_eq(stacks_nstr(t), n + 1);
	ck_assert_uint_eq(stacks_memory(t), mem);
	stacks_free(t);
}
END_TEST

START_TEST(test_budget_clear_refills)
{
	struct stack_table *t = table_new(SMALL_BUDGET);
	size_t n = fill_strings(t);

	stacks_clear(t);
	ck_assert_uint_eq(stacks_nstr(t), 1);
	ck_assert_uint_eq(fill_strings(t), n);
	stacks_free(t);
}
END_TEST

/* Adds distinct stacks to process p until the table is full. */
static size_t
fill_stacks(struct stack_table *t, int p, const uint32_t *ids, size_t nids)
{
	uint32_t f[2];
	size_t i;

	for (i = 0;; i++) {
		f[0] = ids[i % nids];
		f[1] = ids[(i / nids) % nids];
		errno = 0;
		if (stacks_add(t, p, f, 2, i + 1) == -1)
			break;
		ck_assert_uint_eq(stacks_count(t), i + 1);
	}
	ck_assert_int_eq(errno, ENOMEM);
	return i;
}

/* Adds every stack fill_stacks added once more, with count 1. */
static void
readd_stacks(struct stack_table *t, int p, const uint32_t *ids, size_t nids,
	     size_t n)
{
	uint32_t f[2];

	for (size_t i = 0; i < n; i++) {
		f[0] = ids[i % nids];
		f[1] = ids[(i / nids) % nids];
		ck_assert_int_eq(stacks_add(t, p, f, 2, 1), 0);
	}
}

START_TEST(test_budget_stacks)
{
	size_t budget = budgets[_i], n, mem;
	struct stack_table *t = table_new(budget);
	uint32_t ids[64], f[2];
	char buf[16];
	struct sums s = {0};
	int p = proc_of(t, 1, "a");

	for (size_t i = 0; i < 64; i++) {
		snprintf(buf, sizeof(buf), "f%zu", i);
		ids[i] = id_of(t, buf);
	}
	n = fill_stacks(t, p, ids, 64);
	mem = stacks_memory(t);
	ck_assert_uint_gt(n, 100);
	ck_assert_uint_le(mem, budget + 1024);
	ck_assert_uint_eq(stacks_count(t), n);
	ck_assert_uint_eq(stacks_total(t), (uint64_t)n * (n + 1) / 2);
	f[0] = ids[n % 64];
	f[1] = ids[(n / 64) % 64];
	ck_assert_int_eq(stacks_add(t, p, f, 2, 1), -1);
	/* A full table still counts the stacks it has. */
	readd_stacks(t, p, ids, 64, n);
	ck_assert_uint_eq(stacks_count(t), n);
	ck_assert_uint_eq(stacks_total(t), (uint64_t)n * (n + 1) / 2 + n);
	ck_assert_uint_eq(stacks_memory(t), mem);
	ck_assert_int_eq(stacks_foreach(t, sum_up, &s), 0);
	ck_assert_uint_eq(s.su_stacks, n);
	ck_assert_uint_eq(s.su_count, stacks_total(t));
	ck_assert_uint_eq(stacks_proc_at(t, 0)->sp_samples, stacks_total(t));
	stacks_free(t);
}
END_TEST

START_TEST(test_budget_procs)
{
	struct stack_table *t = table_new(SMALL_BUDGET);
	uint32_t c = id_of(t, "worker");
	size_t n;
	int p;

	for (n = 0;; n++) {
		errno = 0;
		if ((p = stacks_proc(t, (uint32_t)n, c, 0, 0)) == -1)
			break;
		ck_assert_int_eq(p, (int)n);
	}
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_uint_gt(n, 100);
	ck_assert_uint_eq(stacks_nproc(t), n);
	ck_assert_uint_le(stacks_memory(t), SMALL_BUDGET + 1024);
	ck_assert_int_eq(stacks_proc(t, 0, c, 0, 0), 0);
	ck_assert_int_eq(stacks_proc(t, (uint32_t)n - 1, c, 0, 0), (int)n - 1);
	stacks_free(t);
}
END_TEST

START_TEST(test_same_stack_no_growth)
{
	struct stack_table *t = table_new(0);
	int p = proc_of(t, 1, "a");
	uint32_t f[3] = {id_of(t, "main"), id_of(t, "run"), id_of(t, "step")};
	size_t mem;

	ck_assert_int_eq(stacks_add(t, p, f, 3, 1), 0);
	mem = stacks_memory(t);
	for (int i = 1; i < SAME_ADDS; i++)
		ck_assert_int_eq(stacks_add(t, p, f, 3, 1), 0);
	ck_assert_uint_eq(stacks_memory(t), mem);
	ck_assert_uint_eq(stacks_count(t), 1);
	ck_assert_uint_eq(stacks_total(t), SAME_ADDS);
	stacks_free(t);
}
END_TEST

START_TEST(test_many_distinct_stacks)
{
	struct stack_table *t = table_new(0);
	uint32_t ids[1000], f[3];
	uint64_t frames_sum = 0;
	struct sums s = {0};
	char buf[16];
	int p = proc_of(t, 1, "a");

	for (size_t i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "f%zu", i);
		ids[i] = id_of(t, buf);
	}
	for (size_t i = 0; i < MANY_STACKS; i++) {
		f[0] = ids[i % 1000];
		f[1] = ids[i / 1000];
		f[2] = ids[0];
		frames_sum += (uint64_t)f[0] + f[1] + f[2];
		ck_assert_int_eq(stacks_add(t, p, f, 3, 2), 0);
	}
	ck_assert_uint_eq(stacks_count(t), MANY_STACKS);
	ck_assert_uint_eq(stacks_total(t), 2 * MANY_STACKS);
	ck_assert_int_eq(stacks_foreach(t, sum_up, &s), 0);
	ck_assert_uint_eq(s.su_stacks, MANY_STACKS);
	ck_assert_uint_eq(s.su_count, 2 * MANY_STACKS);
	ck_assert_uint_eq(s.su_frames, frames_sum);
	stacks_free(t);
}
END_TEST

static Suite *
stacks_suite(void)
{
	Suite *s = suite_create("stacks");
	TCase *in = tcase_create("intern"), *pr = tcase_create("proc");
	TCase *add = tcase_create("add"), *walk = tcase_create("walk");
	TCase *bud = tcase_create("budget"), *big = tcase_create("big");

	tcase_add_test(in, test_intern_empty_is_zero);
	tcase_add_test(in, test_intern_same_and_different);
	tcase_add_test(in, test_intern_out_of_range);
	tcase_add_test(in, test_intern_long_is_cut);
	tcase_add_test(in, test_intern_embedded_bytes);
	tcase_add_test(in, test_intern_many);
	tcase_add_test(pr, test_proc_same_key);
	tcase_add_test(pr, test_proc_key_parts);
	tcase_add_test(pr, test_proc_bad_id);
	tcase_add_test(add, test_add_merges_same_stack);
	tcase_add_test(add, test_add_not_across_procs);
	tcase_add_test(add, test_add_invalid);
	tcase_add_test(add, test_add_overflow);
	tcase_add_test(walk, test_foreach_order);
	tcase_add_test(walk, test_foreach_early_stop);
	tcase_add_test(walk, test_foreach_empty);
	tcase_add_test(walk, test_clear);
	tcase_add_loop_test(bud, test_budget_strings, 0, NBUDGETS);
	tcase_add_test(bud, test_budget_clear_refills);
	tcase_add_loop_test(bud, test_budget_stacks, 0, NBUDGETS);
	tcase_add_test(bud, test_budget_procs);
	tcase_add_test(big, test_same_stack_no_growth);
	tcase_add_test(big, test_many_distinct_stacks);
	tcase_set_timeout(in, 30);
	tcase_set_timeout(bud, 30);
	tcase_set_timeout(big, 60);
	suite_add_tcase(s, in);
	suite_add_tcase(s, pr);
	suite_add_tcase(s, add);
	suite_add_tcase(s, walk);
	suite_add_tcase(s, bud);
	suite_add_tcase(s, big);
	return s;
}

CHECK_MAIN(stacks_suite())
