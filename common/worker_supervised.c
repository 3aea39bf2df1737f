/* Worker shell, supervised mode: serve profd on the control socket. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chunk.h"
#include "ipc.h"
#include "log.h"
#include "optdefs.h"
#include "pbmsg.h"
#include "worker_priv.h"

struct sup {
	struct worker_args *su_args;
	nng_socket su_ctl;
	nng_socket su_up;
	int su_started;
	int su_heard; /* profd has sent something */
	char su_workdir[IPC_URL_MAX];
};

static int
sup_send_status(struct sup *s, Profd__Status__Kind kind, uint64_t window,
		const char *msg, uint64_t samples)
{
	return ipc_send_status(s->su_ctl, kind, window, msg, samples,
			       kind == PROFD__STATUS__KIND__SNAPSHOT_SENT
				   ? s->su_args->wa_ctx.wc_lost
				   : 0) == 0
		   ? 0
		   : -1;
}

/* Says hello; one that could not be sent is said again from the loop. */
static void
sup_hello(struct sup *s)
{
	(void)ipc_send_hello(s->su_ctl, s->su_args->wa_ctx.wc_name);
}

/* The worker's own part of m: the one its kind takes, and no other (a
 * worker that takes no part, such as a test worker standing in for
 * another, ignores any); NULL when m holds another kind's. */
const void *
worker_settings_part(const Profd__Configure *m, const struct profiler_ops *ops)
{
	if (ops->po_settings_case == 0)
		return m;
	if ((int)m->settings_case != ops->po_settings_case)
		return NULL;
	switch (m->settings_case) {
	case PROFD__CONFIGURE__SETTINGS_PERF:
		return m->perf;
	case PROFD__CONFIGURE__SETTINGS_PYTHON:
		return m->python;
	case PROFD__CONFIGURE__SETTINGS_JAVA:
		return m->java;
	default:
		return m; /* no part: any non-NULL */
	}
}

static int
sup_configure(struct sup *s, const Profd__Configure *m)
{
	struct worker_ctx *ctx = &s->su_args->wa_ctx;
	struct worker_opts *o = &ctx->wc_opts;
	const char *bad = "pids";
	const void *part = worker_settings_part(m, ctx->wc_ops);

	if (part == NULL)
		bad = "the settings of another kind of worker";
	if (s->su_started || m->n_pids > PROFD_MAX_PIDS || part == NULL ||
	    optdef_check_msg(optdefs_common, m, &bad) == -1 ||
	    (ctx->wc_ops->po_rows != NULL &&
	     optdef_check_msg(ctx->wc_ops->po_rows, part, &bad) == -1)) {
		log_error("profd sent an invalid configuration (%s)", bad);
		return -1;
	}
	for (size_t i = 0; i < m->n_pids; i++) {
		if (m->pids[i] == 0 || m->pids[i] > PROFD_PID_MAX) {
			log_error("profd sent an invalid configuration (pids)");
			return -1;
		}
		o->wo_pids[i] = m->pids[i];
	}
	o->wo_npids = m->n_pids;
	optdef_apply(optdefs_common, m, o);
	if (ctx->wc_ops->po_rows != NULL)
		optdef_apply(ctx->wc_ops->po_rows, part,
			     ctx->wc_ops->po_settings);
	if (ctx->wc_ops->po_start(ctx) == -1) {
		sup_send_status(s, PROFD__STATUS__KIND__ERROR, 0,
				"profiler failed to start", 0);
		return WORKER_EXIT_CONFIG;
	}
	s->su_started = 1;
	return sup_send_status(s, PROFD__STATUS__KIND__STARTED, 0, NULL, 0);
}

/* Sends one chunk to the uploader and waits until it is stored. */
static int
sup_deliver(struct sup *s, const struct stack_table *t, uint64_t window)
{
	const char *name = s->su_args->wa_ctx.wc_name;
	Profd__ChunkAck *ack;
	struct chunk_buf b;
	int rv, err;

	if (chunk_build(&b, t, name, window) == -1)
		return -1;
	b.cb_chunk.frequency = s->su_args->wa_ctx.wc_opts.wo_frequency;
	b.cb_chunk.runtime = s->su_args->wa_ctx.wc_ops->po_runtime;
	if (protobuf_c_message_get_packed_size(&b.cb_chunk.base) >
	    IPC_CHUNK_MAX) {
		log_error("window %llu is over %u bytes encoded; dropped",
			  (unsigned long long)window, IPC_CHUNK_MAX);
		chunk_buf_free(&b);
		return -1;
	}
	rv = ipc_send_pb(s->su_up, &b.cb_chunk.base);
	chunk_buf_free(&b);
	if (rv != 0) {
		log_error("cannot send window %llu to the uploader: %s",
			  (unsigned long long)window, nng_strerror(rv));
		return -1;
	}
	ack = (Profd__ChunkAck *)ipc_recv_pb(
	    s->su_up, &profd__chunk_ack__descriptor, 0, &err);
	if (ack == NULL) {
		log_error("no answer from the uploader for window %llu",
			  (unsigned long long)window);
		return -1;
	}
	rv = ack->stored && ack->window == window ? 0 : -1;
	if (rv == -1)
		log_error("uploader refused window %llu: %s",
			  (unsigned long long)window, ack->message);
	pbmsg_free(&ack->base);
	return rv;
}

