/* profd-upload internals. */
#ifndef PROFD_UPLOAD_H
#define PROFD_UPLOAD_H

#include <stdint.h>
#include <stdio.h>

#include "ipc.h"
#include "output.h"
#include "sender.h"
#include "spool.h"

#define UPLOAD_MAX_FILES    64
#define UPLOAD_SPOOL_PARENT "/var/lib/profd"
#define UPLOAD_SPOOL_DIR    UPLOAD_SPOOL_PARENT "/spool"
#define UPLOAD_TOKEN_ENV    "PROFD_TOKEN"
#define UPLOAD_TOKEN_MAX    512
#define UPLOAD_SECRET_SIZE  (64u << 10) /* the uploader's secret arena */
#define UPLOAD_DRAIN_MS	    5000	/* delivery after a stop, supervised */

/* Long options of profd-upload (upload_main.c, upload_net.c). */
enum {
	OPT_OUTPUT_FD = 1000,
	OPT_NO_FLAMEGRAPH,
	OPT_ROTATING,
	OPT_SUPERVISED,
	OPT_USER,
	OPT_SYSLOG,
	OPT_VERSION,
	OPT_CAPS,
	OPT_CHANNEL,
	OPT_SERVER_HOST,
	OPT_TOKEN,
	OPT_TOKEN_FILE,
	OPT_SERVICE_NAME,
	OPT_UPLOAD_TIMEOUT,
	OPT_NO_VERIFY,
	OPT_CA_BUNDLE,
	OPT_CLIENT_CERT,
	OPT_CLIENT_KEY,
	OPT_PYRO_URL,
	OPT_PYRO_APP,
	OPT_PYRO_TENANT,
	OPT_SPOOL_DIR,
	OPT_SPOOL_FILES,
	OPT_SPOOL_SIZE,
	OPT_RETRY_MAX,
	OPT_OUTPUT_FORMAT,
	OPT_HEARTBEAT,
	OPT_HEARTBEAT_INTERVAL,
	OPT_PEER_UID,
	OPT_API_SERVER,
	OPT_CLOUD_METADATA_URL,
	OPT_NO_CONTAINER_NAMES,
	OPT_NO_APPIDS,
	OPT_NO_APPMD,
	OPT_NO_METRICS,
	OPT_NO_METADATA,
	OPT_EXTERNAL_METADATA,
};

struct upload_args {
	struct output ua_out;
	const char *ua_outdir;
	int ua_outfd;
	const char *ua_rundir;	/* supervised when set */
	const char *ua_channel; /* socket to profd in ua_rundir */
	const char *ua_user;
	struct ipc_peer ua_peers; /* --peer-uid: who may send chunks */
	int ua_syslog;
	int ua_verbose;
	char **ua_files;
	int ua_nfiles;
	FILE *ua_inputs[UPLOAD_MAX_FILES]; /* opened before the sandbox */
	/* Uploads. */
	int ua_upload; /* -u: to Performance Studio */
	const char *ua_token_file;
	const char *ua_tls_files[3]; /* CA bundle, client cert, client key */
	const char *ua_spool_dir;
	struct net_conf ua_net;
	struct spool ua_spool;
	struct sender ua_sender;
	int ua_net_on;		  /* some backend is configured */
	int ua_heartbeat;	  /* --enable-heartbeat-server */
	uint32_t ua_hb_interval;  /* --heartbeat-interval, seconds */
	const char *ua_cloud_url; /* --cloud-metadata-url; NULL: not asked */
	/* gProfiler's switches of what a window carries. */
	int ua_no_containers, ua_no_appids, ua_no_metadata;
	unsigned ua_output_flags; /* OUTPUT_NO_APPMD, OUTPUT_NO_METRICS */
	const char *ua_external;  /* --external-metadata FILE */
};

/* Opens the input files of standalone mode; 0, or -1 with a message. */
int upload_open_inputs(struct upload_args *a);
/* Writes the collapsed stacks of the inputs as one window. */
int upload_standalone(struct upload_args *a);
/* Serves profd and the profilers until told to stop. */
int upload_supervised(struct upload_args *a);

/* Parses one upload option (upload_net.c); 0, -1 on a bad value, or 1 if
 * c is not one. */
int upload_net_opt(struct upload_args *a, int c, char *arg);
/* Checks the upload options together; 0, or -1 with a message. */
int upload_net_check(struct upload_args *a);
/* Before the sandbox: reads the token and TLS files, opens the spool,
 * checks that libcurl can be loaded. 0, or -1 logged. */
int upload_net_prepare(struct upload_args *a);
/* After the sandbox: starts delivering the spool. 0 or -1. */
int upload_net_start(struct upload_args *a);
/* Delivers what it can within drain_ms and stops; returns the number of
 * windows left in the spool or refused by a server during this run. */
size_t upload_net_stop(struct upload_args *a, int64_t drain_ms);
/* Stores one window: the output directory's files, then the spool of
 * every backend. 0, or -1 when some part failed (logged). */
int upload_store(void *arg, const struct stack_table *t,
		 const struct window_meta *m);

#endif
