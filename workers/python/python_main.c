/* profd-python: CPython stacks read from outside the processes. */
#include "config.h"

#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "optdefs.h"
#include "py_sample.h"
#include "worker.h"

static const int python_caps[] = {CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, -1};

/* Beyond the base set: reading other processes, and the sampling
 * thread's absolute sleeps. No exec, no network, and no ioctl request or
 * prctl option beyond the base ones. */
static const char *const python_syscalls[] = {
    "process_vm_readv",
    "clock_nanosleep",
    "getdents",
    NULL,
};

static const struct sandbox_policy python_policy = {
    .sp_name = "python",
    .sp_caps = python_caps,
    .sp_syscalls = python_syscalls,
    .sp_unix_only = 1,
};

/* Its part of Configure (or of its command line). */
struct python_opts {
	int wo_python_idle;	  /* threads off the CPU too */
	int wo_python_gil;	  /* only the GIL holder */
	int wo_python_no_lines;	  /* frames without line numbers */
	uint32_t wo_max_procs;	  /* processes profiled; 0: all */
	uint32_t wo_min_duration; /* seconds a process must have run */
};

static struct python_opts python_o;

#define OD_MSG	       Profd__PythonSettings
#define OD_HOLDER      struct python_opts
#define OD_FIELD(stem) wo_##stem
static const struct optdef python_rows[] = {PROFD_PYTHON_OPTIONS(OPTDEF_ROW)
						OPTDEF_END};

#define PYTHON_WINDOW_BUDGET (WORKER_CHUNK_BUDGET / 2)

struct python_state {
	struct pysampler ps_sampler;
	pthread_t ps_thread;
	int ps_running;
	pthread_mutex_t ps_lock;
	struct stack_table *ps_cur; /* the sampler adds here, under lock */
	struct stack_table *ps_spare;
	volatile int ps_stop;
	volatile int ps_rediscover;
	uint32_t ps_hz;
	struct timespec ps_t0; /* the timer's first tick */
	const uint32_t *ps_pids;
	size_t ps_npids;
};

static void
timespec_add_ns(struct timespec *t, int64_t ns)
{
	t->tv_nsec += ns % 1000000000;
	t->tv_sec += ns / 1000000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_nsec -= 1000000000;
		t->tv_sec++;
	}
}

/* Returns 1 when t is before now. */
static int
timespec_past(const struct timespec *t, const struct timespec *now)
{
	return t->tv_sec < now->tv_sec ||
	       (t->tv_sec == now->tv_sec && t->tv_nsec < now->tv_nsec);
}

/* Whole periods from t to now (t before now). */
static uint64_t
timespec_periods(const struct timespec *t, const struct timespec *now,
		 int64_t period)
{
	int64_t ns = (int64_t)(now->tv_sec - t->tv_sec) * 1000000000LL +
		     (now->tv_nsec - t->tv_nsec);

	return ns > 0 ? (uint64_t)(ns / period) : 0;
}

/* The sampling thread: one tick every 1/f s, whatever the window. A
 * tick it missed because it ran late is counted, never made up. */
static void *
python_sampler(void *arg)
{
	struct python_state *st = arg;
	int64_t period = 1000000000LL / st->ps_hz;
	struct timespec next = st->ps_t0, now;

	while (!st->ps_stop) {
		if (st->ps_rediscover) {
			st->ps_rediscover = 0;
			pysampler_discover(&st->ps_sampler, st->ps_pids,
					   st->ps_npids);
		}
		pthread_mutex_lock(&st->ps_lock);
		pysampler_tick(&st->ps_sampler, st->ps_cur);
		pthread_mutex_unlock(&st->ps_lock);
		timespec_add_ns(&next, period);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timespec_past(&next, &now)) {
			/* Fell behind: of the ticks due since next, the last
			 * is taken now and the others are lost, and counted;
			 * the ticks stay on their grid. */
			uint64_t lost = timespec_periods(&next, &now, period);

			if (lost > 0) {
				pthread_mutex_lock(&st->ps_lock);
				pysampler_late(&st->ps_sampler, lost);
				pthread_mutex_unlock(&st->ps_lock);
				timespec_add_ns(&next, (int64_t)lost * period);
			}
			continue;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				       NULL) == EINTR &&
		       !st->ps_stop)
			;
	}
	return NULL;
}

static void
python_free(struct python_state *st)
{
	pysampler_free(&st->ps_sampler);
	stacks_free(st->ps_cur);
	stacks_free(st->ps_spare);
	pthread_mutex_destroy(&st->ps_lock);
	free(st);
}

