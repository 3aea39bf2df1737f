/* How a worker's incarnation ended, as text: printed here only, where it
 * leaves profd (its log, profctl status, the START answer). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "profd.h"

const char *
fsm_exit_str(const struct wexit *e, char *buf, size_t len)
{
	const char *abbrev;

	switch (e->wx_kind) {
	case WEXIT_CODE:
		snprintf(buf, len, "%d", e->wx_detail);
		break;
	case WEXIT_SIGNAL:
		if ((abbrev = sigabbrev_np(e->wx_detail)) != NULL)
			snprintf(buf, len, "SIG%s", abbrev);
		else
			snprintf(buf, len, "signal %d", e->wx_detail);
		break;
	case WEXIT_SECCOMP:
		snprintf(buf, len, "seccomp");
		break;
	case WEXIT_EXEC:
		snprintf(buf, len, "exec-failed");
		break;
	case WEXIT_MEMORY:
		snprintf(buf, len, "memory-limit");
		break;
	case WEXIT_PIDS:
		snprintf(buf, len, "pids-limit");
		break;
	default:
		snprintf(buf, len, "%s", "");
	}
	return buf;
}
