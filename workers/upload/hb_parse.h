/* Heartbeat answers: the server's JSON turned into a RemoteCommand. */
#ifndef PROFD_HB_PARSE_H
#define PROFD_HB_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "profd.pb-c.h"
#include "util.h"

#define HB_ID_MAX   64 /* characters of a command id */
#define HB_MODE_MAX 15 /* characters of a perf or profiling mode */
#define HB_ERR_MAX  128

/* One parsed answer: the command and the storage its strings point to. */
struct hb_cmd {
	Profd__RemoteCommand hc_c;
	char hc_id[HB_ID_MAX + 1];
	char hc_mode[HB_MODE_MAX + 1];	/* perf mode */
	char hc_pmode[HB_MODE_MAX + 1]; /* profiling_mode */
	uint32_t hc_pids[PROFD_MAX_PIDS];
	char hc_err[HB_ERR_MAX];
};

/* What heartbeat_parse found. */
enum hb_parsed {
	HB_NONE,     /* no command (or not JSON) */
	HB_COMMAND,  /* a command for profd in hc_c */
	HB_REFUSED,  /* a command that cannot be passed on: hc_err says why;
			hc_id is its id, or "" when that is invalid */
	HB_ELSEWHERE /* a start whose target_hostnames leave host out */
};

/* Returns 1 if id is 1 to HB_ID_MAX of [A-Za-z0-9_-]. */
int heartbeat_id_ok(const char *id);
/* Turns a heartbeat answer into a command for profd, with gProfiler's
 * defaults for what is left out; host is this host's name. */
enum hb_parsed heartbeat_parse(const char *body, size_t len, const char *host,
			       struct hb_cmd *h);

#endif
