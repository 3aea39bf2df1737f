/* Application ids from command lines, as gProfiler writes them. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "appid.h"
#include "check_main.h"

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

/* The id of a one-argument command line (and two empty ones). */
static const char *
title_id(const char *title)
{
	static char buf[APPID_MAX];
	char *args[] = {(char *)title, "", ""};

	return appid_from_args(args, 3, "/x", buf, sizeof(buf)) ? NULL : buf;
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
			 "nodejs: server.js (/w/server.js)");
	ck_assert_str_eq(id_of("node -r dotenv/config.js --require x.js "
			       "--require=y.js /srv/app.js",
			       "/w"),
			 "nodejs: /srv/app.js (/srv/app.js)");
	ck_assert_ptr_null(id_of("node -e 1", "/"));
	ck_assert_ptr_null(id_of("bash -c true", "/"));
}
END_TEST

START_TEST(test_wsgi_servers)
{
	ck_assert_str_eq(
	    id_of("/usr/bin/python3 /usr/local/bin/gunicorn -w 4 -b "
		  "0.0.0.0:8000 shop.wsgi:application",
		  "/srv"),
	    "gunicorn: shop.wsgi:application (/srv/shop/wsgi.py)");
	ck_assert_str_eq(id_of("gunicorn app:app", "/srv"),
			 "gunicorn: app:app (/srv/app.py)");
	/* The process title gunicorn sets with setproctitle: one argument,
	 * the rest of the argument area blank. */
	ck_assert_str_eq(title_id("gunicorn: worker [api.main:app]"),
			 "gunicorn: api.main:app (/x/api/main.py)");
	ck_assert_str_eq(title_id("gunicorn: master [svc:create_app()]"),
			 "gunicorn: svc:create_app() (/x/svc.py)");
	ck_assert_ptr_null(title_id("gunicorn: master []"));
	ck_assert_ptr_null(title_id("gunicorn: master [a] x"));
	ck_assert_ptr_null(id_of("gunicorn --version", "/x"));

	ck_assert_str_eq(id_of("uwsgi --http :80 -w hello.wsgi", "/app"),
			 "uwsgi: hello.wsgi (/app/hello/wsgi.py)");
	ck_assert_str_eq(id_of("uwsgi --wsgi-file=site.py", "/app"),
			 "uwsgi: site.py (/app/site.py)");
	/* Without the process, its ini file cannot be read. */
	ck_assert_str_eq(id_of("uwsgi --ini /etc/u.ini", "/"),
			 "uwsgi: /etc/u.ini");
	ck_assert_str_eq(id_of("uwsgi a.ini b.ini", "/"),
			 "uwsgi: ini file / wsgi module not found");

	ck_assert_str_eq(id_of("celery -A proj worker -l info", "/w"),
			 "celery: proj (/w/proj.py)");
	ck_assert_str_eq(id_of("/usr/bin/python3 /usr/bin/celery "
			       "--app=proj.tasks worker",
			       "/w"),
			 "celery: proj.tasks (/w/proj/tasks.py)");
	ck_assert_str_eq(id_of("python3 -m celery -Aproj worker", "/w"),
			 "celery: proj (/w/proj.py)");
	ck_assert_str_eq(id_of("celery worker -Q mail,sms", "/w"),
			 "celery queue: mail,sms (/w)");
	ck_assert_ptr_null(id_of("celery worker", "/w"));
	ck_assert_str_eq(id_of("python3 -m pyspark.daemon", "/"), "pyspark");
}
END_TEST

/* uwsgi's module comes from the [uwsgi] section of its ini file, read as
 * the process sees it. */
START_TEST(test_uwsgi_ini)
{
	char dir[] = "/tmp/profd-appid.XXXXXX", path[128], buf[APPID_MAX];
	char want[256];
	pid_t pid;
	FILE *f;
	int rv;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/app.ini", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "we"));
	fputs("[other]\nmodule = wrong\n[uwsgi]\nhttp = :80\n"
	      "module = shop.wsgi:application\n",
	      f);
	fclose(f);
	if ((pid = fork()) == 0) {
		if (chdir(dir) == 0)
			execl("/bin/sh", "uwsgi", "-c", "sleep 30; true",
			      "app.ini", (char *)NULL);
		_exit(127);
	}
	ck_assert_int_gt(pid, 0);
	for (int i = 0; i < 100; i++) { /* until exec has happened */
		char cmd[64];
		FILE *c;

		snprintf(cmd, sizeof(cmd), "/proc/%d/cmdline", (int)pid);
		if ((c = fopen(cmd, "re")) != NULL) {
			size_t n = fread(path, 1, sizeof(path) - 1, c);

			fclose(c);
			if (n >= 5 && strcmp(path, "uwsgi") == 0)
				break;
		}
		usleep(10000);
	}
	rv = appid_of_pid(pid, buf, sizeof(buf));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	snprintf(path, sizeof(path), "%s/app.ini", dir);
	unlink(path);
	rmdir(dir);
	ck_assert_int_eq(rv, 0);
	snprintf(want, sizeof(want), "uwsgi: app.ini (%s/shop/wsgi.py)", dir);
	ck_assert_str_eq(buf, want);
}
END_TEST

