/* Per-window process identities for perf samples: comm, container, app. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "appid.h"
#include "perf_procs.h"
#include "perf_script.h"

struct perf_proc_ent {
	uint32_t pe_pid; /* 0: empty slot */
	uint32_t pe_container;
	uint32_t pe_app_id;
};

struct perf_procs {
	struct perf_proc_ent pc_ent[PERF_PROCS_CACHE];
	size_t pc_used;
};

struct perf_procs *
perf_procs_new(void)
{
	return calloc(1, sizeof(struct perf_procs));
}

void
perf_procs_free(struct perf_procs *c)
{
	free(c);
}

/* Reads the ids of pid from /proc into e; strings go into t. */
static void
perf_procs_lookup(struct stack_table *t, uint32_t pid, struct perf_proc_ent *e)
{
	char buf[APPID_MAX];
	uint32_t id;

	e->pe_pid = pid;
	e->pe_container = e->pe_app_id = 0;
	/* Many samples are of short-lived processes, gone by now: kill(pid,
	 * 0) tells so for a tenth of the cost of a failed open in /proc. */
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		return;
	if (appid_container((pid_t)pid, buf, sizeof(buf)) == 0) {
		if ((id = stacks_intern_str(t, buf)) != STACKS_NONE)
			e->pe_container = id;
	} else if (errno == ENOENT) {
		/* Gone (most often a short-lived process): so is its
		 * cmdline, which would cost one more failed open. */
		return;
	}
	if (appid_of_pid((pid_t)pid, buf, sizeof(buf)) == 0 &&
	    (id = stacks_intern_str(t, buf)) != STACKS_NONE)
		e->pe_app_id = id;
}

/* Finds pid's entry, adding it while there is room; NULL when full. */
static struct perf_proc_ent *
perf_procs_find(struct perf_procs *c, struct stack_table *t, uint32_t pid)
{
	size_t i = (pid * 2654435761u) % PERF_PROCS_CACHE;

	for (size_t n = 0; n < PERF_PROCS_CACHE; n++) {
		struct perf_proc_ent *e = &c->pc_ent[i];

		if (e->pe_pid == pid)
			return e;
		if (e->pe_pid == 0) {
			if (c->pc_used >= PERF_PROCS_CACHE * 3 / 4)
				return NULL;
			c->pc_used++;
			perf_procs_lookup(t, pid, e);
			return e;
		}
		i = (i + 1) % PERF_PROCS_CACHE;
	}
	return NULL;
}

int
perf_procs_resolve(void *arg, struct stack_table *t, uint32_t pid,
		   const char *comm, size_t len)
{
	struct perf_proc_ent *e = NULL;
	uint32_t comm_id = stacks_intern(t, comm, len);

	if (comm_id == STACKS_NONE)
		return -1;
	/* pid 0 (idle) and -1 (unknown) are not processes. */
	if (pid != 0 && pid != PERF_PID_UNKNOWN)
		e = perf_procs_find(arg, t, pid);
	return stacks_proc(t, pid, comm_id, e ? e->pe_container : 0,
			   e ? e->pe_app_id : 0);
}
