/* The control socket: profctl's requests, answered from the table. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nng/transport/ipc/ipc.h>

#include "ipc.h"
#include "log.h"
#include "pbmsg.h"
#include "profd.h"

#define CONTROL_SOCKET "control.sock"
#define CONTROL_GROUP  "profd"

int
control_open(struct profd *p)
{
	char url[IPC_URL_MAX], path[PATH_MAX];
	struct group *gr = getgrnam(CONTROL_GROUP);
	int rv;

	snprintf(path, sizeof(path), "%s/" CONTROL_SOCKET, p->p_opts.po_rundir);
	snprintf(url, sizeof(url), "ipc://%s", path);
	if ((rv = ipc_open(&p->p_ctl, IPC_REP, IPC_CTL_MAX, 1000)) != 0 ||
	    (rv = ipc_listen(p->p_ctl, url, gr ? 0660 : 0600)) != 0 ||
	    (rv = ipc_recv_fd(p->p_ctl, &p->p_ctl_fd)) != 0) {
		log_error("cannot listen on %s: %s", url, nng_strerror(rv));
		return -1;
	}
	if (gr == NULL)
		log_warn("no group %s: only root may use profctl",
			 CONTROL_GROUP);
	else if (chown(path, 0, gr->gr_gid) == -1)
		log_warn("cannot give %s to group %s: %s", path, CONTROL_GROUP,
			 strerror(errno));
	return 0;
}

void
control_close(struct profd *p)
{
	if (p->p_ctl_fd != -1)
		nng_close(p->p_ctl);
	p->p_ctl_fd = -1;
}

/* Fills s with w's status; lx holds its last exit's text. */
static void
control_status_of(const struct profd *p, const struct worker *w,
		  Profd__WorkerStatus *s, char lx[WEXIT_STR_MAX])
{
	(void)p;
	profd__worker_status__init(s);
	s->name = (char *)w->w_name;
	s->state = (char *)(w->w_spec.ws_enabled || w->w_want || fsm_alive(w)
				? fsm_state_name(w->w_state)
				: "disabled");
	s->pid = fsm_alive(w) ? (uint32_t)w->w_pid : 0;
	s->restarts = w->w_restarts;
	s->last_exit = (char *)fsm_exit_str(&w->w_exit, lx, WEXIT_STR_MAX);
	s->rss_bytes = fsm_alive(w) ? w->w_rss : 0;
	s->memory_max = w->w_spec.ws_mem_max;
	s->memory_high = table_mem_high(&w->w_spec);
	s->pids_max = w->w_spec.ws_pids_max;
	s->enabled = w->w_spec.ws_enabled;
	s->window_samples = w->w_win_samples;
	s->window_lost = w->w_win_lost;
}

static void
control_reply(struct profd *p, const char *error)
{
	Profd__CtlReply r = PROFD__CTL_REPLY__INIT;
	Profd__WorkerStatus st[PROFD_MAX_WORKERS], *stp[PROFD_MAX_WORKERS];
	char lx[PROFD_MAX_WORKERS][WEXIT_STR_MAX];
	int rv;

	r.ok = error == NULL;
	r.error = (char *)(error ? error : "");
	r.cgroup_mode = (char *)cgroup_mode_name(p->p_cgmode);
	for (size_t i = 0; error == NULL && i < p->p_nworkers; i++) {
		control_status_of(p, &p->p_workers[i], &st[i], lx[i]);
		stp[i] = &st[i];
		r.n_workers++;
	}
	r.workers = stp;
	if ((rv = ipc_send_pb(p->p_ctl, &r.base)) != 0)
		log_warn("cannot answer profctl: %s", nng_strerror(rv));
}

static const char *
control_set(struct profd *p, struct worker *w, const Profd__CtlRequest *r)
{
	struct wspec *ws = &w->w_spec;

	if (strcmp(r->key, "memory-max") == 0) {
		if (r->value < PROFD_MEM_MAX_MIN)
			return "memory-max must be at "
			       "least " PROFD_MEM_MAX_MIN_WORD;
		ws->ws_mem_max = r->value;
		/* A soft limit set above it follows it again, at 3/4. */
		if (ws->ws_mem_high > ws->ws_mem_max)
			ws->ws_mem_high = 0;
	} else if (strcmp(r->key, "memory-high") == 0) {
		if (r->value < PROFD_MEM_HIGH_MIN || r->value > ws->ws_mem_max)
			return "memory-high must be "
			       "from " PROFD_MEM_HIGH_MIN_WORD " to memory-max";
		ws->ws_mem_high = r->value;
	} else if (strcmp(r->key, "pids-max") == 0) {
		if (r->value < 1 || r->value > PROFD_TASKS_MAX)
			return "pids-max must be from " PROFD_TASKS_RANGE;
		ws->ws_pids_max = r->value;
	} else {
		return "unknown setting (memory-max, memory-high, pids-max)";
	}
	log_info("profd-%s: %s set to %llu by profctl", w->w_name, r->key,
		 (unsigned long long)r->value);
	if (w->w_cg_ok)
		limits_setup(p, w);
	p->p_next_poll = 0; /* check the new limit at once */
	return NULL;
}

