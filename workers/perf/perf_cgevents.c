/* The native engine's events for --perf-use-cgroups. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "perf_cgevents.h"
#include "perf_cgroups.h"

/* One cgroup profiled: its events, one per ring (-1: CPU offline). */
struct cgev_cg {
	char *cg_name; /* below the hierarchy's root */
	dev_t cg_dev;  /* the directory, to tell a cgroup made again */
	ino_t cg_ino;
	int *cg_fds;
};

struct perf_cgevents {
	struct perf_event_attr ce_attr;
	size_t ce_nrings;
	int *ce_out; /* each ring's event, where the samples go */
	int *ce_cpu; /* ... and its CPU */
	struct cgev_cg *ce_cg;
	size_t ce_n;
	size_t ce_events;   /* fds held */
	unsigned ce_capped; /* the fd bound cut --perf-max-cgroups (logged) */
	int ce_none;	    /* no cgroup was found (logged) */
};

struct perf_cgevents *
perf_cgevents_new(const struct perf_event_attr *a,
		  const struct perf_ring *rings, size_t nrings)
{
	struct perf_cgevents *e = calloc(1, sizeof(*e));

	if (e == NULL || nrings == 0 ||
	    (e->ce_out = calloc(nrings, sizeof(int))) == NULL ||
	    (e->ce_cpu = calloc(nrings, sizeof(int))) == NULL) {
		perf_cgevents_free(e);
		errno = nrings == 0 ? EINVAL : ENOMEM;
		return NULL;
	}
	e->ce_attr = *a;
	e->ce_attr.disabled = 1; /* enabled once its output is set */
	e->ce_nrings = nrings;
	for (size_t i = 0; i < nrings; i++) {
		e->ce_out[i] = rings[i].pr_fd;
		e->ce_cpu[i] = rings[i].pr_cpu;
	}
	return e;
}

static void
cgev_close(struct perf_cgevents *e, struct cgev_cg *cg)
{
	for (size_t i = 0; cg->cg_fds != NULL && i < e->ce_nrings; i++)
		if (cg->cg_fds[i] != -1) {
			close(cg->cg_fds[i]);
			e->ce_events--;
		}
	free(cg->cg_fds);
	free(cg->cg_name);
	memset(cg, 0, sizeof(*cg));
}

/* Opens the event of cgroup dirfd on ring i's CPU, writing into that
 * ring, enabled; the fd, or -1 with errno. */
static int
cgev_open_one(struct perf_cgevents *e, int dirfd, size_t i)
{
	int fd, err;

	fd = (int)syscall(SYS_perf_event_open, &e->ce_attr, dirfd, e->ce_cpu[i],
			  -1, PERF_FLAG_PID_CGROUP | PERF_FLAG_FD_CLOEXEC);
	if (fd == -1)
		return -1;
	if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, e->ce_out[i]) == -1 ||
	    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) == -1) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* Opens the events of cgroup dirfd on every CPU into cg; 0, or -1 with
 * errno (nothing held). A CPU gone offline is skipped. */
static int
cgev_open(struct perf_cgevents *e, int dirfd, struct cgev_cg *cg)
{
	if ((cg->cg_fds = malloc(e->ce_nrings * sizeof(int))) == NULL)
		return -1;
	for (size_t i = 0; i < e->ce_nrings; i++) {
		if ((cg->cg_fds[i] = cgev_open_one(e, dirfd, i)) != -1) {
			e->ce_events++;
			continue;
		}
		if (errno == ENODEV || errno == ENXIO)
			continue;
		int err = errno;

		while (i > 0)
			if (cg->cg_fds[--i] != -1) {
				close(cg->cg_fds[i]);
				e->ce_events--;
			}
		free(cg->cg_fds);
		cg->cg_fds = NULL;
		errno = err;
		return -1;
	}
	return 0;
}

/* The cgroups that may be profiled: --perf-max-cgroups, cut so that the
 * events stay within PERF_CGEV_MAX_EVENTS and half the open files. */
static unsigned
cgev_max(struct perf_cgevents *e, unsigned want)
{
	size_t cap = PERF_CGEV_MAX_EVENTS;
	struct rlimit rl;
	unsigned max;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 2 < cap)
		cap = rl.rlim_cur / 2;
	cap /= e->ce_nrings;
	max = want < cap ? want : (unsigned)cap;
	if (max < want && e->ce_capped != max)
		log_warn("--perf-use-cgroups: %u events per cgroup (one per "
			 "CPU): at most %u cgroups, not %u",
			 (unsigned)e->ce_nrings, max, want);
	e->ce_capped = max < want ? max : 0;
	return max;
}

/* Takes cgroup name into next[*nn]: the events held for it when it is
 * the same directory, else new ones; 1 if anything was opened or closed. */
static int
cgev_take(struct perf_cgevents *e, const char *root, const char *name,
	  struct cgev_cg *next, size_t *nn)
{
	struct cgev_cg *old = NULL, *cg = &next[*nn];
	char path[PATH_MAX];
	struct stat st;
	int dirfd;

