/* libprofd-jvmti.so: Agent_OnAttach, the command channel, JVMTI set-up. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define EXPORT __attribute__((visibility("default")))

struct agent_state agent;

enum agent_cmd_kind { CMD_NONE, CMD_START, CMD_DUMP, CMD_STOP };

struct agent_cmd {
	enum agent_cmd_kind ac_cmd;
	char ac_token[AGENT_TOKEN_LEN + 1];
	int64_t ac_interval_ns;
	int64_t ac_timeout_s;
	int ac_cpu;
	int64_t ac_lines;   /* lines=0|1 */
	int64_t ac_threads; /* threads=0|1 */
};

static int
parse_num(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
agent_parse_kv(struct agent_cmd *c, const char *k, const char *v)
{
	if (strcmp(k, "cmd") == 0) {
		c->ac_cmd = strcmp(v, "start") == 0  ? CMD_START
			    : strcmp(v, "dump") == 0 ? CMD_DUMP
			    : strcmp(v, "stop") == 0 ? CMD_STOP
						     : CMD_NONE;
		return c->ac_cmd == CMD_NONE ? -1 : 0;
	}
	if (strcmp(k, "token") == 0) {
		if (strlen(v) != AGENT_TOKEN_LEN ||
		    strspn(v, "0123456789abcdef") != AGENT_TOKEN_LEN)
			return -1;
		memcpy(c->ac_token, v, AGENT_TOKEN_LEN + 1);
		return 0;
	}
	if (strcmp(k, "interval") == 0)
		return parse_num(v, 100000, 10000000000LL, &c->ac_interval_ns);
	if (strcmp(k, "timeout") == 0)
		return parse_num(v, 1, 86400, &c->ac_timeout_s);
	if (strcmp(k, "lines") == 0)
		return parse_num(v, 0, 1, &c->ac_lines);
	if (strcmp(k, "threads") == 0)
		return parse_num(v, 0, 1, &c->ac_threads);
	if (strcmp(k, "mode") == 0) {
		c->ac_cpu = strcmp(v, "cpu") == 0;
		return c->ac_cpu || strcmp(v, "itimer") == 0 ? 0 : -1;
	}
	return -1;
}

/* "cmd=start,token=HEX,interval=NS,mode=itimer|cpu,timeout=S,lines=0|1,
 * threads=0|1". */
static int
agent_parse(const char *opts, struct agent_cmd *c)
{
	char buf[256], *save = NULL, *kv, *eq;

	memset(c, 0, sizeof(*c));
	c->ac_interval_ns = 10000000;
	c->ac_timeout_s = AGENT_DEFAULT_TIMEOUT;
	if (opts == NULL || strlen(opts) >= sizeof(buf))
		return -1;
	memcpy(buf, opts, strlen(opts) + 1);
	for (kv = strtok_r(buf, ",", &save); kv != NULL;
	     kv = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(kv, '=')) == NULL)
			return -1;
		*eq = '\0';
		if (agent_parse_kv(c, kv, eq + 1) == -1)
			return -1;
	}
	return c->ac_cmd == CMD_NONE || c->ac_token[0] == '\0' ? -1 : 0;
}

static void JNICALL
on_class_load(jvmtiEnv *j, JNIEnv *env, jthread t, jclass k)
{
	/* Enabled only because AsyncGetCallTrace wants it enabled. */
	(void)j;
	(void)env;
	(void)t;
	(void)k;
}

/* Creates the jmethodIDs of class k, so a sample never needs to. */
static void
prepare_methods(jvmtiEnv *j, jclass k)
{
	jmethodID *m = NULL;
	jint n = 0;

	if ((*j)->GetClassMethods(j, k, &n, &m) == JVMTI_ERROR_NONE)
		(*j)->Deallocate(j, (unsigned char *)m);
}

static void JNICALL
on_class_prepare(jvmtiEnv *j, JNIEnv *env, jthread t, jclass k)
{
	(void)env;
	(void)t;
	prepare_methods(j, k);
}

static void JNICALL
on_thread_start(jvmtiEnv *j, JNIEnv *env, jthread t)
{
	agent_timer_add((pid_t)syscall(SYS_gettid));
	if (agent.as_threads)
		agent_threads_started(j, env, t);
}

static void
prepare_loaded(jvmtiEnv *j, JNIEnv *env)
{
	jclass *cls = NULL;
	jint n = 0;

	if ((*j)->GetLoadedClasses(j, &n, &cls) != JVMTI_ERROR_NONE)
		return;
	for (jint i = 0; i < n; i++) {
		prepare_methods(j, cls[i]);
		if (env != NULL)
			(*env)->DeleteLocalRef(env, cls[i]);
	}
	(*j)->Deallocate(j, (unsigned char *)cls);
}

