/* The sampler: targets, one sample of each, error frames. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "procfs.h"
#include "py_sample.h"

#define ERROR_FMT "[Profiling error: %s]"

int
pysampler_init(struct pysampler *s, const struct pyopts *o)
{
	memset(s, 0, sizeof(*s));
	s->ps_opts = *o;
	s->ps_codes = calloc(1, sizeof(*s->ps_codes));
	s->ps_thread = calloc(1, sizeof(*s->ps_thread));
	if (s->ps_codes == NULL || s->ps_thread == NULL) {
		pysampler_free(s);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static void
target_detach(struct pysampler *s, struct pytarget *t)
{
	if (t->pt_attached)
		pycode_forget(s->ps_codes, t->pt_proc.pp_gen);
	pyproc_detach(&t->pt_proc);
	t->pt_attached = 0;
}

void
pysampler_free(struct pysampler *s)
{
	for (size_t i = 0; i < s->ps_ntargets; i++)
		target_detach(s, &s->ps_targets[i]);
	if (s->ps_codes != NULL)
		pycode_clear(s->ps_codes);
	free(s->ps_targets);
	free(s->ps_codes);
	free(s->ps_thread);
	memset(s, 0, sizeof(*s));
}

/* --- targets --------------------------------------------------------- */

static struct pytarget *
target_find(struct pysampler *s, pid_t pid)
{
	for (size_t i = 0; i < s->ps_ntargets; i++)
		if (s->ps_targets[i].pt_proc.pp_pid == pid)
			return &s->ps_targets[i];
	return NULL;
}

static struct pytarget *
target_add(struct pysampler *s, pid_t pid)
{
	struct pytarget *t;

	if (s->ps_targets == NULL &&
	    (s->ps_targets = calloc(PYSAMPLE_MAX_PROCS, sizeof(*t))) == NULL)
		return NULL;
	if (s->ps_ntargets >= PYSAMPLE_MAX_PROCS)
		return NULL;
	t = &s->ps_targets[s->ps_ntargets++];
	memset(t, 0, sizeof(*t));
	t->pt_proc.pp_pid = pid;
	return t;
}

/* Attaches t if it is not, or notices that it is gone. */
static void
target_refresh(struct pysampler *s, struct pytarget *t)
{
	pid_t pid = t->pt_proc.pp_pid;

	if (t->pt_attached && pyproc_alive(&t->pt_proc))
		return;
	target_detach(s, t);
	if (pyproc_attach(&t->pt_proc, pid, t->pt_err, sizeof(t->pt_err)) ==
	    0) {
		t->pt_attached = 1;
		t->pt_err[0] = '\0';
		log_info("profiling PID %d (%s), Python %u.%u", (int)pid,
			 t->pt_proc.pp_comm,
			 (t->pt_proc.pp_layout.pl_version >> 16) & 0xff,
			 (t->pt_proc.pp_layout.pl_version >> 8) & 0xff);
	} else {
		t->pt_proc.pp_pid = pid;
		log_info("PID %d: %s", (int)pid, t->pt_err);
	}
}

/* Removes targets for which keep() is 0. */
static void
target_prune(struct pysampler *s, const char *keep)
{
	size_t j = 0;

	for (size_t i = 0; i < s->ps_ntargets; i++) {
		if (keep[i])
			s->ps_targets[j++] = s->ps_targets[i];
		else
			target_detach(s, &s->ps_targets[i]);
	}
	s->ps_ntargets = j;
}

struct candidate {
	pid_t c_pid;
	uint64_t c_cpu;
};

static int
candidate_cmp(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	return x->c_cpu < y->c_cpu ? 1 : x->c_cpu > y->c_cpu ? -1 : 0;
}

