/*
 * The native engine: perf_event_open on every CPU, records read from the
 * rings by one thread, stacks counted per window before any symbol is
 * looked up.
 *
 * The thread and the snapshot share one mutex: the thread holds it while it
 * drains the rings, the snapshot while it names the window's stacks (the
 * kernel keeps filling the rings meanwhile; what does not fit is counted as
 * lost). Processes and threads are followed through COMM, FORK, EXIT and
 * MMAP2 records; one that exits is kept until the window it exited in has
 * been named, so that it keeps its name and its files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "perf_cgevents.h"
#include "perf_jit.h"
#include "perf_native.h"
#include "perf_procs.h"
#include "perf_ring.h"
#include "perf_script.h"
#include "perf_smart.h"
#include "perf_symbols.h"
#include "perf_unwind.h"
#include "procfs.h"

#define NAT_COMM	  16   /* bytes of a comm, as the kernel keeps it */
#define NAT_PROC_BUCKETS  4096 /* powers of 2 */
#define NAT_TASK_BUCKETS  16384
#define NAT_STACK_BUCKETS 65536
#define NAT_POLL_MS	  100
#define NAT_SWEEP_WINDOWS 16 /* windows between two checks of /proc */
#define NAT_NAME_MAX	  (STACKS_MAX_STRING)
#define NAT_KERNEL_MAX	  256  /* kernel entries of a dwarf sample's chain */
#define NAT_DWARF_STACK	  8192 /* bytes of user stack per sample, as perf */
/* Marks a chain unwound with DWARF (smart mode counts both chains). */
#define NAT_CONTEXT_DWARF ((uint64_t)-4000)
#define NAT_CHAIN_MAX	  (NAT_KERNEL_MAX + 2 + PERF_UNWIND_MAX_DEPTH)

/* --perf-mode: frame pointers, DWARF, or both (smart). */
enum nat_mode { NAT_FP, NAT_DWARF, NAT_SMART };
#define NAT_ARENA_KEEP (1u << 20) /* bytes of stacks kept between windows */

struct nat_map {
	uint64_t nm_start, nm_end, nm_pgoff, nm_dev, nm_ino;
	char *nm_path; /* "//anon" for anonymous memory */
};

struct nat_proc {
	uint32_t np_pid;
	uint8_t np_loaded;	 /* maps read from /proc or inherited */
	uint8_t np_dead;	 /* exited: freed after the next window */
	uint8_t np_wanted;	 /* sampled (--pids and their children) */
	uint32_t np_ppid;	 /* the parent, when a FORK record told it */
	uint64_t np_gen;	 /* changes with the mappings (unwinding) */
	struct nat_map *np_maps; /* sorted by start, not overlapping */
	uint32_t np_n, np_cap;
	struct nat_proc *np_next;
};

struct nat_task {
	uint32_t nt_tid;
	uint8_t nt_dead;
	char nt_comm[NAT_COMM];
	struct nat_task *nt_next;
};

/* One distinct stack of the window, in the arena. */
struct nat_stack {
	uint32_t ns_next; /* offset + 1 of the next in the bucket, 0: none */
	uint32_t ns_hash;
	uint32_t ns_pid;
	uint32_t ns_n; /* entries of ns_ips, context markers included */
	uint64_t ns_count;
	char ns_comm[NAT_COMM];
	uint64_t ns_ips[];
};

struct nat_addr {
	uint64_t na_addr;
	uint32_t na_pid; /* UINT32_MAX: kernel */
	uint32_t na_id;	 /* 0: empty slot */
};

struct perf_native {
	pthread_mutex_t pn_lock;
	pthread_t pn_thread;
	int pn_thread_on;
	int pn_stop[2]; /* a pipe: closing its write end stops the thread */
	struct perf_ring *pn_rings;
	size_t pn_nrings;
	struct perf_cgevents *pn_cg; /* --perf-use-cgroups, or NULL */
	char pn_event[32];
	int pn_pids; /* --pids given: only wanted processes are counted */
	int pn_gone; /* every one of them exited: the events are disabled */
	struct nat_proc *pn_procs[NAT_PROC_BUCKETS];
	size_t pn_nprocs;
	struct nat_task *pn_tasks[NAT_TASK_BUCKETS];
	size_t pn_ntasks;
	uint32_t *pn_buckets; /* NAT_STACK_BUCKETS offsets + 1 */
	char *pn_arena;
	size_t pn_len, pn_cap, pn_nstacks;
	uint64_t pn_samples, pn_truncated, pn_lost, pn_bad;
	uint64_t pn_last_lost; /* pn_lost of the last window named */
	int64_t pn_last_ms;
	uint64_t pn_windows;
	struct perf_ksyms *pn_ksyms;
	struct perf_symcache *pn_syms;
	struct nat_addr *pn_addrs; /* PERF_NATIVE_ADDR_SLOTS */
	char pn_name[NAT_NAME_MAX];
	enum nat_mode pn_mode;
	uint32_t pn_stack_size;		  /* bytes of user stack per sample */
	struct perf_unwind *pn_unwind;	  /* dwarf and smart modes */
	uint64_t pn_chain[NAT_CHAIN_MAX]; /* a dwarf sample's chain */
};

/* ---- processes and threads ---------------------------------------------- */

static struct nat_proc **
nat_proc_slot(struct perf_native *n, uint32_t pid)
{
	struct nat_proc **pp =
	    &n->pn_procs[(pid * 2654435761u) & (NAT_PROC_BUCKETS - 1)];

	while (*pp != NULL && (*pp)->np_pid != pid)
		pp = &(*pp)->np_next;
	return pp;
}

/* Mappings held by all processes (one engine per worker), bounded by
 * PERF_NATIVE_MAX_ALL_MAPS. */
static size_t nat_all_maps;

static void
nat_maps_clear(struct nat_proc *p)
{
	for (uint32_t i = 0; i < p->np_n; i++)
		free(p->np_maps[i].nm_path);
	nat_all_maps -= p->np_n;
	p->np_n = 0;
	p->np_gen++;
}

