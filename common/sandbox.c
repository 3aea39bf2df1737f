/* Worker sandbox: own user, listed capabilities, no_new_privs, seccomp. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cap-ng.h>
#include <seccomp.h>

#include "log.h"
#include "sandbox.h"

/* What every worker needs: libc, nng's threads and its ipc transport.
 * Not here, on purpose: ioctl, prctl, clone and clone3 (each has its own
 * rules below), and whatever changes namespaces, mounts, keys, other
 * processes (ptrace, process_vm_writev) or reaches io_uring, bpf,
 * userfaultfd or file handles (open_by_handle_at). */
/* clang-format off */
static const char *const base_syscalls[] = {
	"read", "write", "readv", "writev", "pread64", "close", "lseek",
	"openat", "openat2", "newfstatat", "fstat", "statx", "fcntl", "dup", "dup2",
	"dup3", "mmap", "munmap", "mprotect", "mremap", "madvise", "brk",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
	"futex", "set_robust_list", "rseq",
	"set_tid_address", "exit", "exit_group", "restart_syscall",
	"getpid", "gettid", "getppid", "getuid", "geteuid", "getgid",
	"getegid", "clock_gettime", "clock_nanosleep", "nanosleep",
	"gettimeofday", "epoll_create1", "epoll_ctl", "epoll_wait",
	"epoll_pwait", "eventfd2", "poll", "ppoll", "pipe2", "connect",
	"sendmsg", "recvmsg", "sendto", "recvfrom", "shutdown", "getsockopt",
	"setsockopt", "getsockname", "getpeername", "socketpair", "getrandom",
	"sched_yield", "sched_getaffinity", "uname", "sysinfo",
	"tgkill", "getrlimit", "prlimit64", "timerfd_create",
	"timerfd_settime", "bind", "listen", "accept", "accept4",
	"unlink", "unlinkat", "mkdir", "chmod", "fchmod", "readlink",
	"readlinkat", "socket", "access", "faccessat", "faccessat2",
	"getdents64", "umask", "fsync", "fdatasync", "ftruncate", "renameat",
	"renameat2", "rename", "close_range", "rmdir",
	NULL,
};
/* clang-format on */

/* ioctl requests of every worker: glibc's stdio asks isatty() of a
 * stdout that is a character device (a terminal, /dev/null). */
static const unsigned long base_ioctls[] = {TCGETS, 0};
/* prctl options of every worker: nng names its threads. */
static const int base_prctls[] = {PR_SET_NAME, -1};

/* clone() with any of these makes a namespace: such a clone kills.
 * CLONE_NEWTIME lies in clone()'s exit-signal byte, which no valid
 * signal number reaches. */
#define SANDBOX_CLONE_NS                                                       \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |         \
	 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME)

#ifdef PROFD_SANITIZERS
/* Sanitizer builds only (never in a release build), and only what the
 * runtimes of AddressSanitizer, UBSan and LeakSanitizer call themselves:
 * at start-up, on reports (the symbolizer: pipe, execve, wait4, waitid),
 * and in LeakSanitizer's check at exit, which ptraces the process's own
 * threads (ptrace, process_vm_readv, getdents and the legacy open, stat,
 * lstat of sanitizer_common). No program code runs differently in these
 * builds: the uploader's HTTP requests take the release path (its request
 * helper, workers/upload/http_helper.c). */
/* clang-format off */
static const char *const san_syscalls[] = {
	"personality", "setrlimit", "sched_setaffinity", "wait4", "waitid",
	"execve", "ptrace", "process_vm_readv", "getdents", "open", "stat",
	"lstat", "pipe", NULL,
};
/* clang-format on */
/* LeakSanitizer's tracer: its parent-death signal, and the dumpable
 * flag and ptracer of the process it stops; thread names in reports. */
static const int san_prctls[] = {PR_SET_PDEATHSIG, PR_GET_DUMPABLE,
				 PR_SET_DUMPABLE,  PR_SET_PTRACER,
				 PR_GET_NAME,	   -1};