static int
python_start(struct worker_ctx *ctx)
{
	const struct python_opts *o = &python_o;
	struct pyopts po = {
	    .po_idle = o->wo_python_idle,
	    .po_gil = o->wo_python_gil,
	    .po_no_lines = o->wo_python_no_lines,
	    .po_max_procs = o->wo_max_procs,
	    .po_min_duration = o->wo_min_duration,
	};
	struct python_state *st;
	size_t n;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -1;
	pthread_mutex_init(&st->ps_lock, NULL);
	st->ps_hz = ctx->wc_opts.wo_frequency;
	st->ps_pids = ctx->wc_opts.wo_pids;
	st->ps_npids = ctx->wc_opts.wo_npids;
	if (pysampler_init(&st->ps_sampler, &po) == -1 ||
	    (st->ps_cur = stacks_new(PYTHON_WINDOW_BUDGET)) == NULL ||
	    (st->ps_spare = stacks_new(PYTHON_WINDOW_BUDGET)) == NULL) {
		python_free(st);
		return -1;
	}
	n = pysampler_discover(&st->ps_sampler, st->ps_pids, st->ps_npids);
	log_info("%zu Python processes to profile at %u Hz", n, st->ps_hz);
	/* The grid starts now: a thread slow to start misses ticks, counted. */
	clock_gettime(CLOCK_MONOTONIC, &st->ps_t0);
	if ((errno = pthread_create(&st->ps_thread, NULL, python_sampler,
				    st)) != 0) {
		log_error("cannot start the sampling thread: %s",
			  strerror(errno));
		python_free(st);
		return -1;
	}
	st->ps_running = 1;
	ctx->wc_priv = st;
	return 0;
}

/* Copies one stack of the sampler's table into the shell's table. */
static int
python_copy(void *arg, const struct stack_proc *sp, const uint32_t *frames,
	    size_t n, uint64_t count)
{
	struct stack_table *dst = ((struct stack_table **)arg)[0];
	const struct stack_table *src = ((struct stack_table **)arg)[1];
	uint32_t ids[STACKS_MAX_FRAMES];
	int proc;

	for (size_t i = 0; i < n && i < STACKS_MAX_FRAMES; i++)
		if ((ids[i] = stacks_intern(dst, stacks_str(src, frames[i]),
					    stacks_strlen(src, frames[i]))) ==
		    STACKS_NONE)
			return 0; /* full: skip this stack */
	proc = stacks_proc(
	    dst, sp->sp_pid,
	    stacks_intern_str(dst, stacks_str(src, sp->sp_comm)),
	    stacks_intern_str(dst, stacks_str(src, sp->sp_container)),
	    stacks_intern_str(dst, stacks_str(src, sp->sp_app_id)));
	if (proc < 0)
		return 0;
	if (sp->sp_error != 0)
		stacks_proc_at(dst, (size_t)proc)->sp_error =
		    stacks_intern_str(dst, stacks_str(src, sp->sp_error));
	stacks_add(dst, proc, ids, n, count);
	return 0;
}

static int
python_snapshot(struct worker_ctx *ctx, uint64_t window, struct stack_table *t)
{
	struct python_state *st = ctx->wc_priv;
	struct stack_table *done, *pair[2];
	char stats[512];

	pthread_mutex_lock(&st->ps_lock);
	pysampler_window_end(&st->ps_sampler, st->ps_cur);
	done = st->ps_cur;
	st->ps_cur = st->ps_spare;
	st->ps_spare = done;
	pthread_mutex_unlock(&st->ps_lock);
	st->ps_rediscover = 1;
	ctx->wc_lost = pysampler_stats_lost(&st->ps_sampler.ps_last);
	log_info("window %llu: %s", (unsigned long long)window,
		 pysampler_stats_format(&st->ps_sampler.ps_last, stats,
					sizeof(stats)));
	pair[0] = t;
	pair[1] = done;
	stacks_foreach(done, python_copy, pair);
	log_debug("window: %llu stacks, %llu samples; code cache %zu bytes",
		  (unsigned long long)stacks_count(done),
		  (unsigned long long)stacks_total(done),
		  st->ps_sampler.ps_codes->pcc_bytes);
	stacks_clear(done);
	return 0;
}

static void
python_stop(struct worker_ctx *ctx)
{
	struct python_state *st = ctx->wc_priv;

	if (st == NULL)
		return;
	st->ps_stop = 1;
	if (st->ps_running)
		pthread_join(st->ps_thread, NULL);
	python_free(st);
	ctx->wc_priv = NULL;
}

static const struct profiler_ops python_ops = {
    .po_name = "python",
    .po_policy = &python_policy,
    .po_start = python_start,
    .po_snapshot = python_snapshot,
    .po_stop = python_stop,
    .po_rows = python_rows,
    .po_settings = &python_o,
    .po_settings_case = PROFD__CONFIGURE__SETTINGS_PYTHON,
    .po_runtime = 1, /* its stacks replace perf's for the same PID */
    .po_usage = "\n       [--python-idle] [--python-gil] "
		"[--python-no-line-numbers]"
		"\n       [--max-processes-runtime-profiler N] "
		"[--min-duration SECONDS]",
};

int
main(int argc, char **argv)
{
	return worker_main(argc, argv, &python_ops);
}
