/* Heartbeat answers turned into RemoteCommands: fields, defaults, and
 * answers of the wrong shape refused before profd sees them. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "hb_parse.h"
#include "jread.h"
#include "util.h"

static struct hb_cmd H;
#define C    H.hc_c
#define Id   H.hc_id
#define Err  H.hc_err
#define HOST "here-1"

/* 1 for a command, 0 for none, -1 refused, 2 for other hosts. */
static int
parse(const char *s)
{
	switch (heartbeat_parse(s, strlen(s), HOST, &H)) {
	case HB_COMMAND:
		return 1;
	case HB_REFUSED:
		return -1;
	case HB_ELSEWHERE:
		return 2;
	default:
		return 0;
	}
}

/* An answer with command id and a start whose combined_config is cfg. */
static int
start(const char *id, const char *cfg)
{
	char buf[16384];

	snprintf(buf, sizeof(buf),
		 "{\"success\": true, \"command_id\": \"%s\", "
		 "\"profiling_command\": {\"command_type\": \"start\", "
		 "\"combined_config\": %s}}",
		 id, cfg);
	return parse(buf);
}

START_TEST(test_no_command)
{
	ck_assert_int_eq(parse("{\"success\": true, \"message\": \"none\"}"),
			 0);
	ck_assert_int_eq(parse("{\"success\": true, \"command_id\": null}"), 0);
	ck_assert_int_eq(parse("{\"success\": false, \"command_id\": \"a\", "
			       "\"profiling_command\": {\"command_type\": "
			       "\"stop\"}}"),
			 0);
	ck_assert_int_eq(parse("not json"), 0);
	ck_assert_int_eq(parse("{\"success\": \"true\", \"command_id\": "
			       "\"a\"}"),
			 0);
}
END_TEST

START_TEST(test_start_fields)
{
	ck_assert_int_eq(
	    start("cmd_1-A",
		  "{\"duration\": 30, \"frequency\": 99, "
		  "\"continuous\": false, \"pids\": [1, 22], "
		  "\"profiling_mode\": \"cpu\", \"profiler_configs\": "
		  "{\"perf\": \"enabled_restricted\", \"pyspy\": "
		  "\"disabled\", \"async_profiler\": {\"enabled\": "
		  "true, \"time\": \"cpu\"}}}"),
	    1);
	ck_assert_str_eq(C.id, "cmd_1-A");
	ck_assert_int_eq(C.kind, PROFD__REMOTE_COMMAND__KIND__START);
	ck_assert_uint_eq(C.duration, 30);
	ck_assert_uint_eq(C.frequency, 99);
	ck_assert_int_eq(C.continuous, 0);
	ck_assert_uint_eq(C.n_pids, 2);
	ck_assert_uint_eq(C.pids[1], 22);
	ck_assert_int_eq(C.perf, 1);
	ck_assert_str_eq(C.perf_mode, "");
	/* pyperf is left out, so it is on (gProfiler's "enabled"). */
	ck_assert_int_eq(C.python, 1);
	ck_assert_int_eq(C.java, 1);
}
END_TEST

/* Java: async_profiler.enabled, or a plain setting; on when left out. */
START_TEST(test_java_setting)
{
	ck_assert_int_eq(start("j1", "{\"profiler_configs\": "
				     "{\"async_profiler\": {\"enabled\": "
				     "false}}}"),
			 1);
	ck_assert_int_eq(C.java, 0);
	ck_assert_int_eq(start("j2", "{\"profiler_configs\": "
				     "{\"async_profiler\": \"disabled\"}}"),
			 1);
	ck_assert_int_eq(C.java, 0);
	ck_assert_int_eq(start("j3", "{\"profiler_configs\": "
				     "{\"async_profiler\": {\"time\": 1}}}"),
			 1);
	ck_assert_int_eq(C.java, 1);
	ck_assert_int_eq(start("j4", "{\"profiler_configs\": "
				     "{\"async_profiler\": {\"enabled\": "
				     "\"yes; rm\"}}}"),
			 -1);
}
END_TEST

