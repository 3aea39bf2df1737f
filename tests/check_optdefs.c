/* The option table (common/optdefs.h): checks, copies, the parts of
 * Configure, and a worker refusing another kind's part. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "optdefs.h"
#include "worker_priv.h"

/* A worker's part, held as the perf worker holds its own. */
struct hold {
	char wo_perf_mode[16];
	int wo_insert_dso_name;
	uint32_t wo_dwarf_stack_size;
	uint32_t wo_skip_above;
	char wo_perf_events[64];
	char wo_perf_engine[8];
	uint32_t wo_restart_rss_mb;
	uint32_t wo_restart_after_s;
	int wo_no_memory_restart;
	int wo_use_cgroups;
	uint32_t wo_max_cgroups;
	uint32_t wo_max_docker;
};

#define OD_MSG	       Profd__PerfSettings
#define OD_HOLDER      struct hold
#define OD_FIELD(stem) wo_##stem
static const struct optdef rows[] = {PROFD_PERF_OPTIONS(OPTDEF_ROW) OPTDEF_END};

static void
good(Profd__PerfSettings *m)
{
	profd__perf_settings__init(m);
	m->perf_mode = "dwarf";
	m->perf_events = "cpu-clock";
	m->perf_engine = "native";
	m->perf_dwarf_stack_size = 16384;
	m->perf_max_cgroups = 7;
	m->insert_dso_name = 1;
}

/* Each field out of its range or words is named; a good part passes. */
START_TEST(test_check_msg)
{
	Profd__PerfSettings m;
	const char *bad = NULL;

	good(&m);
	ck_assert_int_eq(optdef_check_msg(rows, &m, &bad), 0);
	m.perf_mode = "fast";
	ck_assert_int_eq(optdef_check_msg(rows, &m, &bad), -1);
	ck_assert_str_eq(bad, "perf-mode");
	good(&m);
	m.perf_dwarf_stack_size = 65529;
	ck_assert_int_eq(optdef_check_msg(rows, &m, &bad), -1);
	ck_assert_str_eq(bad, "perf-dwarf-stack-size");
	good(&m);
	m.perf_dwarf_stack_size = 0; /* OD_NUM0: the worker's default */
	ck_assert_int_eq(optdef_check_msg(rows, &m, &bad), 0);
	m.perf_events = "cpu clock;rm";
	ck_assert_int_eq(optdef_check_msg(rows, &m, &bad), -1);
	ck_assert_str_eq(bad, "perf-events");
	good(&m);
	m.perf_max_docker_containers = WORKER_PERF_CGROUPS_LIMIT + 1;
	ck_assert_int_eq(optdef_check_msg(rows, &m, &bad), -1);
	ck_assert_str_eq(bad, "perf-max-docker-containers");
	good(&m);
	m.perf_engine = "";
	ck_assert_int_eq(optdef_check_msg(rows, &m, &bad), -1);
}
END_TEST

/* fill then apply gives the holder back; 0 in an OD_NUM0 field keeps
 * the holder's default. */
START_TEST(test_round_trip)
{
	Profd__PerfSettings m;
	struct hold a, b;

	memset(&a, 0, sizeof(a));
	strcpy(a.wo_perf_mode, "smart");
	strcpy(a.wo_perf_events, "task-clock");
	strcpy(a.wo_perf_engine, "perf");
	a.wo_dwarf_stack_size = 4096;
	a.wo_use_cgroups = 1;
	a.wo_max_docker = 3;
	profd__perf_settings__init(&m);
	optdef_fill(rows, &a, &m);
	memset(&b, 0, sizeof(b));
	b.wo_restart_rss_mb = 200; /* a default, kept: m says 0 */
	optdef_apply(rows, &m, &b);
	ck_assert_str_eq(b.wo_perf_mode, "smart");
	ck_assert_str_eq(b.wo_perf_events, "task-clock");
	ck_assert_str_eq(b.wo_perf_engine, "perf");
	ck_assert_uint_eq(b.wo_dwarf_stack_size, 4096);
	ck_assert_int_eq(b.wo_use_cgroups, 1);
	ck_assert_uint_eq(b.wo_max_docker, 3);
	ck_assert_uint_eq(b.wo_restart_rss_mb, 200);
}
END_TEST

/* A command-line value is checked with the same row: range, words. */
START_TEST(test_check_arg)
{
	char want[96];
	const struct optdef *d = optdef_find(rows, "perf-max-cgroups");

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(optdef_check(d, "128", want, sizeof(want)), 0);
	ck_assert_int_eq(optdef_check(d, "129", want, sizeof(want)), -1);
	ck_assert_str_eq(want, "a number from 0 to 128");
	d = optdef_find(rows, "perf-mode");
	ck_assert_int_eq(optdef_check(d, "fpx", want, sizeof(want)), -1);
	ck_assert_str_eq(want, "fp, dwarf, smart or disabled");
	d = optdef_find(optdefs_common, "profiling-frequency");
	ck_assert_int_eq(optdef_check(d, "0", want, sizeof(want)), -1);
	ck_assert_int_eq(optdef_check(d, "1000", want, sizeof(want)), 0);
}
END_TEST

/* A worker takes its own kind's part only; one that takes none ignores
 * any. */
START_TEST(test_settings_part)
{
	Profd__Configure m = PROFD__CONFIGURE__INIT;
	Profd__PerfSettings ps = PROFD__PERF_SETTINGS__INIT;
	Profd__PythonSettings py = PROFD__PYTHON_SETTINGS__INIT;
	struct profiler_ops perf = {.po_name = "perf",
				    .po_settings_case =
					PROFD__CONFIGURE__SETTINGS_PERF};
	struct profiler_ops python = {.po_name = "python",
				      .po_settings_case =
					  PROFD__CONFIGURE__SETTINGS_PYTHON};
	struct profiler_ops none = {.po_name = "fault"};

	m.settings_case = PROFD__CONFIGURE__SETTINGS_PERF;
	m.perf = &ps;
	ck_assert_ptr_eq(worker_settings_part(&m, &perf), &ps);
	ck_assert_ptr_null(worker_settings_part(&m, &python));
	ck_assert_ptr_eq(worker_settings_part(&m, &none), &m);
	m.settings_case = PROFD__CONFIGURE__SETTINGS_PYTHON;
	m.python = &py;
	ck_assert_ptr_eq(worker_settings_part(&m, &python), &py);
	ck_assert_ptr_null(worker_settings_part(&m, &perf));
	m.settings_case = PROFD__CONFIGURE__SETTINGS__NOT_SET;
	ck_assert_ptr_null(worker_settings_part(&m, &perf));
}
END_TEST

CHECK_MAIN(CHECK_SUITE("optdefs", test_check_msg, test_round_trip,
		       test_check_arg, test_settings_part))
