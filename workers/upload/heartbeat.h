/* Heartbeat: poll Performance Studio for start and stop commands, pass
 * them to profd, report their completion. */
#ifndef PROFD_HEARTBEAT_H
#define PROFD_HEARTBEAT_H

#include <pthread.h>
#include <stdint.h>

#include <nng/nng.h>

#include "profd.pb-c.h"
#include "hb_parse.h"
#include "sender.h"

#define HB_INTERVAL_S	30 /* --heartbeat-interval default */
#define HB_INTERVAL_MAX 3600
#define HB_IDS		32 /* command ids remembered (deduplication) */
#define HB_QUEUE	16 /* completions waiting to be reported */
#define HB_ERROR_MAX	256
#define HB_TRIES	5 /* attempts to report one completion */
#define HB_TIMEOUT_S	30

struct hb_done {
	char hd_id[HB_ID_MAX + 1];
	int hd_ok;
	char hd_error[HB_ERROR_MAX];
	double hd_seconds; /* from receipt to completion */
	unsigned hd_tries;
};

struct hb_sent {
	char hs_id[HB_ID_MAX + 1];
	int64_t hs_ms; /* when it was received */
};

struct heartbeat {
	struct net_conf *hb_conf;
	nng_socket hb_ctl; /* to profd */
	uint32_t hb_interval_s;
	pthread_t hb_thread;
	pthread_mutex_t hb_lock;
	pthread_cond_t hb_cond;
	int hb_running;
	int hb_stop;
	char hb_ip[64];
	char hb_last[HB_ID_MAX + 1];
	char hb_received[HB_IDS][HB_ID_MAX + 1];
	unsigned hb_nreceived;
	char hb_executed[HB_IDS][HB_ID_MAX + 1];
	unsigned hb_nexecuted;
	struct hb_sent hb_sent[HB_IDS]; /* sent to profd, not yet done */
	struct hb_done hb_done[HB_QUEUE];
	unsigned hb_ndone;
};

/* The heartbeat's server: --api-server, else --server-host. */
const char *heartbeat_server(const struct net_conf *c);
/* Starts the heartbeat thread; commands go to profd on ctl. 0 or -1. */
int heartbeat_start(struct heartbeat *h, struct net_conf *c, nng_socket ctl,
		    uint32_t interval_s);
/* Hands profd's answer to a command to the thread (any thread). */
void heartbeat_done(struct heartbeat *h, const Profd__CommandDone *d);
/* Stops the thread (reporting what completions it can first). */
void heartbeat_stop(struct heartbeat *h);
#endif
