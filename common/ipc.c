/* nng sockets as profd uses them: bounded, permissioned, pollable. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <nng/nng.h>
#include <nng/protocol/pair0/pair.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/transport/ipc/ipc.h>

#include "ipc.h"
#include "log.h"
#include "pbmsg.h"
#include "util.h"

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
	int rv;

	if ((rv = nng_listener_create(&l, s, url)) != 0)
		return rv;
	if ((rv = nng_listener_set_size(l, NNG_OPT_RECVMAXSZ, IPC_CHUNK_MAX)) !=
		0 ||
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
		const char *msg, uint64_t samples)
{
	Profd__Control c = PROFD__CONTROL__INIT;
	Profd__Status st = PROFD__STATUS__INIT;
	int rv;

	st.kind = kind;
	st.window = window;
	st.message = (char *)(msg ? msg : "");
	st.samples = samples;
	c.body_case = PROFD__CONTROL__BODY_STATUS;
	c.status = &st;
	if ((rv = ipc_send_pb(s, &c.base)) != 0)
		log_error("cannot reach profd: %s", nng_strerror(rv));
	return rv;
}

int
ipc_url(char *url, size_t len, const char *dir, const char *name)
{
	int n = snprintf(url, len, "ipc://%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}
