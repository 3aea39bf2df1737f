/* Walking the threads and frames of a remote CPython. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "py_thread.h"

/* Brent's cycle detection over a chain of addresses. */
struct cycle {
	uint64_t cy_mark;
	size_t cy_power, cy_len;
};

static void
cycle_init(struct cycle *c)
{
	c->cy_mark = 0;
	c->cy_power = c->cy_len = 1;
}

/* Returns 1 when addr closes a cycle. */
static int
cycle_step(struct cycle *c, uint64_t addr)
{
	if (addr == c->cy_mark)
		return 1;
	if (c->cy_len++ == c->cy_power) {
		c->cy_mark = addr;
		c->cy_power *= 2;
		c->cy_len = 1;
	}
	return 0;
}

/* The first frame of thread state ts, or 0. */
static int
pythread_top(struct pyproc *p, const uint8_t *ts, uint64_t *frame)
{
	const struct py_layout *l = &p->pp_layout;
	uint64_t f = pymem_u64(ts, l->pl_ts_frame);

	if (l->pl_walk == PYWALK_CFRAME && f != 0 &&
	    pymem_ptr(&p->pp_mem, f + l->pl_cf_current, &f) == -1)
		return -1;
	*frame = f;
	return 0;
}

/* Reads the pages below and including the one that ends a frame at
 * end, highest first, in one batched read: the frames of 3.11+ sit in
 * the thread's data stack, callers below callees, so one read usually
 * holds the whole chain, as one snapshot. */
static void
block_read(struct pymem *m, struct pyblock *b, uint64_t end)
{
	struct pymem_vec v[PY_BLOCK_PAGES];
	uint64_t top = (end - 1) & ~(uint64_t)(PY_PAGE - 1);
	size_t n;

	b->pb_base = top - (uint64_t)(PY_BLOCK_PAGES - 1) * PY_PAGE;
	v[0] = (struct pymem_vec){top, b->pb_buf + (top - b->pb_base),
				  (size_t)(end - top)};
	for (size_t i = 1; i < PY_BLOCK_PAGES; i++) {
		uint64_t a = top - (uint64_t)i * PY_PAGE;

		v[i] = (struct pymem_vec){a, b->pb_buf + (a - b->pb_base),
					  PY_PAGE};
	}
	n = pymem_readv(m, v, PY_BLOCK_PAGES);
	b->pb_hi = end;
	b->pb_lo = n == 0 ? end : top - (uint64_t)(n - 1) * PY_PAGE;
}

/* Returns a local copy of the frame at f, or NULL when unreadable. */
static const uint8_t *
frame_at(struct pyproc *p, struct pythread *t, uint64_t f)
{
	const struct py_layout *l = &p->pp_layout;
	struct pyblock *b = &t->pt_block;
	uint64_t end = f + l->pl_fr_size;

	if (end < f || f < PY_PAGE)
		return NULL;
	if (f >= b->pb_lo && end <= b->pb_hi)
		return b->pb_buf + (f - b->pb_base);
	if (l->pl_walk == PYWALK_FRAMEOBJ) {
		/* Frame objects are heap objects: one read each. */
		b->pb_base = b->pb_lo = f;
		b->pb_hi = f;
		if (pymem_read(&p->pp_mem, f, b->pb_buf, l->pl_fr_size) == -1)
			return NULL;
		b->pb_hi = end;
		return b->pb_buf;
	}
	block_read(&p->pp_mem, b, end);
	return f >= b->pb_lo ? b->pb_buf + (f - b->pb_base) : NULL;
}

/* Adds the frame whose copy is fr to t, unless it is a shim. */
static void
frame_add(const struct py_layout *l, const uint8_t *fr, struct pythread *t)
{
	struct pyframe *pf;

	/* 3.12+: frames owned by the C stack are shims, no code. */
	if (l->pl_fr_owner && l->pl_version >= PYVER(3, 12) &&
	    fr[l->pl_fr_owner] == 3)
		return;
	pf = &t->pt_frames[t->pt_depth++];
	/* 3.14 tags the low bits of f_executable. */
	pf->pf_code = pymem_u64(fr, l->pl_fr_code) & ~7ULL;
	pf->pf_pos = l->pl_walk == PYWALK_FRAMEOBJ
			 ? pymem_u32(fr, l->pl_fr_lasti)
			 : pymem_u64(fr, l->pl_fr_lasti);
}

int
pythread_frames(struct pyproc *p, const uint8_t *ts, struct pythread *t)
{
	const struct py_layout *l = &p->pp_layout;
	const uint8_t *fr;
	struct cycle cy;
	uint64_t f;

	t->pt_depth = 0;
	t->pt_truncated = 0;
	t->pt_torn = 0;
	t->pt_block.pb_lo = t->pt_block.pb_hi = 0;
	if (l->pl_fr_size > PY_PAGE || pythread_top(p, ts, &f) == -1)
		return -1;
	t->pt_top = f;
	cycle_init(&cy);
	while (f != 0) {
		if (t->pt_depth >= PY_MAX_DEPTH) {
			t->pt_truncated = 1;
			break;
		}
		if (cycle_step(&cy, f) || (fr = frame_at(p, t, f)) == NULL) {
			/* Torn or garbage: keep the frames read so far. */
			t->pt_torn |= PYTORN_CHAIN;
			if (t->pt_depth == 0 && f == t->pt_top) {
				errno = EFAULT;
				return -1;
			}
			break;
		}
		frame_add(l, fr, t);
		f = pymem_u64(fr, l->pl_fr_back);
	}
	return 0;
}

