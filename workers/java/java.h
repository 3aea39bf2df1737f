/* profd-java: the JVMs it profiles, and what it knows of each. */
#ifndef PROFD_JAVA_H
#define PROFD_JAVA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/agent_proto.h"
#include "java_attach.h"
#include "stacks.h"

#define JAVA_MAX_JVMS	     1024 /* JVMs tracked at once */
#define JAVA_MAX_BANNED	     256  /* safe mode: command lines never attached */
#define JAVA_MIN_VERSION     8	  /* supported JDK feature releases */
#define JAVA_MAX_VERSION     25
#define JAVA_TOKEN_LEN	     AGENT_TOKEN_LEN
#define JAVA_DEFAULT_TIMEOUT 30	 /* s, --java-jattach-timeout */
#define JAVA_AGENT_IDLE_S    300 /* the agent stops itself after this */
#define JAVA_AGENT_FILE	     "libprofd-jvmti.so"

enum java_jvm_state {
	JVM_NEW,      /* seen, not attached yet */
	JVM_PROFILED, /* our agent samples it */
	JVM_SKIPPED,  /* one "[Profiling skipped: reason]" frame a window */
	JVM_PERFMAP,  /* perfmap mode: Compiler.perfmap each window */
};

struct java_jvm {
	pid_t jj_pid;
	uint64_t jj_starttime; /* from /proc/PID/stat: tells PID reuse */
	uint64_t jj_cmdhash;   /* of the command line: safe mode */
	char jj_comm[32];
	enum java_jvm_state jj_state;
	char jj_reason[200];
	char jj_logged[200];	/* the last reason logged */
	int jj_retry;		/* skipped for a reason that may pass */
	uint32_t jj_retry_gap;	/* scans between two tries, doubling */
	uint32_t jj_retry_wait; /* scans left before the next try */
	char jj_token[JAVA_TOKEN_LEN + 1];
	int jj_plain; /* an older agent: no lines= or threads= options */
	struct jattach_target jj_target;
	int jj_seen; /* found by the last scan */
};

struct java_opts {
	int jo_mode_perfmap; /* --java-mode perfmap */
	int jo_disabled;     /* --java-mode disabled, --no-java */
	int jo_cpu;	     /* --java-async-profiler-mode cpu */
	int jo_safemode;
	uint32_t jo_timeout_s;
	uint32_t jo_max_procs;	  /* --max-processes-runtime-profiler; 0: all */
	uint32_t jo_min_duration; /* --min-duration: seconds a JVM has run */
	const char *jo_agent;	  /* path of libprofd-jvmti.so */
	int jo_lines;		  /* --java-line-numbers */
	int jo_threads;		  /* --java-collect-thread-names */
};

struct java_state {
	struct java_jvm js_jvms[JAVA_MAX_JVMS];
	size_t js_n;
	uint64_t js_banned[JAVA_MAX_BANNED];
	size_t js_nbanned;
};

struct java_ctx {
	struct java_opts jc_o;
	struct java_state jc_s;
	uint32_t jc_frequency;
	uint32_t jc_duration; /* s, one window */
	const uint32_t *jc_pids;
	size_t jc_npids;
};

/* java_run.c: the life of each JVM across windows. */
/* Checks the options and attaches to the JVMs found; 0 or -1. */
int java_run_start(struct java_ctx *c);
/* Collects each JVM's window into t, then looks for new JVMs. */
int java_run_window(struct java_ctx *c, struct stack_table *t);
/* Stops the agent in every JVM: none keeps a thread or timer of ours. */
void java_run_stop(struct java_ctx *c);

/* java_jvms.c */
/* Reads what attaching needs from /proc/PID/status; 0 or -1 if gone. */
int java_target(pid_t pid, struct jattach_target *t);
/* Returns 1 if pid maps libjvm.so (a HotSpot JVM), else 0. */
int java_is_jvm(pid_t pid);
/* Why pid must not be attached (flags, JDK version, safe mode), written
 * to reason; 0 when it may be. */
int java_why_skip(pid_t pid, const struct java_opts *o, char *reason,
		  size_t len);
/* Returns 1 if the JVM left an hs_err_pid file (it crashed). */
int java_crashed(pid_t pid);
/* Fills starttime, comm and command-line hash of pid; -1 if gone. */
int java_identify(pid_t pid, struct java_jvm *j);
/* CPU time used by pid so far, in clock ticks (0 if gone). */
uint64_t java_cpu_ticks(pid_t pid);

/* java_stacks.c */
/* Adds the agent's collapsed output (lines "root;...;leaf count") as
 * stacks of process proc; returns the lines skipped as malformed. The
 * agent's "# ..." line (the window's counts) is logged, and the samples
 * it counts that no line brought go under "[error lines not read]". */
size_t java_stacks_add(struct stack_table *t, int proc, pid_t pid,
		       const char *out, size_t len);
/* Adds process j with a single frame "[Profiling TAG: reason]". */
int java_stacks_reason(struct stack_table *t, const struct java_jvm *j,
		       const char *tag);

#endif