/* Lists the Python processes of the host old enough to profile. */
static size_t
discover_scan(struct pysampler *s, struct candidate *c, size_t max)
{
	int64_t age, min = s->ps_opts.po_min_duration;
	uint64_t cpu;
	struct dirent *d;
	size_t n = 0;
	DIR *dp;

	if ((dp = opendir("/proc")) == NULL)
		return 0;
	while ((d = readdir(dp)) != NULL && n < max) {
		pid_t pid = (pid_t)strtol(d->d_name, NULL, 10);
		struct pytarget *t;

		if (pid <= 0 || pid == getpid() ||
		    pyproc_cpu(pid, &cpu) == -1 ||
		    (min > 0 && (age = procfs_age_s(pid)) >= 0 && age < min))
			continue;
		t = target_find(s, pid);
		if ((t != NULL && t->pt_attached) || pyproc_is_python(pid))
			c[n++] = (struct candidate){pid, cpu};
	}
	closedir(dp);
	return n;
}

static void
discover_all(struct pysampler *s, char *keep)
{
	struct candidate *c = calloc(PYSAMPLE_MAX_PROCS, sizeof(*c));
	size_t n;

	if (c == NULL)
		return;
	n = discover_scan(s, c, PYSAMPLE_MAX_PROCS);
	qsort(c, n, sizeof(*c), candidate_cmp);
	if (s->ps_opts.po_max_procs != 0 && n > s->ps_opts.po_max_procs)
		n = s->ps_opts.po_max_procs;
	for (size_t i = 0; i < s->ps_ntargets; i++)
		keep[i] = 0;
	for (size_t i = 0; i < n; i++) {
		struct pytarget *t = target_find(s, c[i].c_pid);

		if (t == NULL && (t = target_add(s, c[i].c_pid)) == NULL)
			break;
		keep[t - s->ps_targets] = 1;
		t->pt_cpu = c[i].c_cpu;
	}
	free(c);
}

size_t
pysampler_discover(struct pysampler *s, const uint32_t *pids, size_t n)
{
	char *keep = calloc(PYSAMPLE_MAX_PROCS, 1);

	if (keep == NULL)
		return s->ps_ntargets;
	if (n == 0) {
		discover_all(s, keep);
	} else {
		for (size_t i = 0; i < n; i++) {
			struct pytarget *t = target_find(s, (pid_t)pids[i]);

			if (t == NULL && (t = target_add(s, (pid_t)pids[i])))
				t->pt_given = 1;
		}
		memset(keep, 1, PYSAMPLE_MAX_PROCS);
	}
	target_prune(s, keep);
	free(keep);
	for (size_t i = 0; i < s->ps_ntargets; i++)
		target_refresh(s, &s->ps_targets[i]);
	return s->ps_ntargets;
}

/* --- one sample ------------------------------------------------------ */

