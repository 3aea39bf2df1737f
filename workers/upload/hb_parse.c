/* Heartbeat answers: the server's JSON turned into a RemoteCommand for
 * profd. Only types and sizes are checked here; profd checks ranges. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "hb_parse.h"
#include "jread.h"
#include "util.h"

#define HB_DEF_SECONDS 60 /* gProfiler's defaults for a start */
#define HB_DEF_HZ      11

int
heartbeat_id_ok(const char *id)
{
	size_t len = strlen(id);

	return len > 0 && len <= HB_ID_MAX &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789_-") == len;
}

/* A number field of at most max; absent: def. 0 or -1. */
static int
hb_u32(const struct jread *j, int obj, const char *key, uint32_t def,
       uint32_t *out)
{
	int t = jread_get(j, obj, key);
	uint64_t v;

	if (t == -1 || j->jr_tok[t].jt_type == JREAD_NULL) {
		*out = def;
		return 0;
	}
	if (jread_u64(j, t, UINT32_MAX, &v) == -1)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* pids: a list of numbers (gProfiler's) or "1,2,3". 0 or -1. */
static int
hb_pids(const struct jread *j, int cfg, Profd__RemoteCommand *c, uint32_t *pids)
{
	int t = jread_get(j, cfg, "pids");
	char buf[PROFD_MAX_PIDS * 11];
	uint64_t v;

	c->pids = pids;
	c->n_pids = 0;
	if (t == -1 || j->jr_tok[t].jt_type == JREAD_NULL)
		return 0;
	if (j->jr_tok[t].jt_type == JREAD_STRING)
		return jread_string(j, t, buf, sizeof(buf)) == -1 ||
			       (buf[0] != '\0' &&
				parse_pids(buf, pids, PROFD_MAX_PIDS,
					   &c->n_pids) == -1)
			   ? -1
			   : 0;
	if (j->jr_tok[t].jt_type != JREAD_ARRAY ||
	    j->jr_tok[t].jt_count > PROFD_MAX_PIDS)
		return -1;
	for (uint32_t i = 0; i < j->jr_tok[t].jt_count; i++) {
		if (jread_u64(j, jread_elem(j, t, i), UINT32_MAX, &v) == -1)
			return -1;
		pids[c->n_pids++] = (uint32_t)v;
	}
	return 0;
}

/* A profiler's setting: "disabled" or false is off, anything else on;
 * absent: -1. A string that is not enabled* is copied to mode. */
static int
hb_profiler(const struct jread *j, int pc, const char *key, char *mode,
	    int *bad)
{
	int t = jread_get(j, pc, key), on;
	char v[32];

	if (t == -1)
		return -1;
	if (jread_bool(j, t, &on) == 0)
		return on;
	if (jread_string(j, t, v, sizeof(v)) == -1) {
		*bad = 1;
		return 0;
	}
	if (strcmp(v, "disabled") == 0)
		return 0;
	if (mode != NULL && strncmp(v, "enabled", 7) != 0) {
		if (strlen(v) > HB_MODE_MAX)
			*bad = 1;
		else
			snprintf(mode, HB_MODE_MAX + 1, "%s", v);
	}
	return 1;
}

/* Java's setting: async_profiler, an object whose "enabled" is a bool (or
 * a plain setting, as for the others); absent: -1. */
static int
hb_java(const struct jread *j, int pc, int *bad)
{
	int t = jread_get(j, pc, "async_profiler"), e, on;

	if (t == -1 || j->jr_tok[t].jt_type != JREAD_OBJECT)
		return hb_profiler(j, pc, "async_profiler", NULL, bad);
	if ((e = jread_get(j, t, "enabled")) == -1)
		return 1;
	if (jread_bool(j, e, &on) == -1) {
		*bad = 1;
		return 0;
	}
	return on;
}

/* The profilers of combined_config: profiler_configs.perf (also a perf
 * mode: fp, dwarf, smart), pyspy/pyperf for Python, async_profiler for
 * Java, and perf_mode. A profiler left out is on, as in gProfiler. */
static const char *
hb_profilers(const struct jread *j, int cfg, Profd__RemoteCommand *c,
	     char *mode)
{
	int pc = jread_get(j, cfg, "profiler_configs"), t, bad = 0;
	int perf, spy, pyperf, java;

	mode[0] = '\0';
	perf = hb_profiler(j, pc, "perf", mode, &bad);
	spy = hb_profiler(j, pc, "pyspy", NULL, &bad);
	pyperf = hb_profiler(j, pc, "pyperf", NULL, &bad);
	java = hb_java(j, pc, &bad);
	if (bad)
		return "bad profiler_configs";
	c->perf = perf != 0;
	c->python = (spy == -1 && pyperf == -1) || spy == 1 || pyperf == 1;
	c->java = java != 0;
	if ((t = jread_get(j, cfg, "perf_mode")) != -1 &&
	    jread_string(j, t, mode, HB_MODE_MAX + 1) == -1)
		return "bad perf_mode";
	c->perf_mode = mode;
	return NULL;
}

static const char *
hb_start(const struct jread *j, int cfg, Profd__RemoteCommand *c, char *mode,
	 uint32_t *pids)
{
	int t = jread_get(j, cfg, "continuous"), cont = 1;

	if (cfg != -1 && j->jr_tok[cfg].jt_type != JREAD_OBJECT)
		return "combined_config is not an object";
	if (hb_u32(j, cfg, "duration", HB_DEF_SECONDS, &c->duration) == -1)
		return "bad duration";
	if (hb_u32(j, cfg, "frequency", HB_DEF_HZ, &c->frequency) == -1)
		return "bad frequency";
	if (t != -1 && jread_bool(j, t, &cont) == -1)
		return "bad continuous";
	c->continuous = cont;
	if (hb_pids(j, cfg, c, pids) == -1)
		return "bad pids";
	return hb_profilers(j, cfg, c, mode);
}

int
heartbeat_parse(const char *body, size_t len, Profd__RemoteCommand *c, char *id,
		char *mode, uint32_t *pids, char *err, size_t errlen)
{
	static struct jread j;
	int ok = 0, cmd, t;
	char type[16];
	const char *why;

	profd__remote_command__init(c);
	id[0] = mode[0] = '\0';
	c->id = id;
	c->perf_mode = mode;
	if (jread_parse(&j, body, len) == -1 ||
	    jread_bool(&j, jread_get(&j, 0, "success"), &ok) == -1 || !ok)
		return 0;
	if ((t = jread_get(&j, 0, "command_id")) == -1 ||
	    j.jr_tok[t].jt_type == JREAD_NULL)
		return 0;
	if (jread_string(&j, t, id, HB_ID_MAX + 1) == -1 ||
	    !heartbeat_id_ok(id)) {
		id[0] = '\0';
		snprintf(err, errlen, "bad command_id");
		return -1;
	}
	cmd = jread_get(&j, 0, "profiling_command");
	if (jread_string(&j, jread_get(&j, cmd, "command_type"), type,
			 sizeof(type)) == -1) {
		snprintf(err, errlen, "no command_type");
		return -1;
	}
	if (strcmp(type, "stop") == 0) {
		c->kind = PROFD__REMOTE_COMMAND__KIND__STOP;
		return 1;
	}
	if (strcmp(type, "start") != 0) {
		snprintf(err, errlen, "unknown command_type");
		return -1;
	}
	c->kind = PROFD__REMOTE_COMMAND__KIND__START;
	why =
	    hb_start(&j, jread_get(&j, cmd, "combined_config"), c, mode, pids);
	if (why != NULL) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	return 1;
}
