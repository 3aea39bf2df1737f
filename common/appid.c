/* Application ids and container ids of processes. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "appid.h"
#include "procfs.h"

#define APPID_MAX_ARGS	   64
#define APPID_STATE_MAX	   (1u << 20) /* bytes of a runtime's state file */
#define APPID_NAME_CACHE   64	      /* containers named, per thread */
#define APPID_NAME_TTL_S   60	      /* seconds a name is trusted */
#define APPID_DOCKER_ROOT  "/var/lib/docker"
#define APPID_STORAGE_ROOT "/var/lib/containers/storage"

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

/* One command line being identified. */
struct appid_cmd {
	char *const *ac_args;
	size_t ac_n;
	const char *ac_cwd; /* NULL when unknown */
	pid_t ac_pid;	    /* 0: read no file of the process */
	char *ac_buf;
	size_t ac_len;
};

static const char *
arg_at(const struct appid_cmd *c, size_t i)
{
	return i < c->ac_n ? c->ac_args[i] : "";
}

/* Returns the value of option name: "name VALUE", with eq also
 * "name=VALUE", with glued also "nameVALUE" (short options); or NULL. */
static const char *
arg_value(const struct appid_cmd *c, const char *name, int eq, int glued)
{
	size_t nl = strlen(name);

	for (size_t i = 1; i < c->ac_n; i++) {
		const char *a = c->ac_args[i];

		if (strcmp(a, name) == 0)
			return i + 1 < c->ac_n ? c->ac_args[i + 1] : NULL;
		if (strncmp(a, name, nl) != 0 || a[nl] == '\0')
			continue;
		if (eq && a[nl] == '=')
			return a + nl + 1;
		if (glued)
			return a + nl;
	}
	return NULL;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Writes the file of a module or script ("a.b" and "a.b:app" are a/b.py)
 * as a path from the working directory. */
static void
module_path(const struct appid_cmd *c, const char *spec, char *out, size_t len)
{
	char file[APPID_MAX];

	/* "pkg.mod:app" names the object app of pkg/mod.py */
	snprintf(file, sizeof(file), "%.*s", (int)strcspn(spec, ":"), spec);
	if (!ends_with(file, ".py")) {
		for (char *d = file; *d; d++)
			if (*d == '.')
				*d = '/';
		snprintf(file + strlen(file), sizeof(file) - strlen(file),
			 ".py");
	}
	if (file[0] == '/' || c->ac_cwd == NULL)
		snprintf(out, len, "%s", file);
	else
		snprintf(out, len, "%s/%s", c->ac_cwd, file);
}

/* "kind: spec (file of spec's module)" */
static int
put_module(const struct appid_cmd *c, const char *kind, const char *spec,
	   const char *module)
{
	char path[APPID_MAX];

	module_path(c, module, path, sizeof(path));
	snprintf(c->ac_buf, c->ac_len, "%s: %s (%s)", kind, spec, path);
	return 0;
}

/* "kind: file (cwd/file)" */
static int
put_file(const struct appid_cmd *c, const char *kind, const char *file)
{
	if (file[0] == '/' || c->ac_cwd == NULL)
		snprintf(c->ac_buf, c->ac_len, "%s: %s (%s)", kind, file, file);
	else
		snprintf(c->ac_buf, c->ac_len, "%s: %s (%s/%s)", kind, file,
			 c->ac_cwd, file);
	return 0;
}

/* gunicorn's process title: "gunicorn: master [app:wsgi]" alone. */
static int
appid_gunicorn_title(const struct appid_cmd *c)
{
	const char *a = arg_at(c, 0), *open, *close;
	char spec[APPID_MAX], module[APPID_MAX];

	for (size_t i = 1; i < c->ac_n; i++)
		if (c->ac_args[i][0] != '\0')
			return -1;
	if (strncmp(a, "gunicorn: master [", 18) != 0 &&
	    strncmp(a, "gunicorn: worker [", 18) != 0)
		return -1;
	open = a + 17;
	if ((close = strchr(open, ']')) == NULL || close[1] != '\0' ||
	    close == open + 1)
		return -1;
	snprintf(spec, sizeof(spec), "%.*s", (int)(close - open - 1), open + 1);
	snprintf(module, sizeof(module), "%.*s", (int)strcspn(spec, ":"), spec);
	return put_module(c, "gunicorn", spec, module);
}

/* gunicorn [options] module:app: the app is the last argument. */
static int
appid_gunicorn(const struct appid_cmd *c)
{
	const char *spec = arg_at(c, c->ac_n - 1);
	char module[APPID_MAX];

	if (strcmp(base_name(arg_at(c, 0)), "gunicorn") != 0 &&
	    strcmp(base_name(arg_at(c, 1)), "gunicorn") != 0)
		return -1;
	if (c->ac_n < 2 || spec[0] == '\0' || spec[0] == '-')
		return -1;
	snprintf(module, sizeof(module), "%.*s", (int)strcspn(spec, ":"), spec);
	return put_module(c, "gunicorn", spec, module);
}

/* Finds "module" in the [uwsgi] section of an ini file of the process. */
static int
uwsgi_ini_module(const struct appid_cmd *c, const char *ini, char *out,
		 size_t len)
{
	char text[APPID_INI_MAX], *line, *save = NULL;
	int fd, in_uwsgi = 0;
	ssize_t n;

	if (c->ac_pid <= 0 ||
	    (fd = procfs_open_in_root(c->ac_pid, c->ac_cwd, ini, 0)) == -1)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t k;

		line += strspn(line, " \t");
		if (line[0] == '[') {
			in_uwsgi = strncmp(line, "[uwsgi]", 7) == 0;
			continue;
		}
		k = strcspn(line, " \t=:");
		if (!in_uwsgi || k != 6 || strncmp(line, "module", 6) != 0)
			continue;
		line += k + strspn(line + k, " \t");
		if (*line != '=' && *line != ':')
			continue;
		line++;
		line += strspn(line, " \t");
		line[strcspn(line, " \t\r")] = '\0';
		snprintf(out, len, "%s", line);
		return out[0] != '\0' ? 0 : -1;
	}
	return -1;
}

