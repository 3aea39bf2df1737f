/* Delivery of spooled windows to the backends, in order, with backoff. */
#ifndef PROFD_SENDER_H
#define PROFD_SENDER_H

#include <pthread.h>
#include <stdint.h>

#include "http.h"
#include "spool.h"

#define SENDER_BACKOFF_MIN_MS 1000
#define SENDER_BACKOFF_MAX_S  300 /* default ceiling of the backoff */
#define SENDER_TIMEOUT_S      120 /* default --server-upload-timeout */
#define SENDER_GPID_MAX	      64
#define STUDIO_BODY_MAX	      (4u << 20) /* the backend refuses more */

/* What the backends need to know, from the options. */
struct net_conf {
	const char *nc_server;	 /* Performance Studio URL; NULL: none */
	const char *nc_api_server; /* --api-server (heartbeat); NULL: nc_server */
	const char *nc_service;	 /* --service-name */
	char *nc_token;		 /* from --token-file or the environment */
	const char *nc_pyro_url; /* Pyroscope URL; NULL: none */
	const char *nc_pyro_app;
	const char *nc_pyro_tenant; /* X-Scope-OrgID; NULL: none */
	long nc_timeout_s;
	uint32_t nc_retry_max_s;
	struct http_tls nc_tls;
	char nc_hostname[256];
	char nc_spawn_time[32];
};

enum send_result {
	SEND_OK,     /* delivered: remove it */
	SEND_RETRY,  /* not now: keep it, back off */
	SEND_DROP,   /* cannot be sent at all: remove it */
	SEND_REJECT, /* refused for good by the server: kept aside with the
			backend's b_reason (spool_reject) */
};

struct sender;
struct backend;

/* One kind of backend: a table entry. */
struct backend_ops {
	const char *bo_name; /* also the name of its spool queue */
	int (*bo_enabled)(const struct net_conf *c);
	/* Checks the backend once at start; 0 or -1 (logged, not fatal). */
	int (*bo_check)(struct sender *s, struct backend *b);
	enum send_result (*bo_send)(struct sender *s, struct backend *b,
				    struct spool_entry *e);
};

struct backend {
	const struct backend_ops *b_ops;
	size_t b_queue;	   /* index of its spool queue */
	int64_t b_next_ms; /* no attempt before this time */
	int64_t b_backoff_ms;
	uint64_t b_failures; /* in a row */
	uint64_t b_sent;
	uint64_t b_rejected;	      /* windows refused for good, this run */
	char b_gpid[SENDER_GPID_MAX]; /* Performance Studio's, as JSON */
	char b_reason[SPOOL_REASON_MAX]; /* why the last window was refused */
};

struct sender {
	struct net_conf *sn_conf;
	struct spool *sn_spool;
	struct backend sn_b[SPOOL_MAX_QUEUES];
	size_t sn_nb;
	pthread_t sn_thread;
	pthread_mutex_t sn_lock;
	pthread_cond_t sn_cond;
	int sn_kicked;
	int sn_running;
	int64_t sn_drain_until; /* stopping: give up at this time (ms) */
};

/* Fills names (room for SPOOL_MAX_QUEUES + 1) with the spool queues of
 * the enabled backends, NULL-ended; returns their number. */
size_t sender_queues(const struct net_conf *c, const char **names);
/* Starts the delivery thread over the opened spool. 0 or -1. */
int sender_start(struct sender *s, struct net_conf *c, struct spool *sp);
/* Says a window was spooled. */
void sender_kick(struct sender *s);
/* Delivers what it can within drain_ms, then stops the thread. Returns
 * the number of windows not delivered: left in the spool, or refused for
 * good by a server during this run. */
size_t sender_stop(struct sender *s, int64_t drain_ms);
/* Builds "BASE/PATH" without a doubled slash into buf; -1 if too long. */
int sender_url(char *buf, size_t len, const char *base, const char *path);
/* Stops a request when the drain time is over. */
int sender_should_stop(void *arg);

/* Builds the Performance Studio URL of path into url[len] with the query
 * every request carries (and the agent version if with_version). 0 or
 * -1 (too long, logged). */
int studio_url(char *url, size_t len, const struct net_conf *c,
	       const char *path, int with_version);

/* The backends (studio.c, pyroscope.c). */
extern const struct backend_ops studio_ops;
extern const struct backend_ops pyroscope_ops;

#endif
