/* Worker sandbox: own user, listed capabilities, no_new_privs, seccomp. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cap-ng.h>
#include <seccomp.h>

#include "log.h"
#include "sandbox.h"

/* What every worker needs: libc, nng's threads and its ipc transport. */
/* clang-format off */
static const char *const base_syscalls[] = {
	"read", "write", "readv", "writev", "pread64", "close", "lseek",
	"openat", "openat2", "newfstatat", "fstat", "statx", "fcntl", "dup", "dup2",
	"dup3", "mmap", "munmap", "mprotect", "mremap", "madvise", "brk",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	"futex", "clone", "clone3", "set_robust_list", "rseq",
	"set_tid_address", "exit", "exit_group", "restart_syscall",
	"getpid", "gettid", "getppid", "getuid", "geteuid", "getgid",
	"getegid", "clock_gettime", "clock_nanosleep", "nanosleep",
	"gettimeofday", "epoll_create1", "epoll_ctl", "epoll_wait",
	"epoll_pwait", "eventfd2", "poll", "ppoll", "pipe2", "connect",
	"sendmsg", "recvmsg", "sendto", "recvfrom", "shutdown", "getsockopt",
	"setsockopt", "getsockname", "getpeername", "socketpair", "getrandom",
	"prctl", "sched_yield", "sched_getaffinity", "uname", "sysinfo",
	"tgkill", "getrlimit", "prlimit64", "timerfd_create",
	"timerfd_settime", "ioctl", "bind", "listen", "accept", "accept4",
	"unlink", "unlinkat", "mkdir", "chmod", "fchmod", "readlink",
	"readlinkat", "socket", "access", "faccessat", "faccessat2",
	"getdents64", "umask", "fsync", "fdatasync", "ftruncate", "renameat",
	"renameat2", "rename", "close_range", "rmdir",
#ifdef PROFD_SANITIZERS
	/* The sanitizers' runtimes, at start-up, on reports, and
	 * LeakSanitizer's check at exit. */
	"personality", "setrlimit", "sched_setaffinity", "wait4", "waitid",
	"execve", "ptrace", "process_vm_readv", "getdents", "open", "stat",
	"lstat", "pipe",
#endif
	NULL,
};
/* clang-format on */

/* Capabilities from --caps, replacing the policy's own set. */
static int caps_override[64];
static int caps_overridden;