/* The ini file of uwsgi: --ini, --ini-paste, --ini-paste-logged, or the
 * one argument ending in .ini. */
static const char *
uwsgi_ini(const struct appid_cmd *c)
{
	static const char *const opts[] = {"--ini", "--ini-paste",
					   "--ini-paste-logged"};
	const char *ini = NULL;

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if ((ini = arg_value(c, opts[i], 1, 0)) != NULL)
			return ini;
	for (size_t i = 1; i < c->ac_n; i++) {
		if (!ends_with(c->ac_args[i], ".ini"))
			continue;
		if (ini != NULL)
			return NULL; /* two: which one is meant is unknown */
		ini = c->ac_args[i];
	}
	return ini;
}

static int
appid_uwsgi(const struct appid_cmd *c)
{
	const char *wsgi, *ini;
	char module[APPID_MAX];

	if (strcmp(base_name(arg_at(c, 0)), "uwsgi") != 0)
		return -1;
	if ((wsgi = arg_value(c, "-w", 0, 0)) != NULL ||
	    (wsgi = arg_value(c, "--wsgi-file", 1, 0)) != NULL)
		return put_module(c, "uwsgi", wsgi, wsgi);
	if ((ini = uwsgi_ini(c)) == NULL) {
		snprintf(c->ac_buf, c->ac_len,
			 "uwsgi: ini file / wsgi module not found");
		return 0;
	}
	if (uwsgi_ini_module(c, ini, module, sizeof(module)) == 0)
		return put_module(c, "uwsgi", ini, module);
	snprintf(c->ac_buf, c->ac_len, "uwsgi: %s", ini);
	return 0;
}

/* celery, also as "python -m celery": the app of -A/--app, else the
 * queues of -Q/--queues. */
static int
appid_celery(const struct appid_cmd *c)
{
	const char *app, *queue;

	if (strcmp(base_name(arg_at(c, 0)), "celery") != 0 &&
	    strcmp(base_name(arg_at(c, 1)), "celery") != 0 &&
	    !(is_python(arg_at(c, 0)) && strcmp(arg_at(c, 1), "-m") == 0 &&
	      strcmp(arg_at(c, 2), "celery") == 0))
		return -1;
	if ((app = arg_value(c, "-A", 0, 1)) != NULL ||
	    (app = arg_value(c, "--app", 1, 0)) != NULL)
		return put_module(c, "celery", app, app);
	if ((queue = arg_value(c, "-Q", 0, 1)) != NULL ||
	    (queue = arg_value(c, "--queues", 1, 0)) != NULL) {
		snprintf(c->ac_buf, c->ac_len, "celery queue: %s (%s)", queue,
			 c->ac_cwd ? c->ac_cwd : "");
		return 0;
	}
	return -1;
}

static int
appid_pyspark(const struct appid_cmd *c)
{
	if (!is_python(arg_at(c, 0)) || strcmp(arg_at(c, 1), "-m") != 0 ||
	    strcmp(arg_at(c, 2), "pyspark.daemon") != 0)
		return -1;
	snprintf(c->ac_buf, c->ac_len, "pyspark");
	return 0;
}