size_t
pysampler_frame(char *buf, size_t len, const char *name, const char *file,
		int line)
{
	int n;

	if (line < 0)
		n = snprintf(buf, len, "%s (%s)_[p]", name, file);
	else
		n = snprintf(buf, len, "%s (%s:%d)_[p]", name, file, line);
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

static int
sample_proc_index(struct pysampler *s, const struct pyproc *p)
{
	struct stack_table *t = s->ps_table;

	if (s->ps_proc >= 0)
		return s->ps_proc;
	s->ps_proc = stacks_proc(t, (uint32_t)p->pp_pid,
				 stacks_intern_str(t, p->pp_comm),
				 stacks_intern_str(t, p->pp_container),
				 stacks_intern_str(t, p->pp_appid));
	return s->ps_proc;
}

static int
sample_filter(void *arg, struct pyproc *p, struct pythread *t)
{
	struct pysampler *s = arg;

	if (s->ps_opts.po_gil && !t->pt_gil)
		return 0;
	if (!s->ps_opts.po_idle && t->pt_tid > 0 &&
	    !pyproc_running(p, t->pt_tid))
		return 0;
	return 1;
}

#define TORN_FRAME    "[torn stack]_[p]"
#define UNKNOWN_FRAME "[unknown code]_[p]"

/* Interns the frame f whose code header copy is hdr (NULL: unreadable);
 * an unreadable code object gives UNKNOWN_FRAME, counted. */
static uint32_t
sample_frame(struct pysampler *s, struct pyproc *p, const struct pyframe *f,
	     const uint8_t *hdr)
{
	const struct pycode *co = NULL;
	char buf[PYSAMPLE_FRAME_MAX];
	size_t n;
	int line;

	if (hdr != NULL)
		co = pycode_lookup(s->ps_codes, p, f->pf_code, hdr);
	if (co == NULL) {
		s->ps_window.st_unknown_frames++;
		return stacks_intern_str(s->ps_table, UNKNOWN_FRAME);
	}
	line = s->ps_opts.po_no_lines
		   ? -1
		   : pycode_line(&p->pp_layout, co, f->pf_pos);
	n = pysampler_frame(buf, sizeof(buf), co->pc_name, co->pc_file,
			    line < 0 && !s->ps_opts.po_no_lines ? 0 : line);
	return stacks_intern(s->ps_table, buf, n);
}

/* Adds the walked frames of thread t: everything that was read is kept;
 * what could not be read shows as a marked frame. */
static void
sample_frames(void *arg, struct pyproc *p, struct pythread *t)
{
	struct pysampler *s = arg;
	struct pytarget *tg = (struct pytarget *)p; /* pt_proc is first */
	uint32_t ids[PY_MAX_DEPTH + 2];
	const uint8_t *hdr[PY_MAX_DEPTH];
	uint64_t addrs[PY_MAX_DEPTH];
	size_t n = 0, unknown = s->ps_window.st_unknown_frames;
	int proc;

	for (size_t i = 0; i < t->pt_depth; i++)
		addrs[i] = t->pt_frames[i].pf_code;
	pycode_headers(s->ps_codes, p, addrs, t->pt_depth, hdr);
	if (t->pt_truncated)
		ids[n++] = stacks_intern_str(s->ps_table, "[truncated]_[p]");
	if (t->pt_torn & PYTORN_CHAIN)
		ids[n++] = stacks_intern_str(s->ps_table, TORN_FRAME);
	for (size_t i = t->pt_depth; i-- > 0;)
		ids[n++] = sample_frame(s, p, &t->pt_frames[i], hdr[i]);
	for (size_t i = 0; i < n; i++)
		if (ids[i] == STACKS_NONE)
			goto full;
	if ((proc = sample_proc_index(s, p)) < 0 ||
	    stacks_add(s->ps_table, proc, ids, n, 1) == -1)
		goto full;
	tg->pt_samples++;
	s->ps_stacks++;
	s->ps_tick_added++;
	s->ps_window.st_samples++;
	if (t->pt_torn || s->ps_window.st_unknown_frames != unknown)
		s->ps_window.st_torn++;
	return;
full:
	s->ps_dropped++;
	s->ps_tick_full = 1;
}

/* The reason a walk that returned n threads (counts wc) gave nothing. */
static enum pyns
sample_reason(int n, const struct pywalk_counts *wc, int full)
{
	if (full)
		return PYNS_FULL;
	if (n == 0)
		return PYNS_NO_THREAD;
	if (wc->wc_passed == 0)
		return PYNS_IDLE;
	if (wc->wc_unreadable == wc->wc_passed)
		return PYNS_READ_ERROR;
	return PYNS_NO_FRAMES;
}

/* Samples target tg once; returns why it gave no sample, or PYNS_COUNT
 * when it gave one. */
static enum pyns
sample_walk(struct pysampler *s, struct pytarget *tg)
{
	struct pyproc *p = &tg->pt_proc;
	struct pywalk_counts wc;
	int n, err;

	s->ps_proc = -1;
	s->ps_tick_added = 0;
	s->ps_tick_full = 0;
	n = pythread_walk(p, s->ps_thread, sample_filter, sample_frames, s,
			  &wc);
	if (n >= 0) {
		tg->pt_ok++;
		return s->ps_tick_added > 0
			   ? PYNS_COUNT
			   : sample_reason(n, &wc, s->ps_tick_full);
	}
	err = errno;
	if (!pyproc_alive(p)) {
		target_detach(s, tg);
		snprintf(tg->pt_err, sizeof(tg->pt_err), "process exited");
		return PYNS_GONE;
	}
	tg->pt_failed++;
	snprintf(tg->pt_err, sizeof(tg->pt_err), "cannot read memory: %s",
		 strerror(err));
	return PYNS_READ_ERROR;
}

static void
sample_target(struct pysampler *s, struct pytarget *tg)
{
	enum pyns why = sample_walk(s, tg);

	s->ps_window.st_target_ticks++;
	if (why == PYNS_COUNT)
		s->ps_window.st_sampled++;
	else
		s->ps_window.st_nosample[why]++;
}

/* Attached targets. */
static uint64_t
sample_attached(const struct pysampler *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->ps_ntargets; i++)
		n += s->ps_targets[i].pt_attached != 0;
	return n;
}