int
sandbox_set_caps(const char *list)
{
	char buf[256], *save = NULL, *name;
	size_t n = 0;
	int cap;

	if (strlen(list) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", list);
	if (strcmp(buf, "none") != 0) {
		for (name = strtok_r(buf, ",", &save); name != NULL;
		     name = strtok_r(NULL, ",", &save)) {
			if (strncasecmp(name, "cap_", 4) == 0)
				name += 4;
			if ((cap = capng_name_to_capability(name)) < 0 ||
			    n >= 63)
				return -1;
			caps_override[n++] = cap;
		}
	}
	caps_override[n] = -1;
	caps_overridden = 1;
	return 0;
}

/* The first of names that exists, with a warning past the first. */
static struct passwd *
sandbox_find_user(const char *const *names, size_t n)
{
	static int warned;
	struct passwd *pw;

	for (size_t i = 0; i < n; i++) {
		if ((pw = getpwnam(names[i])) == NULL)
			continue;
		if (i > 0 && !warned++)
			log_warn("user %s does not exist (contrib/setup.sh or "
				 "systemd-sysusers creates it): running as %s, "
				 "which other workers may share",
				 names[0], names[i]);
		return pw;
	}
	return NULL;
}

int
sandbox_lookup_user(const char *user, const char *role, uid_t *uid, gid_t *gid)
{
	char own[64];
	const char *names[3] = {user, SANDBOX_SHARED_USER,
				SANDBOX_FALLBACK_USER};
	struct passwd *pw;

	if (user == NULL) {
		snprintf(own, sizeof(own), SANDBOX_USER_PREFIX "%s",
			 role ? role : "worker");
		names[0] = own;
	}
	if ((pw = sandbox_find_user(names, user ? 1 : 3)) == NULL) {
		log_error("user %s does not exist", names[0]);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* The supplementary group kept across the change of user; -1: none. */
static gid_t keep_gid = (gid_t)-1;

int
sandbox_keep_group(const char *name)
{
	struct group *gr = getgrnam(name);

	if (gr == NULL)
		return -1;
	keep_gid = gr->gr_gid;
	return 0;
}

int
sandbox_disabled(void)
{
	const char *v = getenv("PROFD_NO_SANDBOX");

	return geteuid() != 0 && v != NULL && strcmp(v, "1") == 0;
}

static int
sandbox_caps(const struct sandbox_policy *p, const char *user)
{
	const int *caps = caps_overridden ? caps_override : p->sp_caps;
	uid_t uid;
	gid_t gid;

	capng_clear(CAPNG_SELECT_ALL);
	for (const int *c = caps; c != NULL && *c != -1; c++)
		capng_update(CAPNG_ADD,
			     CAPNG_EFFECTIVE | CAPNG_PERMITTED |
				 CAPNG_INHERITABLE | CAPNG_BOUNDING_SET |
				 CAPNG_AMBIENT,
			     (unsigned)*c);
	if (geteuid() != 0)
		return capng_apply(CAPNG_SELECT_CAPS) == 0 || errno == EPERM
			   ? 0
			   : -1;
	if (sandbox_lookup_user(user, p->sp_name, &uid, &gid) == -1)
		return -1;
	/* Either no supplementary group, or only the one asked for. */
	if (keep_gid != (gid_t)-1 && setgroups(1, &keep_gid) == -1) {
		log_error("cannot set the groups: %s", strerror(errno));
		return -1;
	}
	if (capng_change_id((int)uid, (int)gid,
			    (keep_gid == (gid_t)-1 ? CAPNG_DROP_SUPP_GRP : 0) |
				CAPNG_CLEAR_BOUNDING) != 0) {
		log_error("cannot change to uid %u: %s", (unsigned)uid,
			  strerror(errno));
		return -1;
	}
	if (capng_apply(CAPNG_SELECT_AMBIENT) != 0) {
		log_error("cannot set ambient capabilities");
		return -1;
	}
	return 0;
}

/* socket() for the policy's address families only. */
static int
sandbox_socket_rules(scmp_filter_ctx ctx, int nr,
		     const struct sandbox_policy *p)
{
	static const int unix_only[] = {AF_UNIX, -1};
	const int *fam = p->sp_unix_only ? unix_only : p->sp_families;
	int rv = 0;

	if (fam == NULL)
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	for (; rv == 0 && *fam != -1; fam++)
		rv = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)*fam));
	return rv;
}

static int
sandbox_rule(scmp_filter_ctx ctx, const char *name,
	     const struct sandbox_policy *p)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0; /* not on this architecture */
	if (strcmp(name, "socket") == 0)
		return sandbox_socket_rules(ctx, nr, p);
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
}

static int
sandbox_seccomp(const struct sandbox_policy *p)
{
	scmp_filter_ctx ctx;
	int rv = 0;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		return -1;
	for (size_t i = 0; rv == 0 && base_syscalls[i] != NULL; i++)
		rv = sandbox_rule(ctx, base_syscalls[i], p);
	for (size_t i = 0; rv == 0 && p->sp_syscalls && p->sp_syscalls[i]; i++)
		rv = sandbox_rule(ctx, p->sp_syscalls[i], p);
	if (rv == 0)
		rv = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (rv == 0)
		rv = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rv != 0)
		log_error("cannot install the seccomp filter: %s",
			  strerror(-rv));
	return rv == 0 ? 0 : -1;
}

/* The parent-death signal that profd set before exec: the kernel clears
 * it when the uid changes, so it is set again, and a parent that died in
 * between is noticed. */
static int
sandbox_pdeathsig(int sig, pid_t parent)
{
	if (sig == 0)
		return 0;
	if (prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) == -1) {
		log_error("cannot keep the parent-death signal: %s",
			  strerror(errno));
		return -1;
	}
	if (getppid() != parent) {
		log_error("the parent process is gone");
		return -1;
	}
	return 0;
}

int
sandbox_enter(const struct sandbox_policy *p, const char *user)
{
	pid_t parent = getppid();
	int pdeath = 0;

	if (sandbox_disabled()) {
		log_warn("PROFD_NO_SANDBOX=1: running without a sandbox");
		return 0;
	}
	(void)prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
	if (sandbox_caps(p, user) == -1 ||
	    sandbox_pdeathsig(pdeath, parent) == -1)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_error("cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
#ifdef PROFD_SANITIZERS
	/* LeakSanitizer ptraces its own threads at exit: the uid change made
	 * the process non-dumpable, which would forbid that. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	return sandbox_seccomp(p);
}