static int
appid_python(const struct appid_cmd *c)
{
	const char *module;

	if (!is_python(arg_at(c, 0)))
		return -1;
	if ((module = arg_value(c, "-m", 0, 0)) != NULL) {
		snprintf(c->ac_buf, c->ac_len, "python: -m %s", module);
		return 0;
	}
	if (ends_with(arg_at(c, 1), ".py") && strlen(arg_at(c, 1)) > 3)
		return put_file(c, "python", arg_at(c, 1));
	return -1;
}

/* Python's identifiers, most specific first: the first that matches. */
static int (*const appid_python_chain[])(const struct appid_cmd *) = {
    appid_gunicorn_title, appid_gunicorn, appid_uwsgi,
    appid_celery,	  appid_pyspark,  appid_python,
};

/* java [options] -jar app.jar | java [options] main.Class */
static int
appid_java(const struct appid_cmd *c)
{
	for (size_t i = 1; i < c->ac_n; i++) {
		const char *a = c->ac_args[i];

		if (strcmp(a, "-jar") == 0 && i + 1 < c->ac_n) {
			snprintf(c->ac_buf, c->ac_len, "java: %s",
				 c->ac_args[i + 1]);
			return 0;
		}
		if (strcmp(a, "-cp") == 0 || strcmp(a, "-classpath") == 0 ||
		    strcmp(a, "--class-path") == 0) {
			i++;
			continue;
		}
		if (a[0] != '-') {
			snprintf(c->ac_buf, c->ac_len, "java: %s", a);
			return 0;
		}
	}
	return -1;
}

/* node [options] script.js: the first .js argument that is not a module
 * preloaded with --require/-r. */
static int
appid_node(const struct appid_cmd *c)
{
	for (size_t i = 1; i < c->ac_n; i++) {
		const char *a = c->ac_args[i];

		if (strcmp(a, "--require") == 0 || strcmp(a, "-r") == 0) {
			i++;
			continue;
		}
		if (strncmp(a, "--require=", 10) != 0 && ends_with(a, ".js"))
			return put_file(c, "nodejs", a);
	}
	return -1;
}

/* Whether a command line belongs to Python's identifiers. */
static int
python_family(const struct appid_cmd *c)
{
	static const char *const tools[] = {"gunicorn", "uwsgi", "celery"};
	const char *b = base_name(arg_at(c, 0));

	if (is_python(arg_at(c, 0)) ||
	    strncmp(arg_at(c, 0), "gunicorn: ", 10) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (strcmp(b, tools[i]) == 0)
			return 1;
	return 0;
}

static int
appid_cmd(const struct appid_cmd *c)
{
	const char *b;

	if (c->ac_n == 0)
		return -1;
	b = base_name(c->ac_args[0]);
	if (python_family(c)) {
		for (size_t i = 0; i < sizeof(appid_python_chain) /
					   sizeof(appid_python_chain[0]);
		     i++)
			if (appid_python_chain[i](c) == 0)
				return 0;
		return -1;
	}
	if (strcmp(b, "java") == 0)
		return appid_java(c);
	if (strcmp(b, "node") == 0 || strcmp(b, "nodejs") == 0)
		return appid_node(c);
	return -1;
}

int
appid_from_args(char *const *args, size_t n, const char *cwd, char *buf,
		size_t len)
{
	struct appid_cmd c = {args, n, cwd, 0, buf, len};

	return appid_cmd(&c);
}

int
appid_of_pid(pid_t pid, char *buf, size_t len)
{
	char cmd[APPID_CMDLINE_MAX], cwd[512], link[64];
	char *args[APPID_MAX_ARGS];
	struct appid_cmd c = {args, 0, NULL, pid, buf, len};
	ssize_t got, n;

	if ((got = procfs_read_pid(pid, "cmdline", cmd, sizeof(cmd))) <= 0)
		return -1;
	for (ssize_t i = 0; i < got && c.ac_n < APPID_MAX_ARGS;
	     i += (ssize_t)strlen(cmd + i) + 1)
		args[c.ac_n++] = cmd + i;
	snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	n = readlink(link, cwd, sizeof(cwd) - 1);
	cwd[n > 0 ? n : 0] = '\0';
	c.ac_cwd = n > 0 ? cwd : NULL;
	return appid_cmd(&c);
}

/* Finds a run of 32 to 64 hex digits after a container marker and
 * copies it to id[65]. */
static int
container_id(const char *line, char *id)
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
		for (hex = 0; hex < 64 && isxdigit((unsigned char)p[hex]);
		     hex++)
			;
		if (hex >= 32) {
			memcpy(id, p, hex);
			id[hex] = '\0';
			return 0;
		}
	}
	return -1;
}

