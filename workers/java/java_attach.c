/* HotSpot dynamic attach in a forked helper (see java_attach.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent_proto.h"
#include "java_attach.h"
#include "util.h"

/* The helper's report, sent before the dump's bytes. */
struct helper_msg {
	int hm_status;
	int hm_rc;
	char hm_msg[160];
	uint64_t hm_outlen;
};

/* Enters one namespace of pid unless the helper is already in it. */
static int
helper_setns(pid_t pid, const char *ns, int nstype)
{
	char path[64];
	struct stat a, b;
	int fd, rv;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	if (stat(path, &a) == -1)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
	if (stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	rv = setns(fd, nstype);
	close(fd);
	return rv;
}

/* Mount namespace first (the socket and /tmp live there), then net and
 * ipc where permitted, then the JVM's effective ids, for good. */
static int
helper_enter(const struct jattach_target *t)
{
	if (helper_setns(t->jt_pid, "mnt", CLONE_NEWNS) == -1)
		return -1;
	(void)helper_setns(t->jt_pid, "net", CLONE_NEWNET);
	(void)helper_setns(t->jt_pid, "ipc", CLONE_NEWIPC);
	if (chdir("/") == -1)
		return -1;
	if (getegid() != t->jt_gid || getgroups(0, NULL) > 0)
		(void)setgroups(0, NULL);
	if (setresgid(t->jt_gid, t->jt_gid, t->jt_gid) == -1 ||
	    setresuid(t->jt_uid, t->jt_uid, t->jt_uid) == -1)
		return -1;
	return 0;
}

/* Reads regular file fd into a new buffer: all of it, or with cut its
 * first max bytes; NULL when it is larger than max and not cut. */
static char *
read_fd(int fd, size_t max, int cut, size_t *len)
{
	struct stat st;
	size_t off = 0, size;
	char *buf;
	ssize_t n;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    ((uint64_t)st.st_size > max && !cut))
		return NULL;
	size = (uint64_t)st.st_size > max ? max : (size_t)st.st_size;
	if ((buf = malloc(size + 1)) == NULL)
		return NULL;
	while (off < size && (n = read(fd, buf + off, size - off)) > 0)
		off += (size_t)n;
	*len = off;
	buf[off] = '\0';
	return buf;
}

/* Is the file at path exactly our library, owned by the JVM's user (or
 * root) and writable by nobody else? */
static int
agent_copy_ok(const char *path, const char *lib, size_t liblen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	size_t len = 0;
	char *have;
	int ok;

	if (fd == -1)
		return 0;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_uid != geteuid() && st.st_uid != 0) ||
	    (st.st_mode & 022) != 0) {
		close(fd);
		return -1; /* someone else's file: never load it */
	}
	have = read_fd(fd, liblen, 0, &len);
	close(fd);
	ok = have != NULL && len == liblen && memcmp(have, lib, len) == 0;
	free(have);
	return ok;
}