START_TEST(test_start_defaults)
{
	ck_assert_int_eq(start("d", "{}"), 1);
	ck_assert_uint_eq(C.duration, 60);
	ck_assert_uint_eq(C.frequency, 11);
	/* gProfiler: a start without continuous is ad-hoc, and takes the
	 * top 10 processes per runtime profiler. No profiler_configs: no
	 * perf limits. */
	ck_assert_int_eq(C.continuous, 0);
	ck_assert_uint_eq(C.max_processes, 10);
	ck_assert_int_eq(C.perf_limits, 0);
	ck_assert_str_eq(C.profiling_mode, "");
	ck_assert_uint_eq(C.n_pids, 0);
	ck_assert_int_eq(C.perf, 1);
	ck_assert_int_eq(C.python, 1);
	ck_assert_int_eq(C.java, 1);
	/* A perf mode as perf's setting, pids as a string. */
	ck_assert_int_eq(start("m",
			       "{\"pids\": \"5,6,7\", \"profiler_configs\": "
			       "{\"perf\": \"dwarf\", \"pyperf\": true}}"),
			 1);
	ck_assert_str_eq(C.perf_mode, "dwarf");
	ck_assert_uint_eq(C.n_pids, 3);
	ck_assert_int_eq(C.python, 1);
	ck_assert_int_eq(
	    start("p", "{\"profiler_configs\": {\"perf\": \"disabled\"}}"), 1);
	ck_assert_int_eq(C.perf, 0);
	ck_assert_int_eq(start("q", "{\"perf_mode\": \"smart\"}"), 1);
	ck_assert_str_eq(C.perf_mode, "smart");
}
END_TEST

/* What gProfiler reads as defaults: command_type start, continuous
 * false. */
START_TEST(test_gprofiler_defaults)
{
	ck_assert_int_eq(parse("{\"success\": true, \"command_id\": \"g1\", "
			       "\"profiling_command\": {\"combined_config\": "
			       "{\"duration\": 5}}}"),
			 1);
	ck_assert_int_eq(C.kind, PROFD__REMOTE_COMMAND__KIND__START);
	ck_assert_int_eq(C.continuous, 0);
	ck_assert_uint_eq(C.duration, 5);
	ck_assert_int_eq(parse("{\"success\": true, \"command_id\": \"g2\", "
			       "\"profiling_command\": {\"command_type\": "
			       "null}}"),
			 1);
	ck_assert_int_eq(C.kind, PROFD__REMOTE_COMMAND__KIND__START);
	ck_assert_int_eq(start("g3", "{\"continuous\": true, "
				     "\"max_processes\": 0, "
				     "\"profiling_mode\": \"cpu\"}"),
			 1);
	ck_assert_int_eq(C.continuous, 1);
	ck_assert_uint_eq(C.max_processes, 0);
	ck_assert_str_eq(C.profiling_mode, "cpu");
}
END_TEST

/* Settings as objects ({"mode": ...}, {"enabled": ...}) as well as
 * strings and bools; perf's levels carry gProfiler's limits. */
START_TEST(test_dict_configs)
{
	ck_assert_int_eq(start("d1", "{\"profiler_configs\": {\"perf\": "
				     "{\"mode\": \"fp\"}, \"python\": "
				     "{\"mode\": \"auto\"}}}"),
			 1);
	ck_assert_int_eq(C.perf, 1);
	ck_assert_str_eq(C.perf_mode, "fp");
	ck_assert_int_eq(C.perf_limits, 0);
	ck_assert_int_eq(C.python, 1);
	ck_assert_int_eq(start("d2", "{\"profiler_configs\": {\"perf\": "
				     "{\"mode\": \"enabled_aggressive\"}, "
				     "\"pyperf\": {\"mode\": \"disabled\"}, "
				     "\"pyspy\": {\"enabled\": false}}}"),
			 1);
	ck_assert_int_eq(C.perf, 1);
	ck_assert_str_eq(C.perf_mode, "");
	ck_assert_int_eq(C.perf_limits, 1);
	ck_assert_uint_eq(C.skip_system_profilers_above, 1500);
	ck_assert_uint_eq(C.perf_max_docker_containers, 50);
	ck_assert_int_eq(C.python, 0);
	ck_assert_int_eq(start("d3", "{\"profiler_configs\": {\"perf\": "
				     "\"enabled_restricted\"}}"),
			 1);
	ck_assert_int_eq(C.perf_limits, 1);
	ck_assert_uint_eq(C.skip_system_profilers_above, 600);
	ck_assert_uint_eq(C.perf_max_docker_containers, 2);
	/* Any profiler_configs without perf: enabled_restricted. */
	ck_assert_int_eq(start("d4", "{\"profiler_configs\": {\"pyspy\": "
				     "\"disabled\"}}"),
			 1);
	ck_assert_int_eq(C.perf, 1);
	ck_assert_uint_eq(C.skip_system_profilers_above, 600);
	/* Python runs unless pyperf and pyspy are both off. */
	ck_assert_int_eq(C.python, 1);
	ck_assert_int_eq(start("d5",
			       "{\"profiler_configs\": {\"perf\": "
			       "{\"enabled\": false}, \"async_profiler\": "
			       "{\"mode\": \"disabled\"}}}"),
			 1);
	ck_assert_int_eq(C.perf, 0);
	ck_assert_int_eq(C.java, 0);
	ck_assert_int_eq(C.perf_limits, 0);
}
END_TEST

