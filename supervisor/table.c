/* The worker table: built-in entries, changed by profd.conf sections. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profd.h"

#define MIB (1024ULL * 1024)

struct table_default {
	const char *td_name;
	int td_profiler;
	uint64_t td_mem_max;
	uint64_t td_pids_max;
};

/* perf itself runs in profd-perf's cgroup, hence its larger limit. nng
 * alone starts about 13 threads, and pids.max counts threads; profd-python
 * adds one sampling thread and stays under 16 MiB for 50 processes. */
static const struct table_default table_builtin[] = {
    {"upload", 0, 64 * MIB, 32},
    {"perf", 1, 256 * MIB, 64},
    {"python", 1, 64 * MIB, 32},
#ifdef HAVE_JVMTI
    /* nng's threads, and one attach helper (a fork) at a time. */
    {"java", 1, 128 * MIB, 48},
#endif
};

enum wrole
table_role(const char *name)
{
	static const char *const names[] = {
	    [ROLE_UPLOAD] = "upload",
	    [ROLE_PERF] = "perf",
	    [ROLE_PYTHON] = "python",
	    [ROLE_JAVA] = "java",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i] != NULL && strcmp(name, names[i]) == 0)
			return (enum wrole)i;
	return ROLE_OTHER;
}

/* The role of the program an entry runs: profd-KIND, whatever the
 * entry's name, else the entry's own. */
static enum wrole
table_kind(const struct wspec *ws)
{
	const char *base = strrchr(ws->ws_exec, '/');

	if (base == NULL || strncmp(base + 1, "profd-", 6) != 0 ||
	    base[7] == '\0')
		return ws->ws_role;
	return table_role(base + 7);
}

struct wspec *
table_entry(struct profd_opts *o, const char *name, int create)
{
	struct wspec *ws;

	for (size_t i = 0; i < o->po_ntable; i++)
		if (strcmp(o->po_table[i].ws_name, name) == 0)
			return &o->po_table[i];
	if (!create || !worker_name_ok(name) ||
	    o->po_ntable >= PROFD_MAX_WORKERS)
		return NULL;
	ws = &o->po_table[o->po_ntable++];
	memset(ws, 0, sizeof(*ws));
	snprintf(ws->ws_name, sizeof(ws->ws_name), "%s", name);
	ws->ws_mem_max = 64 * MIB;
	ws->ws_pids_max = 32;
	ws->ws_restart = RESTART_ALWAYS;
	ws->ws_enabled = 1;
	ws->ws_role = table_role(name);
	ws->ws_kind = ws->ws_role;
	ws->ws_profiler = ws->ws_role != ROLE_UPLOAD;
	return ws;
}

void
table_defaults(struct profd_opts *o)
{
	const size_t n = sizeof(table_builtin) / sizeof(table_builtin[0]);

	o->po_ntable = 0;
	for (size_t i = 0; i < n; i++) {
		struct wspec *ws = table_entry(o, table_builtin[i].td_name, 1);

		ws->ws_profiler = table_builtin[i].td_profiler;
		ws->ws_mem_max = table_builtin[i].td_mem_max;
		ws->ws_pids_max = table_builtin[i].td_pids_max;
	}
}

static int
table_bool(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0) {
		*out = 0;
		return 0;
	}
	return -1;
}

static int
table_restart(const char *v, enum restart_policy *out)
{
	static const char *const names[] = {"always", "on-failure", "never"};

	for (size_t i = 0; i < 3; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = (enum restart_policy)i;
			return 0;
		}
	}
	return -1;
}

/* Splits value into at most PROFD_ARGS_MAX words of < PROFD_ARG_LEN
 * bytes. */
static int
table_args(struct wspec *ws, const char *value)
{
	char buf[PROFD_ARGS_MAX * PROFD_ARG_LEN], *save = NULL, *word;

	if (strlen(value) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", value);
	ws->ws_nargs = 0;
	for (word = strtok_r(buf, " \t", &save); word != NULL;
	     word = strtok_r(NULL, " \t", &save)) {
		if (ws->ws_nargs >= PROFD_ARGS_MAX ||
		    strlen(word) >= PROFD_ARG_LEN)
			return -1;
		snprintf(ws->ws_args[ws->ws_nargs++], PROFD_ARG_LEN, "%s",
			 word);
	}
	return 0;
}

static int
table_size(const char *v, uint64_t min, uint64_t *out)
{
	return parse_size(v, out) == -1 || *out < min ? -1 : 0;
}

static int
table_str(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return -1;
	snprintf(dst, len, "%s", v);
	return 0;
}

static int
table_path(char *dst, size_t len, const char *v)
{
	if (v[0] != '/' || strlen(v) >= len)
		return -1;
	snprintf(dst, len, "%s", v);
	return 0;
}

int
table_set(struct wspec *ws, const char *key, const char *v, char *err,
	  size_t errlen)
{
	int rv = -2;

	if (strcmp(key, "executable") == 0)
		rv = table_path(ws->ws_exec, sizeof(ws->ws_exec), v);
	else if (strcmp(key, "arguments") == 0)
		rv = table_args(ws, v);
	else if (strcmp(key, "user") == 0)
		rv = table_str(ws->ws_user, sizeof(ws->ws_user), v);
	else if (strcmp(key, "capabilities") == 0)
		rv = table_str(ws->ws_caps, sizeof(ws->ws_caps), v);
	else if (strcmp(key, "memory-max") == 0)
		rv = table_size(v, PROFD_MEM_MAX_MIN, &ws->ws_mem_max);
	else if (strcmp(key, "memory-high") == 0)
		rv = table_size(v, PROFD_MEM_HIGH_MIN, &ws->ws_mem_high);
	else if (strcmp(key, "pids-max") == 0)
		rv = parse_u64(v, 1, PROFD_TASKS_MAX, &ws->ws_pids_max);
	else if (strcmp(key, "restart") == 0)
		rv = table_restart(v, &ws->ws_restart);
	else if (strcmp(key, "enabled") == 0)
		rv = table_bool(v, &ws->ws_enabled);
	if (rv == -2)
		snprintf(err, errlen, "unknown worker setting: %s", key);
	else if (rv == -1)
		snprintf(err, errlen, "invalid value '%s' for %s", v, key);
	return rv == 0 ? 0 : -1;
}

uint64_t
table_mem_high(const struct wspec *ws)
{
	return ws->ws_mem_high != 0 ? ws->ws_mem_high : ws->ws_mem_max / 4 * 3;
}

int
table_check(struct profd_opts *o, char *err, size_t errlen)
{
	for (size_t i = 0; i < o->po_ntable; i++) {
		struct wspec *ws = &o->po_table[i];

		ws->ws_kind = table_kind(ws);
		if (ws->ws_mem_high > ws->ws_mem_max) {
			snprintf(err, errlen,
				 "worker %s: memory-high is above memory-max",
				 ws->ws_name);
			return -1;
		}
	}
	if (table_entry(o, "upload", 0) == NULL ||
	    !table_entry(o, "upload", 0)->ws_enabled) {
		snprintf(err, errlen, "the upload worker cannot be disabled");
		return -1;
	}
	return 0;
}
