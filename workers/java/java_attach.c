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
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent_proto.h"
#include "java_attach.h"
#include "procfs.h"
#include "util.h"

/* The helper's report, sent before the dump's bytes. */
struct helper_msg {
	int hm_status;
	int hm_rc;
	char hm_msg[160];
	uint64_t hm_outlen;
};

#define MAPS_MAX (8u << 20) /* bytes of /proc/PID/maps read at most */

/* The namespaces the helper enters, in this order. */
static const struct {
	const char *hn_name;
	int hn_type;
	int hn_needed; /* the JVM is not attached to without it */
} helper_ns[] = {
    {"mnt", CLONE_NEWNS, 1},
    {"net", CLONE_NEWNET, 0},
    {"ipc", CLONE_NEWIPC, 0},
};
#define HELPER_NNS (sizeof(helper_ns) / sizeof(helper_ns[0]))

/* Is the text at p (n bytes) our agent's copy, JATTACH_AGENT_PREFIX, the
 * random hex digits and ".so"? */
static int
agent_name_ok(const char *p, size_t n)
{
	size_t pre = strlen(JATTACH_AGENT_PREFIX);

	if (n != pre + JATTACH_AGENT_RANDOM + 3 ||
	    strncmp(p, JATTACH_AGENT_PREFIX, pre) != 0 ||
	    strncmp(p + n - 3, ".so", 3) != 0)
		return 0;
	for (size_t i = pre; i < pre + JATTACH_AGENT_RANDOM; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		      (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

/* One line of maps: "start-end perms offset dev inode path". */
static void
maps_line(char *line, struct jattach_maps *m)
{
	static const char deleted[] = " (deleted)";
	char *p = strchr(line, '/');
	size_t n, d = sizeof(deleted) - 1;

	if (p == NULL)
		return;
	p[strcspn(p, "\n")] = '\0';
	n = strlen(p);
	if (m->jm_libjvm[0] == '\0' && n >= 10 &&
	    strcmp(p + n - 10, "/libjvm.so") == 0) {
		snprintf(m->jm_libjvm, sizeof(m->jm_libjvm), "%s", p);
		snprintf(m->jm_range, sizeof(m->jm_range), "%.*s",
			 (int)strcspn(line, " "), line);
	}
	if (n > d && strcmp(p + n - d, deleted) == 0)
		n -= d;
	if (m->jm_agent[0] == '\0' && agent_name_ok(p, n))
		snprintf(m->jm_agent, sizeof(m->jm_agent), "%.*s", (int)n, p);
}

int
jattach_maps(pid_t pid, struct jattach_maps *m)
{
	char name[64], line[4096];
	size_t total = 0;
	FILE *f;

	memset(m, 0, sizeof(*m));
	snprintf(name, sizeof(name), "/proc/%d/maps", (int)pid);
	if ((f = fopen(name, "re")) == NULL)
		return -1;
	while (total < MAPS_MAX && fgets(line, sizeof(line), f) != NULL) {
		total += strlen(line);
		maps_line(line, m);
	}
	fclose(f);
	return m->jm_libjvm[0] != '\0' && m->jm_range[0] != '\0' ? 0 : -1;
}

/* Does namespace fd belong to the user namespace user (profd's own)? */
static int
helper_ns_owned(int fd, const struct stat *user)
{
	struct stat st;
	int ufd = ioctl(fd, NS_GET_USERNS);
	int ok;

	if (ufd == -1)
		return 0;
	ok = fstat(ufd, &st) == 0 && st.st_dev == user->st_dev &&
	     st.st_ino == user->st_ino;
	close(ufd);
	return ok;
}

/* Opens the JVM's namespaces into fds (-1 for one that cannot be opened
 * and is not needed); each must belong to profd's user namespace: one
 * that a user created with their own user namespace is theirs. */
static int
helper_open_ns(pid_t pid, int fds[HELPER_NNS], char *why, size_t len)
{
	struct stat user;
	char path[64];

	for (size_t i = 0; i < HELPER_NNS; i++)
		fds[i] = -1;
	if (stat("/proc/self/ns/user", &user) == -1)
		return JATTACH_ENTER;
	for (size_t i = 0; i < HELPER_NNS; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid,
			 helper_ns[i].hn_name);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] == -1 && helper_ns[i].hn_needed)
			return JATTACH_ENTER;
		if (fds[i] != -1 && !helper_ns_owned(fds[i], &user)) {
			snprintf(why, len,
				 "its %s namespace belongs to another user "
				 "namespace (one a user created)",
				 helper_ns[i].hn_name);
			return JATTACH_UNTRUSTED;
		}
	}
	return JATTACH_OK;
}

/* Is the file at the magic link path a regular file owned by root that
 * neither group nor others may write? */
static int
helper_root_owned(const char *path)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	struct stat st;
	int ok;

	if (fd == -1)
		return 0;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 &&
	     (st.st_mode & 022) == 0;
	close(fd);
	return ok;
}

/* Attaches only to a process whose executable and libjvm.so (the files
 * it maps, whatever their names now) are root's and not writable by
 * others; *m gets its maps. */