static agct_fn
find_agct(void)
{
	void *h, *f = dlsym(RTLD_DEFAULT, "AsyncGetCallTrace");

	if (f == NULL && (h = dlopen("libjvm.so", RTLD_LAZY | RTLD_NOLOAD))) {
		f = dlsym(h, "AsyncGetCallTrace");
		dlclose(h);
	}
	return (agct_fn)f;
}

/* Native walks and recovery read memory through agent_read: on only if
 * process_vm_readv works here (a container's seccomp may refuse it). */
static void
agent_probe_read(void)
{
	uint64_t probe = 0x70726f6664ULL, copy = 0;

	agent.as_safe_read =
	    agent_read((uintptr_t)&probe, &copy, sizeof(copy)) == 0 &&
	    copy == probe;
}

static int
jvmti_setup(jvmtiEnv *j)
{
	jvmtiCapabilities caps;
	jvmtiEventCallbacks cb;

	memset(&caps, 0, sizeof(caps));
	caps.can_generate_all_class_hook_events = 1;
	caps.can_get_line_numbers = 1;
	caps.can_get_source_file_name = 1;
	caps.can_generate_compiled_method_load_events = 1;
	if ((*j)->AddCapabilities(j, &caps) != JVMTI_ERROR_NONE)
		return -1;
	memset(&cb, 0, sizeof(cb));
	cb.ClassLoad = on_class_load;
	cb.ClassPrepare = on_class_prepare;
	cb.ThreadStart = on_thread_start;
	cb.CompiledMethodLoad = agent_on_compiled_load;
	cb.CompiledMethodUnload = agent_on_compiled_unload;
	cb.DynamicCodeGenerated = agent_on_dynamic_code;
	if ((*j)->SetEventCallbacks(j, &cb, sizeof(cb)) != JVMTI_ERROR_NONE)
		return -1;
	if ((*j)->SetEventNotificationMode(j, JVMTI_ENABLE,
					   JVMTI_EVENT_CLASS_LOAD, NULL) ||
	    (*j)->SetEventNotificationMode(j, JVMTI_ENABLE,
					   JVMTI_EVENT_CLASS_PREPARE, NULL))
		return -1;
	if ((agent.as_cpu_mode || agent.as_threads) &&
	    (*j)->SetEventNotificationMode(j, JVMTI_ENABLE,
					   JVMTI_EVENT_THREAD_START, NULL))
		return -1;
	return 0;
}

/* Gives back everything start took: timers, handler, events, the JVMTI
 * environment (its capabilities with it), memory. */
static void
agent_stop(void)
{
	jvmtiEnv *j = agent.as_jvmti;

	agent_sample_stop();
	if (j != NULL) {
		(*j)->SetEventNotificationMode(j, JVMTI_DISABLE,
					       JVMTI_EVENT_THREAD_START, NULL);
		(*j)->SetEventNotificationMode(j, JVMTI_DISABLE,
					       JVMTI_EVENT_CLASS_PREPARE, NULL);
		(*j)->SetEventNotificationMode(j, JVMTI_DISABLE,
					       JVMTI_EVENT_CLASS_LOAD, NULL);
		agent_code_stop(j);
		agent_names_free();
		agent_threads_free();
		(*j)->DisposeEnvironment(j);
	}
	agent_syms_free();
	agent.as_jvmti = NULL;
	agent.as_started = 0;
	memset(agent.as_token, 0, sizeof(agent.as_token));
}

static int
agent_start(JavaVM *vm, const struct agent_cmd *c)
{
	JNIEnv *env = NULL;
	int rv;

	if ((agent.as_agct = find_agct()) == NULL)
		return AGENT_UNSUPPORTED;
	if ((*vm)->GetEnv(vm, (void **)&agent.as_jvmti, JVMTI_VERSION_1_2) !=
	    JNI_OK)
		return AGENT_UNSUPPORTED;
	agent.as_vm = vm;
	agent.as_cpu_mode = c->ac_cpu;
	agent.as_interval_ns = c->ac_interval_ns;
	agent.as_timeout_ms = c->ac_timeout_s * 1000;
	agent.as_lines = (int)c->ac_lines;
	agent.as_threads = (int)c->ac_threads;
	agent.as_started = 1;
	memcpy(agent.as_token, c->ac_token, sizeof(agent.as_token));
	if (jvmti_setup(agent.as_jvmti) == -1) {
		agent_stop();
		return AGENT_UNSUPPORTED;
	}
	(*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_6);
	prepare_loaded(agent.as_jvmti, env);
	agent_probe_read();
	/* Without a code map, stacks lose their frame types and the
	 * recovery of unwalkable tops; sampling goes on. */
	agent_code_start(agent.as_jvmti);
	agent_syms_load();
	if ((rv = agent_sample_start()) != AGENT_OK)
		agent_stop();
	return rv;
}

