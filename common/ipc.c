/* nng sockets as profd uses them: bounded, permissioned, pollable. */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair0/pair.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/transport/ipc/ipc.h>

#include "ipc.h"
#include "log.h"
#include "pbmsg.h"
#include "util.h"

#if NNG_MAJOR_VERSION == 1 && NNG_MINOR_VERSION < 6
/*
 * nng before 1.6.0 takes EPIPE, met while it sends its handshake to a peer
 * that has already gone, for its own listener being closed: the listener
 * stops taking connections for good, and every connection made to it after
 * that is negotiated and then kept, never handed over and never closed, the
 * peer gone or not (nng issue 1518). One connect() and close() by a worker
 * would make its channel, or the uploader's chunk socket, swallow a
 * descriptor per later connection. Each program that links this file sends
 * through this sendmsg, which reports a peer that went away as ECONNRESET,
 * after which nng drops that connection and accepts the next one. No caller
 * here tells the two apart.
 */
ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
	long n = syscall(SYS_sendmsg, fd, msg, flags);

	if (n == -1 && errno == EPIPE)
		errno = ECONNRESET;
	return n;
}
#endif

int
ipc_open(nng_socket *s, enum ipc_proto p, size_t maxsz, int timeout_ms)
{
	int rv;

	switch (p) {
	case IPC_PAIR:
		rv = nng_pair0_open(s);
		break;
	case IPC_REQ:
		rv = nng_req0_open(s);
		break;
	case IPC_REP:
		rv = nng_rep0_open(s);
		break;
	default:
		return NNG_EINVAL;
	}
	if (rv != 0)
		return rv;
	if ((rv = nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ, maxsz)) != 0 ||
	    (rv = nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, timeout_ms)) != 0 ||
	    (rv = nng_socket_set_ms(*s, NNG_OPT_SENDTIMEO, timeout_ms)) != 0) {
		nng_close(*s);
		return rv;
	}
	if (p == IPC_REQ &&
	    (rv = nng_socket_set_ms(*s, NNG_OPT_REQ_RESENDTIME, -1)) != 0) {
		nng_close(*s);
		return rv;
	}
	return 0;
}

int
ipc_listen(nng_socket s, const char *url, int mode)
{
	nng_listener l;

	return ipc_listen_keep(s, url, mode, &l);
}

int
ipc_listen_keep(nng_socket s, const char *url, int mode, nng_listener *lp)
{
	nng_listener l;
	size_t maxsz;
	int rv;

	/* The listener's own limit would override the socket's: keep the
	 * socket's, the limit of its channel. */
	if ((rv = nng_socket_get_size(s, NNG_OPT_RECVMAXSZ, &maxsz)) != 0)
		return rv;
	if (maxsz == 0 || maxsz > IPC_CHUNK_MAX)
		return NNG_EINVAL;
	if ((rv = nng_listener_create(&l, s, url)) != 0)
		return rv;
	if ((rv = nng_listener_set_size(l, NNG_OPT_RECVMAXSZ, maxsz)) != 0 ||
	    (rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, mode)) !=
		0 ||
	    (rv = nng_listener_start(l, 0)) != 0) {
		nng_listener_close(l);
		return rv;
	}
	*lp = l;
	return 0;
}

int
ipc_dial(nng_socket s, const char *url, int wait_ms)
{
	int64_t deadline = now_ms() + wait_ms;
	int rv;

	for (;;) {
		rv = nng_dial(s, url, NULL, 0);
		if (rv == 0 || (rv != NNG_ECONNREFUSED && rv != NNG_ENOENT) ||
		    now_ms() >= deadline)
			return rv;
		sleep_ms(20);
	}
}

/* Whether pp lets a peer of uid and pid in. */
static int
ipc_peer_ok(const struct ipc_peer *pp, uint64_t uid, uint64_t pid)
{
	int uid_ok = uid == 0 && pp->ip_root;

	for (size_t i = 0; !uid_ok && i < pp->ip_nuids; i++)
		uid_ok = uid == pp->ip_uids[i];
	if (!uid_ok)
		return 0;
	return pp->ip_pid == NULL ||
	       pid == (uint64_t)__atomic_load_n(pp->ip_pid, __ATOMIC_ACQUIRE);
}

static void
ipc_check_peer(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	const struct ipc_peer *pp = arg;
	uint64_t uid = UINT64_MAX, pid = UINT64_MAX;

	(void)ev;
	if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid) != 0 ||
	    nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_PID, &pid) != 0 ||
	    !ipc_peer_ok(pp, uid, pid)) {
		log_warn("refused a connection from uid %lld pid %lld",
			 uid == UINT64_MAX ? -1LL : (long long)uid,
			 pid == UINT64_MAX ? -1LL : (long long)pid);
		nng_pipe_close(p);
	}
}

int
ipc_allow_peer(nng_socket s, const struct ipc_peer *pp)
{
	return nng_pipe_notify(s, NNG_PIPE_EV_ADD_PRE, ipc_check_peer,
			       (void *)pp);
}

/* The drop watch of one socket: its current pipe, and when that pipe
 * closed (0: it did not). Written by nng's threads. */