	for (size_t i = 0; i < e->ce_n && old == NULL; i++)
		if (e->ce_cg[i].cg_name != NULL &&
		    strcmp(e->ce_cg[i].cg_name, name) == 0)
			old = &e->ce_cg[i];
	if (snprintf(path, sizeof(path), "%s/%s", root, name) >=
		(int)sizeof(path) ||
	    (dirfd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECTORY)) == -1 ||
	    fstat(dirfd, &st) == -1) {
		if (old != NULL) /* gone since the choice: it is closed */
			cgev_close(e, old);
		return old != NULL;
	}
	if (old != NULL && old->cg_dev == st.st_dev &&
	    old->cg_ino == st.st_ino) {
		*cg = *old;
		memset(old, 0, sizeof(*old));
		(*nn)++;
		close(dirfd);
		return 0;
	}
	if (old != NULL)
		cgev_close(e, old);
	cg->cg_dev = st.st_dev;
	cg->cg_ino = st.st_ino;
	if ((cg->cg_name = strdup(name)) == NULL || cgev_open(e, dirfd, cg)) {
		log_warn("native engine: cgroup %s not profiled: %s", path,
			 strerror(errno));
		free(cg->cg_name);
		memset(cg, 0, sizeof(*cg));
	} else {
		(*nn)++;
	}
	close(dirfd);
	return 1;
}

/* Logs the choice: at info level when the events changed. */
static void
cgev_log(const struct perf_cgevents *e, const struct perf_cg_roots *r,
	 const struct perf_cg_choice *c, int changed)
{
	void (*say)(const char *, ...) = changed ? log_info : log_debug;

	if (c->cc_truncated)
		say("--perf-use-cgroups: the scan of %s stopped at a cap; some "
		    "cgroups were not considered",
		    r->cr_perf);
	say("native engine profiles %zu of %u cgroups in %s (%u docker "
	    "containers, %zu events): %.300s%s",
	    e->ce_n, c->cc_candidates, r->cr_perf, c->cc_docker, e->ce_events,
	    c->cc_arg, strlen(c->cc_arg) > 300 ? "..." : "");
}

/* Replaces the events held by those of the cgroups in c. */
static int
cgev_apply(struct perf_cgevents *e, const struct perf_cg_roots *r,
	   struct perf_cg_choice *c)
{
	struct cgev_cg *next = calloc(c->cc_n ? c->cc_n : 1, sizeof(*next));
	char *names = strdup(c->cc_arg), *save = NULL, *name;
	size_t nn = 0;
	int changed = 0;

	if (next == NULL || names == NULL) {
		free(next);
		free(names);
		return -1;
	}
	for (name = strtok_r(names, ",", &save); name != NULL && nn < c->cc_n;
	     name = strtok_r(NULL, ",", &save))
		changed |= cgev_take(e, r->cr_perf, name, next, &nn);
	for (size_t i = 0; i < e->ce_n; i++)
		if (e->ce_cg[i].cg_name != NULL) {
			cgev_close(e, &e->ce_cg[i]);
			changed = 1;
		}
	free(names);
	free(e->ce_cg);
	e->ce_cg = next;
	e->ce_n = nn;
	return changed;
}

int
perf_cgevents_update(struct perf_cgevents *e, const struct perf_opts *o)
{
	struct perf_cg_roots roots;
	struct perf_cg_choice *c;
	unsigned max, docker;
	int n, changed;

	if (perf_cg_roots(PERF_CG_MOUNTS, &roots) == -1) {
		log_error("--perf-use-cgroups: no cgroup hierarchy for perf "
			  "is mounted");
		return -1;
	}
	if ((c = malloc(sizeof(*c))) == NULL)
		return -1;
	max = cgev_max(e, o->wo_max_cgroups);
	docker = o->wo_max_docker < max ? o->wo_max_docker : max;
	if ((n = perf_cg_choose(&roots, max, docker, c)) == -1 ||
	    (changed = cgev_apply(e, &roots, c)) == -1) {
		free(c);
		return -1;
	}
	if (n == 0 && !e->ce_none)
		log_warn("--perf-use-cgroups: no cgroup to profile in %s (%u "
			 "examined): the native engine samples nothing until "
			 "there is one",
			 roots.cr_perf, c->cc_seen);
	e->ce_none = n == 0;
	if (n > 0)
		cgev_log(e, &roots, c, changed);
	free(c);
	return (int)e->ce_n;
}

size_t
perf_cgevents_count(const struct perf_cgevents *e)
{
	return e != NULL ? e->ce_events : 0;
}

void
perf_cgevents_free(struct perf_cgevents *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->ce_n; i++)
		cgev_close(e, &e->ce_cg[i]);
	free(e->ce_cg);
	free(e->ce_out);
	free(e->ce_cpu);
	free(e);
}