/* Applies a re-read worker table: limits now, the rest at next start. */
static void
control_apply_table(struct profd *p, const struct profd_opts *fresh)
{
	for (size_t i = 0; i < p->p_nworkers; i++) {
		struct worker *w = &p->p_workers[i];
		const struct wspec *ws =
		    table_entry((struct profd_opts *)fresh, w->w_name, 0);
		int was = w->w_spec.ws_enabled;

		if (ws == NULL)
			continue;
		w->w_spec = *ws;
		w->w_name = w->w_spec.ws_name;
		if (w->w_cg_ok)
			limits_setup(p, w);
		if (was && !ws->ws_enabled)
			fsm_event(p, w, EV_STOP);
		else if (!was && ws->ws_enabled &&
			 !(w->w_profiler && p->p_opts.po_heartbeat &&
			   !remote_active(p)))
			fsm_event(p, w, EV_START); /* heartbeat: not if idle */
	}
	p->p_next_poll = 0;
}

static const char *
control_reload(struct profd *p, char *err, size_t len)
{
	static struct profd_opts fresh;

	if (options_reload(&p->p_opts, &fresh, err, len) == -1) {
		log_warn("reload refused, the old configuration stays: %s",
			 err);
		return err;
	}
	control_apply_table(p, &fresh);
	memcpy(p->p_opts.po_table, fresh.po_table, sizeof(fresh.po_table));
	p->p_opts.po_ntable = fresh.po_ntable;
	log_info("configuration reloaded from %s", p->p_opts.po_config);
	return NULL;
}

static const char *
control_worker_op(struct profd *p, const Profd__CtlRequest *r)
{
	struct worker *w = workers_find(p, r->worker);

	if (w == NULL)
		return "no such worker";
	switch (r->op) {
	case PROFD__CTL_REQUEST__OP__START:
		/* enabled = no only keeps it from starting with profd. */
		fsm_event(p, w, EV_START);
		return NULL;
	case PROFD__CTL_REQUEST__OP__STOP:
		fsm_event(p, w, EV_STOP);
		return NULL;
	case PROFD__CTL_REQUEST__OP__RESTART:
		fsm_event(p, w, EV_RESTART);
		return NULL;
	case PROFD__CTL_REQUEST__OP__SET:
		return control_set(p, w, r);
	default:
		return "unknown request";
	}
}

static const char *
control_dispatch(struct profd *p, const Profd__CtlRequest *r, char *err,
		 size_t len)
{
	const struct worker *w;

	if (r->op == PROFD__CTL_REQUEST__OP__STATUS)
		return NULL;
	if (p->p_stopping)
		return "profd is stopping";
	if (r->op == PROFD__CTL_REQUEST__OP__RELOAD)
		return control_reload(p, err, len);
	if ((w = workers_find(p, r->worker)) != NULL &&
	    w->w_spec.ws_role == ROLE_UPLOAD &&
	    r->op != PROFD__CTL_REQUEST__OP__SET &&
	    r->op != PROFD__CTL_REQUEST__OP__RESTART)
		return "the uploader always runs (restart it instead)";
	return control_worker_op(p, r);
}

/* Is the request from a uid that a worker runs as? The workers' group is
 * profd too (their user's own group), so the socket's mode lets them in:
 * their requests are refused here. An unknown peer is refused too. */
static int
control_from_worker(const struct profd *p, nng_msg *m, uint64_t *uid)
{
	if (nng_pipe_get_uint64(nng_msg_get_pipe(m), NNG_OPT_IPC_PEER_UID,
				uid) != 0) {
		*uid = UINT64_MAX;
		return 1;
	}
	for (size_t i = 0; *uid != 0 && i < p->p_nworkers; i++)
		if (p->p_workers[i].w_uid == *uid)
			return 1;
	return 0;
}

void
control_recv(struct profd *p)
{
	Profd__CtlRequest *r;
	char err[256];
	uint64_t uid;
	nng_msg *m;

	if (nng_recvmsg(p->p_ctl, &m, NNG_FLAG_NONBLOCK) != 0)
		return;
	if (control_from_worker(p, m, &uid)) {
		log_warn("profctl request from uid %lld refused: profd's "
			 "workers run as that user",
			 (long long)(uid == UINT64_MAX ? -1 : (int64_t)uid));
		nng_msg_free(m);
		control_reply(p, "refused: profd's workers run as this user");
		return;
	}
	r = (Profd__CtlRequest *)pbmsg_unpack(&profd__ctl_request__descriptor,
					      nng_msg_body(m), nng_msg_len(m));
	nng_msg_free(m);
	if (r == NULL) { /* fail closed, but answer: rep must reply */
		control_reply(p, "request does not decode");
		return;
	}
	control_reply(p, control_dispatch(p, r, err, sizeof(err)));
	pbmsg_free(&r->base);
}
