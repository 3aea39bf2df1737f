/* Application ids from command lines, as gProfiler writes them. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "appid.h"

/* Splits a space-separated command line and derives its id. */
static const char *
id_of(const char *cmdline, const char *cwd)
{
	static char buf[APPID_MAX];
	char copy[512], *args[32], *save = NULL, *w;
	size_t n = 0;

	snprintf(copy, sizeof(copy), "%s", cmdline);
	for (w = strtok_r(copy, " ", &save); w != NULL && n < 32;
	     w = strtok_r(NULL, " ", &save))
		args[n++] = w;
	if (appid_from_args(args, n, cwd, buf, sizeof(buf)) == -1)
		return NULL;
	return buf;
}

START_TEST(test_python)
{
	ck_assert_str_eq(id_of("python3 app.py --port 8", "/srv"),
			 "python: app.py (/srv/app.py)");
	ck_assert_str_eq(id_of("/usr/bin/python3.11 /opt/x.py", "/"),
			 "python: /opt/x.py (/opt/x.py)");
	ck_assert_str_eq(id_of("python -u -m http.server 80", "/"),
			 "python: -m http.server");
	ck_assert_ptr_null(id_of("python3 -c pass", "/"));
	ck_assert_ptr_null(id_of("python3", "/"));
	ck_assert_ptr_null(id_of("pythonista app.py", "/"));
}
END_TEST

START_TEST(test_java_node)
{
	ck_assert_str_eq(id_of("java -Xmx1g -jar /app/svc.jar run", "/"),
			 "java: /app/svc.jar");
	ck_assert_str_eq(id_of("/usr/bin/java -cp a.jar:b.jar com.x.Main", "/"),
			 "java: com.x.Main");
	ck_assert_ptr_null(id_of("java -version", "/"));
	ck_assert_str_eq(id_of("node --perf-basic-prof server.js", "/w"),
			 "node: server.js (/w/server.js)");
	ck_assert_ptr_null(id_of("bash -c true", "/"));
}
END_TEST

START_TEST(test_self)
{
	char buf[APPID_MAX];

	/* This test is not python, java or node: no id, no crash. */
	ck_assert_int_eq(appid_of_pid(getpid(), buf, sizeof(buf)), -1);
	ck_assert_int_eq(appid_of_pid(4194304, buf, sizeof(buf)), -1);
	ck_assert_int_eq(appid_container(4194304, buf, sizeof(buf)), -1);
}
END_TEST

#define FAKE_ID                                                                \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define FAKE_CG "/sys/fs/cgroup/pids/docker-" FAKE_ID ".scope"

/* A process in a cgroup named like docker's is in that container. */
START_TEST(test_container)
{
	char buf[64], pidstr[16];
	pid_t child;
	FILE *f;
	int ok;

	if (geteuid() != 0 || mkdir(FAKE_CG, 0755) == -1)
		return; /* needs root and a v1 pids tree */
	if ((child = fork()) == 0) {
		pause();
		_exit(0);
	}
	snprintf(pidstr, sizeof(pidstr), "%d", (int)child);
	f = fopen(FAKE_CG "/cgroup.procs", "we");
	ok = f != NULL && fputs(pidstr, f) >= 0 && fclose(f) == 0;
	if (ok)
		ok = appid_container(child, buf, sizeof(buf)) == 0;
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	rmdir(FAKE_CG);
	ck_assert_msg(ok, "no container id found");
	ck_assert_str_eq(buf, "0123456789ab");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("appid");
	TCase *tc = tcase_create("appid");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_python);
	tcase_add_test(tc, test_java_node);
	tcase_add_test(tc, test_self);
	tcase_add_test(tc, test_container);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
