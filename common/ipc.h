/* nng sockets as profd uses them: bounded, permissioned, pollable. */
#ifndef PROFD_IPC_H
#define PROFD_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <nng/nng.h>
#include <protobuf-c/protobuf-c.h>

#include "profd.pb-c.h"

#define IPC_CTL_MAX   (64u << 10) /* supervisor <-> worker messages */
#define IPC_CHUNK_MAX (8u << 20)  /* worker -> uploader chunks */
#define IPC_URL_MAX   256
#define IPC_WATCH_MAX 64 /* sockets whose dropped pipes are watched */

enum ipc_proto {
	IPC_PAIR,
	IPC_REQ,
	IPC_REP,
};

/* Opens a socket of protocol p that refuses messages over maxsz bytes and
 * times out sends and receives after timeout_ms (<0: never). 0 or an nng
 * error code. */
int ipc_open(nng_socket *s, enum ipc_proto p, size_t maxsz, int timeout_ms);
/* Listens on url; an ipc:// socket file gets mode. The listener refuses
 * messages over the socket's own NNG_OPT_RECVMAXSZ (set by ipc_open), the
 * limit of its channel. 0 or an nng error. */
int ipc_listen(nng_socket s, const char *url, int mode);
/* Same, and stores the listener in *lp so it can be closed alone. */
int ipc_listen_keep(nng_socket s, const char *url, int mode, nng_listener *lp);
/* Dials url, retrying for up to wait_ms while the listener is not up. */
int ipc_dial(nng_socket s, const char *url, int wait_ms);
#define IPC_PEER_UIDS 8 /* uids one socket lets in */

/* Who may connect: one of the uids (root too when ip_root), and when
 * ip_pid is set, only the process whose pid it holds at that moment. */
struct ipc_peer {
	uid_t ip_uids[IPC_PEER_UIDS];
	size_t ip_nuids;
	int ip_root;
	const pid_t *ip_pid; /* read atomically at each connection */
};

/* Closes every pipe whose peer pp does not allow, with a warning; pp must
 * outlive the socket. 0 or an nng error. */
int ipc_allow_peer(nng_socket s, const struct ipc_peer *pp);
/* Watches the pipes of s: nng closes a pipe that brings a message over the
 * socket's limit, and so does a peer that breaks its connection. Only the
 * pipe added last counts. 0 or an nng error. */
int ipc_watch_drops(nng_socket s);
/* When (now_ms) the watched pipe of s that listener l accepted closed, or
 * 0 if it did not. */
int64_t ipc_dropped(nng_socket s, nng_listener l);
/* Forgets a drop seen by ipc_dropped. */
void ipc_dropped_clear(nng_socket s);
/* Stores in *fd a descriptor that polls readable when a message waits. */
int ipc_recv_fd(nng_socket s, int *fd);
/* Encodes m and sends it. 0 or an nng error code. */
int ipc_send_pb(nng_socket s, const ProtobufCMessage *m);
/* Receives one message and decodes it as d with a bounded allocation.
 * Returns NULL and sets *err to an nng error, or to -1 when the message
 * does not decode (fail closed). */
ProtobufCMessage *ipc_recv_pb(nng_socket s, const ProtobufCMessageDescriptor *d,
			      int flags, int *err);
/* Sends a Status of kind for window (msg may be NULL) wrapped in a Control
 * message; 0 or an nng error code, logged. */
int ipc_send_status(nng_socket s, Profd__Status__Kind kind, uint64_t window,
		    const char *msg, uint64_t samples, uint64_t lost);
/* Sends a worker's Hello: its name, this process's pid and the package
 * version, wrapped in a Control message; 0 or an nng error code. */
int ipc_send_hello(nng_socket s, const char *name);
/* Writes "ipc://DIR/NAME" into url; -1 if it does not fit. */
int ipc_url(char *url, size_t len, const char *dir, const char *name);

#endif