/* Writes the finished window to /tmp/.profd-TOKEN.out. */
static int
agent_dump_cmd(void)
{
	struct agent_arena *a;
	char path[64];
	int fd, rv;

	snprintf(path, sizeof(path), AGENT_OUT_FMT, agent.as_token);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd == -1 && errno == EEXIST && unlink(path) == 0)
		fd = open(path,
			  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  0600);
	if (fd == -1)
		return AGENT_NO_OUTPUT;
	if ((a = agent_sample_swap()) == NULL)
		rv = -1;
	else
		rv = agent_dump(a, fd, atomic_exchange(&agent.as_dropped, 0));
	agent.as_seq++;
	if (close(fd) == -1)
		rv = -1;
	if (rv == -1)
		unlink(path); /* nobody will read it */
	return rv == 0 ? AGENT_OK : AGENT_NO_OUTPUT;
}

/* Dumps the window; sampling that stopped itself because the owner was
 * silent for its timeout starts again, now that it is back. */
static int
agent_dump_resume(void)
{
	int rv = agent_dump_cmd();

	if (!atomic_load(&agent.as_running)) {
		agent_sample_stop();
		if (agent_sample_start() != AGENT_OK)
			agent_stop();
	}
	return rv;
}

/* The owner's token, or a stale owner that has not been heard from for
 * its timeout (its sampling has already stopped itself). */
static int
agent_owner_ok(const struct agent_cmd *c)
{
	if (strcmp(c->ac_token, agent.as_token) == 0)
		return 1;
	if (agent_now_ms() - atomic_load(&agent.as_contact_ms) >
	    agent.as_timeout_ms) {
		agent_stop();
		return 0;
	}
	return -1;
}

/* Commands and the JVM's unload at exit run on different threads: a
 * JVM that exits while a start is reading libjvm's symbols must not
 * free them under it. An atomic flag, not a pthread mutex: the agent
 * runs in JVMs whose libc may be older than the one it was built with. */
static atomic_int agent_busy;

static int
agent_try_lock(void *arg)
{
	int free_ = 0;

	(void)arg;
	return atomic_compare_exchange_strong(&agent_busy, &free_, 1);
}

/* Takes the command lock: 0, or -1 after wait_ms (< 0: no limit). */
static int
agent_lock(int64_t wait_ms)
{
	return agent_wait_until(agent_try_lock, NULL, wait_ms);
}

static void
agent_unlock(void)
{
	atomic_store(&agent_busy, 0);
}

static int
agent_attach(JavaVM *vm, char *options)
{
	struct agent_cmd c;
	int own;

	if (agent_parse(options, &c) == -1)
		return AGENT_BAD_OPTIONS;
	own = agent.as_started ? agent_owner_ok(&c) : 0;
	if (own == -1)
		return AGENT_BUSY;
	if (own == 1)
		atomic_store(&agent.as_contact_ms, agent_now_ms());
	switch (c.ac_cmd) {
	case CMD_START:
		return own == 1 ? AGENT_OK : agent_start(vm, &c);
	case CMD_DUMP:
		return own == 1 ? agent_dump_resume() : AGENT_NOT_RUNNING;
	case CMD_STOP:
		if (own == 1)
			agent_stop();
		return own == 1 ? AGENT_OK : AGENT_NOT_RUNNING;
	default:
		return AGENT_BAD_OPTIONS;
	}
}

EXPORT JNIEXPORT jint JNICALL
Agent_OnAttach(JavaVM *vm, char *options, void *reserved)
{
	int rv;

	(void)reserved;
	agent_lock(-1);
	rv = agent_attach(vm, options);
	agent_unlock();
	return rv;
}

/* At the JVM's exit. A command still running after 5 s is left alone
 * (and what it holds with it): the process is ending anyway. */
EXPORT JNIEXPORT void JNICALL
Agent_OnUnload(JavaVM *vm)
{
	(void)vm;
	if (agent_lock(5000) == -1)
		return;
	if (agent.as_started)
		agent_stop();
	agent_unlock();
}
