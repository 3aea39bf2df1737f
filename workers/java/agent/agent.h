/*
 * libprofd-jvmti.so: a JVMTI agent that samples Java stacks with
 * AsyncGetCallTrace. It runs inside the customer's JVM: no nng, no
 * protobuf, no thread of its own; the SIGPROF handler neither allocates
 * nor locks. Its channel to profd-java is described in agent_proto.h.
 */
#ifndef PROFD_AGENT_H
#define PROFD_AGENT_H

/* The agent is loaded by the JVM's own libc, maybe an old one in a
 * container: bind the few symbols whose default version is newer to
 * their oldest version (timers are raw system calls). */
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
__asm__(".symver dlopen,dlopen@GLIBC_2.2.5");
__asm__(".symver dlclose,dlclose@GLIBC_2.2.5");

#include <jvmti.h>
#include <signal.h>
#include <time.h>

#include "agent_proto.h"
#include <stdatomic.h>
#include <stdint.h>

#define AGENT_MAX_DEPTH	      256	 /* frames of one sample */
#define AGENT_ARENA_WORDS     (1u << 21) /* 16 MB of address space each */
#define AGENT_MAX_TIMERS      4096	 /* threads with a CPU timer */
#define AGENT_DEFAULT_TIMEOUT 300 /* s without a command: sampling stops */

/* AsyncGetCallTrace's types (not in any header). */
typedef struct {
	jint bci;
	jmethodID method_id;
} agct_frame;

typedef struct {
	JNIEnv *env_id;
	jint num_frames;
	agct_frame *frames;
} agct_trace;

typedef void (*agct_fn)(agct_trace *, jint, void *);

/* One buffer of raw samples: records of a header word (frames or error
 * code in the low 32 bits) followed by frames of two words each. */
struct agent_arena {
	uint64_t *aa_words;
	_Atomic uint64_t aa_used;     /* words reserved */
	_Atomic uint32_t aa_inflight; /* handlers writing now */
};

struct agent_state {
	JavaVM *as_vm;
	jvmtiEnv *as_jvmti;
	agct_fn as_agct;
	char as_token[AGENT_TOKEN_LEN + 1];
	int as_cpu_mode;
	int64_t as_interval_ns;
	int64_t as_timeout_ms;
	_Atomic int64_t as_contact_ms; /* last command, CLOCK_MONOTONIC */
	_Atomic int as_running;	       /* the handler records samples */
	_Atomic uint32_t as_active;    /* arena the handler writes */
	struct agent_arena as_arena[2];
	_Atomic uint64_t as_dropped; /* samples that found no room */
	struct sigaction as_old_prof;
	int as_started;
	int as_timers[AGENT_MAX_TIMERS]; /* kernel timer ids, -1: none */
	_Atomic int as_ntimers;
	uint64_t as_seq; /* dumps so far */
};

extern struct agent_state agent;

/* agent_sample.c: the handler, the timers, the arenas. */
int agent_sample_start(void);
void agent_sample_stop(void);
/* Makes the other arena the active one, waits for handlers still writing
 * into the old one, and returns it. */
struct agent_arena *agent_sample_swap(void);
/* Adds a per-thread CPU timer for thread tid (cpu mode); 0 or -1. */
int agent_timer_add(pid_t tid);
int64_t agent_now_ms(void);

/* agent_dump.c: names and collapsed output. */
/* Writes the stacks of arena a to fd, as "root;...;leaf count" lines. */
int agent_dump(struct agent_arena *a, int fd, uint64_t dropped);
/* Frees the name cache. */
void agent_names_free(void);

#endif
