/* Heartbeat answers: the server's JSON turned into a RemoteCommand. */
#ifndef PROFD_HB_PARSE_H
#define PROFD_HB_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "profd.pb-c.h"

#define HB_ID_MAX   64 /* characters of a command id */
#define HB_MODE_MAX 15 /* characters of a perf mode */

/* Returns 1 if id is 1 to HB_ID_MAX of [A-Za-z0-9_-]. */
int heartbeat_id_ok(const char *id);
/* Turns a heartbeat answer into a command for profd. 1 with *c filled
 * (its strings in id[HB_ID_MAX + 1] and mode[HB_MODE_MAX + 1], its PIDs
 * in pids[PROFD_MAX_PIDS]); 0 when the answer holds no command (or is not
 * JSON); -1 with a reason in err when it holds one that cannot be passed
 * on (its id, if valid, is left in id[], else id is ""). */
int heartbeat_parse(const char *body, size_t len, Profd__RemoteCommand *c,
		    char *id, char *mode, uint32_t *pids, char *err,
		    size_t errlen);

#endif