/* Adds the mapping m (its path copied), replacing what it overlaps. */
static int
nat_map_add(struct nat_proc *p, const struct nat_map *m)
{
	uint32_t i = 0, j;

	/* JIT code (anonymous) changes no file the unwinder reads */
	p->np_gen += m->nm_path[0] == '/';
	while (i < p->np_n && p->np_maps[i].nm_end <= m->nm_start)
		i++;
	for (j = i; j < p->np_n && p->np_maps[j].nm_start < m->nm_end; j++) {
		p->np_gen += p->np_maps[j].nm_path[0] == '/';
		free(p->np_maps[j].nm_path);
	}
	if (j > i) /* np_maps may still be NULL otherwise */
		memmove(&p->np_maps[i], &p->np_maps[j],
			(p->np_n - j) * sizeof(*p->np_maps));
	p->np_n -= j - i;
	nat_all_maps -= j - i;
	if (p->np_n >= PERF_NATIVE_MAX_MAPS ||
	    nat_all_maps >= PERF_NATIVE_MAX_ALL_MAPS)
		return -1;
	if (p->np_n == p->np_cap) {
		uint32_t cap = p->np_cap ? p->np_cap * 2 : 32;
		struct nat_map *a = realloc(p->np_maps, cap * sizeof(*a));

		if (a == NULL)
			return -1;
		p->np_maps = a;
		p->np_cap = cap;
	}
	memmove(&p->np_maps[i + 1], &p->np_maps[i],
		(p->np_n - i) * sizeof(*p->np_maps));
	p->np_maps[i] = *m;
	if ((p->np_maps[i].nm_path = strdup(m->nm_path)) == NULL) {
		memmove(&p->np_maps[i], &p->np_maps[i + 1],
			(p->np_n - i) * sizeof(*p->np_maps));
		return -1;
	}
	p->np_n++;
	nat_all_maps++;
	return 0;
}

/* Parses one line of /proc/PID/maps; 1 for an executable mapping. */
static int
nat_maps_line(char *line, struct nat_map *m)
{
	unsigned long long start, end, off, ino;
	unsigned maj, min;
	char perms[8];
	int pos = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end,
		   perms, &off, &maj, &min, &ino, &pos) < 7 ||
	    strchr(perms, 'x') == NULL)
		return 0;
	line[strcspn(line, "\n")] = '\0';
	*m = (struct nat_map){start, end,
			      off,   makedev(maj, min),
			      ino,   line[pos] != '\0' ? line + pos : "//anon"};
	return 1;
}

