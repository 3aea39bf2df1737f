/* profd-upload under profd: receive chunks, assemble windows, report. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chunk.h"
#include "heartbeat.h"
#include "ipc.h"
#include "log.h"
#include "optdefs.h"
#include "pbmsg.h"
#include "upload.h"
#include "util.h"
#include "windows.h"
#include "worker.h"

struct upsrv {
	struct upload_args *us_args;
	nng_socket us_ctl;
	nng_socket us_rep;
	struct windows us_ws;
	char us_perf_mode[16];
	struct heartbeat us_hb;
	int us_heard;	     /* profd has answered the hello */
	int us_started;	     /* said "started" (to the first Configure) */
	int64_t us_hello_ms; /* when the hello was last said */
};

static void
upsrv_status(struct upsrv *s, Profd__Status__Kind kind, uint64_t window,
	     const char *msg)
{
	(void)ipc_send_status(s->us_ctl, kind, window, msg, 0, 0);
}

static void
upsrv_window_done(void *arg, uint64_t id, int ok)
{
	struct upsrv *s = arg;

	log_info("window %llu %s", (unsigned long long)id,
		 ok ? "written" : "failed");
	if (s->us_args->ua_net_on)
		spool_journal_drop(&s->us_args->ua_spool, id);
	upsrv_status(s,
		     ok ? PROFD__STATUS__KIND__WINDOW_WRITTEN
			: PROFD__STATUS__KIND__ERROR,
		     id, ok ? NULL : "output failed");
}

static void
upsrv_ack(struct upsrv *s, const char *worker, uint64_t window, int stored,
	  const char *msg)
{
	Profd__ChunkAck ack = PROFD__CHUNK_ACK__INIT;
	int rv;

	ack.worker = (char *)worker;
	ack.window = window;
	ack.stored = stored;
	ack.message = (char *)msg;
	if ((rv = ipc_send_pb(s->us_rep, &ack.base)) != 0)
		log_warn("cannot answer %s: %s", worker, nng_strerror(rv));
}

/* Stores a chunk in the spool's journal before it is acknowledged (when
 * there is a spool). 0, or -1 with errno. */
static int
upsrv_journal(struct upsrv *s, const Profd__ProfileChunk *c)
{
	void *buf;
	size_t len;
	int rv;

	if (!s->us_args->ua_net_on)
		return 0;
	if ((buf = pbmsg_pack(&c->base, &len)) == NULL)
		return -1;
	rv = spool_journal_put(&s->us_args->ua_spool, c->window, c->worker, buf,
			       len);
	free(buf);
	return rv;
}

/* Receives one chunk, stores it, and only then acknowledges it. */
static void
upsrv_chunk(struct upsrv *s)
{
	Profd__ProfileChunk *c;
	int err;

	c = (Profd__ProfileChunk *)ipc_recv_pb(
	    s->us_rep, &profd__profile_chunk__descriptor, NNG_FLAG_NONBLOCK,
	    &err);
	if (c == NULL) {
		if (err == -1) {
			log_error("a chunk that does not decode was refused");
			upsrv_ack(s, "", 0, 0, "does not decode");
		}
		return;
	}
	if (chunk_validate(c) == -1) {
		log_error("a chunk from %.32s with out-of-range fields was "
			  "refused",
			  c->worker);
		upsrv_ack(s, c->worker, c->window, 0, "out of range");
	} else if (upsrv_journal(s, c) == -1) {
		log_error("cannot journal window %llu from %s: %s",
			  (unsigned long long)c->window, c->worker,
			  strerror(errno));
		upsrv_ack(s, c->worker, c->window, 0, strerror(errno));
	} else if (windows_add_chunk(&s->us_ws, c) == -1) {
		log_error("cannot store window %llu from %s: %s",
			  (unsigned long long)c->window, c->worker,
			  strerror(errno));
		upsrv_ack(s, c->worker, c->window, 0, strerror(errno));
	} else {
		upsrv_ack(s, c->worker, c->window, 1, "");
	}
	pbmsg_free(&c->base);
}

/* Takes the run's description for the windows' headers; -1 when m is
 * not an uploader's. */
