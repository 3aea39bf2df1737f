/* Internals of the worker shell, shared by its three files. */
#ifndef PROFD_WORKER_PRIV_H
#define PROFD_WORKER_PRIV_H

#include "profd.pb-c.h"
#include "worker.h"

struct worker_args {
	struct worker_ctx wa_ctx;
	const char *wa_user;
	const char *wa_rundir;	/* supervised when set */
	const char *wa_channel; /* socket to profd in wa_rundir */
	int wa_syslog;
	int wa_verbose;
};

/* Profiles one window and prints collapsed stacks; returns exit status. */
int worker_standalone(struct worker_args *a);
/* Serves profd over the control socket; returns exit status. */
int worker_supervised(struct worker_args *a);

/* The part of Configure m that ops's worker takes: its own kind's (the
 * message itself for a worker that takes none); NULL when m holds
 * another kind's, which the worker refuses. */
const void *worker_settings_part(const Profd__Configure *m,
				 const struct profiler_ops *ops);

#endif