/* Reads the executable mappings of p from /proc; -1 if p is gone. */
static int
nat_maps_load(struct nat_proc *p)
{
	char path[64], line[PATH_MAX + 128];
	struct nat_map m;
	FILE *f;

	p->np_loaded = 1;
	snprintf(path, sizeof(path), "/proc/%u/maps", p->np_pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (nat_maps_line(line, &m) && nat_map_add(p, &m) == -1)
			break;
	fclose(f);
	return 0;
}

/* Returns process pid, adding it when create; NULL if absent or full. */
static struct nat_proc *
nat_proc_get(struct perf_native *n, uint32_t pid, int create)
{
	struct nat_proc **pp = nat_proc_slot(n, pid);

	if (*pp != NULL || !create)
		return *pp;
	if (n->pn_nprocs >= PERF_NATIVE_MAX_PROCS ||
	    (*pp = calloc(1, sizeof(**pp))) == NULL)
		return NULL;
	(*pp)->np_pid = pid;
	(*pp)->np_wanted = !n->pn_pids;
	n->pn_nprocs++;
	return *pp;
}

static struct nat_task **
nat_task_slot(struct perf_native *n, uint32_t tid)
{
	struct nat_task **pp =
	    &n->pn_tasks[(tid * 2654435761u) & (NAT_TASK_BUCKETS - 1)];

	while (*pp != NULL && (*pp)->nt_tid != tid)
		pp = &(*pp)->nt_next;
	return pp;
}

/* Returns thread tid of pid, its comm read from /proc when it is new. */
static struct nat_task *
nat_task_get(struct perf_native *n, uint32_t pid, uint32_t tid,
	     const char *comm)
{
	struct nat_task **pp = nat_task_slot(n, tid);
	char path[64];
	ssize_t len;

	if (*pp != NULL)
		return *pp;
	if (n->pn_ntasks >= PERF_NATIVE_MAX_TASKS ||
	    (*pp = calloc(1, sizeof(**pp))) == NULL)
		return NULL;
	n->pn_ntasks++;
	(*pp)->nt_tid = tid;
	if (comm == NULL && tid == 0)
		comm = "swapper";
	if (comm != NULL) {
		snprintf((*pp)->nt_comm, NAT_COMM, "%s", comm);
		return *pp;
	}
	snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", pid, tid);
	if ((len = procfs_read(path, (*pp)->nt_comm, NAT_COMM)) > 0 &&
	    (*pp)->nt_comm[len - 1] == '\n')
		(*pp)->nt_comm[len - 1] = '\0';
	else if (len <= 0)
		snprintf((*pp)->nt_comm, NAT_COMM, ":%u", tid);
	return *pp;
}

/* Gives p its parent's mappings. */
static void
nat_maps_inherit(struct perf_native *n, struct nat_proc *p)
{
	struct nat_proc *parent = nat_proc_get(n, p->np_ppid, 0);

	for (uint32_t i = 0; parent != NULL && i < parent->np_n; i++)
		if (nat_map_add(p, &parent->np_maps[i]) == -1)
			break;
}

/* Returns whether samples of pid are counted, following it first. */
static struct nat_proc *
nat_sampled(struct perf_native *n, uint32_t pid)
{
	struct nat_proc *p = nat_proc_get(n, pid, !n->pn_pids && pid != 0);

	if (p == NULL || !p->np_wanted)
		return NULL;
	if (!p->np_loaded && nat_maps_load(p) == -1)
		nat_maps_inherit(n, p);
	return p;
}

/* Frees the processes and threads that exited (all, with every). */
static void
nat_purge(struct perf_native *n, int every)
{
	for (size_t b = 0; b < NAT_PROC_BUCKETS; b++) {
		struct nat_proc **pp = &n->pn_procs[b], *p;

		while ((p = *pp) != NULL) {
			if (!every && !p->np_dead) {
				pp = &p->np_next;
				continue;
			}
			*pp = p->np_next;
			perf_unwind_forget(n->pn_unwind, p->np_pid);
			nat_maps_clear(p);
			free(p->np_maps);
			free(p);
			n->pn_nprocs--;
		}
	}
	for (size_t b = 0; b < NAT_TASK_BUCKETS; b++) {
		struct nat_task **pp = &n->pn_tasks[b], *t;

		while ((t = *pp) != NULL) {
			if (!every && !t->nt_dead) {
				pp = &t->nt_next;
				continue;
			}
			*pp = t->nt_next;
			free(t);
			n->pn_ntasks--;
		}
	}
}

/* Every NAT_SWEEP_WINDOWS windows, or over half full: marks the processes
 * and threads gone whose EXIT was lost (a thread's /proc/TID is there as
 * long as it runs). */
static void
nat_sweep(struct perf_native *n)
{
	int all = ++n->pn_windows % NAT_SWEEP_WINDOWS == 0;

	if (all || n->pn_nprocs >= PERF_NATIVE_MAX_PROCS / 2)
		for (size_t b = 0; b < NAT_PROC_BUCKETS; b++)
			for (struct nat_proc *p = n->pn_procs[b]; p;
			     p = p->np_next)
				if (!procfs_alive((pid_t)p->np_pid))
					p->np_dead = 1;
	if (all || n->pn_ntasks >= PERF_NATIVE_MAX_TASKS / 2)
		for (size_t b = 0; b < NAT_TASK_BUCKETS; b++)
			for (struct nat_task *t = n->pn_tasks[b]; t;
			     t = t->nt_next)
				if (t->nt_tid != 0 &&
				    !procfs_alive((pid_t)t->nt_tid))
					t->nt_dead = 1;
}

/* ---- records ------------------------------------------------------------ */

struct nat_ids {
	uint32_t pid, ppid, tid, ptid;
};

/* Returns whether the records of pid matter: every process's
 * system-wide, else only those of the --pids and their children. */
static int
nat_followed(struct perf_native *n, uint32_t pid)
{
	struct nat_proc *p;

	return !n->pn_pids ||
	       ((p = nat_proc_get(n, pid, 0)) != NULL && p->np_wanted);
}

/* A new thread takes its parent's comm (COMM records may have named it
 * already: the rings of two CPUs are read one after the other, not in
 * time order). A new process of a followed one is followed; its mappings
 * are read from /proc at its first sample (it may have exec'd since), its
 * parent's taken only if it is gone by then. */
static void
nat_fork(struct perf_native *n, const struct nat_ids *r)
{
	struct nat_task *pt = *nat_task_slot(n, r->ptid);
	struct nat_proc *child;

	nat_task_get(n, r->pid, r->tid, pt != NULL ? pt->nt_comm : NULL);
	if (r->pid == r->ppid || !nat_followed(n, r->ppid))
		return;
	if ((child = nat_proc_get(n, r->pid, 1)) == NULL)
		return;
	child->np_wanted = 1;
	child->np_ppid = r->ppid;
}

static void
nat_exit(struct perf_native *n, const struct nat_ids *r)
{
	struct nat_task *t = nat_task_get(n, r->pid, r->tid, NULL);
	struct nat_proc *p;

	/* An EXIT read before its FORK (another CPU's ring) leaves an entry
	 * marked dead, which the FORK finds: nothing outlives the window. */
	if (t != NULL)
		t->nt_dead = 1;
	if (r->pid == r->tid && (p = nat_proc_get(n, r->pid, 1)) != NULL)
		p->np_dead = 1;
}

static void
nat_comm(struct perf_native *n, const struct perf_event_header *h)
{
	const char *b = (const char *)(h + 1), *end = (const char *)h + h->size;
	uint32_t pid, tid;
	struct nat_task *t;
	struct nat_proc *p;
	char comm[NAT_COMM];

	if (end - b < 9)
		return;
	memcpy(&pid, b, 4);
	memcpy(&tid, b + 4, 4);
	snprintf(comm, sizeof(comm), "%.*s", (int)(end - b - 8), b + 8);
	if ((t = nat_task_get(n, pid, tid, comm)) != NULL)
		snprintf(t->nt_comm, NAT_COMM, "%s", comm);
	/* exec: a new image, whose MMAP2 records follow */
	if ((h->misc & PERF_RECORD_MISC_COMM_EXEC) &&
	    (p = nat_proc_get(n, pid, 0)) != NULL) {
		nat_maps_clear(p);
		p->np_loaded = 1;
	}
}

struct nat_mmap2 {
	uint32_t pid, tid;
	uint64_t addr, len, pgoff;
	uint32_t maj, min;
	uint64_t ino, ino_generation;
	uint32_t prot, flags;
};

static void
nat_mmap2(struct perf_native *n, const struct perf_event_header *h)
{
	const char *b = (const char *)(h + 1), *end = (const char *)h + h->size;
	struct nat_mmap2 r;
	struct nat_proc *p;
	char path[PATH_MAX];

	if ((size_t)(end - b) <= sizeof(r) ||
	    (h->misc & PERF_RECORD_MISC_MMAP_BUILD_ID))
		return;
	memcpy(&r, b, sizeof(r));
	snprintf(path, sizeof(path), "%.*s", (int)(end - b - sizeof(r)),
		 b + sizeof(r));
	if ((p = nat_proc_get(n, r.pid, !n->pn_pids)) == NULL || !p->np_wanted)
		return;
	if (!p->np_loaded)
		nat_maps_load(p); /* holds this mapping already */
	else
		nat_map_add(p,
			    &(struct nat_map){.nm_start = r.addr,
					      .nm_end = r.addr + r.len,
					      .nm_pgoff = r.pgoff,
					      .nm_dev = makedev(r.maj, r.min),
					      .nm_ino = r.ino,
					      .nm_path = path});
}

/* ---- the window's stacks ------------------------------------------------ */

static uint32_t
nat_stack_hash(uint32_t pid, const char *comm, const uint64_t *ips, size_t n)
{
	uint64_t h =
	    pid * 0x9e3779b97f4a7c15ull ^ stacks_hash(comm, strlen(comm));

	for (size_t i = 0; i < n; i++) {
		h ^= ips[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return (uint32_t)h;
}

/* Returns space for a stack of n entries in the arena, or NULL (full). */
static struct nat_stack *
nat_stack_alloc(struct perf_native *n, size_t nips, uint32_t *off)
{
	size_t need = sizeof(struct nat_stack) + nips * sizeof(uint64_t);

	if (n->pn_nstacks >= PERF_NATIVE_MAX_STACKS)
		return NULL;
	if (n->pn_len + need > n->pn_cap) {
		size_t cap = n->pn_cap * 2 > n->pn_len + need
				 ? n->pn_cap * 2
				 : n->pn_len + need;
		char *a;

		if (cap > PERF_NATIVE_MAX_BYTES ||
		    (a = realloc(n->pn_arena, cap)) == NULL)
			return NULL;
		n->pn_arena = a;
		n->pn_cap = cap;
	}
	*off = (uint32_t)n->pn_len;
	n->pn_len += need;
	n->pn_nstacks++;
	return (struct nat_stack *)(n->pn_arena + *off);
}

/* Counts one sample of the stack ips[0..nips) (leaf first). */
static void
nat_count(struct perf_native *n, uint32_t pid, const char *comm,
	  const uint64_t *ips, size_t nips)
{
	uint32_t h = nat_stack_hash(pid, comm, ips, nips), off;
	uint32_t *bucket = &n->pn_buckets[h & (NAT_STACK_BUCKETS - 1)];
	struct nat_stack *s;

	for (uint32_t o = *bucket; o != 0; o = s->ns_next) {
		s = (struct nat_stack *)(n->pn_arena + o - 1);
		if (s->ns_hash == h && s->ns_pid == pid && s->ns_n == nips &&
		    strcmp(s->ns_comm, comm) == 0 &&
		    memcmp(s->ns_ips, ips, nips * sizeof(*ips)) == 0) {
			s->ns_count++;
			return;
		}
	}
	if ((s = nat_stack_alloc(n, nips, &off)) == NULL) {
		n->pn_truncated++;
		return;
	}
	s->ns_next = *bucket;
	s->ns_hash = h;
	s->ns_pid = pid;
	s->ns_n = (uint32_t)nips;
	s->ns_count = 1;
	snprintf(s->ns_comm, NAT_COMM, "%s", comm);
	if (nips > 0)
		memcpy(s->ns_ips, ips, nips * sizeof(*ips));
	*bucket = off + 1;
}

/* One sample record, parsed. */
struct nat_sample {
	uint32_t pid, tid;
	const uint64_t *ips; /* the callchain */
	size_t nips;
	struct perf_unwind_sample us; /* us_regs NULL: nothing to unwind */
};

/* Parses PERF_SAMPLE_REGS_USER and PERF_SAMPLE_STACK_USER at b; -1 if
 * they do not fit in the record. A 32-bit process's registers are not
 * unwound (another ABI). */
static int
nat_parse_user(const char *b, const char *end, struct nat_sample *s)
{
	size_t nregs = perf_unwind_nregs();
	uint64_t abi, size, dyn;

	if (end - b < 8)
		return -1;
	memcpy(&abi, b, 8);
	b += 8;
	if (abi != PERF_SAMPLE_REGS_ABI_NONE) {
		if ((size_t)(end - b) < nregs * 8)
			return -1;
		if (abi == PERF_SAMPLE_REGS_ABI_64)
			s->us.us_regs = b;
		b += nregs * 8;
	}
	if (end - b < 8)
		return -1;
	memcpy(&size, b, 8);
	b += 8;
	if (size == 0)
		return 0;
	if (size > (uint64_t)(end - b) || (uint64_t)(end - b) - size < 8)
		return -1;
	memcpy(&dyn, b + size, 8);
	s->us.us_stack = b;
	s->us.us_len = dyn < size ? dyn : size;
	return 0;
}

/* Parses a sample of the engine's sample_type; -1 if malformed. */
static int
nat_parse(const struct perf_native *n, const struct perf_event_header *h,
	  struct nat_sample *s)
{
	const char *b = (const char *)(h + 1), *end = (const char *)h + h->size;
	uint64_t nr;

	memset(s, 0, sizeof(*s));
	if (end - b < 16)
		return -1;
	memcpy(&s->pid, b, 4);
	memcpy(&s->tid, b + 4, 4);
	memcpy(&nr, b + 8, 8);
	/* dwarf mode asks for the kernel part only: it may be empty */
	if (nr > (uint64_t)(end - b - 16) / 8 ||
	    (nr == 0 && n->pn_mode != NAT_DWARF))
		return -1;
	s->ips = (const uint64_t *)(const void *)(b + 16);
	s->nips = (size_t)nr;
	s->us.us_pid = s->pid;
	s->us.us_tid = s->tid;
	if (n->pn_mode == NAT_FP)
		return 0;
	return nat_parse_user(b + 16 + nr * 8, end, s);
}

/* Mapping i of the process arg, for the unwinder. */
static int
nat_unwind_map(void *arg, size_t i, struct perf_unwind_map *m)
{
	const struct nat_proc *p = arg;
	const struct nat_map *nm;

	if (i >= p->np_n)
		return -1;
	nm = &p->np_maps[i];
	*m = (struct perf_unwind_map){nm->nm_start, nm->nm_end, nm->nm_pgoff,
				      nm->nm_dev,   nm->nm_ino, nm->nm_path};
	return 0;
}

/* The DWARF chain of s in pn_chain: the mark, the callchain's kernel
 * part, then the user frames unwound from the copied stack; returns its
 * length. */
static size_t
nat_dwarf_chain(struct perf_native *n, struct nat_proc *p,
		const struct nat_sample *s)
{
	size_t len = 0;

	n->pn_chain[len++] = NAT_CONTEXT_DWARF;
	for (size_t i = 0; i < s->nips && len < 1 + NAT_KERNEL_MAX; i++) {
		if (s->ips[i] == PERF_CONTEXT_USER)
			break;
		n->pn_chain[len++] = s->ips[i];
	}
	if (p == NULL || s->us.us_regs == NULL)
		return len;
	n->pn_chain[len++] = PERF_CONTEXT_USER;
	return len + perf_unwind_sample(n->pn_unwind, &s->us, p->np_gen,
					nat_unwind_map, p, n->pn_chain + len,
					PERF_UNWIND_MAX_DEPTH);
}

static void
nat_sample(struct perf_native *n, const struct perf_event_header *h)
{
	struct nat_proc *p = NULL;
	struct nat_sample s;
	struct nat_task *t;
	const char *comm;

	if (nat_parse(n, h, &s) == -1) {
		n->pn_bad++;
		return;
	}
	if (s.pid != 0 && (p = nat_sampled(n, s.pid)) == NULL)
		return;
	if (n->pn_pids && s.pid == 0)
		return;
	t = nat_task_get(n, s.pid, s.tid, NULL);
	comm = t != NULL ? t->nt_comm : "[unknown]";
	n->pn_samples++;
	if (n->pn_mode != NAT_DWARF)
		nat_count(n, s.pid, comm, s.ips, s.nips);
	if (n->pn_mode != NAT_FP)
		nat_count(n, s.pid, comm, n->pn_chain,
			  nat_dwarf_chain(n, p, &s));
}

/* Handles one record of a ring (the lock is held). */
static void
nat_record(void *arg, const struct perf_event_header *h)
{
	struct perf_native *n = arg;
	struct nat_ids ids;
	uint64_t lost[2];

	switch (h->type) {
	case PERF_RECORD_SAMPLE:
		nat_sample(n, h);
		return;
	case PERF_RECORD_COMM:
		nat_comm(n, h);
		return;
	case PERF_RECORD_MMAP2:
		nat_mmap2(n, h);
		return;
	case PERF_RECORD_FORK:
	case PERF_RECORD_EXIT:
		if (h->size < sizeof(*h) + sizeof(ids))
			return;
		memcpy(&ids, h + 1, sizeof(ids));
		(h->type == PERF_RECORD_FORK ? nat_fork : nat_exit)(n, &ids);
		return;
	case PERF_RECORD_LOST:
		if (h->size >= sizeof(*h) + sizeof(lost)) {
			memcpy(lost, h + 1, sizeof(lost));
			n->pn_lost += lost[1];
		}
		return;
	}
}

/* Reads every ring (the lock is held). */
static void
nat_drain(struct perf_native *n)
{
	for (size_t i = 0; i < n->pn_nrings; i++)
		perf_ring_drain(&n->pn_rings[i], nat_record, n);
}

static void *
nat_thread(void *arg)
{
	struct perf_native *n = arg;
	struct pollfd *pfd = calloc(n->pn_nrings + 1, sizeof(*pfd));

	if (pfd == NULL)
		return NULL;
	for (size_t i = 0; i < n->pn_nrings; i++)
		pfd[i] = (struct pollfd){n->pn_rings[i].pr_fd, POLLIN, 0};
	pfd[n->pn_nrings] = (struct pollfd){n->pn_stop[0], POLLIN, 0};
	for (;;) {
		if (poll(pfd, n->pn_nrings + 1, NAT_POLL_MS) == -1 &&
		    errno != EINTR)
			break;
		if (pfd[n->pn_nrings].revents != 0)
			break;
		pthread_mutex_lock(&n->pn_lock);
		nat_drain(n);
		pthread_mutex_unlock(&n->pn_lock);
	}
	free(pfd);
	return NULL;
}

/* ---- naming ------------------------------------------------------------- */

/* What naming one window needs besides the engine. */
struct nat_window {
	struct stack_table *nw_t;
	struct perf_procs *nw_procs;
	struct perf_jit *nw_jit;
	int nw_dso;  /* --insert-dso-name */
	int nw_only; /* -1: every stack; 0: fp's, 1: DWARF's (smart) */
};

/* Interns the concatenation a b c d. */
static uint32_t
nat_intern4(struct perf_native *n, struct stack_table *t, const char *a,
	    const char *b, const char *c, const char *d)
{
	int len =
	    snprintf(n->pn_name, sizeof(n->pn_name), "%s%s%s%s", a, b, c, d);

	if (len < 0)
		return STACKS_NONE;
	if ((size_t)len >= sizeof(n->pn_name))
		len = sizeof(n->pn_name) - 1;
	return stacks_intern(t, n->pn_name, (size_t)len);
}

/* A kernel frame as the parser names perf script's: "sym_[k]", a module's
 * symbol bare (or "sym (module)"), "(kernel.kallsyms)" without a symbol. */
static uint32_t
nat_kernel_name(struct perf_native *n, struct nat_window *w, uint64_t addr)
{
	const char *mod, *sym = perf_ksyms_lookup(n->pn_ksyms, addr, &mod);

	if (sym == NULL)
		return stacks_intern_str(w->nw_t, "(kernel.kallsyms)");
	if (mod == NULL)
		return nat_intern4(n, w->nw_t, sym, "_[k]", "", "");
	if (w->nw_dso)
		return nat_intern4(n, w->nw_t, sym, " (", mod, ")");
	return stacks_intern_str(w->nw_t, sym);
}

static const struct nat_map *
nat_map_find(const struct nat_proc *p, uint64_t addr)
{
	size_t lo = 0, hi = p != NULL ? p->np_n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct nat_map *m = &p->np_maps[mid];

		if (addr < m->nm_start)
			hi = mid;
		else if (addr >= m->nm_end)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

/* The dso as the parser keeps it: "[vdso]" without its brackets. */
static const char *
nat_dso(const char *path, char *buf, size_t len)
{
	size_t n = strlen(path);

	if (n >= 2 && path[0] == '[' && path[n - 1] == ']') {
		snprintf(buf, len, "%.*s", (int)(n - 2), path + 1);
		return buf;
	}
	return path;
}

/* Returns 1 for anonymous memory, which perf names after the process's
 * perf map. */
static int
nat_anon(const char *path)
{
	return strcmp(path, "//anon") == 0 ||
	       strncmp(path, "/dev/zero", 9) == 0 ||
	       strncmp(path, "/anon_hugepage", 14) == 0;
}

/* A user frame: "sym" (or "sym (dso)"), the JIT's name from the perf map,
 * "(dso)" without a symbol, "[unknown]" outside any known mapping. */
static uint32_t
nat_user_name(struct perf_native *n, struct nat_window *w, uint32_t pid,
	      uint64_t addr)
{
	const struct nat_map *m = nat_map_find(nat_proc_get(n, pid, 0), addr);
	const char *sym = NULL, *dso;
	char buf[PATH_MAX];
	size_t len;

	if (m == NULL)
		return stacks_intern_str(w->nw_t, "[unknown]");
	if (nat_anon(m->nm_path)) {
		snprintf(buf, sizeof(buf), "/tmp/perf-%u.map", pid);
		dso = buf;
	} else {
		dso = nat_dso(m->nm_path, buf, sizeof(buf));
	}
	if (perf_jit_dso(dso, strlen(dso))) {
		sym = perf_jit_lookup(w->nw_jit, pid, addr, dso, strlen(dso),
				      &len);
		if (sym != NULL && len > 0 && len < NAT_NAME_MAX)
			return stacks_intern(w->nw_t, sym, len);
		sym = NULL;
	} else if (m->nm_path[0] == '/') {
		sym = perf_symcache_lookup(n->pn_syms, pid, m->nm_path,
					   m->nm_dev, m->nm_ino,
					   addr - m->nm_start + m->nm_pgoff);
	}
	if (sym == NULL)
		return nat_intern4(n, w->nw_t, "(", dso, ")", "");
	if (w->nw_dso)
		return nat_intern4(n, w->nw_t, sym, " (", dso, ")");
	return stacks_intern_str(w->nw_t, sym);
}

/* Returns the frame id of addr, named once per window. */
static uint32_t
nat_frame(struct perf_native *n, struct nat_window *w, uint32_t pid,
	  uint64_t addr, int kernel)
{
	uint32_t key = kernel ? UINT32_MAX : pid;
	uint64_t h =
	    (addr ^ key * 0x9e3779b97f4a7c15ull) * 0xff51afd7ed558ccdull;
	struct nat_addr *a = NULL;
	uint32_t id;

	for (size_t i = 0; i < 8; i++) {
		a = &n->pn_addrs[((h >> 40) + i) &
				 (PERF_NATIVE_ADDR_SLOTS - 1)];
		if (a->na_id == 0 || (a->na_addr == addr && a->na_pid == key))
			break;
		a = NULL;
	}
	if (a != NULL && a->na_id != 0)
		return a->na_id;
	id = kernel ? nat_kernel_name(n, w, addr)
		    : nat_user_name(n, w, pid, addr);
	if (a != NULL && id != STACKS_NONE)
		*a = (struct nat_addr){addr, key, id};
	return id;
}

/* Adds stack s, named root first, to the window's table. */
static int
nat_emit(struct perf_native *n, struct nat_window *w, const struct nat_stack *s,
	 uint32_t *frames)
{
	size_t nf = 0;
	int kernel = 0, proc;
	int dwarf = s->ns_n > 0 && s->ns_ips[0] == NAT_CONTEXT_DWARF;

	if (w->nw_only != -1 && w->nw_only != dwarf)
		return 0;
	for (uint32_t i = 0; i < s->ns_n && nf < STACKS_MAX_FRAMES; i++) {
		uint64_t ip = s->ns_ips[i];

		if (ip >= PERF_CONTEXT_MAX) {
			kernel = ip == PERF_CONTEXT_KERNEL;
			continue;
		}
		if ((frames[nf] = nat_frame(n, w, s->ns_pid, ip, kernel)) ==
		    STACKS_NONE)
			return -1;
		nf++;
	}
	if (nf == 0)
		return 0;
	for (size_t i = 0; i < nf / 2; i++) {
		uint32_t x = frames[i];

		frames[i] = frames[nf - 1 - i];
		frames[nf - 1 - i] = x;
	}
	proc = perf_procs_resolve(w->nw_procs, w->nw_t, s->ns_pid, s->ns_comm,
				  strlen(s->ns_comm));
	if (proc == -1)
		return -1;
	return stacks_add(w->nw_t, proc, frames, nf, s->ns_count);
}

/* The samples the table had no room for, as one stack. */
static int
nat_emit_truncated(struct perf_native *n, struct stack_table *t)
{
	uint32_t id = stacks_intern_str(t, "[truncated]");
	int proc;

	if (n->pn_truncated == 0)
		return 0;
	log_warn("native engine: %llu samples over %u distinct stacks "
		 "counted as [truncated]",
		 (unsigned long long)n->pn_truncated, PERF_NATIVE_MAX_STACKS);
	if (id == STACKS_NONE ||
	    (proc = stacks_proc(t, PERF_PID_UNKNOWN, id, 0, 0)) == -1)
		return -1;
	return stacks_add(t, proc, &id, 1, n->pn_truncated);
}

/* --pids: once every process followed has exited, the events are
 * disabled (nothing can be followed again) and the windows are empty. */
static void
nat_check_gone(struct perf_native *n)
{
	if (!n->pn_pids || n->pn_gone)
		return;
	for (size_t b = 0; b < NAT_PROC_BUCKETS; b++)
		for (struct nat_proc *p = n->pn_procs[b]; p; p = p->np_next)
			if (p->np_wanted && !p->np_dead &&
			    procfs_alive((pid_t)p->np_pid))
				return;
	log_warn("every given PID has exited: the native engine stays "
		 "stopped, windows are empty");
	n->pn_gone = 1;
	for (size_t i = 0; i < n->pn_nrings; i++)
		perf_ring_enable(&n->pn_rings[i], 0);
}

/* Starts the next window: no stacks, no dead processes. */
static void
nat_reset(struct perf_native *n)
{
	memset(n->pn_buckets, 0, NAT_STACK_BUCKETS * sizeof(*n->pn_buckets));
	memset(n->pn_addrs, 0, PERF_NATIVE_ADDR_SLOTS * sizeof(*n->pn_addrs));
	/* A window's peak does not stay: past NAT_ARENA_KEEP, an arena used
	 * to less than a quarter is given back. */
	if (n->pn_cap > NAT_ARENA_KEEP && n->pn_len < n->pn_cap / 4) {
		free(n->pn_arena);
		n->pn_arena = NULL;
		n->pn_cap = 0;
	}
	n->pn_len = n->pn_nstacks = 0;
	n->pn_samples = n->pn_truncated = n->pn_lost = n->pn_bad = 0;
	perf_symcache_window(n->pn_syms, now_ms());
	nat_purge(n, 0);
	nat_sweep(n);
	nat_check_gone(n);
	n->pn_last_ms = now_ms();
}

/* Names the window's stacks (those of only, see nw_only) into t. */
static int
nat_name_stacks(struct perf_native *n, const struct perf_opts *o,
		struct stack_table *t, int only)
{
	struct nat_window w = {t, perf_procs_new(), perf_jit_new(),
			       o->wo_insert_dso_name, only};
	uint32_t *frames = malloc(STACKS_MAX_FRAMES * sizeof(*frames));
	int rv = 0;

	if (w.nw_procs == NULL || w.nw_jit == NULL || frames == NULL)
		rv = -1;
	for (size_t off = 0; rv == 0 && off < n->pn_len;) {
		const struct nat_stack *s = (const void *)(n->pn_arena + off);

		rv = nat_emit(n, &w, s, frames);
		off += sizeof(*s) + s->ns_n * sizeof(uint64_t);
	}
	free(frames);
	perf_jit_free(w.nw_jit);
	perf_procs_free(w.nw_procs);
	return rv;
}

/* smart: fp's and DWARF's stacks named apart, then per process the
 * deeper kept, as the perf engine does with its two recordings. */
static int
nat_name_smart(struct perf_native *n, const struct perf_opts *o,
	       struct stack_table *t)
{
	struct stack_table *fp = stacks_new(WORKER_CHUNK_BUDGET);
	struct stack_table *dw = stacks_new(WORKER_CHUNK_BUDGET);
	int rv = fp != NULL && dw != NULL ? 0 : -1;

	if (rv == 0)
		rv = nat_name_stacks(n, o, fp, 0);
	/* the names cached are frame ids of fp's table */
	memset(n->pn_addrs, 0, PERF_NATIVE_ADDR_SLOTS * sizeof(*n->pn_addrs));
	if (rv == 0)
		rv = nat_name_stacks(n, o, dw, 1);
	if (rv == 0)
		rv = perf_smart_merge(t, fp, dw);
	stacks_free(fp);
	stacks_free(dw);
	return rv;
}

/* Names the window's stacks into t (the lock is held). */
static int
nat_name_window(struct perf_native *n, const struct perf_opts *o,
		struct stack_table *t)
{
	int rv = n->pn_mode == NAT_SMART ? nat_name_smart(n, o, t)
					 : nat_name_stacks(n, o, t, -1);

	if (rv == 0)
		rv = nat_emit_truncated(n, t);
	return rv;
}

/* dwarf and smart: how unwinding went in the window. */
static void
nat_log_unwind(struct perf_native *n)
{
	struct perf_unwind_stats st;

	if (n->pn_unwind == NULL)
		return;
	perf_unwind_stats(n->pn_unwind, &st);
	log_info("native engine: %llu user stacks unwound with DWARF, %llu "
		 "stopped early; %zu processes' CFI kept, %llu (re)built",
		 (unsigned long long)st.ust_samples,
		 (unsigned long long)st.ust_early, st.ust_procs,
		 (unsigned long long)st.ust_builds);
}

int
perf_native_snapshot(struct perf_native *n, const struct perf_opts *o,
		     struct stack_table *t)
{
	size_t files, bytes;
	int rv;

	pthread_mutex_lock(&n->pn_lock);
	nat_drain(n);
	rv = nat_name_window(n, o, t);
	perf_symcache_usage(n->pn_syms, &files, &bytes);
	log_info("native engine: %llu samples, %zu stacks, %llu lost, "
		 "%llu truncated; %zu processes, %zu threads followed; "
		 "symbols of %zu files (%zu kB); RSS %lld kB",
		 (unsigned long long)n->pn_samples, n->pn_nstacks,
		 (unsigned long long)n->pn_lost,
		 (unsigned long long)n->pn_truncated, n->pn_nprocs,
		 n->pn_ntasks, files, bytes >> 10,
		 (long long)(procfs_rss(getpid()) >> 10));
	nat_log_unwind(n);
	if (n->pn_lost > 0)
		log_warn("native engine: %llu samples lost in this window "
			 "(ring buffers full)",
			 (unsigned long long)n->pn_lost);
	n->pn_last_lost = n->pn_lost;
	nat_reset(n);
	pthread_mutex_unlock(&n->pn_lock);
	/* What naming the window freed goes back to the system: the RSS
	 * follows the bounded tables, not the window's peak. */
	malloc_trim(0);
	if (rv == -1)
		log_error("native engine: the window's table is full: "
			  "window lost");
	return rv;
}

uint64_t
perf_native_lost(const struct perf_native *n)
{
	return n->pn_last_lost;
}

void
perf_native_drop(struct perf_native *n)
{
	pthread_mutex_lock(&n->pn_lock);
	nat_drain(n);
	nat_reset(n);
	pthread_mutex_unlock(&n->pn_lock);
}

int64_t
perf_native_last_ms(const struct perf_native *n)
{
	return n->pn_last_ms;
}

const char *
perf_native_event(const struct perf_native *n)
{
	return n->pn_event;
}

/* ---- start and stop ----------------------------------------------------- */

struct nat_event {
	const char *ne_name;
	uint32_t ne_type;
	uint64_t ne_config;
};

/* The events the native engine knows by name; the first three are tried
 * in turn when none is given, as the perf engine's discovery does. */
static const struct nat_event nat_events[] = {
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK},
    {"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
    {"cpu-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {"ref-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_REF_CPU_CYCLES},
    {NULL, 0, 0},
};

static void
nat_attr(struct perf_event_attr *a, const struct nat_event *e, uint32_t hz)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->type = e->ne_type;
	a->config = e->ne_config;
	a->sample_freq = hz;
	a->freq = 1;
	a->sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_CALLCHAIN;
	a->disabled = 1;
	a->mmap = 1;
	a->mmap2 = 1;
	a->comm = 1;
	a->comm_exec = 1;
	a->task = 1;
	a->sample_id_all = 1;
	a->watermark = 1;
	a->wakeup_watermark = PERF_RING_PAGES * 4096 / 4;
}

/* dwarf and smart: each sample copies the user registers and the top of
 * the user stack; dwarf mode keeps the callchain's kernel part only. */
static void
nat_attr_dwarf(const struct perf_native *n, struct perf_event_attr *a)
{
	if (n->pn_mode == NAT_FP)
		return;
	a->sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
	a->sample_regs_user = perf_unwind_regs_mask();
	a->sample_stack_user = n->pn_stack_size;
	a->exclude_callchain_user = n->pn_mode == NAT_DWARF;
}

/* --perf-use-cgroups: the event owning a CPU's ring samples nothing and
 * reports nothing; the cgroups' events write into its ring. */
static void
nat_attr_carrier(struct perf_event_attr *a)
{
	a->type = PERF_TYPE_SOFTWARE;
	a->config = PERF_COUNT_SW_DUMMY;
	a->mmap = a->mmap2 = a->comm = a->comm_exec = a->task = 0;
}

/* Whether the kernel opens a (disabled) on some CPU below ncpu, without
 * a ring: the cgroups' events may then be opened later. 0, or -1. */
static int
nat_probe(struct perf_event_attr *a, long ncpu)
{
	int fd = -1;

	for (long cpu = 0; cpu < ncpu && fd == -1; cpu++)
		if ((fd = (int)syscall(SYS_perf_event_open, a, -1, (int)cpu, -1,
				       PERF_FLAG_FD_CLOEXEC)) == -1 &&
		    errno != ENODEV && errno != ENXIO)
			return -1;
	if (fd == -1)
		return -1;
	close(fd);
	return 0;
}

static void
nat_close_rings(struct perf_native *n)
{
	perf_cgevents_free(n->pn_cg);
	n->pn_cg = NULL;
	while (n->pn_nrings > 0)
		perf_ring_close(&n->pn_rings[--n->pn_nrings]);
	free(n->pn_rings);
	n->pn_rings = NULL;
}

/* Opens event e on every CPU (with cgroups: a ring per CPU, the cgroups'
 * events come later); 0, or -1 with errno of the first CPU. */
static int
nat_open_rings(struct perf_native *n, const struct nat_event *e, uint32_t hz,
	       int cgroups)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	struct perf_event_attr a, ring;
	int err;

	if (ncpu < 1)
		ncpu = 1;
	nat_attr(&a, e, hz);
	nat_attr_dwarf(n, &a);
	ring = a;
	if (cgroups) {
		nat_attr_carrier(&ring);
		if (nat_probe(&a, ncpu) == -1)
			return -1;
	}
	if ((n->pn_rings = calloc((size_t)ncpu, sizeof(*n->pn_rings))) == NULL)
		return -1;
	for (long cpu = 0; cpu < ncpu; cpu++) {
		if (perf_ring_open(&n->pn_rings[n->pn_nrings], &ring, -1,
				   (int)cpu) == 0) {
			n->pn_nrings++;
			continue;
		}
		if (errno == ENODEV || errno == ENXIO) /* offline */
			continue;
		goto fail;
	}
	if (n->pn_nrings == 0 ||
	    (cgroups && (n->pn_cg = perf_cgevents_new(&a, n->pn_rings,
						      n->pn_nrings)) == NULL))
		goto fail;
	snprintf(n->pn_event, sizeof(n->pn_event), "%s", e->ne_name);
	return 0;
fail:
	err = n->pn_nrings == 0 && errno == 0 ? ENODEV : errno;
	nat_close_rings(n);
	errno = err;
	return -1;
}

/* --perf-events as given, or the first default event the kernel opens. */
static int
nat_open_event(struct perf_native *n, const struct perf_opts *o)
{
	int err = ENOENT;

	for (const struct nat_event *e = nat_events; e->ne_name; e++) {
		if (o->wo_perf_events[0] != '\0' &&
		    strcmp(o->wo_perf_events, e->ne_name) != 0)
			continue;
		if (o->wo_perf_events[0] == '\0' && e - nat_events >= 3)
			break;
		if (nat_open_rings(n, e, o->wo_frequency, o->wo_use_cgroups) ==
		    0)
			return 0;
		err = errno;
		/* refused, not absent: another event will not do better */
		if (err == EACCES || err == EPERM)
			break;
	}
	errno = err;
	return -1;
}

/* --pids: the given processes are followed, with their children. */
static void
nat_want_pids(struct perf_native *n, const struct perf_opts *o)
{
	for (size_t i = 0; i < o->wo_npids; i++) {
		struct nat_proc *p = nat_proc_get(n, o->wo_pids[i], 1);

		if (p != NULL) {
			p->np_wanted = 1;
			nat_maps_load(p);
		}
	}
}

/* --perf-mode and --perf-dwarf-stack-size (a multiple of 8 bytes, as the
 * kernel wants it); the unwinder for dwarf and smart. */
static int
nat_mode_set(struct perf_native *n, const struct perf_opts *o)
{
	uint32_t size =
	    o->wo_dwarf_stack_size ? o->wo_dwarf_stack_size : NAT_DWARF_STACK;

	if (o->wo_mode == PERF_MODE_SMART)
		n->pn_mode = NAT_SMART;
	else if (o->wo_mode == PERF_MODE_DWARF)
		n->pn_mode = NAT_DWARF;
	else
		n->pn_mode = NAT_FP;
	if (n->pn_mode == NAT_FP)
		return 0;
	n->pn_stack_size = size >= 8 ? size & ~7u : 8;
	return (n->pn_unwind = perf_unwind_new()) != NULL ? 0 : -1;
}

static int
nat_alloc(struct perf_native *n)
{
	n->pn_stop[0] = n->pn_stop[1] = -1;
	n->pn_buckets = calloc(NAT_STACK_BUCKETS, sizeof(*n->pn_buckets));
	n->pn_addrs = calloc(PERF_NATIVE_ADDR_SLOTS, sizeof(*n->pn_addrs));
	n->pn_syms = perf_symcache_new();
	if (n->pn_buckets == NULL || n->pn_addrs == NULL ||
	    n->pn_syms == NULL || pipe2(n->pn_stop, O_CLOEXEC) == -1)
		return -1;
	return pthread_mutex_init(&n->pn_lock, NULL) == 0 ? 0 : -1;
}

struct perf_native *
perf_native_start(const struct perf_opts *o)
{
	struct perf_native *n = calloc(1, sizeof(*n));
	int err;

	if (n == NULL || nat_alloc(n) == -1 || nat_mode_set(n, o) == -1) {
		err = errno;
		goto fail;
	}
	if (nat_open_event(n, o) == -1) {
		err = errno;
		log_debug("native engine: perf_event_open: %s", strerror(err));
		goto fail;
	}
	n->pn_pids = o->wo_npids > 0;
	n->pn_ksyms = perf_ksyms_load();
	n->pn_last_ms = now_ms();
	if ((err = pthread_create(&n->pn_thread, NULL, nat_thread, n)) != 0)
		goto fail;
	n->pn_thread_on = 1;
	for (size_t i = 0; i < n->pn_nrings; i++)
		if (perf_ring_enable(&n->pn_rings[i], 1) == -1) {
			err = errno;
			log_debug("native engine: enable: %s", strerror(err));
			goto fail;
		}
	/* Read once the events are on: an exec after this is followed. */
	pthread_mutex_lock(&n->pn_lock);
	nat_want_pids(n, o);
	pthread_mutex_unlock(&n->pn_lock);
	if (perf_native_cgroups(n, o) == -1) {
		err = errno ? errno : ENOENT;
		goto fail;
	}
	return n;
fail:
	perf_native_stop(n);
	errno = err;
	return NULL;
}

int
perf_native_cgroups(struct perf_native *n, const struct perf_opts *o)
{
	if (n->pn_cg == NULL)
		return 0;
	return perf_cgevents_update(n->pn_cg, o) == -1 ? -1 : 0;
}

void
perf_native_stop(struct perf_native *n)
{
	if (n == NULL)
		return;
	if (n->pn_thread_on) {
		close(n->pn_stop[1]);
		n->pn_stop[1] = -1;
		pthread_join(n->pn_thread, NULL);
	}
	nat_close_rings(n);
	if (n->pn_stop[0] != -1) {
		close(n->pn_stop[0]);
		if (n->pn_stop[1] != -1)
			close(n->pn_stop[1]);
		pthread_mutex_destroy(&n->pn_lock);
	}
	nat_purge(n, 1);
	perf_ksyms_free(n->pn_ksyms);
	perf_symcache_free(n->pn_syms);
	perf_unwind_free(n->pn_unwind);
	free(n->pn_buckets);
	free(n->pn_addrs);
	free(n->pn_arena);
	free(n);
}
