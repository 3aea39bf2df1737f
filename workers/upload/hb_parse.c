/* Heartbeat answers: the server's JSON turned into a RemoteCommand for
 * profd, with gProfiler's defaults (dynamic_profiling_management) for
 * what the answer leaves out. Only types and sizes are checked here;
 * profd checks ranges. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "hb_parse.h"
#include "jread.h"
#include "util.h"

#define HB_DEF_SECONDS	 60 /* gProfiler's defaults for a start */
#define HB_DEF_HZ	 11
#define HB_DEF_MAX_PROCS 10 /* its max_processes when left out */
#define HB_HOST_MAX	 256
#define HB_SETTING_MAX	 32 /* bytes of a setting's string, with NUL */

/* perf's levels in profiler_configs and the limits gProfiler gives them:
 * processes on the host above which perf is skipped, and the busiest
 * containers perf takes (with --perf-use-cgroups). */
static const struct {
	const char *pl_name;
	uint32_t pl_procs, pl_containers;
} hb_perf_levels[] = {
    {"enabled_restricted", 600, 2},
    {"enabled_aggressive", 1500, 50},
};

int
heartbeat_id_ok(const char *id)
{
	size_t len = strlen(id);

	return len > 0 && len <= HB_ID_MAX &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789_-") == len;
}

static int
hb_absent(const struct jread *j, int t)
{
	return t == -1 || j->jr_tok[t].jt_type == JREAD_NULL;
}

