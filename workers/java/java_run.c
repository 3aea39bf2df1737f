/* The life of each JVM across windows: attach, dump, skip, stop. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "agent/agent_proto.h"
#include "java.h"
#include "log.h"
#include "procfs.h"

/* Agent_OnAttach's return codes (agent.h), as reasons. */
static const char *
agent_reason(int rc)
{
	static const char *const why[] = {
	    [AGENT_OK] = "ok",
	    [AGENT_BAD_OPTIONS] = "the agent rejected its options",
	    [AGENT_BUSY] = "another profd-java owns the agent in this JVM",
	    [AGENT_UNSUPPORTED] =
		"no AsyncGetCallTrace or JVMTI 1.2 in this JVM",
	    [AGENT_SIGPROF_USED] = "SIGPROF is used by another profiler in "
				   "this JVM",
	    [AGENT_NO_OUTPUT] = "the agent cannot write its output in the "
				"JVM's /tmp",
	    [AGENT_NOT_RUNNING] = "the agent is not running",
	    [AGENT_TIMER] = "the agent cannot start a timer",
	    [AGENT_NO_MEMORY] = "the agent is out of memory",
	};

	if (rc < 0 || (size_t)rc >= sizeof(why) / sizeof(why[0]))
		return "the agent failed";
	return why[rc];
}

