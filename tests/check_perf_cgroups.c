/* Choosing perf's cgroups, on fake cgroup trees in a temporary directory. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "perf_cgroups.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static char top[64];
static struct perf_cg_choice choice;

static void
setup(void)
{
	snprintf(top, sizeof(top), "/tmp/check_perf_cgroups.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	ck_assert_int_eq(system(cmd), 0);
}

/* mkdir -p top/path */
static void
mkdirs(const char *path)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s/%s", top, path);
	for (char *p = buf + strlen(top) + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		ck_assert(mkdir(buf, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	ck_assert(mkdir(buf, 0755) == 0 || errno == EEXIST);
}

/* Writes text to top/dir/file, making dir. */
static void
put(const char *dir, const char *file, const char *text)
{
	char path[1024];
	FILE *f;

	mkdirs(dir);
	snprintf(path, sizeof(path), "%s/%s/%s", top, dir, file);
	ck_assert_ptr_nonnull(f = fopen(path, "we"));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* A v2 cgroup holding a process (or none), with CPU seconds and MB. */
static void
v2_cgroup(const char *name, int procs, unsigned cpu_s, unsigned mem_mb)
{
	char dir[512], buf[128];

	snprintf(dir, sizeof(dir), "v2/%s", name);
	put(dir, "cgroup.procs", procs ? "4242\n" : "");
	snprintf(buf, sizeof(buf), "usage_usec %llu\nuser_usec 1\n",
		 (unsigned long long)cpu_s * 1000000);
	put(dir, "cpu.stat", buf);
	snprintf(buf, sizeof(buf), "%llu\n",
		 (unsigned long long)mem_mb * 1024 * 1024);
	put(dir, "memory.current", buf);
}

static void
v2_roots(struct perf_cg_roots *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->cr_perf, sizeof(r->cr_perf), "%s/v2", top);
	r->cr_perf_v2 = 1;
}

/* Writes a mounts file and reads it with perf_cg_roots. */
static int
roots_from(const char *text, struct perf_cg_roots *r)
{
	char path[256];

	put("", "mounts", text);
	snprintf(path, sizeof(path), "%s/mounts", top);
	return perf_cg_roots(path, r);
}

START_TEST(test_roots_hybrid_v1_perf_event)
{
	struct perf_cg_roots r;

	ck_assert_int_eq(
	    roots_from(
		"proc /proc proc rw 0 0\n"
		"cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n"
		"cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\n"
		"cgroup /sys/fs/cgroup/perf_event cgroup rw,perf_event 0 0\n"
		"cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n",
		&r),
	    0);
	ck_assert_str_eq(r.cr_perf, "/sys/fs/cgroup/perf_event");
	ck_assert_int_eq(r.cr_perf_v2, 0);
	ck_assert_str_eq(r.cr_cpuacct, "/sys/fs/cgroup/cpu,cpuacct");
	ck_assert_str_eq(r.cr_memory, "/sys/fs/cgroup/memory");
}
END_TEST

/* This machine: perf_event in no v1 hierarchy, so perf uses cgroup2. */
START_TEST(test_roots_hybrid_v2_perf_event)
{
	struct perf_cg_roots r;

	ck_assert_int_eq(
	    roots_from(
		"cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0\n"
		"cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n"
		"cgroup /sys/fs/cgroup/systemd cgroup rw,name=systemd 0 0\n"
		"cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n"
		"cgroup2 /other cgroup2 rw 0 0\n",
		&r),
	    0);
	ck_assert_str_eq(r.cr_perf, "/sys/fs/cgroup/unified");
	ck_assert_int_eq(r.cr_perf_v2, 1);
	ck_assert_str_eq(r.cr_cpuacct, "/sys/fs/cgroup/cpuacct");
	ck_assert_str_eq(r.cr_memory, "/sys/fs/cgroup/memory");
}
END_TEST

START_TEST(test_roots_pure_v2_and_none)
{
	struct perf_cg_roots r;
	char longline[PERF_CG_LINE_MAX * 2];

	ck_assert_int_eq(
	    roots_from("cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\n",
		       &r),
	    0);
	ck_assert_str_eq(r.cr_perf, "/sys/fs/cgroup");
	ck_assert_int_eq(r.cr_perf_v2, 1);
	ck_assert_str_eq(r.cr_cpuacct, "");
	/* No perf_event anywhere, garbage, a relative mount point. */
	ck_assert_int_eq(
	    roots_from("cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n"
		       "garbage\n\n"
		       "cgroup2 relative cgroup2 rw 0 0\n"
		       "cgroup /x cgroup rw,perf_event_no 0 0\n",
		       &r),
	    -1);
	/* The tail of an over-long line is not read as a mount. */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline + PERF_CG_LINE_MAX - 1,
	       " cgroup2 /fake cgroup2 rw 0 0\n", 31);
	longline[PERF_CG_LINE_MAX - 1 + 31] = '\0';
	ck_assert_int_eq(roots_from(longline, &r), -1);
	ck_assert_int_eq(perf_cg_roots("/nonexistent/mounts", &r), -1);
}
END_TEST

START_TEST(test_roots_escaped)
{
	struct perf_cg_roots r;

	ck_assert_int_eq(
	    roots_from("cg /my\\040cgroups cgroup rw,cpuacct,perf_event 0 0\n",
		       &r),
	    0);
	ck_assert_str_eq(r.cr_perf, "/my cgroups");
	ck_assert_str_eq(r.cr_cpuacct, "/my cgroups");
}
END_TEST

START_TEST(test_is_docker)
{
	ck_assert(perf_cg_is_docker("docker/" ID_A));
	ck_assert(perf_cg_is_docker("x/docker/" ID_B));
	ck_assert(perf_cg_is_docker("system.slice/docker-" ID_A ".scope"));
	ck_assert(perf_cg_is_docker("docker-" ID_B ".scope"));
	ck_assert(!perf_cg_is_docker(ID_A));
	ck_assert(!perf_cg_is_docker("xdocker/" ID_A));
	ck_assert(!perf_cg_is_docker("docker/" ID_A "0"));
	ck_assert(
	    !perf_cg_is_docker("docker/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			       "AAAAAAAAAAAAAAAAAAAAAAAA"));
	ck_assert(!perf_cg_is_docker("system.slice/docker-" ID_A ".scopex"));
	ck_assert(!perf_cg_is_docker("system.slice/docker.service"));
	ck_assert(!perf_cg_is_docker("docker"));
	ck_assert(!perf_cg_is_docker(""));
}
END_TEST

/* A v2 host with systemd and docker scopes. */
static void
v2_host(void)
{
	v2_cgroup("init.scope", 1, 5, 10);
	v2_cgroup("system.slice", 0, 400, 900);
	v2_cgroup("system.slice/sshd.service", 1, 2, 4);
	v2_cgroup("system.slice/cron.service", 1, 1, 100);	    /* 110 */
	v2_cgroup("system.slice/docker.service", 1, 20, 50);	    /* 250 */
	v2_cgroup("system.slice/docker-" ID_A ".scope", 1, 30, 10); /* 310 */
	v2_cgroup("system.slice/docker-" ID_B ".scope", 1, 100, 1);
	v2_cgroup("system.slice/docker-" ID_C ".scope", 1, 50, 600); /* 1100 */
	v2_cgroup("user.slice", 0, 300, 300);
	v2_cgroup("user.slice/user-0.slice", 0, 300, 300);
	v2_cgroup("user.slice/user-0.slice/session-1.scope", 1, 300, 300);
	v2_cgroup("idle.slice", 0, 999, 999); /* nothing inside */
	v2_cgroup("idle.slice/empty.service", 0, 999, 999);
}

START_TEST(test_rank_v2)
{
	struct perf_cg_roots r;

	v2_host();
	v2_roots(&r);
	/* Scores: session 3300, docker-B 1001, docker-C 1100, A 310,
	 * docker.service 250, cron 110, init 60, sshd 24. */
	ck_assert_int_eq(perf_cg_choose(&r, 3, 0, &choice), 3);
	ck_assert_str_eq(choice.cc_arg,
			 "user.slice/user-0.slice/session-1.scope,"
			 "system.slice/docker-" ID_C ".scope,"
			 "system.slice/docker-" ID_B ".scope");
	ck_assert_uint_eq(choice.cc_docker, 2);
	ck_assert_uint_eq(choice.cc_candidates, 8);
	ck_assert_uint_eq(choice.cc_seen, 13);
	ck_assert_int_eq(choice.cc_truncated, 0);
	ck_assert_int_eq(perf_cg_choose(&r, 50, 0, &choice), 8);
	ck_assert_ptr_null(strstr(choice.cc_arg, "idle"));
	ck_assert_ptr_null(strstr(choice.cc_arg, "system.slice,"));
	ck_assert_int_eq(perf_cg_choose(&r, 0, 0, &choice), 0);
	ck_assert_str_eq(choice.cc_arg, "");
}
END_TEST

START_TEST(test_docker_first_v2)
{
	struct perf_cg_roots r;

	v2_host();
	v2_roots(&r);
	/* Containers by CPU: B (100 s), C (50 s), A (30 s). */
	ck_assert_int_eq(perf_cg_choose(&r, 4, 2, &choice), 4);
	ck_assert_str_eq(choice.cc_arg,
			 "system.slice/docker-" ID_B ".scope,"
			 "system.slice/docker-" ID_C ".scope,"
			 "user.slice/user-0.slice/session-1.scope,"
			 "system.slice/docker.service");
	ck_assert_uint_eq(choice.cc_docker, 2);
	/* Only containers: the other cgroups get no place. */
	ck_assert_int_eq(perf_cg_choose(&r, 0, 5, &choice), 3);
	ck_assert_str_eq(choice.cc_arg, "system.slice/docker-" ID_B ".scope,"
					"system.slice/docker-" ID_C ".scope,"
					"system.slice/docker-" ID_A ".scope");
	/* The third container never comes in through a parent. */
	ck_assert_int_eq(perf_cg_choose(&r, 50, 2, &choice), 7);
	ck_assert_ptr_null(strstr(choice.cc_arg, ID_A));
}
END_TEST

/* Processes in a parent and a child: never both, or perf counts twice. */
START_TEST(test_nested)
{
	struct perf_cg_roots r;

	v2_cgroup("app", 1, 10, 0);
	v2_cgroup("app/worker", 1, 8, 0);
	v2_cgroup("app2", 1, 9, 0);
	v2_roots(&r);
	ck_assert_int_eq(perf_cg_choose(&r, 10, 0, &choice), 2);
	ck_assert_str_eq(choice.cc_arg, "app,app2");
}
END_TEST

/* A v1 host: perf_event, cpuacct and memory in separate hierarchies. */
START_TEST(test_v1)
{
	struct perf_cg_roots r;

	put("pe/docker/" ID_A, "cgroup.procs", "10\n11\n");
	put("pe/docker/" ID_B, "cgroup.procs", "12\n");
	put("pe/docker", "cgroup.procs", "");
	put("pe/system.slice/foo.service", "cgroup.procs", "13\n");
	put("pe/unranked", "cgroup.procs", "14\n");
	put("cpu/docker/" ID_A, "cpuacct.usage", "5000000000\n");
	put("cpu/docker/" ID_B, "cpuacct.usage", "9000000000\n");
	put("cpu/docker", "cpuacct.usage", "14000000000\n");
	put("cpu/system.slice/foo.service", "cpuacct.usage", "1000000000\n");
	put("mem/docker/" ID_A, "memory.usage_in_bytes", "104857600\n");
	put("mem/system.slice/foo.service", "memory.usage_in_bytes",
	    "1048576000\n");
	memset(&r, 0, sizeof(r));
	snprintf(r.cr_perf, sizeof(r.cr_perf), "%s/pe", top);
	snprintf(r.cr_cpuacct, sizeof(r.cr_cpuacct), "%s/cpu", top);
	snprintf(r.cr_memory, sizeof(r.cr_memory), "%s/mem", top);
	/* Scores: foo 1010, A 150, B 90, unranked 0 (no counters). */
	ck_assert_int_eq(perf_cg_choose(&r, 10, 0, &choice), 4);
	ck_assert_str_eq(choice.cc_arg, "system.slice/foo.service,docker/" ID_A
					",docker/" ID_B ",unranked");
	ck_assert_uint_eq(choice.cc_docker, 2);
	/* Containers by CPU: B before A. */
	ck_assert_int_eq(perf_cg_choose(&r, 2, 1, &choice), 2);
	ck_assert_str_eq(choice.cc_arg,
			 "docker/" ID_B ",system.slice/foo.service");
}
END_TEST

/* Unreadable numbers count as zero; names perf cannot take are skipped. */
START_TEST(test_bad_files)
{
	struct perf_cg_roots r;

	put("v2/garbage", "cgroup.procs", "1\n");
	put("v2/garbage", "cpu.stat", "usage_usec abc\n");
	put("v2/garbage", "memory.current", "-5\n");
	put("v2/huge", "cgroup.procs", "1\n");
	put("v2/huge", "cpu.stat",
	    "user_usec 1\nusage_usec "
	    "99999999999999999999999\n");
	put("v2/huge", "memory.current", "18446744073709551615");
	put("v2/nokey", "cgroup.procs", "1\n");
	put("v2/nokey", "cpu.stat", "usage_usecs 5000000\nx");
	put("v2/big", "cgroup.procs", "1\n");
	put("v2/big", "cpu.stat", "usage_usec 18446744073709551\n");
	put("v2/a,b", "cgroup.procs", "1\n");
	put("v2/a,b", "cpu.stat", "usage_usec 999999999999\n");
	put("v2/tab\tname", "cgroup.procs", "1\n");
	put("v2/big/under,comma", "cgroup.procs", "1\n");
	v2_roots(&r);
	ck_assert_int_eq(perf_cg_choose(&r, 10, 0, &choice), 4);
	/* big: its usec saturate at UINT64_MAX ns; huge reads its memory */
	ck_assert_str_eq(choice.cc_arg, "huge,big,garbage,nokey");
}
END_TEST

START_TEST(test_caps)
{
	struct perf_cg_roots r;
	char name[PERF_CG_NAME_MAX + 64];
	size_t len;

	/* Deeper than PERF_CG_DEPTH_MAX: not reached. */
	name[0] = '\0';
	for (int i = 0; i <= PERF_CG_DEPTH_MAX; i++)
		strcat(name, i ? "/d" : "v2/d");
	put(name, "cgroup.procs", "1\n");
	v2_roots(&r);
	ck_assert_int_eq(perf_cg_choose(&r, 10, 0, &choice), 0);
	ck_assert_int_eq(choice.cc_truncated, 1);
	/* One level up is reached. */
	*strrchr(name, '/') = '\0';
	put(name, "cgroup.procs", "1\n");
	ck_assert_int_eq(perf_cg_choose(&r, 10, 0, &choice), 1);
	/* Longer than PERF_CG_NAME_MAX: skipped. */
	snprintf(name, sizeof(name), "v2/");
	len = strlen(name);
	while (len < PERF_CG_NAME_MAX + 8) {
		memcpy(name + len, "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		       40);
		len += 40;
		name[len] = '\0';
	}
	memmove(name + 3, name + 4, strlen(name + 4) + 1);
	put(name, "cgroup.procs", "1\n");
	ck_assert_int_eq(perf_cg_choose(&r, 10, 0, &choice), 1);
	ck_assert_ptr_null(strstr(choice.cc_arg, "aaaa"));
}
END_TEST

START_TEST(test_scan_cap)
{
	struct perf_cg_roots r;
	char name[64];

	for (int i = 0; i < PERF_CG_SCAN_MAX + 10; i++) {
		snprintf(name, sizeof(name), "v2/c%05d", i);
		mkdirs(name);
	}
	put("v2/c00000", "cgroup.procs", "1\n");
	v2_roots(&r);
	ck_assert_int_le(perf_cg_choose(&r, 10, 0, &choice), 1);
	ck_assert_uint_eq(choice.cc_seen, PERF_CG_SCAN_MAX);
	ck_assert_int_eq(choice.cc_truncated, 1);
}
END_TEST

/* The -G list stays within PERF_CG_ARG_MAX bytes. */
START_TEST(test_arg_cap)
{
	struct perf_cg_roots r;
	char name[PERF_CG_NAME_MAX];
	unsigned n = PERF_CG_ARG_MAX / 400 + 5;

	for (unsigned i = 0; i < n; i++) {
		/* 397 bytes: a file name has at most 255 */
		snprintf(name, sizeof(name), "v2/%03u/%0196d/%0196d", i, 0, 0);
		put(name, "cgroup.procs", "1\n");
	}
	v2_roots(&r);
	ck_assert_int_lt(perf_cg_choose(&r, 1000, 0, &choice), (int)n);
	ck_assert_int_eq(choice.cc_truncated, 1);
	ck_assert_uint_lt(strlen(choice.cc_arg), PERF_CG_ARG_MAX);
	ck_assert_uint_eq(choice.cc_candidates, n);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("perf_cgroups");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_roots_hybrid_v1_perf_event);
	tcase_add_test(tc, test_roots_hybrid_v2_perf_event);
	tcase_add_test(tc, test_roots_pure_v2_and_none);
	tcase_add_test(tc, test_roots_escaped);
	tcase_add_test(tc, test_is_docker);
	tcase_add_test(tc, test_rank_v2);
	tcase_add_test(tc, test_docker_first_v2);
	tcase_add_test(tc, test_nested);
	tcase_add_test(tc, test_v1);
	tcase_add_test(tc, test_bad_files);
	tcase_add_test(tc, test_caps);
	tcase_add_test(tc, test_scan_cap);
	tcase_add_test(tc, test_arg_cap);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite())