/* target_hostnames: a start for other hosts is not for this one. */
START_TEST(test_targets)
{
	ck_assert_int_eq(
	    start("h1", "{\"target_hostnames\": [\"a\", \"" HOST "\"]}"), 1);
	ck_assert_int_eq(start("h2", "{\"target_hostnames\": []}"), 1);
	ck_assert_int_eq(start("h3", "{\"target_hostnames\": null}"), 1);
	ck_assert_int_eq(start("h4", "{\"target_hostnames\": [\"a\", \"b\"], "
				     "\"frequency\": \"bad\"}"),
			 2);
	ck_assert_str_eq(Id, "h4");
	ck_assert_str_eq(Err, "this host is not in target_hostnames");
}
END_TEST

START_TEST(test_stop)
{
	ck_assert_int_eq(parse("{\"success\": true, \"command_id\": \"s1\", "
			       "\"profiling_command\": {\"command_type\": "
			       "\"stop\"}}"),
			 1);
	ck_assert_int_eq(C.kind, PROFD__REMOTE_COMMAND__KIND__STOP);
	ck_assert_str_eq(C.id, "s1");
}
END_TEST

/* Values profd must judge are passed on as they are. */
START_TEST(test_passed_on)
{
	ck_assert_int_eq(start("f", "{\"frequency\": 0, \"duration\": 99999}"),
			 1);
	ck_assert_uint_eq(C.frequency, 0);
	ck_assert_uint_eq(C.duration, 99999);
	ck_assert_int_eq(
	    start("x", "{\"profiler_configs\": {\"perf\": \"x; rm -rf\"}}"), 1);
	ck_assert_str_eq(C.perf_mode, "x; rm -rf");
	ck_assert_int_eq(start("z", "{\"pids\": [0]}"), 1);
	ck_assert_uint_eq(C.pids[0], 0);
}
END_TEST

static const struct {
	const char *id, *cfg, *err;
} refused[] = {
    {"t1", "{\"duration\": \"60\"}", "bad duration"},
    {"t2", "{\"duration\": 4294967296}", "bad duration"},
    {"t3", "{\"frequency\": -1}", "bad frequency"},
    {"t4", "{\"frequency\": 1.5}", "bad frequency"},
    {"t5", "{\"continuous\": 1}", "bad continuous"},
    {"t6", "{\"pids\": [1, -2]}", "bad pids"},
    {"t7", "{\"pids\": \"1;reboot\"}", "bad pids"},
    {"t8", "{\"pids\": {\"a\": 1}}", "bad pids"},
    {"t9", "{\"profiler_configs\": {\"perf\": \"a-mode-far-too-long\"}}",
     "bad profiler_configs"},
    {"t10", "{\"profiler_configs\": {\"perf\": 3}}", "bad profiler_configs"},
    {"t11", "{\"perf_mode\": \"0123456789abcdef\"}", "bad perf_mode"},
    {"t12", "[1]", "combined_config is not an object"},
    {"t13", "{\"max_processes\": -1}", "bad max_processes"},
    {"t14", "{\"profiling_mode\": 1}", "bad profiling_mode"},
    {"t15", "{\"target_hostnames\": \"here-1\"}", "bad target_hostnames"},
    {"t16", "{\"target_hostnames\": [\"here-1\", 2]}", "bad target_hostnames"},
    {"t17", "{\"profiler_configs\": {\"perf\": {\"mode\": 1}}}",
     "bad profiler_configs"},
    {"t18", "{\"profiler_configs\": {\"pyspy\": {\"enabled\": \"no\"}}}",
     "bad profiler_configs"},
    {"t19", "{\"profiler_configs\": [\"perf\"]}", "bad profiler_configs"},
};
#define NREFUSED (int)(sizeof(refused) / sizeof(refused[0]))