#endif

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
sandbox_rules(scmp_filter_ctx ctx, const char *const *names,
	      const struct sandbox_policy *p)
{
	int rv = 0;

	for (size_t i = 0; rv == 0 && names != NULL && names[i] != NULL; i++)
		rv = sandbox_rule(ctx, names[i], p);
	return rv;
}

/* ioctl for these requests only: the kernel reads the request as an
 * unsigned int, so only its low 32 bits are compared. */
static int
sandbox_ioctl_rules(scmp_filter_ctx ctx, const unsigned long *reqs)
{
	int rv = 0;

	for (size_t i = 0; rv == 0 && reqs != NULL && reqs[i] != 0; i++)
		rv = seccomp_rule_add(
		    ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    SCMP_A1_64(SCMP_CMP_MASKED_EQ, SANDBOX_INT, reqs[i]));
	return rv;
}

/* prctl for these options only (an int: low 32 bits compared). */
static int
sandbox_prctl_rules(scmp_filter_ctx ctx, const int *opts)
{
	int rv = 0;

	for (size_t i = 0; rv == 0 && opts != NULL && opts[i] != -1; i++)
		rv =
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				     SCMP_A0_64(SCMP_CMP_MASKED_EQ, SANDBOX_INT,
						(scmp_datum_t)opts[i]));
	return rv;
}

static int
sandbox_argrules(scmp_filter_ctx ctx, const struct sandbox_argrule *r)
{
	int rv = 0, nr;

	for (; rv == 0 && r != NULL && r->sa_name != NULL; r++) {
		if ((nr = seccomp_syscall_resolve_name(r->sa_name)) ==
		    __NR_SCMP_ERROR)
			continue;
		rv = seccomp_rule_add(ctx,
				      r->sa_errno ? SCMP_ACT_ERRNO(r->sa_errno)
						  : SCMP_ACT_ALLOW,
				      nr, 1,
				      SCMP_CMP64(r->sa_arg, SCMP_CMP_MASKED_EQ,
						 r->sa_mask, r->sa_value));
	}
	return rv;
}

/* clone without namespace flags; clone3, whose flags sit in memory that
 * a filter cannot read, fails with ENOSYS, and glibc falls back to
 * clone. */
static int
sandbox_clone_rules(scmp_filter_ctx ctx)
{
	int rv;

	rv = seccomp_rule_add(
	    ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0_64(SCMP_CMP_MASKED_EQ, SANDBOX_CLONE_NS, 0));
	if (rv == 0)
		rv = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				      SCMP_SYS(clone3), 0);
	return rv;
}

static int
sandbox_policy_rules(scmp_filter_ctx ctx, const struct sandbox_policy *p)
{
	int rv = sandbox_rules(ctx, base_syscalls, p);

	if (rv == 0)
		rv = sandbox_rules(ctx, p->sp_syscalls, p);
	if (rv == 0)
		rv = sandbox_argrules(ctx, p->sp_argrules);
	if (rv == 0)
		rv = sandbox_ioctl_rules(ctx, base_ioctls);
	if (rv == 0)
		rv = sandbox_ioctl_rules(ctx, p->sp_ioctls);
	if (rv == 0)
		rv = sandbox_prctl_rules(ctx, base_prctls);
	if (rv == 0)
		rv = sandbox_prctl_rules(ctx, p->sp_prctls);
	if (rv == 0)
		rv = sandbox_clone_rules(ctx);
#ifdef PROFD_SANITIZERS
	if (rv == 0)
		rv = sandbox_rules(ctx, san_syscalls, p);
	if (rv == 0)
		rv = sandbox_prctl_rules(ctx, san_prctls);
#endif
	return rv;
}

static int
sandbox_seccomp(const struct sandbox_policy *p)
{
	scmp_filter_ctx ctx;
	int rv;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		return -1;
	rv = sandbox_policy_rules(ctx, p);
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
