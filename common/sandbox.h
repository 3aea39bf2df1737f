/* Worker sandbox: own user, listed capabilities, no_new_privs, seccomp. */
#ifndef PROFD_SANDBOX_H
#define PROFD_SANDBOX_H

#include <sys/types.h>

#define SANDBOX_USER_PREFIX   "profd-" /* + role: each worker its own uid */
#define SANDBOX_SHARED_USER   "profd"  /* older installs: one uid for all */
#define SANDBOX_FALLBACK_USER "nobody"
#define SANDBOX_CHUNK_GROUP   "profd-chunks" /* may reach the chunk socket */

/* A system call allowed, or refused with an errno, only when one argument
 * has one value: (argument & sa_mask) == sa_value. The call with any other
 * value is not allowed by this rule. */
struct sandbox_argrule {
	const char *sa_name;   /* NULL ends a list */
	unsigned sa_arg;       /* 0-5 */
	unsigned long sa_mask; /* SANDBOX_INT for an int argument */
	unsigned long sa_value;
	int sa_errno; /* 0: allowed; else refused with it, not run */
};

/* The mask for an int argument: the kernel reads only its low 32 bits. */
#define SANDBOX_INT 0xffffffffUL

struct sandbox_policy {
	const char *sp_name;
	const int *sp_caps; /* CAP_* values, ended by -1 */
	const char *const
	    *sp_syscalls; /* allowed beyond the base set, NULL-ended */
	const struct sandbox_argrule *sp_argrules; /* NULL or sa_name-ended */
	const unsigned long *sp_ioctls; /* ioctl requests allowed beyond
					   the base ones, ended by 0 */
	const int *sp_prctls;		/* prctl options allowed beyond the
					   base ones, ended by -1 */
	int sp_unix_only;		/* socket() only for AF_UNIX */
	const int *sp_families;		/* else socket() only for these address
					   families, ended by -1; NULL: any */
};

/* Replaces the policy's capabilities by a comma-separated list of names
 * (cap_perfmon,cap_syslog; "none" for none). 0, or -1 on a bad name. */
int sandbox_set_caps(const char *list);
/* Resolves user into *uid and *gid; NULL means the role's own user
 * (profd-ROLE), else profd, else nobody, each fallback with a warning.
 * 0, or -1 when no such user exists. */
int sandbox_lookup_user(const char *user, const char *role, uid_t *uid,
			gid_t *gid);
/* Keeps group name (if it exists) as the only supplementary group when
 * the sandbox changes user; 0, or -1 when it does not exist. */
int sandbox_keep_group(const char *name);
/* Enters the sandbox of policy p as user: must run before any thread
 * exists. When not root, only drops capabilities and adds seccomp.
 * 0, or -1 with a logged reason. */
int sandbox_enter(const struct sandbox_policy *p, const char *user);
/* Returns 1 if the environment asks for no sandbox (PROFD_NO_SANDBOX=1,
 * honoured only when not running as root). */
int sandbox_disabled(void);

#endif