/* A number field of at most max; absent: def. 0 or -1. */
static int
hb_u32(const struct jread *j, int obj, const char *key, uint32_t def,
       uint32_t *out)
{
	int t = jread_get(j, obj, key);
	uint64_t v;

	if (hb_absent(j, t)) {
		*out = def;
		return 0;
	}
	if (jread_u64(j, t, UINT32_MAX, &v) == -1)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* A short string field into out[HB_MODE_MAX + 1]; absent: "". 0 or -1. */
static int
hb_word(const struct jread *j, int obj, const char *key, char *out)
{
	int t = jread_get(j, obj, key);

	if (hb_absent(j, t))
		return 0;
	return jread_string(j, t, out, HB_MODE_MAX + 1);
}

/* pids: a list of numbers (gProfiler's) or "1,2,3" (the Studio's). */
static int
hb_pids(const struct jread *j, int cfg, Profd__RemoteCommand *c)
{
	int t = jread_get(j, cfg, "pids");
	char buf[PROFD_MAX_PIDS * 11];
	uint64_t v;

	c->n_pids = 0;
	if (hb_absent(j, t))
		return 0;
	if (j->jr_tok[t].jt_type == JREAD_STRING)
		return jread_string(j, t, buf, sizeof(buf)) == -1 ||
			       (buf[0] != '\0' &&
				parse_pids(buf, c->pids, PROFD_MAX_PIDS,
					   &c->n_pids) == -1)
			   ? -1
			   : 0;
	if (j->jr_tok[t].jt_type != JREAD_ARRAY ||
	    j->jr_tok[t].jt_count > PROFD_MAX_PIDS)
		return -1;
	for (uint32_t i = 0; i < j->jr_tok[t].jt_count; i++) {
		if (jread_u64(j, jread_elem(j, t, i), UINT32_MAX, &v) == -1)
			return -1;
		c->pids[c->n_pids++] = (uint32_t)v;
	}
	return 0;
}

/* target_hostnames: 1 when absent, empty or naming host; 0 when it
 * names only other hosts; -1 when it is not a list of strings. */
static int
hb_targets(const struct jread *j, int cfg, const char *host)
{
	int t = jread_get(j, cfg, "target_hostnames"), here = 0;
	char name[HB_HOST_MAX];

	if (hb_absent(j, t))
		return 1;
	if (j->jr_tok[t].jt_type != JREAD_ARRAY)
		return -1;
	for (uint32_t i = 0; i < j->jr_tok[t].jt_count; i++) {
		if (jread_string(j, jread_elem(j, t, i), name, sizeof(name)))
			return -1;
		here |= strcmp(name, host) == 0;
	}
	return here || j->jr_tok[t].jt_count == 0;
}

/* A profiler's setting in profiler_configs: a string ("disabled" is
 * off), a bool, or an object with "enabled" (a bool) and "mode" (a
 * string; "disabled" is off). -1 when absent, else 0 (off) or 1 (on);
 * the string or the mode goes to mode[HB_SETTING_MAX]. */
static int
hb_setting(const struct jread *j, int pc, const char *key, char *mode, int *bad)
{
	int t = jread_get(j, pc, key), on = 1, e, m;

	mode[0] = '\0';
	if (hb_absent(j, t))
		return -1;
	if (j->jr_tok[t].jt_type == JREAD_OBJECT) {
		e = jread_get(j, t, "enabled");
		m = jread_get(j, t, "mode");
		if ((!hb_absent(j, e) && jread_bool(j, e, &on) == -1) ||
		    (!hb_absent(j, m) &&
		     jread_string(j, m, mode, HB_SETTING_MAX) == -1))
			*bad = 1;
	} else if (jread_bool(j, t, &on) == -1 &&
		   jread_string(j, t, mode, HB_SETTING_MAX) == -1) {
		*bad = 1;
	}
	return !*bad && on && strcmp(mode, "disabled") != 0;
}

/* perf: on unless disabled; a level sets gProfiler's limits (with any
 * profiler_configs, a perf left out is enabled_restricted); another
 * string is a perf mode (fp, dwarf, smart), checked by profd. */
static void
hb_perf(const struct jread *j, int pc, Profd__RemoteCommand *c, char *mode,
	int *bad)
{
	char v[HB_SETTING_MAX];
	int s = hb_setting(j, pc, "perf", v, bad);
	const char *level = s == -1 ? "enabled_restricted" : v;

	c->perf = s != 0;
	for (size_t i = 0;
	     i < sizeof(hb_perf_levels) / sizeof(hb_perf_levels[0]); i++)
		if (strcmp(level, hb_perf_levels[i].pl_name) == 0) {
			c->perf_limits = 1;
			c->skip_system_profilers_above =
			    hb_perf_levels[i].pl_procs;
			c->perf_max_docker_containers =
			    hb_perf_levels[i].pl_containers;
		}
	if (!c->perf || strncmp(v, "enabled", 7) == 0)
		v[0] = '\0';
	if (strlen(v) > HB_MODE_MAX)
		*bad = 1;
	else
		memcpy(mode, v, strlen(v) + 1);
}

/* The profilers of combined_config: profiler_configs.perf, pyperf and
 * pyspy (Python runs unless both are off), async_profiler (Java); keys
 * for profilers profd does not have are ignored. A profiler left out is
 * on, as in gProfiler. perf_mode (profd's) names perf's mode. */
static const char *
hb_profilers(const struct jread *j, int cfg, Profd__RemoteCommand *c,
	     char *mode)
{
	int pc = jread_get(j, cfg, "profiler_configs"), bad = 0, spy, pyperf;
	char m[HB_SETTING_MAX];

	c->perf = c->python = c->java = 1;
	if (!hb_absent(j, pc) && j->jr_tok[pc].jt_type != JREAD_OBJECT)
		return "bad profiler_configs";
	if (!hb_absent(j, pc) && j->jr_tok[pc].jt_count > 0) {
		hb_perf(j, pc, c, mode, &bad);
		spy = hb_setting(j, pc, "pyspy", m, &bad);
		pyperf = hb_setting(j, pc, "pyperf", m, &bad);
		c->python = spy != 0 || pyperf != 0;
		c->java = hb_setting(j, pc, "async_profiler", m, &bad) != 0;
	}
	if (bad)
		return "bad profiler_configs";
	if (hb_word(j, cfg, "perf_mode", mode) == -1)
		return "bad perf_mode";
	return NULL;
}

static const char *
hb_start(const struct jread *j, int cfg, Profd__RemoteCommand *c, char *mode)
{
	int t = jread_get(j, cfg, "continuous"), cont = 0;

	if (hb_u32(j, cfg, "duration", HB_DEF_SECONDS, &c->duration) == -1)
		return "bad duration";
	if (hb_u32(j, cfg, "frequency", HB_DEF_HZ, &c->frequency) == -1)
		return "bad frequency";
	if (!hb_absent(j, t) && jread_bool(j, t, &cont) == -1)
		return "bad continuous";
	c->continuous = cont;
	if (hb_pids(j, cfg, c) == -1)
		return "bad pids";
	if (hb_u32(j, cfg, "max_processes", HB_DEF_MAX_PROCS,
		   &c->max_processes) == -1)
		return "bad max_processes";
	if (hb_word(j, cfg, "profiling_mode", c->profiling_mode) == -1)
		return "bad profiling_mode";
	return hb_profilers(j, cfg, c, mode);
}

/* The command's id and type (absent: start); NULL, or what is wrong. */
static const char *
hb_head(const struct jread *j, int cmd, struct hb_cmd *h, char *type,
	size_t len)
{
	int t = jread_get(j, 0, "command_id");

	if (jread_string(j, t, h->hc_id, sizeof(h->hc_id)) == -1 ||
	    !heartbeat_id_ok(h->hc_id)) {
		h->hc_id[0] = '\0';
		return "bad command_id";
	}
	if (j->jr_tok[cmd].jt_type != JREAD_OBJECT)
		return "profiling_command is not an object";
	t = jread_get(j, cmd, "command_type");
	snprintf(type, len, "start");
	if (!hb_absent(j, t) && jread_string(j, t, type, len) == -1)
		return "bad command_type";
	if (strcmp(type, "start") != 0 && strcmp(type, "stop") != 0)
		return "unknown command_type";
	return NULL;
}

/* Is there a command at all? gProfiler needs success and a non-empty
 * profiling_command (and then a command_id). */
static int
hb_has_command(const struct jread *j, int *cmd)
{
	int ok = 0;

	*cmd = jread_get(j, 0, "profiling_command");
	if (jread_bool(j, jread_get(j, 0, "success"), &ok) == -1 || !ok ||
	    hb_absent(j, *cmd) || hb_absent(j, jread_get(j, 0, "command_id")))
		return 0;
	return j->jr_tok[*cmd].jt_type != JREAD_OBJECT ||
	       j->jr_tok[*cmd].jt_count > 0;
}

static void
hb_init(struct hb_cmd *h)
{
	Profd__RemoteCommand *c = &h->hc_c;

	profd__remote_command__init(c);
	h->hc_id[0] = h->hc_mode[0] = h->hc_pmode[0] = h->hc_err[0] = '\0';
	c->id = h->hc_id;
	c->perf_mode = h->hc_mode;
	c->profiling_mode = h->hc_pmode;
	c->pids = h->hc_pids;
}

enum hb_parsed
heartbeat_parse(const char *body, size_t len, const char *host,
		struct hb_cmd *h)
{
	static struct jread j;
	Profd__RemoteCommand *c = &h->hc_c;
	int cmd, cfg, here;
	char type[16];
	const char *why;

	hb_init(h);
	if (jread_parse(&j, body, len) == -1 || !hb_has_command(&j, &cmd))
		return HB_NONE;
	if ((why = hb_head(&j, cmd, h, type, sizeof(type))) == NULL &&
	    strcmp(type, "stop") == 0) {
		c->kind = PROFD__REMOTE_COMMAND__KIND__STOP;
		return HB_COMMAND;
	}
	c->kind = PROFD__REMOTE_COMMAND__KIND__START;
	cfg = jread_get(&j, cmd, "combined_config");
	if (why == NULL && !hb_absent(&j, cfg) &&
	    j.jr_tok[cfg].jt_type != JREAD_OBJECT)
		why = "combined_config is not an object";
	if (why == NULL && (here = hb_targets(&j, cfg, host)) != 1) {
		snprintf(h->hc_err, sizeof(h->hc_err), "%s",
			 here ? "bad target_hostnames"
			      : "this host is not in target_hostnames");
		return here ? HB_REFUSED : HB_ELSEWHERE;
	}
	if (why == NULL)
		why = hb_start(&j, cfg, c, h->hc_mode);
	if (why == NULL)
		return HB_COMMAND;
	snprintf(h->hc_err, sizeof(h->hc_err), "%s", why);
	return HB_REFUSED;
}