static int
helper_check_files(pid_t pid, struct jattach_maps *m, char *why, size_t len)
{
	char path[128], exe[256];
	ssize_t n;

	if (jattach_maps(pid, m) == -1) {
		snprintf(why, len, "it maps no libjvm.so");
		return JATTACH_UNTRUSTED;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (!helper_root_owned(path)) {
		n = readlink(path, exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		snprintf(why, len,
			 "its executable %s is not root's, or others may "
			 "write it",
			 exe);
		return JATTACH_UNTRUSTED;
	}
	snprintf(path, sizeof(path), "/proc/%d/map_files/%s", (int)pid,
		 m->jm_range);
	if (!helper_root_owned(path)) {
		snprintf(why, len,
			 "its %s is not root's, or others may write it",
			 m->jm_libjvm);
		return JATTACH_UNTRUSTED;
	}
	return JATTACH_OK;
}

/* Everything the helper checks before it enters: namespaces (opened
 * here, into fds), files, and that pid is still the same process. */
static int
helper_check(const struct jattach_target *t, int fds[HELPER_NNS],
	     struct jattach_maps *m, struct helper_msg *msg)
{
	unsigned long long start = procfs_start_time(t->jt_pid);
	char *why = msg->hm_msg;
	size_t len = sizeof(msg->hm_msg);
	int rv;

	if (start == 0)
		return JATTACH_ENTER;
	if ((rv = helper_open_ns(t->jt_pid, fds, why, len)) != JATTACH_OK ||
	    (rv = helper_check_files(t->jt_pid, m, why, len)) != JATTACH_OK)
		return rv;
	if (procfs_start_time(t->jt_pid) != start)
		return JATTACH_ENTER; /* gone: the checks were of another */
	return JATTACH_OK;
}

/* Enters the namespace fd of type unless the helper is already in it. */
static int
helper_setns(int fd, const char *name, int type)
{
	char path[64];
	struct stat a, b;

	if (fd == -1)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
	    a.st_dev == b.st_dev)
		return 0;
	return setns(fd, type);
}

/* Empties the ambient set and the bounding set. The sandbox leaves the
 * worker an empty bounding set already; a capability still in it is
 * dropped (that takes CAP_SETPCAP), else the helper gives up, unless it
 * has no capability at all (an unsandboxed run by a user: nothing to
 * lose). */
static int
helper_drop_bounding(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		return -1;
	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1 ||
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		return syscall(SYS_capget, &h, d) == 0 && d[0].permitted == 0 &&
			       d[1].permitted == 0
			   ? 0
			   : -1;
	}
	return 0;
}

/* Clears the effective, permitted and inheritable sets, and checks that
 * no capability is left in any set. */
static int
helper_drop_caps(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) == -1 ||
	    syscall(SYS_capget, &h, d) == -1)
		return -1;
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return -1;
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) > 0)
			return -1;
	return 0;
}

/* Mount namespace first (the socket and /tmp live there), then net and
 * ipc, then the JVM's ids, for good, without any capability left. */