/* The thread state holding the GIL, or 0 (none, or unknown). */
static uint64_t
pythread_gil(struct pyproc *p, uint64_t interp)
{
	const struct py_layout *l = &p->pp_layout;
	uint64_t v = 0, gil;
	uint32_t locked;

	if (l->pl_gil == PYGIL_TSTATE_CURRENT) {
		if (pymem_ptr(&p->pp_mem,
			      p->pp_runtime + l->pl_rt_tstate_current,
			      &v) == -1)
			return 0;
		return v;
	}
	if (pymem_ptr(&p->pp_mem, interp + l->pl_is_gil, &gil) == -1 ||
	    pymem_read(&p->pp_mem, gil + l->pl_gil_locked, &locked,
		       sizeof(locked)) == -1 ||
	    !locked || pymem_ptr(&p->pp_mem, gil + l->pl_gil_holder, &v) == -1)
		return 0;
	return v;
}

/* Finds the TID field of glibc's struct pthread (3.8-3.10, which keep no
 * native thread id): the first offset holding a TID of the process. */
static pid_t
pythread_pthread_tid(struct pyproc *p, uint64_t pthread)
{
	int32_t buf[PY_PTHREAD_SCAN / 4];
	int32_t v;

	if (pthread == 0 || p->pp_tid_off == -2)
		return -1;
	if (p->pp_tid_off >= 0) {
		if (pymem_read(&p->pp_mem, pthread + (uint64_t)p->pp_tid_off,
			       &v, sizeof(v)) == -1)
			return -1;
		return pyproc_host_tid(p, v);
	}
	if (pymem_read(&p->pp_mem, pthread, buf, sizeof(buf)) == -1)
		return -1;
	for (int i = -1; i < (int)(PY_PTHREAD_SCAN / 4); i++) {
		int off = i < 0 ? PY_PTHREAD_TID : i * 4;
		pid_t host;

		v = buf[off / 4];
		if (v > 0 && (host = pyproc_host_tid(p, v)) > 0 &&
		    pyproc_tid_exists(p, host)) {
			p->pp_tid_off = off;
			return host;
		}
	}
	p->pp_tid_off = -2;
	return -1;
}

static pid_t
pythread_tid(struct pyproc *p, const uint8_t *ts)
{
	const struct py_layout *l = &p->pp_layout;

	if (l->pl_ts_native_tid != 0)
		return pyproc_host_tid(
		    p, (pid_t)pymem_u64(ts, l->pl_ts_native_tid));
	return pythread_pthread_tid(p, pymem_u64(ts, l->pl_ts_thread_id));
}

/* Returns 1 when the newest frame of thread t is not the one its walk
 * started from: the walk may mix two moments (it is kept, and counted). */
static int
pythread_moved(struct pyproc *p, const struct pythread *t)
{
	const struct py_layout *l = &p->pp_layout;
	uint8_t ts[4096];
	uint64_t f;

	if (pymem_read(&p->pp_mem, t->pt_addr, ts, l->pl_ts_frame + 8) == -1 ||
	    pythread_top(p, ts, &f) == -1)
		return 1;
	return f != t->pt_top;
}

/* Walks thread t (thread state ts) and hands its frames on. */
static void
pythread_one(struct pyproc *p, const uint8_t *ts, struct pythread *t,
	     pythread_frames_fn frames, void *arg, struct pywalk_counts *wc)
{
	if (pythread_frames(p, ts, t) == -1) {
		wc->wc_unreadable++;
		return;
	}
	if (t->pt_depth == 0) {
		wc->wc_empty++;
		return;
	}
	if (pythread_moved(p, t))
		t->pt_torn |= PYTORN_MOVED;
	frames(arg, p, t);
}

int
pythread_walk(struct pyproc *p, struct pythread *t, pythread_filter_fn filter,
	      pythread_frames_fn frames, void *arg, struct pywalk_counts *wc)
{
	const struct py_layout *l = &p->pp_layout;
	uint64_t interp, addr, holder;
	uint8_t ts[4096];
	struct cycle cy;
	int n = 0;

	memset(wc, 0, sizeof(*wc));
	if (l->pl_ts_size > sizeof(ts) ||
	    pymem_ptr(&p->pp_mem, p->pp_runtime + l->pl_rt_interp_head,
		      &interp) == -1 ||
	    interp == 0 ||
	    pymem_ptr(&p->pp_mem, interp + l->pl_is_threads_head, &addr) == -1)
		return -1;
	holder = pythread_gil(p, interp);
	cycle_init(&cy);
	for (; addr != 0 && n < PY_MAX_THREADS; n++) {
		if (cycle_step(&cy, addr) ||
		    pymem_read(&p->pp_mem, addr, ts, l->pl_ts_size) == -1 ||
		    pymem_u64(ts, l->pl_ts_interp) != interp)
			break; /* torn or garbage: keep what was seen */
		t->pt_addr = addr;
		t->pt_gil = holder != 0 && holder == addr;
		t->pt_tid = pythread_tid(p, ts);
		wc->wc_threads++;
		if (filter(arg, p, t)) {
			wc->wc_passed++;
			pythread_one(p, ts, t, frames, arg, wc);
		}
		addr = pymem_u64(ts, l->pl_ts_next);
	}
	return n;
}