static int
java_token(char *out)
{
	unsigned char b[JAVA_TOKEN_LEN / 2];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* One command to j's agent over the attach protocol; on failure the
 * reason is in j->jj_reason. With dump, r->jr_out holds the output. */
static int
java_cmd(struct java_ctx *c, struct java_jvm *j, const char *cmd,
	 struct jattach_result *r)
{
	uint32_t idle = c->jc_duration * 3 > JAVA_AGENT_IDLE_S
			    ? c->jc_duration * 3
			    : JAVA_AGENT_IDLE_S;
	int dump = strcmp(cmd, "dump") == 0;
	int lines = c->jc_o.jo_lines && !j->jj_plain;
	int threads = c->jc_o.jo_threads && !j->jj_plain;
	char opts[256];

	/* lines= and threads= only when asked: an agent of an older profd
	 * still loaded in a JVM (a JVM never unloads one) rejects them. */
	snprintf(opts, sizeof(opts),
		 "cmd=%s,token=%s,interval=%llu,mode=%s,timeout=%u%s%s", cmd,
		 j->jj_token, 1000000000ULL / c->jc_frequency,
		 c->jc_o.jo_cpu ? "cpu" : "itimer", idle,
		 lines ? ",lines=1" : "", threads ? ",threads=1" : "");
	j->jj_target.jt_agent = c->jc_o.jo_agent;
	if (jattach_load(&j->jj_target, opts, dump ? j->jj_token : NULL,
			 (int)c->jc_o.jo_timeout_s * 1000, r) == -1) {
		/* What the JVM or its flags refuse is not asked again. */
		j->jj_retry = r->jr_status != JATTACH_NO_SIGQUIT &&
			      r->jr_status != JATTACH_REFUSED &&
			      r->jr_status != JATTACH_UNTRUSTED;
		jattach_describe(r, j->jj_reason, sizeof(j->jj_reason));
		if (r->jr_status == JATTACH_TIMEOUT)
			snprintf(j->jj_reason, sizeof(j->jj_reason),
				 "attach timed out after %u s",
				 c->jc_o.jo_timeout_s);
		return -1;
	}
	if (r->jr_rc == AGENT_BAD_OPTIONS && (lines || threads)) {
		log_warn("JVM %d: its agent is older and knows neither "
			 "--java-line-numbers nor --java-collect-thread-names: "
			 "profiled without them",
			 (int)j->jj_pid);
		free(r->jr_out);
		r->jr_out = NULL;
		j->jj_plain = 1;
		return java_cmd(c, j, cmd, r);
	}
	if (r->jr_rc != 0) {
		/* Busy (another owner, until its agent times out), timers,
		 * memory, SIGPROF taken: may change; bad options or no
		 * AsyncGetCallTrace will not. */
		j->jj_retry = r->jr_rc != AGENT_BAD_OPTIONS &&
			      r->jr_rc != AGENT_UNSUPPORTED;
		snprintf(j->jj_reason, sizeof(j->jj_reason), "%s",
			 agent_reason(r->jr_rc));
		free(r->jr_out);
		r->jr_out = NULL;
		return -1;
	}
	return 0;
}

static int
java_banned(const struct java_state *s, uint64_t h)
{
	for (size_t i = 0; i < s->js_nbanned; i++)
		if (s->js_banned[i] == h)
			return 1;
	return 0;
}

/* Copies s to out[len] with control characters as \xNN: names and
 * reasons come from other users' processes and files. */
static void
java_escape(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '\\')
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* Marks j skipped; logged once per reason (retries say it again). */
static void
java_skip(struct java_jvm *j, const char *why)
{
	char comm[4 * sizeof(j->jj_comm)], raw[sizeof(j->jj_reason)];

	snprintf(raw, sizeof(raw), "%s", why != NULL ? why : j->jj_reason);
	java_escape(raw, j->jj_reason, sizeof(j->jj_reason));
	if (why != NULL)
		j->jj_retry = 0;
	j->jj_state = JVM_SKIPPED;
	if (strcmp(j->jj_logged, j->jj_reason) == 0)
		return;
	snprintf(j->jj_logged, sizeof(j->jj_logged), "%s", j->jj_reason);
	java_escape(j->jj_comm, comm, sizeof(comm));
	log_warn("JVM %d (%s) not profiled: %s", (int)j->jj_pid, comm,
		 j->jj_reason);
}

/* perfmap mode: the JVM writes /tmp/perf-NSPID.map in its own /tmp, from
 * which profd-perf names JIT frames; refreshed each window. */
static void
java_perfmap(struct java_ctx *c, struct java_jvm *j)
{
	struct jattach_result r;

	if (jattach_jcmd(&j->jj_target, "Compiler.perfmap",
			 (int)c->jc_o.jo_timeout_s * 1000, &r) == -1) {
		jattach_describe(&r, j->jj_reason, sizeof(j->jj_reason));
		return java_skip(j, NULL);
	}
	if (r.jr_rc != 0) {
		snprintf(j->jj_reason, sizeof(j->jj_reason),
			 "Compiler.perfmap failed: %s", r.jr_msg);
		return java_skip(j, NULL);
	}
	log_debug("JVM %d: perf map written", (int)j->jj_pid);
}

/* Decides about a JVM seen for the first time, attaching when allowed. */
static void
java_attach_new(struct java_ctx *c, struct java_jvm *j)
{
	struct jattach_result r;

	j->jj_retry = 0;
	if (c->jc_o.jo_safemode && java_banned(&c->jc_s, j->jj_cmdhash))
		return java_skip(j, "safe mode: a JVM with this command line "
				    "crashed or died while profiled");
	if (java_why_skip(j->jj_pid, &c->jc_o, j->jj_reason,
			  sizeof(j->jj_reason)))
		return java_skip(j, NULL);
	if (java_target(j->jj_pid, &j->jj_target) == -1)
		return java_skip(j, "the process is gone");
	if (c->jc_o.jo_mode_perfmap) {
		j->jj_state = JVM_PERFMAP;
		java_perfmap(c, j);
		return;
	}
	if (java_token(j->jj_token) == -1)
		return java_skip(j, "no random token");
	if (java_cmd(c, j, "start", &r) == -1)
		return java_skip(j, NULL);
	j->jj_state = JVM_PROFILED;
	log_info("JVM %d (%s): agent started", (int)j->jj_pid, j->jj_comm);
}

/* A JVM that went away: in safe mode, one that died while profiled is
 * never attached again (by its command line). */
static void
java_gone(struct java_ctx *c, struct java_jvm *j)
{
	struct java_state *s = &c->jc_s;

	if (j->jj_state != JVM_PROFILED)
		return;
	log_warn("JVM %d (%s) exited while profiled%s", (int)j->jj_pid,
		 j->jj_comm,
		 c->jc_o.jo_safemode ? ": safe mode will not attach to its "
				       "command line again"
				     : "");
	if (c->jc_o.jo_safemode && s->js_nbanned < JAVA_MAX_BANNED &&
	    !java_banned(s, j->jj_cmdhash))
		s->js_banned[s->js_nbanned++] = j->jj_cmdhash;
}

/* Skipped for a reason that may pass: tried again after 1, 2, 4 ... 32
 * scans (a JVM that times out would otherwise hold up every window). A
 * JVM whose agent belongs to a profd-java that died is taken over once
 * that agent's idle timeout has passed. */
static int
java_retry_due(struct java_jvm *j)
{
	if (j->jj_state != JVM_SKIPPED || !j->jj_retry)
		return 0;
	if (j->jj_retry_gap == 0) /* just skipped: not in the same scan */
		j->jj_retry_gap = j->jj_retry_wait = 1;
	if (j->jj_retry_wait > 0) {
		j->jj_retry_wait--;
		return 0;
	}
	j->jj_retry_gap = j->jj_retry_gap < 32 ? j->jj_retry_gap * 2 : 32;
	j->jj_retry_wait = j->jj_retry_gap;
	return 1;
}

struct java_cand {
	pid_t jc_pid;
	uint64_t jc_ticks;
};

static int
cand_cmp(const void *a, const void *b)
{
	const struct java_cand *x = a, *y = b;

	return x->jc_ticks < y->jc_ticks   ? 1
	       : x->jc_ticks > y->jc_ticks ? -1
					   : 0;
}

static struct java_jvm *
java_find(struct java_state *s, pid_t pid)
{
	for (size_t i = 0; i < s->js_n; i++)
		if (s->js_jvms[i].jj_pid == pid)
			return &s->js_jvms[i];
	return NULL;
}

/* Whether pid has run --min-duration seconds (a JVM younger than that
 * is looked at again in a later window). */
static int
java_old_enough(const struct java_ctx *c, pid_t pid)
{
	int64_t age;

	if (c->jc_o.jo_min_duration == 0)
		return 1;
	age = procfs_age_s(pid);
	return age >= 0 && age >= (int64_t)c->jc_o.jo_min_duration;
}

/* Candidate JVMs: the --pids given, or every process mapping libjvm.so
 * (JVMs already tracked are not looked at again). */
static size_t
java_candidates(struct java_ctx *c, struct java_cand *out, size_t max)
{
	struct dirent *d;
	size_t n = 0;
	DIR *dir;

	if (c->jc_npids > 0) {
		for (size_t i = 0; i < c->jc_npids && n < max; i++)
			if (java_find(&c->jc_s, (pid_t)c->jc_pids[i]) ||
			    java_is_jvm((pid_t)c->jc_pids[i]))
				out[n++].jc_pid = (pid_t)c->jc_pids[i];
		return n;
	}
	if ((dir = opendir("/proc")) == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL && n < max) {
		pid_t pid;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = (pid_t)atoi(d->d_name);
		if (pid != getpid() && java_old_enough(c, pid) &&
		    (java_find(&c->jc_s, pid) || java_is_jvm(pid)))
			out[n++].jc_pid = pid;
	}
	closedir(dir);
	return n;
}

/* Drops the JVMs that exited or were not chosen, stopping our agent in
 * those still running. */
static void
java_prune(struct java_ctx *c)
{
	struct java_state *s = &c->jc_s;
	struct jattach_result r;
	struct java_jvm now;
	size_t kept = 0;

	for (size_t i = 0; i < s->js_n; i++) {
		struct java_jvm *j = &s->js_jvms[i];
		int alive = java_identify(j->jj_pid, &now) == 0 &&
			    now.jj_starttime == j->jj_starttime;

		if (alive && j->jj_seen) {
			s->js_jvms[kept++] = *j;
			continue;
		}
		if (!alive)
			java_gone(c, j);
		else if (j->jj_state == JVM_PROFILED)
			java_cmd(c, j, "stop", &r);
	}
	s->js_n = kept;
}

/* Finds the JVMs to profile now (top N by CPU time with
 * --max-processes-runtime-profiler) and attaches to new ones. */
static void
java_scan(struct java_ctx *c)
{
	struct java_state *s = &c->jc_s;
	struct java_cand *cand;
	size_t n;

	if ((cand = calloc(JAVA_MAX_JVMS * 4, sizeof(*cand))) == NULL)
		return;
	n = java_candidates(c, cand, JAVA_MAX_JVMS * 4);
	for (size_t i = 0; i < n; i++)
		cand[i].jc_ticks = java_cpu_ticks(cand[i].jc_pid);
	qsort(cand, n, sizeof(*cand), cand_cmp);
	if (c->jc_o.jo_max_procs > 0 && n > c->jc_o.jo_max_procs)
		n = c->jc_o.jo_max_procs;
	for (size_t i = 0; i < s->js_n; i++)
		s->js_jvms[i].jj_seen = 0;
	for (size_t i = 0; i < n; i++) {
		struct java_jvm *j = java_find(s, cand[i].jc_pid);

		if (j != NULL) {
			j->jj_seen = 1;
			if (java_retry_due(j))
				java_attach_new(c, j);
			continue;
		}
		if (s->js_n >= JAVA_MAX_JVMS)
			break;
		j = &s->js_jvms[s->js_n];
		memset(j, 0, sizeof(*j));
		if (java_identify(cand[i].jc_pid, j) == -1)
			continue;
		j->jj_seen = 1;
		s->js_n++;
		java_attach_new(c, j);
	}
	free(cand);
	java_prune(c);
}

int
java_run_start(struct java_ctx *c)
{
	if (c->jc_o.jo_disabled) {
		log_info("Java profiling is disabled");
		return 0;
	}
	if (!c->jc_o.jo_mode_perfmap && access(c->jc_o.jo_agent, R_OK) == -1) {
		log_error("cannot read the agent %s: %s", c->jc_o.jo_agent,
			  strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < c->jc_npids; i++)
		if (!java_is_jvm((pid_t)c->jc_pids[i]))
			log_error("PID %u is not a HotSpot JVM (or is gone): "
				  "not profiled",
				  c->jc_pids[i]);
	java_scan(c);
	return 0;
}

/* Collects one profiled JVM's window into t. */
static void
java_collect(struct java_ctx *c, struct java_jvm *j, struct stack_table *t)
{
	struct jattach_result r;
	size_t bad;
	int proc;

	if (c->jc_o.jo_safemode && java_crashed(j->jj_pid)) {
		java_cmd(c, j, "stop", &r);
		java_gone(c, j);
		return java_skip(j, "safe mode: the JVM crashed (hs_err_pid "
				    "file)");
	}
	if (java_cmd(c, j, "dump", &r) == -1) {
		if (procfs_alive(j->jj_pid))
			java_stacks_reason(t, j, "error");
		return;
	}
	proc = stacks_proc(t, (uint32_t)j->jj_pid,
			   stacks_intern_str(t, j->jj_comm), 0, 0);
	if (proc != -1 && (bad = java_stacks_add(t, proc, j->jj_pid, r.jr_out,
						 r.jr_outlen)) > 0)
		log_warn("JVM %d: %zu malformed lines from the agent",
			 (int)j->jj_pid, bad);
	free(r.jr_out);
}

int
java_run_window(struct java_ctx *c, struct stack_table *t)
{
	struct java_state *s = &c->jc_s;

	if (c->jc_o.jo_disabled)
		return 0;
	for (size_t i = 0; i < s->js_n; i++) {
		struct java_jvm *j = &s->js_jvms[i];

		if (j->jj_state == JVM_PROFILED)
			java_collect(c, j, t);
		else if (j->jj_state == JVM_PERFMAP)
			java_perfmap(c, j);
		else if (j->jj_state == JVM_SKIPPED && !c->jc_o.jo_mode_perfmap)
			java_stacks_reason(t, j, "skipped");
	}
	java_scan(c);
	return 0;
}

void
java_run_stop(struct java_ctx *c)
{
	struct java_state *s = &c->jc_s;
	struct jattach_result r;

	for (size_t i = 0; i < s->js_n; i++) {
		struct java_jvm *j = &s->js_jvms[i];

		if (j->jj_state == JVM_PROFILED && java_cmd(c, j, "stop", &r))
			log_warn("JVM %d: stop failed: %s", (int)j->jj_pid,
				 j->jj_reason);
		j->jj_state = JVM_NEW;
	}
	s->js_n = 0;
}
