/* Application ids and container ids of processes. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "appid.h"
#include "procfs.h"

#define APPID_MAX_ARGS 64

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* python, python3, python3.11 */
static int
is_python(const char *arg0)
{
	const char *b = base_name(arg0);

	if (strncmp(b, "python", 6) != 0)
		return 0;
	b += 6;
	if (*b == '\0')
		return 1;
	if (*b != '2' && *b != '3')
		return 0;
	b++;
	if (*b == '.')
		b++;
	return strspn(b, "0123456789") == strlen(b) && strlen(b) <= 2;
}

static void
with_path(char *buf, size_t len, const char *kind, const char *file,
	  const char *cwd)
{
	if (file[0] == '/' || cwd == NULL)
		snprintf(buf, len, "%s: %s (%s)", kind, file, file);
	else
		snprintf(buf, len, "%s: %s (%s/%s)", kind, file, cwd, file);
}

static int
appid_python(char *const *args, size_t n, const char *cwd, char *buf,
	     size_t len)
{
	for (size_t i = 1; i + 1 < n; i++) {
		if (strcmp(args[i], "-m") == 0) {
			snprintf(buf, len, "python: -m %s", args[i + 1]);
			return 0;
		}
	}
	if (n >= 2 && strlen(args[1]) > 3 &&
	    strcmp(args[1] + strlen(args[1]) - 3, ".py") == 0) {
		with_path(buf, len, "python", args[1], cwd);
		return 0;
	}
	return -1;
}

/* java [options] -jar app.jar | java [options] main.Class */
static int
appid_java(char *const *args, size_t n, char *buf, size_t len)
{
	for (size_t i = 1; i < n; i++) {
		const char *a = args[i];

		if (strcmp(a, "-jar") == 0 && i + 1 < n) {
			snprintf(buf, len, "java: %s", args[i + 1]);
			return 0;
		}
		if (strcmp(a, "-cp") == 0 || strcmp(a, "-classpath") == 0 ||
		    strcmp(a, "--class-path") == 0) {
			i++;
			continue;
		}
		if (a[0] != '-') {
			snprintf(buf, len, "java: %s", a);
			return 0;
		}
	}
	return -1;
}

static int
appid_node(char *const *args, size_t n, const char *cwd, char *buf, size_t len)
{
	for (size_t i = 1; i < n; i++) {
		if (args[i][0] == '-')
			continue;
		with_path(buf, len, "node", args[i], cwd);
		return 0;
	}
	return -1;
}

int
appid_from_args(char *const *args, size_t n, const char *cwd, char *buf,
		size_t len)
{
	const char *b;

	if (n == 0)
		return -1;
	b = base_name(args[0]);
	if (is_python(args[0]))
		return appid_python(args, n, cwd, buf, len);
	if (strcmp(b, "java") == 0)
		return appid_java(args, n, buf, len);
	if (strcmp(b, "node") == 0 || strcmp(b, "nodejs") == 0)
		return appid_node(args, n, cwd, buf, len);
	return -1;
}

int
appid_of_pid(pid_t pid, char *buf, size_t len)
{
	char cmd[APPID_CMDLINE_MAX], cwd[512], link[64];
	char *args[APPID_MAX_ARGS];
	size_t n = 0;
	ssize_t got, c;

	if ((got = procfs_read_pid(pid, "cmdline", cmd, sizeof(cmd))) <= 0)
		return -1;
	for (ssize_t i = 0; i < got && n < APPID_MAX_ARGS;
	     i += (ssize_t)strlen(cmd + i) + 1)
		args[n++] = cmd + i;
	snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	c = readlink(link, cwd, sizeof(cwd) - 1);
	cwd[c > 0 ? c : 0] = '\0';
	return appid_from_args(args, n, c > 0 ? cwd : NULL, buf, len);
}

/* Finds a run of at least 32 hex digits after a container marker. */
static int
container_id(const char *line, char *buf, size_t len)
{
	static const char *const marks[] = {"docker-",	       "docker/",
					    "cri-containerd-", "crio-",
					    "libpod-",	       "containerd/"};

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		const char *p = strstr(line, marks[i]);
		size_t hex;

		if (p == NULL)
			continue;
		p += strlen(marks[i]);
		for (hex = 0; isxdigit((unsigned char)p[hex]); hex++)
			;
		if (hex >= 32) {
			snprintf(buf, len, "%.12s", p);
			return 0;
		}
	}
	return -1;
}

int
appid_container(pid_t pid, char *buf, size_t len)
{
	char cg[4096], *save = NULL, *line;

	if (procfs_read_pid(pid, "cgroup", cg, sizeof(cg)) <= 0)
		return -1;
	for (line = strtok_r(cg, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		if (container_id(line, buf, len) == 0)
			return 0;
	return -1;
}