START_TEST(test_self)
{
	char buf[APPID_MAX];

	/* This test is not python, java or node: no id, no crash. */
	ck_assert_int_eq(appid_of_pid(getpid(), buf, sizeof(buf)), -1);
	ck_assert_int_eq(appid_of_pid(4194304, buf, sizeof(buf)), -1);
	errno = 0;
	ck_assert_int_eq(appid_container(4194304, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno,
			 ENOENT); /* gone: told apart from no container */
	errno = ENOENT;
	if (appid_container(getpid(), buf, sizeof(buf)) == -1)
		ck_assert_int_eq(errno, 0);
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

/* Writes text to dir/rel, making the directories on the way. */
static void
put_file(const char *dir, const char *rel, const char *text)
{
	char path[512], *slash;
	FILE *f;

	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	ck_assert_ptr_nonnull(f = fopen(path, "we"));
	fputs(text, f);
	fclose(f);
}

/* Container names from the runtimes' state: Docker's config.v2.json (its
 * "/name", not a volume's "Name"), containers/storage's containers.json
 * (the object of that id); nothing from a link, a bad name or another
 * container's entry. */
START_TEST(test_container_names)
{
	char tmpl[] = "/tmp/check_appid.XXXXXX", name[APPID_NAME_MAX], cmd[64];
	char *dir = mkdtemp(tmpl), docker[256], storage[256];
	const char *other =
	    "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

	ck_assert_ptr_nonnull(dir);
	snprintf(docker, sizeof(docker), "%s/docker", dir);
	snprintf(storage, sizeof(storage), "%s/storage", dir);
	put_file(docker, "containers/" FAKE_ID "/config.v2.json",
		 "{\"MountPoints\":{\"/d\":{\"Name\":\"vol1\"}},"
		 "\"ID\":\"" FAKE_ID
		 "\",\"Name\":\"/web-1\",\"Driver\":\"x\"}");
	ck_assert_int_eq(
	    appid_container_name(docker, NULL, FAKE_ID, name, sizeof(name)), 0);
	ck_assert_str_eq(name, "web-1");
	put_file(storage, "overlay-containers/containers.json",
		 "[{\"id\":\"" FAKE_ID "\",\"names\":[\"k8s_api_pod\"]},"
		 "{\"id\":\"abc\"},{\"id\":\"x\",\"names\":[\"late\"]}]");
	ck_assert_int_eq(
	    appid_container_name(NULL, storage, FAKE_ID, name, sizeof(name)),
	    0);
	ck_assert_str_eq(name, "k8s_api_pod");
	/* Docker first; an id neither knows; not an id at all. */
	ck_assert_int_eq(
	    appid_container_name(docker, storage, FAKE_ID, name, sizeof(name)),
	    0);
	ck_assert_str_eq(name, "web-1");
	ck_assert_int_eq(
	    appid_container_name(docker, storage, other, name, sizeof(name)),
	    -1);
	ck_assert_int_eq(appid_container_name(docker, storage, "../../etc",
					      name, sizeof(name)),
			 -1);
	/* A name with characters no runtime allows is not taken. */
	put_file(docker, "containers/" FAKE_ID "/config.v2.json",
		 "{\"Name\":\"/a\\u001b[2Jb\"}");
	ck_assert_int_eq(
	    appid_container_name(docker, NULL, FAKE_ID, name, sizeof(name)),
	    -1);
	/* A link in place of the file is not followed. */
	snprintf(name, sizeof(name), "%s/containers/%s/config.v2.json", docker,
		 FAKE_ID);
	unlink(name);
	put_file(dir, "elsewhere.json", "{\"Name\":\"/linked\"}");
	snprintf(cmd, sizeof(cmd), "%s/elsewhere.json", dir);
	ck_assert_int_eq(symlink(cmd, name), 0);
	ck_assert_int_eq(
	    appid_container_name(docker, NULL, FAKE_ID, name, sizeof(name)),
	    -1);
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

CHECK_MAIN(CHECK_SUITE("appid", test_python, test_java_node, test_wsgi_servers,
		       test_uwsgi_ini, test_self, test_container,
		       test_container_names))