START_TEST(test_refused)
{
	ck_assert_int_eq(start(refused[_i].id, refused[_i].cfg), -1);
	ck_assert_str_eq(Id, refused[_i].id);
	ck_assert_str_eq(Err, refused[_i].err);
}
END_TEST

/* {"pids": [1, 2, ... n]} in buf. */
static const char *
pid_list(char *buf, size_t len, int n)
{
	size_t k = (size_t)snprintf(buf, len, "{\"pids\": [");

	for (int i = 0; i < n && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%d", i ? "," : "",
				      i + 1);
	if (k < len)
		snprintf(buf + k, len - k, "]}");
	return buf;
}

START_TEST(test_bad_ids_and_types)
{
	static char many[65536];

	ck_assert_int_eq(start("../etc", "{}"), -1);
	ck_assert_str_eq(Id, "");
	ck_assert_int_eq(start("a b", "{}"), -1);
	ck_assert_int_eq(start("", "{}"), -1);
	ck_assert_int_eq(start("0123456789012345678901234567890123456789"
			       "01234567890123456789012345",
			       "{}"),
			 -1);
	ck_assert_int_eq(parse("{\"success\": true, \"command_id\": 7, "
			       "\"profiling_command\": {\"command_type\": "
			       "\"stop\"}}"),
			 -1);
	ck_assert_int_eq(parse("{\"success\": true, \"command_id\": \"k\", "
			       "\"profiling_command\": {\"command_type\": "
			       "\"restart\"}}"),
			 -1);
	ck_assert_str_eq(Id, "k");
	ck_assert_str_eq(Err, "unknown command_type");
	/* No profiling_command, or an empty one: no command (gProfiler). */
	ck_assert_int_eq(parse("{\"success\": true, \"command_id\": \"k\"}"),
			 0);
	ck_assert_int_eq(parse("{\"success\": true, \"command_id\": \"k\", "
			       "\"profiling_command\": {}}"),
			 0);
	ck_assert_int_eq(parse("{\"success\": true, \"command_id\": \"k\", "
			       "\"profiling_command\": \"start\"}"),
			 -1);
	ck_assert_str_eq(Err, "profiling_command is not an object");
	/* As many PIDs as profd takes, then one more. */
	ck_assert_int_eq(
	    start("max", pid_list(many, sizeof(many), PROFD_MAX_PIDS)), 1);
	ck_assert_uint_eq(C.n_pids, PROFD_MAX_PIDS);
	ck_assert_uint_eq(C.pids[PROFD_MAX_PIDS - 1], PROFD_MAX_PIDS);
	ck_assert_int_eq(
	    start("big", pid_list(many, sizeof(many), PROFD_MAX_PIDS + 1)), -1);
	ck_assert_str_eq(Id, "big");
	ck_assert_str_eq(Err, "bad pids");
	/* Over jread's token limit: no command at all. */
	ck_assert_int_eq(
	    start("huge", pid_list(many, sizeof(many), JREAD_MAX_TOKENS)), 0);
}
END_TEST

static Suite *
heartbeat_suite(void)
{
	Suite *s = suite_create("heartbeat");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_no_command);
	tcase_add_test(tc, test_start_fields);
	tcase_add_test(tc, test_start_defaults);
	tcase_add_test(tc, test_java_setting);
	tcase_add_test(tc, test_stop);
	tcase_add_test(tc, test_gprofiler_defaults);
	tcase_add_test(tc, test_dict_configs);
	tcase_add_test(tc, test_targets);
	tcase_add_test(tc, test_passed_on);
	tcase_add_loop_test(tc, test_refused, 0, NREFUSED);
	tcase_add_test(tc, test_bad_ids_and_types);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(heartbeat_suite())