static int
upsrv_configure(struct upsrv *s, const Profd__Configure *m)
{
	struct window_meta *d = &s->us_ws.ws_defaults;

	if (m->settings_case != PROFD__CONFIGURE__SETTINGS_UPLOAD ||
	    !optdef_word_ok(OD_PERF_MODES, m->upload->perf_mode)) {
		log_error("profd sent an invalid configuration");
		return -1;
	}
	snprintf(s->us_perf_mode, sizeof(s->us_perf_mode), "%s",
		 m->upload->perf_mode);
	d->wm_frequency = m->frequency;
	d->wm_duration = m->duration;
	d->wm_continuous = m->continuous;
	d->wm_perf_mode = s->us_perf_mode;
	return 0;
}

/* Handles one message from profd; -1 to go on, else an exit status. */
static int
upsrv_control(struct upsrv *s)
{
	Profd__Control *c;
	int err, rv = -1;

	c = (Profd__Control *)ipc_recv_pb(
	    s->us_ctl, &profd__control__descriptor, NNG_FLAG_NONBLOCK, &err);
	if (c == NULL) {
		if (err == NNG_EAGAIN || err == NNG_ETIMEDOUT)
			return -1;
		log_error("bad message from profd: %s",
			  err == -1 ? "does not decode" : nng_strerror(err));
		return 1;
	}
	s->us_heard = 1;
	switch (c->body_case) {
	case PROFD__CONTROL__BODY_CONFIGURE:
		/* Fail closed, as on a message that does not decode. */
		if (upsrv_configure(s, c->configure) == -1)
			rv = 1;
		else if (!s->us_started) {
			s->us_started = 1;
			upsrv_status(s, PROFD__STATUS__KIND__STARTED, 0, NULL);
		}
		break;
	case PROFD__CONTROL__BODY_SNAPSHOT:
		if (windows_snapshot(&s->us_ws, c->snapshot) == -1)
			log_error("cannot open window %llu",
				  (unsigned long long)c->snapshot->window);
		break;
	case PROFD__CONTROL__BODY_DONE:
		heartbeat_done(&s->us_hb, c->done);
		break;
	case PROFD__CONTROL__BODY_STOP:
		windows_flush(&s->us_ws, upload_store, s->us_args, 1,
			      upsrv_window_done, s);
		upsrv_status(s, PROFD__STATUS__KIND__STOPPED, 0, NULL);
		rv = 0;
		break;
	default:
		log_error("unexpected message from profd (case %d)",
			  (int)c->body_case);
		rv = 1;
	}
	pbmsg_free(&c->base);
	return rv;
}

/* Says hello; one that could not be sent is said again from the loop. */
static void
upsrv_hello(struct upsrv *s)
{
	s->us_hello_ms = now_ms();
	(void)ipc_send_hello(s->us_ctl, "upload");
}

/* No answer to hello for a second: said again, as a profiler does (see
 * sup_hello_again), until profd answers; not once stopping. */
static void
upsrv_hello_again(struct upsrv *s)
{
	if (s->us_heard || worker_stopping() ||
	    now_ms() - s->us_hello_ms < 1000)
		return;
	log_info("no answer from profd: hello again");
	upsrv_hello(s);
}

static int
upsrv_loop(struct upsrv *s)
{
	struct pollfd pfd[2];
	int rv, wait_ms;

	if (ipc_recv_fd(s->us_ctl, &pfd[0].fd) != 0 ||
	    ipc_recv_fd(s->us_rep, &pfd[1].fd) != 0)
		return 1;
	pfd[0].events = pfd[1].events = POLLIN;
	while (!worker_stopping()) {
		wait_ms = windows_flush(&s->us_ws, upload_store, s->us_args, 0,
					upsrv_window_done, s);
		if (wait_ms < 0 || wait_ms > 1000)
			wait_ms = 1000;
		if (poll(pfd, 2, wait_ms) == -1 && errno != EINTR)
			return 1;
		if (pfd[1].revents & POLLIN)
			upsrv_chunk(s);
		if ((pfd[0].revents & POLLIN) && (rv = upsrv_control(s)) != -1)
			return rv;
		upsrv_hello_again(s);
	}
	windows_flush(&s->us_ws, upload_store, s->us_args, 1, upsrv_window_done,
		      s);
	return 0;
}