/* Writes lib to path through a temporary file and a rename. */
static int
agent_write(const char *path, const char *lib, size_t liblen)
{
	char tmp[160];
	int fd, ok;

	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	ok = fd != -1 && fchmod(fd, 0644) == 0 &&
	     write_all(fd, lib, liblen) == 0;
	if (fd != -1 && close(fd) == -1)
		ok = 0;
	if (!ok || rename(tmp, path) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Places our agent at /tmp/JATTACH_AGENT_NAME in the JVM's mount
 * namespace, or, when another user owns that file (a shared /tmp), at a
 * name of the JVM's uid; writes the path used into path. */
static int
helper_copy_agent(int srcfd, char *path, size_t pathlen)
{
	size_t liblen = 0;
	char *lib = read_fd(srcfd, 64u << 20, 0, &liblen);
	int ok = -1;

	if (lib == NULL)
		return -1;
	for (int i = 0; i < 2 && ok == -1; i++) {
		if (i == 0)
			snprintf(path, pathlen, "/tmp/%s", JATTACH_AGENT_NAME);
		else
			snprintf(path, pathlen, "/tmp/%s.%u",
				 JATTACH_AGENT_NAME, (unsigned)geteuid());
		if ((ok = agent_copy_ok(path, lib, liblen)) == 0)
			ok = agent_write(path, lib, liblen);
		else if (ok == 1)
			ok = 0;
	}
	free(lib);
	return ok;
}

static int
is_socket(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	       st.st_uid == geteuid();
}

/* Makes the JVM open its attach socket: trigger file, SIGQUIT, wait. */
static int
helper_trigger(const struct jattach_target *t, const char *sock)
{
	char trigger[64];
	int64_t waited = 0, step = 20;
	int fd;

	if (is_socket(sock))
		return JATTACH_OK;
	if (!t->jt_sigquit)
		return JATTACH_NO_SIGQUIT;
	snprintf(trigger, sizeof(trigger), "/tmp/.attach_pid%lld",
		 (long long)t->jt_nspid);
	fd = open(trigger, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0660);
	if (fd != -1)
		close(fd);
	if (kill(t->jt_pid, SIGQUIT) == -1) {
		unlink(trigger);
		return JATTACH_NO_SOCKET;
	}
	while (!is_socket(sock) && waited < t->jt_wait_ms) {
		sleep_ms(step);
		waited += step;
		step = step < 200 ? step * 2 : 200;
	}
	unlink(trigger);
	if (is_socket(sock))
		return JATTACH_OK;
	/* Cut short by --java-jattach-timeout: that is what ran out. */
	return t->jt_wait_ms < JATTACH_SOCKET_WAIT_MS ? JATTACH_TIMEOUT
						      : JATTACH_NO_SOCKET;
}

/* Sends "1\0CMD\0A1\0A2\0A3\0" (three arguments, empty when unused)
 * and reads the whole answer. */
static int
helper_request(const char *sock, const char *const args[4], char *reply,
	       size_t len)
{
	struct sockaddr_un sa;
	char req[1024];
	size_t n = 0, off = 0;
	ssize_t r;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	n = (size_t)snprintf(req, sizeof(req), "1%c%s%c%s%c%s%c%s%c", 0,
			     args[0], 0, args[1], 0, args[2], 0, args[3], 0);
	if (n >= sizeof(req))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    write_all(fd, req, n) == -1) {
		close(fd);
		return -1;
	}
	while (off < len - 1 && (r = read(fd, reply + off, len - 1 - off)) > 0)
		off += (size_t)r;
	reply[off] = '\0';
	close(fd);
	return 0;
}

/* Reads the decimal int (an optional '-', digits) that is all of the line
 * at s. 0, or -1 when the line is anything else or out of range. */
static int
reply_int(const char *s, int *v)
{
	size_t n = strcspn(s, "\n");
	const char *d = s[0] == '-' ? s + 1 : s;
	char *end;
	long x;

	if (n > 11 || *d < '0' || *d > '9')
		return -1;
	errno = 0;
	x = strtol(s, &end, 10);
	if (end != s + n || errno != 0 || x < INT_MIN || x > INT_MAX)
		return -1;
	*v = (int)x;
	return 0;
}

/* The JVM's first line of text (after the status line), else the first
 * line, into msg. */
static void
reply_msg(const char *reply, char *msg, size_t msglen)
{
	const char *text = strchr(reply, '\n');

	if (text == NULL || text[1] == '\0' || text[1] == '\n')
		text = reply;
	else
		text++;
	snprintf(msg, msglen, "%.*s", (int)strcspn(text, "\n"), text);
}

int
jattach_parse_load(const char *reply, int *rc, char *msg, size_t msglen)
{
	const char *text = strchr(reply, '\n'), *p;
	int status;

	reply_msg(reply, msg, msglen);
	if (reply_int(reply, &status) == -1 || status != 0 || text == NULL)
		return -1;
	if ((p = strstr(text, "\nreturn code: ")) != NULL)
		return reply_int(p + 14, rc);
	return reply_int(text + 1, rc);
}

int
jattach_parse_jcmd(const char *reply, int *rc, char *msg, size_t msglen)
{
	reply_msg(reply, msg, msglen);
	return reply_int(reply, rc);
}

/* Sends the dump's output file to the parent, then removes it. */
static int
helper_output(int out, const char *token, struct helper_msg *m)
{
	char path[96];
	size_t len = 0;
	char *data;
	int fd;

	snprintf(path, sizeof(path), AGENT_OUT_FMT, token);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	unlink(path);
	if (fd == -1)
		return -1;
	data = read_fd(fd, JATTACH_MAX_OUTPUT, 1, &len);
	close(fd);
	if (data == NULL)
		return -1;
	if (len == JATTACH_MAX_OUTPUT) /* cut: whole lines only */
		while (len > 0 && data[len - 1] != '\n')
			len--;
	m->hm_outlen = len;
	if (write_all(out, m, sizeof(*m)) == -1 ||
	    write_all(out, data, len) == -1) {
		free(data);
		return 1; /* the report is half sent: nothing more to say */
	}
	free(data);
	return 0;
}

static int
helper_attach(const struct jattach_target *t, int srcfd, const char *options,
	      struct helper_msg *m)
{
	char sock[64], lib[160], reply[JATTACH_MAX_REPLY];
	const char *load[4] = {"load", lib, "true", options};
	const char *jcmd[4] = {"jcmd", t->jt_jcmd, "", ""};

	if (helper_enter(t) == -1)
		return JATTACH_ENTER;
	if (t->jt_jcmd == NULL &&
	    helper_copy_agent(srcfd, lib, sizeof(lib)) == -1)
		return JATTACH_COPY;
	snprintf(sock, sizeof(sock), "/tmp/.java_pid%lld",
		 (long long)t->jt_nspid);
	if ((m->hm_status = helper_trigger(t, sock)) != JATTACH_OK)
		return m->hm_status;
	if (helper_request(sock, t->jt_jcmd ? jcmd : load, reply,
			   sizeof(reply)) == -1)
		return JATTACH_CONNECT;
	if ((t->jt_jcmd ? jattach_parse_jcmd : jattach_parse_load)(
		reply, &m->hm_rc, m->hm_msg, sizeof(m->hm_msg)) == -1)
		return JATTACH_REFUSED;
	return JATTACH_OK;
}

static void __attribute__((noreturn))
helper_main(const struct jattach_target *t, const char *options,
	    const char *token, int out)
{
	struct helper_msg m;
	int srcfd;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	memset(&m, 0, sizeof(m));
	srcfd = t->jt_jcmd ? -1 : open(t->jt_agent, O_RDONLY | O_CLOEXEC);
	m.hm_status = srcfd == -1 && t->jt_jcmd == NULL
			  ? JATTACH_COPY
			  : helper_attach(t, srcfd, options, &m);
	if (m.hm_status == JATTACH_OK && m.hm_rc == 0 && token != NULL) {
		int rv = helper_output(out, token, &m);

		if (rv >= 0)
			_exit(0);
		m.hm_status = JATTACH_OUTPUT;
	}
	write_all(out, &m, sizeof(m));
	_exit(0);
}

/* Reads exactly len bytes from fd before deadline (ms, monotonic). */
static int
read_until(int fd, void *buf, size_t len, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		int64_t left = deadline - now_ms();

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = read(fd, (char *)buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			errno = EPIPE;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

static int
parent_collect(int fd, int64_t deadline, int want_out, struct jattach_result *r)
{
	struct helper_msg m;

	if (read_until(fd, &m, sizeof(m), deadline) == -1) {
		r->jr_status =
		    errno == ETIMEDOUT ? JATTACH_TIMEOUT : JATTACH_INTERNAL;
		return -1;
	}
	r->jr_status = (enum jattach_status)m.hm_status;
	r->jr_rc = m.hm_rc;
	m.hm_msg[sizeof(m.hm_msg) - 1] = '\0';
	snprintf(r->jr_msg, sizeof(r->jr_msg), "%s", m.hm_msg);
	if (r->jr_status != JATTACH_OK)
		return -1;
	if (!want_out || m.hm_rc != 0)
		return 0;
	if (m.hm_outlen > JATTACH_MAX_OUTPUT) {
		r->jr_status = JATTACH_OUTPUT;
		return -1;
	}
	if ((r->jr_out = malloc(m.hm_outlen + 1)) == NULL ||
	    read_until(fd, r->jr_out, m.hm_outlen, deadline) == -1) {
		r->jr_status = JATTACH_OUTPUT;
		return -1;
	}
	r->jr_out[m.hm_outlen] = '\0';
	r->jr_outlen = m.hm_outlen;
	return 0;
}

int
jattach_load(const struct jattach_target *target, const char *options,
	     const char *dump_token, int timeout_ms, struct jattach_result *r)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct jattach_target t = *target;
	int p[2], rv, st;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->jr_status = JATTACH_INTERNAL;
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		/* The helper gives up on the socket before the parent gives
		 * up on the helper, so that it removes its trigger file. */
		t.jt_wait_ms = timeout_ms * 3 / 4 < JATTACH_SOCKET_WAIT_MS
				   ? timeout_ms * 3 / 4
				   : JATTACH_SOCKET_WAIT_MS;
		helper_main(&t, options, dump_token, p[1]);
	}
	close(p[1]);
	rv = parent_collect(p[0], deadline, dump_token != NULL, r);
	close(p[0]);
	if (rv == -1 && r->jr_status == JATTACH_TIMEOUT)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (rv == -1) {
		free(r->jr_out);
		r->jr_out = NULL;
	}
	return rv;
}

int
jattach_jcmd(const struct jattach_target *target, const char *command,
	     int timeout_ms, struct jattach_result *r)
{
	struct jattach_target t = *target;

	t.jt_jcmd = command;
	return jattach_load(&t, "", NULL, timeout_ms, r);
}

void
jattach_describe(const struct jattach_result *r, char *buf, size_t len)
{
	static const char *const what[] = {
	    [JATTACH_OK] = "attached",
	    [JATTACH_TIMEOUT] = "attach timed out",
	    [JATTACH_NO_SIGQUIT] = "the JVM does not handle SIGQUIT",
	    [JATTACH_NO_SOCKET] = "the JVM opened no attach socket",
	    [JATTACH_ENTER] = "cannot enter the JVM's namespaces or user",
	    [JATTACH_COPY] = "cannot place the agent in the JVM's /tmp",
	    [JATTACH_CONNECT] = "cannot connect to the attach socket",
	    [JATTACH_REFUSED] = "the JVM refused the agent",
	    [JATTACH_OUTPUT] = "cannot read the agent's output",
	    [JATTACH_INTERNAL] = "attach helper failed",
	};
	unsigned s = (unsigned)r->jr_status;

	if (s >= sizeof(what) / sizeof(what[0]) || what[s] == NULL)
		s = JATTACH_INTERNAL;
	if (s == JATTACH_REFUSED && r->jr_msg[0] != '\0')
		snprintf(buf, len, "%s: %s", what[s], r->jr_msg);
	else
		snprintf(buf, len, "%s", what[s]);
}
