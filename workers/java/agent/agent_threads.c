/* Thread names by OS thread id: Java names from JVMTI (at ThreadStart,
 * and for the threads already running, through java.lang.Thread's
 * JavaThread), else the kernel's comm (JVM-internal threads). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"

#define THREADS_CAP 8192 /* names kept; full: forgotten and relearned */
#define THREAD_NAME 64

struct thread_ent {
	pid_t te_tid; /* 0: empty */
	char te_name[THREAD_NAME];
};

static pthread_mutex_t threads_mu = PTHREAD_MUTEX_INITIALIZER;
static struct thread_ent threads[THREADS_CAP];
static size_t nthreads;
static char comm[THREAD_NAME]; /* agent_threads_name's answer */

static struct thread_ent *
threads_slot(pid_t tid)
{
	size_t i = ((uint32_t)tid * 2654435761u) % THREADS_CAP;

	for (size_t n = 0; n < THREADS_CAP; n++, i = (i + 1) % THREADS_CAP)
		if (threads[i].te_tid == tid || threads[i].te_tid == 0)
			return &threads[i];
	return NULL;
}

/* Names are frame text: ';' and controls become '_'. */
static void
threads_put(pid_t tid, const char *name)
{
	struct thread_ent *e;

	if (tid <= 0 || name == NULL)
		return;
	pthread_mutex_lock(&threads_mu);
	if (nthreads * 4 >= THREADS_CAP * 3) {
		memset(threads, 0, sizeof(threads));
		nthreads = 0;
	}
	if ((e = threads_slot(tid)) != NULL) {
		if (e->te_tid == 0)
			nthreads++;
		e->te_tid = tid;
		snprintf(e->te_name, sizeof(e->te_name), "%s", name);
		for (char *o = e->te_name; *o; o++)
			if (*o == ';' || (unsigned char)*o < 0x20)
				*o = '_';
	}
	pthread_mutex_unlock(&threads_mu);
}

static void
threads_info(jvmtiEnv *j, jthread t, pid_t tid)
{
	jvmtiThreadInfo ti;

	memset(&ti, 0, sizeof(ti));
	if ((*j)->GetThreadInfo(j, t, &ti) != JVMTI_ERROR_NONE)
		return;
	threads_put(tid, ti.name);
	(*j)->Deallocate(j, (unsigned char *)ti.name);
	if (agent.as_vm != NULL) {
		JNIEnv *env = NULL;

		(*agent.as_vm)
		    ->GetEnv(agent.as_vm, (void **)&env, JNI_VERSION_1_6);
		if (env != NULL) {
			(*env)->DeleteLocalRef(env, ti.thread_group);
			(*env)->DeleteLocalRef(env, ti.context_class_loader);
		}
	}
}

void
agent_threads_started(jvmtiEnv *j, JNIEnv *env, jthread t)
{
	(void)env;
	threads_info(j, t, (pid_t)syscall(SYS_gettid));
}

void
agent_threads_refresh(void)
{
	jvmtiEnv *j = agent.as_jvmti;
	JNIEnv *env = NULL;
	jthread *ts = NULL;
	jint n = 0;

	if (j == NULL || (*agent.as_vm)
				 ->GetEnv(agent.as_vm, (void **)&env,
					  JNI_VERSION_1_6) != JNI_OK)
		return;
	if ((*j)->GetAllThreads(j, &n, &ts) != JVMTI_ERROR_NONE)
		return;
	for (jint i = 0; i < n; i++) {
		pid_t tid = agent_vms_tid(env, ts[i]);

		if (tid > 0)
			threads_info(j, ts[i], tid);
		(*env)->DeleteLocalRef(env, ts[i]);
	}
	(*j)->Deallocate(j, (unsigned char *)ts);
}

/* The kernel's name of thread tid (15 characters at most). */
static const char *
threads_comm(pid_t tid)
{
	char path[64];
	ssize_t n;
	int fd;

	comm[0] = '\0';
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return comm;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	comm[n > 0 ? n : 0] = '\0';
	for (char *o = comm; *o; o++)
		if (*o == '\n')
			*o = '\0';
		else if (*o == ';' || (unsigned char)*o < 0x20)
			*o = '_';
	return comm;
}

const char *
agent_threads_name(pid_t tid)
{
	struct thread_ent *e;
	const char *s = NULL;

	pthread_mutex_lock(&threads_mu);
	if ((e = threads_slot(tid)) != NULL && e->te_tid == tid) {
		snprintf(comm, sizeof(comm), "%s", e->te_name);
		s = comm;
	}
	pthread_mutex_unlock(&threads_mu);
	return s != NULL ? s : threads_comm(tid);
}

void
agent_threads_free(void)
{
	pthread_mutex_lock(&threads_mu);
	memset(threads, 0, sizeof(threads));
	nthreads = 0;
	pthread_mutex_unlock(&threads_mu);
}