static int
helper_enter(const struct jattach_target *t, const int fds[HELPER_NNS])
{
	for (size_t i = 0; i < HELPER_NNS; i++)
		if (helper_setns(fds[i], helper_ns[i].hn_name,
				 helper_ns[i].hn_type) == -1 &&
		    helper_ns[i].hn_needed)
			return -1;
	if (chdir("/") == -1 || helper_drop_bounding() == -1)
		return -1;
	if (getegid() != t->jt_gid || getgroups(0, NULL) > 0)
		(void)setgroups(0, NULL);
	if (setresgid(t->jt_gid, t->jt_gid, t->jt_gid) == -1 ||
	    setresuid(t->jt_uid, t->jt_uid, t->jt_uid) == -1)
		return -1;
	return helper_drop_caps();
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

/* Is /tmp safe to create a file in: sticky, or writable only by its
 * owner? */
static int
tmp_ok(void)
{
	struct stat st;

	return stat("/tmp", &st) == 0 && S_ISDIR(st.st_mode) &&
	       ((st.st_mode & 022) == 0 || (st.st_mode & S_ISVTX) != 0);
}

/* Creates a new file of ours at a random name under
 * JATTACH_AGENT_PREFIX; its path into path[JATTACH_PATH_MAX]. */
static int
agent_create(char *path)
{
	unsigned char b[JATTACH_AGENT_RANDOM / 2];
	char hex[JATTACH_AGENT_RANDOM + 1];
	int fd = -1;

	for (int tries = 0; tries < 4 && fd == -1; tries++) {
		if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
			return -1;
		for (size_t i = 0; i < sizeof(b); i++)
			snprintf(hex + 2 * i, 3, "%02x", b[i]);
		snprintf(path, JATTACH_PATH_MAX, "%s%s.so",
			 JATTACH_AGENT_PREFIX, hex);
		fd = open(path,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd == -1 && errno != EEXIST)
			return -1;
	}
	return fd;
}

/* Copies the agent (srcfd) to a new file in the JVM's /tmp, made by the
 * helper as the JVM's user and checked to be that: a regular file of its
 * uid with one link. Its path into path[JATTACH_PATH_MAX]. */
static int
helper_copy_agent(int srcfd, char *path)
{
	size_t liblen = 0;
	char *lib = read_fd(srcfd, 64u << 20, 0, &liblen);
	struct stat st;
	int fd, ok;

	if (lib == NULL || !tmp_ok() || (fd = agent_create(path)) == -1) {
		free(lib);
		return -1;
	}
	ok = write_all(fd, lib, liblen) == 0 && fstat(fd, &st) == 0 &&
	     S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	     st.st_nlink == 1 && (uint64_t)st.st_size == liblen;
	if (close(fd) == -1)
		ok = 0;
	free(lib);
	if (!ok) {
		unlink(path);
		return -1;
	}
	return 0;
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

/* Triggers the attach socket and sends one request: "load" of the
 * agent at lib, or t's jcmd command. */
static int
helper_command(const struct jattach_target *t, const char *lib,
	       const char *options, struct helper_msg *m)
{
	char sock[64], reply[JATTACH_MAX_REPLY];
	const char *load[4] = {"load", lib, "true", options};
	const char *jcmd[4] = {"jcmd", t->jt_jcmd, "", ""};
	int rv;

	snprintf(sock, sizeof(sock), "/tmp/.java_pid%lld",
		 (long long)t->jt_nspid);
	if ((rv = helper_trigger(t, sock)) != JATTACH_OK)
		return rv;
	if (helper_request(sock, t->jt_jcmd ? jcmd : load, reply,
			   sizeof(reply)) == -1)
		return JATTACH_CONNECT;
	if ((t->jt_jcmd ? jattach_parse_jcmd : jattach_parse_load)(
		reply, &m->hm_rc, m->hm_msg, sizeof(m->hm_msg)) == -1)
		return JATTACH_REFUSED;
	return JATTACH_OK;
}

/* Checks the JVM, enters it without capabilities, then loads the agent:
 * the copy the JVM has loaded already (HotSpot finds it again by its
 * path, removed or not), else a new copy, removed once answered. */
static int
helper_attach(const struct jattach_target *t, int srcfd, const char *options,
	      struct helper_msg *m)
{
	char lib[JATTACH_PATH_MAX];
	struct jattach_maps maps;
	int fds[HELPER_NNS] = {-1, -1, -1}, rv;

	rv = helper_check(t, fds, &maps, m);
	if (rv == JATTACH_OK && helper_enter(t, fds) == -1)
		rv = JATTACH_ENTER;
	for (size_t i = 0; i < HELPER_NNS; i++)
		if (fds[i] != -1)
			close(fds[i]);
	if (rv != JATTACH_OK || t->jt_jcmd != NULL)
		return rv != JATTACH_OK ? rv
					: helper_command(t, NULL, options, m);
	if (maps.jm_agent[0] != '\0') {
		snprintf(lib, sizeof(lib), "%s", maps.jm_agent);
		return helper_command(t, lib, options, m);
	}
	if (srcfd == -1 || helper_copy_agent(srcfd, lib) == -1)
		return JATTACH_COPY;
	rv = helper_command(t, lib, options, m);
	unlink(lib);
	return rv;
}

/* The helper ends itself at its deadline: once it holds the JVM's uid,
 * profd-java (without CAP_KILL) can no longer signal it. */
static void
helper_deadline(int timeout_ms)
{
	struct itimerval it = {
	    .it_value = {.tv_sec = timeout_ms / 1000,
			 .tv_usec = timeout_ms % 1000 * 1000}};
	sigset_t set;

	signal(SIGALRM, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

static void __attribute__((noreturn))
helper_main(const struct jattach_target *t, const char *options,
	    const char *token, int timeout_ms, int out)
{
	struct helper_msg m;
	int srcfd;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	helper_deadline(timeout_ms);
	memset(&m, 0, sizeof(m));
	srcfd = t->jt_jcmd ? -1 : open(t->jt_agent, O_RDONLY | O_CLOEXEC);
	m.hm_status = helper_attach(t, srcfd, options, &m);
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
		helper_main(&t, options, dump_token, timeout_ms, p[1]);
	}
	close(p[1]);
	rv = parent_collect(p[0], deadline, dump_token != NULL, r);
	close(p[0]);
	/* A helper that took another uid cannot be killed from here: it
	 * ends itself at the same deadline (helper_deadline). */
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
	    [JATTACH_UNTRUSTED] = "not attached to",
	};
	unsigned s = (unsigned)r->jr_status;

	if (s >= sizeof(what) / sizeof(what[0]) || what[s] == NULL)
		s = JATTACH_INTERNAL;
	if ((s == JATTACH_REFUSED || s == JATTACH_UNTRUSTED) &&
	    r->jr_msg[0] != '\0')
		snprintf(buf, len, "%s: %s", what[s], r->jr_msg);
	else
		snprintf(buf, len, "%s", what[s]);
}