struct ipc_watch {
	uint32_t iw_sock;
	_Atomic uint32_t iw_pipe;
	_Atomic uint32_t iw_pipe_listener; /* the listener of iw_pipe */
	_Atomic uint32_t iw_listener;	   /* that of the pipe that closed */
	_Atomic int64_t iw_dropped_ms;
};

static struct ipc_watch ipc_watches[IPC_WATCH_MAX];
static size_t ipc_nwatches;

/* Asks nng about the pipe only while it is being added: on removal the
 * callback runs in nng's reaper and only compares what it kept. */
static void
ipc_watch_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct ipc_watch *w = arg;

	if (ev == NNG_PIPE_EV_ADD_POST) {
		atomic_store(&w->iw_pipe_listener,
			     (uint32_t)nng_listener_id(nng_pipe_listener(p)));
		atomic_store(&w->iw_pipe, (uint32_t)nng_pipe_id(p));
		return;
	}
	if (atomic_load(&w->iw_pipe) != (uint32_t)nng_pipe_id(p))
		return; /* refused before it was added, or an older one */
	atomic_store(&w->iw_listener, atomic_load(&w->iw_pipe_listener));
	atomic_store(&w->iw_dropped_ms, now_ms());
}

static struct ipc_watch *
ipc_watch_find(nng_socket s)
{
	for (size_t i = 0; i < ipc_nwatches; i++)
		if (ipc_watches[i].iw_sock == (uint32_t)nng_socket_id(s))
			return &ipc_watches[i];
	return NULL;
}

int
ipc_watch_drops(nng_socket s)
{
	struct ipc_watch *w;
	int rv;

	if ((w = ipc_watch_find(s)) == NULL) {
		if (ipc_nwatches == IPC_WATCH_MAX)
			return NNG_ENOMEM;
		w = &ipc_watches[ipc_nwatches++];
		w->iw_sock = (uint32_t)nng_socket_id(s);
	}
	if ((rv = nng_pipe_notify(s, NNG_PIPE_EV_ADD_POST, ipc_watch_cb, w)) !=
	    0)
		return rv;
	return nng_pipe_notify(s, NNG_PIPE_EV_REM_POST, ipc_watch_cb, w);
}

int64_t
ipc_dropped(nng_socket s, nng_listener l)
{
	struct ipc_watch *w = ipc_watch_find(s);
	int64_t at;

	if (w == NULL || (at = atomic_load(&w->iw_dropped_ms)) == 0)
		return 0;
	if (atomic_load(&w->iw_listener) != (uint32_t)nng_listener_id(l)) {
		atomic_store(&w->iw_dropped_ms, 0); /* an older incarnation's */
		return 0;
	}
	return at;
}

void
ipc_dropped_clear(nng_socket s)
{
	struct ipc_watch *w = ipc_watch_find(s);

	if (w != NULL)
		atomic_store(&w->iw_dropped_ms, 0);
}

int
ipc_recv_fd(nng_socket s, int *fd)
{
	return nng_socket_get_int(s, NNG_OPT_RECVFD, fd);
}

int
ipc_send_pb(nng_socket s, const ProtobufCMessage *m)
{
	size_t len;
	void *buf;
	int rv;

	if ((buf = pbmsg_pack(m, &len)) == NULL)
		return NNG_ENOMEM;
	rv = nng_send(s, buf, len, 0);
	free(buf);
	return rv;
}

ProtobufCMessage *
ipc_recv_pb(nng_socket s, const ProtobufCMessageDescriptor *d, int flags,
	    int *err)
{
	ProtobufCMessage *m;
	size_t len;
	void *buf;

	if ((*err = nng_recv(s, &buf, &len, flags | NNG_FLAG_ALLOC)) != 0)
		return NULL;
	m = pbmsg_unpack(d, buf, len);
	nng_free(buf, len);
	if (m == NULL)
		*err = -1;
	return m;
}

int
ipc_send_status(nng_socket s, Profd__Status__Kind kind, uint64_t window,
		const char *msg, uint64_t samples, uint64_t lost)
{
	Profd__Control c = PROFD__CONTROL__INIT;
	Profd__Status st = PROFD__STATUS__INIT;
	int rv;

	st.kind = kind;
	st.window = window;
	st.message = (char *)(msg ? msg : "");
	st.samples = samples;
	st.errors = lost;
	c.body_case = PROFD__CONTROL__BODY_STATUS;
	c.status = &st;
	if ((rv = ipc_send_pb(s, &c.base)) != 0)
		log_error("cannot reach profd: %s", nng_strerror(rv));
	return rv;
}

int
ipc_send_hello(nng_socket s, const char *name)
{
	Profd__Control c = PROFD__CONTROL__INIT;
	Profd__Hello h = PROFD__HELLO__INIT;

	h.worker = (char *)name;
	h.pid = (uint32_t)getpid();
	h.version = PACKAGE_VERSION;
	c.body_case = PROFD__CONTROL__BODY_HELLO;
	c.hello = &h;
	return ipc_send_pb(s, &c.base);
}

int
ipc_url(char *url, size_t len, const char *dir, const char *name)
{
	int n = snprintf(url, len, "ipc://%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}
