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
__asm__(".symver dladdr,dladdr@GLIBC_2.2.5");
__asm__(".symver dladdr1,dladdr1@GLIBC_2.3.3");

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
#define AGENT_NATIVE_DEPTH    128 /* native frames of one sample */
#define AGENT_REC_HEAD	      3	  /* header words of a record */
#define AGENT_VMTOP_DEPTH     32  /* native frames above a Java stack */

/* A record's flags (bits 32.. of its second word). */
#define REC_NATIVE    0x100u /* frames are native PCs, one word each */
#define REC_RECOVERED 0x200u /* Java frames after a top-frame fix-up */
#define REC_CODE_MASK 0xffu  /* AsyncGetCallTrace's code + 128 */
/* A Java stack's native frames above it (the thread was in the VM or in
 * native code): their count, their PCs after the Java frames. */
#define REC_VMTOP_SHIFT 20
#define REC_VMTOP_MASK	0x3fu

/* Pseudo codes beside AsyncGetCallTrace's own (0 .. -10). */
#define AGENT_NON_JAVA (-100) /* no JNIEnv: a JVM-internal thread */

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

/* One buffer of raw samples. A record is AGENT_REC_HEAD words: frames
 * (or AsyncGetCallTrace's error code) in the low 32 bits of the first and
 * the record's length in words in its high 32 bits; the thread id and
 * flags; the interrupted PC. Then the frames: two words each (an
 * agct_frame), or one word each (a native PC) with REC_NATIVE. */
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
	uint64_t as_seq;  /* dumps so far */
	int as_lines;	  /* lines=1: Class.method:LINE */
	int as_threads;	  /* threads=1: "[name tid=N]" root frames */
	int as_safe_read; /* process_vm_readv on ourselves works */
	/* The JIT's code: [lo, hi) spans every compiled method and stub. */
	_Atomic uintptr_t as_code_lo, as_code_hi;
	/* Counted since the last dump (the dump's "#" line). */
	_Atomic uint64_t as_recovered, as_native;
	_Atomic uintptr_t as_restorer; /* libc's signal trampoline */
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
/* CLOCK_MONOTONIC in milliseconds. */
int64_t agent_now_ms(void);
/* Polls done(arg) every millisecond until it holds: 0, or -1 once wait_ms
 * (< 0: no limit) have passed. */
int agent_wait_until(int (*done)(void *), void *arg, int64_t wait_ms);
/* Copies len bytes at addr of this process into out without faulting
 * (process_vm_readv); 0, or -1 when unreadable. Async-signal-safe. */
int agent_read(uintptr_t addr, void *out, size_t len);

/* agent_code.c: the JIT's code map (compiled methods and stubs). */
/* Enables the code events and replays the code generated so far. */
int agent_code_start(jvmtiEnv *j);
void agent_code_stop(jvmtiEnv *j);
/* The event callbacks (set by agent.c). */
void JNICALL agent_on_compiled_load(jvmtiEnv *j, jmethodID m, jint size,
				    const void *addr, jint nmap,
				    const jvmtiAddrLocationMap *map,
				    const void *info);
void JNICALL agent_on_compiled_unload(jvmtiEnv *j, jmethodID m,
				      const void *addr);
void JNICALL agent_on_dynamic_code(jvmtiEnv *j, const char *name,
				   const void *addr, jint len);

/* What the code map knows of a PC. */
enum code_kind { CODE_NONE, CODE_INTERP, CODE_STUB, CODE_METHOD };
struct code_hit {
	enum code_kind ch_kind;
	jmethodID ch_method; /* CODE_METHOD */
	int ch_level;	     /* 1-3 C1, 4 C2, 0 unknown */
	const char *ch_name; /* CODE_STUB: the JVM's name for it */
	uintptr_t ch_lo;     /* where its code starts */
};
/* Looks pc up; the map is locked by the caller (agent_code_lock). */
void agent_code_find(uintptr_t pc, struct code_hit *h);
/* The highest level of m's compiled code now: -1 none, 0 unknown. */
int agent_code_level(jmethodID m);
/* 1 if the JIT inlined callee at caller's bci (any compiled version). */
int agent_code_inlined(jmethodID callee, jmethodID caller, jint bci);
void agent_code_lock(void);
void agent_code_unlock(void);

/* agent_vms.c: HotSpot's own description of its structures. */
/* Reads the offsets profd needs from gHotSpotVMStructs; 0 or -1. */
int agent_vms_init(void);
/* The compilation level of method m's code at addr: 1-4, 0 unknown. */
int agent_vms_level(jmethodID m, const void *addr);
/* The OS thread id of a java.lang.Thread, or -1. */
pid_t agent_vms_tid(JNIEnv *env, jthread t);

/* agent_syms.c: names of native code (libjvm's .symtab, dladdr). */
int agent_syms_load(void);
void agent_syms_free(void);
/* The start address of pc's function (pc itself when unknown). */
uintptr_t agent_syms_start(uintptr_t pc);
/* Writes pc's function name to buf: "Class::method", "symbol", or
 * "[library+0xOFF]"; returns buf. */
const char *agent_syms_name(uintptr_t pc, char *buf, size_t len);

/* agent_libsyms.c: the .symtab of other libraries. */
/* The name of the function pc is in, from the .symtab of the library at
 * the absolute path loaded with bias (its link map's l_addr), read on
 * first use; *start (when not NULL) becomes the function's address. NULL
 * when no function of it holds pc. */
const char *agent_libsyms_find(const char *path, uintptr_t bias, uintptr_t pc,
			       uintptr_t *start);
/* Frees every library's table. */
void agent_libsyms_free(void);

/* agent_dump.c: names and collapsed output. */
/* Writes the stacks of arena a to fd, as "root;...;leaf count" lines. */
int agent_dump(struct agent_arena *a, int fd, uint64_t dropped);
/* Frees the name cache. */
void agent_names_free(void);

/* agent_threads.c: thread names, by OS thread id. */
/* Records the calling thread's name (ThreadStart). */
void agent_threads_started(jvmtiEnv *j, JNIEnv *env, jthread t);
/* Learns the names of every live Java thread; call before a dump. */
void agent_threads_refresh(void);
/* The name of thread tid: the Java name, else its comm, else "". */
const char *agent_threads_name(pid_t tid);
void agent_threads_free(void);

#endif