/* Reads the regular file root/rel (no link followed at its end) into a
 * new NUL-ended buffer of at most APPID_STATE_MAX bytes; NULL if absent,
 * unreadable or larger. */
static char *
state_read(const char *root, const char *rel)
{
	char path[512], *buf;
	struct stat st;
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >=
	    (int)sizeof(path))
		return NULL;
	fd = open(path,
		  O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)APPID_STATE_MAX ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Copies the JSON string starting at p (after its opening quote) to
 * name[len] if it is a container name as runtimes allow them. */
static int
name_copy(const char *p, char *name, size_t len)
{
	size_t n =
	    strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789_.-");

	if (n == 0 || n >= len || p[n] != '"')
		return -1;
	memcpy(name, p, n);
	name[n] = '\0';
	return 0;
}

/* Docker: "Name":"/NAME" in containers/ID/config.v2.json (the only
 * "Name" whose value starts with '/': volume names do not). */
static int
docker_name(const char *root, const char *id, char *name, size_t len)
{
	char rel[128], *buf, *p;
	int rv = -1;

	snprintf(rel, sizeof(rel), "containers/%s/config.v2.json", id);
	if ((buf = state_read(root, rel)) == NULL)
		return -1;
	if ((p = strstr(buf, "\"Name\":\"/")) != NULL)
		rv = name_copy(p + 9, name, len);
	free(buf);
	return rv;
}

/* CRI-O and Podman (containers/storage): the first of "names" in the
 * object of overlay-containers/containers.json whose "id" is ID. */
static int
storage_name(const char *root, const char *id, char *name, size_t len)
{
	char key[96], *buf, *p, *end, *names;
	int rv = -1;

	if ((buf = state_read(root, "overlay-containers/containers.json")) ==
	    NULL)
		return -1;
	snprintf(key, sizeof(key), "\"id\":\"%s\"", id);
	if ((p = strstr(buf, key)) != NULL) {
		end = strchr(p, '}');
		names = strstr(p, "\"names\":[\"");
		if (names != NULL && (end == NULL || names < end))
			rv = name_copy(names + 10, name, len);
	}
	free(buf);
	return rv;
}

int
appid_container_name(const char *docker_root, const char *storage_root,
		     const char *id, char *name, size_t len)
{
	if (strlen(id) != 64 || strspn(id, "0123456789abcdef") != 64)
		return -1;
	if (docker_root != NULL && docker_name(docker_root, id, name, len) == 0)
		return 0;
	if (storage_root != NULL &&
	    storage_name(storage_root, id, name, len) == 0)
		return 0;
	return -1;
}

/* Names found (or not) lately, per thread: a runtime's state is read once
 * a minute at most for each container. */
struct cname {
	char cn_id[65];
	char cn_name[APPID_NAME_MAX]; /* "": none, the short id is used */
	time_t cn_at;
};
static __thread struct cname cname_cache[APPID_NAME_CACHE];
static __thread unsigned cname_next;

static void
container_label(const char *id, char *buf, size_t len)
{
	struct cname *c = NULL;
	time_t now = time(NULL);

	for (size_t i = 0; i < APPID_NAME_CACHE && c == NULL; i++)
		if (strcmp(cname_cache[i].cn_id, id) == 0 &&
		    now - cname_cache[i].cn_at < APPID_NAME_TTL_S)
			c = &cname_cache[i];
	if (c == NULL) {
		c = &cname_cache[cname_next++ % APPID_NAME_CACHE];
		snprintf(c->cn_id, sizeof(c->cn_id), "%s", id);
		c->cn_at = now;
		if (appid_container_name(APPID_DOCKER_ROOT, APPID_STORAGE_ROOT,
					 id, c->cn_name,
					 sizeof(c->cn_name)) == -1)
			c->cn_name[0] = '\0';
	}
	if (c->cn_name[0] != '\0')
		snprintf(buf, len, "%s", c->cn_name);
	else
		snprintf(buf, len, "%.12s", id);
}

int
appid_container(pid_t pid, char *buf, size_t len)
{
	char cg[4096], id[65], *save = NULL, *line;

	if (procfs_read_pid(pid, "cgroup", cg, sizeof(cg)) <= 0)
		return -1;
	for (line = strtok_r(cg, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		if (container_id(line, id) == 0) {
			container_label(id, buf, len);
			return 0;
		}
	errno = 0;
	return -1;
}