void
pysampler_tick(struct pysampler *s, struct stack_table *t)
{
	s->ps_table = t;
	s->ps_ticks++;
	s->ps_window.st_ticks++;
	for (size_t i = 0; i < s->ps_ntargets; i++)
		if (s->ps_targets[i].pt_attached)
			sample_target(s, &s->ps_targets[i]);
	s->ps_table = NULL;
}

void
pysampler_late(struct pysampler *s, uint64_t n)
{
	uint64_t targets = sample_attached(s);

	s->ps_window.st_ticks += n;
	s->ps_window.st_target_ticks += n * targets;
	s->ps_window.st_nosample[PYNS_LATE] += n * targets;
}

uint64_t
pysampler_stats_lost(const struct pystats *st)
{
	uint64_t lost = 0;

	for (int i = 0; i < PYNS_COUNT; i++)
		if (i != PYNS_IDLE)
			lost += st->st_nosample[i];
	return lost;
}

const char *
pysampler_stats_format(const struct pystats *st, char *buf, size_t len)
{
	const uint64_t *ns = st->st_nosample;
	uint64_t none = 0;

	for (int i = 0; i < PYNS_COUNT; i++)
		none += ns[i];
	snprintf(buf, len,
		 "ticks=%llu target_ticks=%llu sampled=%llu no_sample=%llu "
		 "samples=%llu torn=%llu unknown_frames=%llu (idle=%llu "
		 "no_thread=%llu no_frames=%llu read_error=%llu gone=%llu "
		 "full=%llu late=%llu)",
		 (unsigned long long)st->st_ticks,
		 (unsigned long long)st->st_target_ticks,
		 (unsigned long long)st->st_sampled, (unsigned long long)none,
		 (unsigned long long)st->st_samples,
		 (unsigned long long)st->st_torn,
		 (unsigned long long)st->st_unknown_frames,
		 (unsigned long long)ns[PYNS_IDLE],
		 (unsigned long long)ns[PYNS_NO_THREAD],
		 (unsigned long long)ns[PYNS_NO_FRAMES],
		 (unsigned long long)ns[PYNS_READ_ERROR],
		 (unsigned long long)ns[PYNS_GONE],
		 (unsigned long long)ns[PYNS_FULL],
		 (unsigned long long)ns[PYNS_LATE]);
	return buf;
}

static void
window_error(struct stack_table *t, struct pytarget *tg)
{
	const struct pyproc *p = &tg->pt_proc;
	char buf[PYPROC_ERR_MAX + 32];
	uint32_t id;
	int proc;

	snprintf(buf, sizeof(buf), ERROR_FMT, tg->pt_err);
	id = stacks_intern_str(t, buf);
	proc = stacks_proc(
	    t, (uint32_t)p->pp_pid,
	    stacks_intern_str(t, p->pp_comm[0] ? p->pp_comm : "python"),
	    stacks_intern_str(t, p->pp_container),
	    stacks_intern_str(t, p->pp_appid));
	if (proc < 0 || id == STACKS_NONE ||
	    stacks_add(t, proc, &id, 1, 1) == -1)
		return;
	stacks_proc_at(t, (size_t)proc)->sp_error =
	    stacks_intern_str(t, tg->pt_err);
}

void
pysampler_window_end(struct pysampler *s, struct stack_table *t)
{
	for (size_t i = 0; i < s->ps_ntargets; i++) {
		struct pytarget *tg = &s->ps_targets[i];

		if (tg->pt_samples == 0 && tg->pt_ok == 0 &&
		    tg->pt_err[0] != '\0')
			window_error(t, tg);
		tg->pt_samples = tg->pt_failed = tg->pt_ok = 0;
	}
	s->ps_last = s->ps_window;
	memset(&s->ps_window, 0, sizeof(s->ps_window));
}