static int
upsrv_open(struct upsrv *s)
{
	const char *rundir = s->us_args->ua_rundir;
	char url[IPC_URL_MAX];
	int rv;

	if (ipc_url(url, sizeof(url), rundir, WORKER_UPLOAD_SOCKET) == -1)
		return -1;
	/* The profilers' uids (--peer-uid), else only its own. Their group
	 * reaches the socket: its directory is profd-chunks' (setgid). */
	s->us_args->ua_peers.ip_root = 1;
	if (s->us_args->ua_peers.ip_nuids == 0)
		s->us_args->ua_peers.ip_uids[s->us_args->ua_peers.ip_nuids++] =
		    geteuid();
	if ((rv = ipc_open(&s->us_rep, IPC_REP, IPC_CHUNK_MAX, 1000)) != 0 ||
	    (rv = ipc_allow_peer(s->us_rep, &s->us_args->ua_peers)) != 0 ||
	    (rv = ipc_listen(s->us_rep, url, 0660)) != 0) {
		log_error("cannot listen on %s: %s", url, nng_strerror(rv));
		return -1;
	}
	if (s->us_args->ua_channel != NULL)
		snprintf(url, sizeof(url), "ipc://%s/%s", rundir,
			 s->us_args->ua_channel);
	else
		snprintf(url, sizeof(url), "ipc://%s/" WORKER_CTL_SOCKET,
			 rundir, "upload");
	if ((rv = ipc_open(&s->us_ctl, IPC_PAIR, IPC_CTL_MAX, 1000)) != 0 ||
	    (rv = ipc_dial(s->us_ctl, url, 5000)) != 0) {
		log_error("cannot connect to profd at %s: %s", url,
			  nng_strerror(rv));
		return -1;
	}
	return 0;
}

static void
upsrv_recover_one(void *arg, const void *buf, size_t len)
{
	struct upsrv *s = arg;
	Profd__ProfileChunk *c;

	c = (Profd__ProfileChunk *)pbmsg_unpack(
	    &profd__profile_chunk__descriptor, buf, len);
	if (c == NULL || chunk_validate(c) == -1 ||
	    windows_add_chunk(&s->us_ws, c) == -1)
		log_warn("journal: a chunk that does not decode or fit was "
			 "dropped");
	if (c != NULL)
		pbmsg_free(&c->base);
}

static void
upsrv_recovered(void *arg, uint64_t id, int ok)
{
	(void)arg;
	log_info("window %llu %s (recovered from the journal)",
		 (unsigned long long)id, ok ? "written" : "failed");
}

/* Stores the windows whose chunks a previous run acknowledged but did not
 * store; they go out as they are, without telling profd. */
static void
upsrv_recover(struct upsrv *s)
{
	struct spool *sp = &s->us_args->ua_spool;
	size_t n;

	if (!s->us_args->ua_net_on)
		return;
	n = spool_journal_load(sp, IPC_CHUNK_MAX, upsrv_recover_one, s);
	if (n == 0)
		return;
	log_warn("journal: %zu chunks of an earlier run recovered", n);
	windows_flush(&s->us_ws, upload_store, s->us_args, 1, upsrv_recovered,
		      NULL);
	s->us_ws.ws_done = 0;
	spool_journal_drop(sp, UINT64_MAX);
}

int
upload_supervised(struct upload_args *a)
{
	struct upsrv s;
	int rv = 1;

	memset(&s, 0, sizeof(s));
	s.us_args = a;
	upsrv_recover(&s);
	/* Short windows with a late chunk must not fill every slot. */
	windows_set_store(&s.us_ws, upload_store, a, upsrv_window_done, &s);
	if (upsrv_open(&s) == 0) {
		upsrv_hello(&s);
		if (!a->ua_heartbeat ||
		    heartbeat_start(&s.us_hb, &a->ua_net, s.us_ctl,
				    a->ua_hb_interval) == 0)
			rv = upsrv_loop(&s);
	}
	heartbeat_stop(&s.us_hb);
	windows_free(&s.us_ws);
	nng_close(s.us_rep);
	nng_close(s.us_ctl);
	return rv;
}