static int
sup_snapshot(struct sup *s, const Profd__Snapshot *m)
{
	struct worker_ctx *ctx = &s->su_args->wa_ctx;
	struct stack_table *t;
	uint64_t samples;
	int rv = -1;

	if (!s->su_started)
		return -1;
	if ((t = stacks_new(WORKER_CHUNK_BUDGET)) == NULL)
		return -1;
	if (ctx->wc_ops->po_snapshot(ctx, m->window, t) == 0)
		rv = sup_deliver(s, t, m->window);
	samples = stacks_total(t);
	stacks_free(t);
	if (rv == 0)
		return sup_send_status(s, PROFD__STATUS__KIND__SNAPSHOT_SENT,
				       m->window, NULL, samples);
	return sup_send_status(s, PROFD__STATUS__KIND__ERROR, m->window,
			       "window lost", 0);
}

static void
sup_stop(struct sup *s)
{
	if (s->su_started)
		s->su_args->wa_ctx.wc_ops->po_stop(&s->su_args->wa_ctx);
	s->su_started = 0;
}

/* Handles one control message; returns -1 to go on, else an exit status. */
static int
sup_dispatch(struct sup *s, const Profd__Control *c)
{
	int rv;

	switch (c->body_case) {
	case PROFD__CONTROL__BODY_CONFIGURE:
		rv = sup_configure(s, c->configure);
		return rv == 0 ? -1 : rv == -1 ? 1 : rv;
	case PROFD__CONTROL__BODY_SNAPSHOT:
		/* A lost window was reported; the worker goes on. */
		(void)sup_snapshot(s, c->snapshot);
		return -1;
	case PROFD__CONTROL__BODY_STOP:
		sup_stop(s);
		sup_send_status(s, PROFD__STATUS__KIND__STOPPED, 0, NULL, 0);
		return 0;
	default:
		log_error("unexpected message from profd (case %d)",
			  (int)c->body_case);
		return 1;
	}
}

/* No answer to hello for a second: nng's pair socket on profd's side may
 * have refused this connection while the last incarnation's was still
 * attached (the message is lost and nng connects again), so it is said
 * again. profd ignores a hello said again while it configures. */
static void
sup_hello_again(struct sup *s)
{
	log_info("no answer from profd: hello again");
	sup_hello(s);
}

static void
sup_idle(struct sup *s)
{
	struct worker_ctx *ctx = &s->su_args->wa_ctx;

	if (s->su_started && ctx->wc_ops->po_idle != NULL)
		ctx->wc_ops->po_idle(ctx);
}

static int
sup_loop(struct sup *s)
{
	Profd__Control *c;
	int err, rv;

	for (;;) {
		if (worker_stopping()) {
			sup_stop(s);
			return 0;
		}
		c = (Profd__Control *)ipc_recv_pb(
		    s->su_ctl, &profd__control__descriptor, 0, &err);
		if (c == NULL) {
			if (err == NNG_ETIMEDOUT) {
				if (!s->su_heard && !worker_stopping())
					sup_hello_again(s);
				else
					sup_idle(s);
				continue;
			}
			log_error("bad message from profd: %s",
				  err == -1 ? "does not decode"
					    : nng_strerror(err));
			sup_stop(s);
			return 1;
		}
		s->su_heard = 1;
		rv = sup_dispatch(s, c);
		pbmsg_free(&c->base);
		if (rv != -1)
			return rv;
	}
}

static int
sup_connect(struct sup *s)
{
	const char *rundir = s->su_args->wa_rundir;
	char url[IPC_URL_MAX], name[64];
	int rv;

	if (s->su_args->wa_channel != NULL)
		snprintf(name, sizeof(name), "%s", s->su_args->wa_channel);
	else
		snprintf(name, sizeof(name), WORKER_CTL_SOCKET,
			 s->su_args->wa_ctx.wc_name);
	if (ipc_url(url, sizeof(url), rundir, name) == -1)
		return -1;
	if ((rv = ipc_open(&s->su_ctl, IPC_PAIR, IPC_CTL_MAX, 1000)) != 0 ||
	    (rv = ipc_dial(s->su_ctl, url, 5000)) != 0) {
		log_error("cannot connect to profd at %s: %s", url,
			  nng_strerror(rv));
		return -1;
	}
	if (ipc_url(url, sizeof(url), rundir, WORKER_UPLOAD_SOCKET) == -1)
		return -1;
	if ((rv = ipc_open(&s->su_up, IPC_REQ, IPC_CTL_MAX,
			   WORKER_ACK_TIMEOUT_MS)) != 0 ||
	    (rv = nng_dial(s->su_up, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		log_error("cannot connect to the uploader at %s: %s", url,
			  nng_strerror(rv));
		return -1;
	}
	return 0;
}

int
worker_supervised(struct worker_args *a)
{
	struct sup s;
	int rv;

	memset(&s, 0, sizeof(s));
	s.su_args = a;
	snprintf(s.su_workdir, sizeof(s.su_workdir), "%s/%s", a->wa_rundir,
		 a->wa_ctx.wc_name);
	if (a->wa_ctx.wc_workdir == NULL)
		a->wa_ctx.wc_workdir = s.su_workdir;
	/* The uploader's chunk socket is for this group (when it exists). */
	(void)sandbox_keep_group(SANDBOX_CHUNK_GROUP);
	if (sandbox_enter(a->wa_ctx.wc_ops->po_policy, a->wa_user) == -1)
		return 1;
	if (sup_connect(&s) == -1)
		return 1;
	a->wa_ctx.wc_ctl = s.su_ctl;
	a->wa_ctx.wc_supervised = 1;
	sup_hello(&s);
	rv = sup_loop(&s);
	nng_close(s.su_up);
	nng_close(s.su_ctl);
	return rv;
}
