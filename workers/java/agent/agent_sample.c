/* The SIGPROF handler, its timers and the two sample arenas. */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <ucontext.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define AGENT_SWAP_WAIT_MS 1000

static _Atomic uint32_t agent_inflight; /* handlers inside now */
static _Atomic uint32_t agent_adders;	/* agent_timer_add calls inside */
static int agent_sampling; /* our handler and timers are installed */

int64_t
agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
agent_wait_until(int (*done)(void *), void *arg, int64_t wait_ms)
{
	const struct timespec ms = {0, 1000000};
	int64_t end = agent_now_ms() + wait_ms;

	while (!done(arg)) {
		if (wait_ms >= 0 && agent_now_ms() > end)
			return -1;
		nanosleep(&ms, NULL);
	}
	return 0;
}

/* Disarms every timer; async-signal-safe (the handler calls it when the
 * owner has not been heard from for the timeout). */
static void
agent_timers_disarm(void)
{
	struct itimerval zero;
	struct itimerspec tz;
	int n = atomic_load(&agent.as_ntimers);

	memset(&zero, 0, sizeof(zero));
	memset(&tz, 0, sizeof(tz));
	setitimer(ITIMER_PROF, &zero, NULL);
	for (int i = 0; i < n && i < AGENT_MAX_TIMERS; i++)
		if (agent.as_timers[i] >= 0)
			syscall(SYS_timer_settime, agent.as_timers[i], 0, &tz,
				NULL);
}

/* The code cache holds pc: a fixed-up context is only handed to
 * AsyncGetCallTrace with a PC there (anything else may crash it). */
static int
agent_in_code(uintptr_t pc)
{
	return pc >= atomic_load(&agent.as_code_lo) &&
	       pc < atomic_load(&agent.as_code_hi);
}

/* AsyncGetCallTrace could not walk from the top frame (a v/itable or
 * other stub without a frame, a method's prologue or epilogue, code
 * that unwinds an exception): pops the top frame and asks again. The
 * return address is looked for in the AGENT_POP_WORDS words on top of
 * the stack (a frameless stub: the first; a prologue or epilogue: after
 * the saved frame pointer and a small frame), then through the frame
 * pointer; only PCs inside the code cache are tried. The context is
 * restored before returning. */
#define AGENT_POP_WORDS 16
static jint
agent_retry_popped(agct_trace *t, ucontext_t *uc)
{
	greg_t *r = uc->uc_mcontext.gregs;
	greg_t pc = r[REG_RIP], sp = r[REG_RSP], fp = r[REG_RBP];
	uintptr_t top[AGENT_POP_WORDS], w[2];
	jint num = t->num_frames;

	if (agent_read((uintptr_t)sp, top, sizeof(top)) == 0)
		for (int k = 0; k < AGENT_POP_WORDS && num <= 0; k++) {
			if (!agent_in_code(top[k]))
				continue;
			r[REG_RIP] = (greg_t)top[k];
			r[REG_RSP] = sp + 8 * (k + 1);
			agent.as_agct(t, AGENT_MAX_DEPTH, uc);
			num = t->num_frames;
		}
	if (num <= 0 && (uintptr_t)fp > (uintptr_t)sp &&
	    (uintptr_t)fp - (uintptr_t)sp < (1u << 20) &&
	    agent_read((uintptr_t)fp, w, 16) == 0 && agent_in_code(w[1])) {
		r[REG_RIP] = (greg_t)w[1];
		r[REG_RSP] = fp + 16;
		r[REG_RBP] = (greg_t)w[0];
		agent.as_agct(t, AGENT_MAX_DEPTH, uc);
		num = t->num_frames;
	}
	r[REG_RIP] = pc;
	r[REG_RSP] = sp;
	r[REG_RBP] = fp;
	return num;
}

/* The registers the kernel saved in the signal frame whose return address
 * (libc's signal trampoline) is at slot; 0, or -1 when unreadable. */
static int
agent_sigframe_regs(uintptr_t slot, greg_t *g)
{
	return agent_read(slot + 8 + offsetof(ucontext_t, uc_mcontext.gregs), g,
			  NGREG * sizeof(greg_t));
}

/* The thread was stopped inside another signal handler while running
 * Java code (HotSpot's suspend handler, which JFR's sampler uses, or
 * another tool's): the kernel's signal frame of that handler lies above
 * the stack pointer, its return address being libc's signal trampoline
 * (as_restorer, our own handler's return address) and the context it
 * interrupted right after it. Walks from that context; 0 if not found. */
#define AGENT_SIGSCAN_WORDS 1024
static jint
agent_retry_sigframe(agct_trace *t, ucontext_t *uc, uint64_t *pc)
{
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP], w[64];
	uintptr_t restorer = atomic_load(&agent.as_restorer);
	greg_t g[NGREG];
	ucontext_t copy;

	if (restorer == 0)
		return 0;
	for (size_t base = 0; base < AGENT_SIGSCAN_WORDS; base += 64) {
		if (agent_read(sp + 8 * base, w, sizeof(w)) == -1)
			return 0;
		for (size_t k = 0; k < 64; k++) {
			uintptr_t slot = sp + 8 * (base + k);

			if (w[k] != restorer ||
			    agent_sigframe_regs(slot, g) == -1)
				continue;
			if ((uintptr_t)g[REG_RSP] <= slot ||
			    (uintptr_t)g[REG_RSP] - slot > (1u << 16) ||
			    !agent_in_code((uintptr_t)g[REG_RIP]))
				continue;
			memcpy(&copy, uc, sizeof(copy));
			memcpy(copy.uc_mcontext.gregs, g, sizeof(g));
			agent.as_agct(t, AGENT_MAX_DEPTH, &copy);
			if (t->num_frames > 0)
				*pc = (uint64_t)g[REG_RIP];
			return t->num_frames;
		}
	}
	return 0;
}

/* Starts a native walk at the registers r: out[0] becomes its PC, *fp
 * and *sp its frame and stack pointers; -1 (nothing stored) when
 * to_java and that PC is in the JIT's code. */
static int
agent_walk_start(const greg_t *r, uint64_t *out, uintptr_t *fp, uintptr_t *sp,
		 int to_java)
{
	if (to_java && agent_in_code((uintptr_t)r[REG_RIP]))
		return -1;
	out[0] = (uint64_t)r[REG_RIP];
	*fp = (uintptr_t)r[REG_RBP];
	*sp = (uintptr_t)r[REG_RSP];
	return 0;
}

/* Walks the frame-pointer chain from the interrupted context into out
 * (libjvm and libc keep frame pointers); returns the PCs stored. With
 * to_java, stops before the first PC in the JIT's code, the Java frame
 * that called into the VM or native code, and keeps only the
 * interrupted PC when the chain never gets there (code without frame
 * pointers on the way: what was followed may not be frames). Another
 * handler's frames (HotSpot's suspend handler, which JFR's sampler uses)
 * are not where the time went: when our signal came at that handler's
 * entry (the trampoline's address on top of the stack) or the chain
 * returns to libc's signal trampoline, the walk starts again from the
 * context the kernel saved for that handler, dropping its frames; none
 * is kept when that context was Java code and to_java is set. */
static jint
agent_walk_native(ucontext_t *uc, uint64_t *out, jint max, int to_java)
{
	greg_t *r = uc->uc_mcontext.gregs, g[NGREG];
	uintptr_t fp, sp = (uintptr_t)r[REG_RSP];
	uintptr_t w[2], restorer = atomic_load(&agent.as_restorer);
	jint n = 1;

	if (restorer != 0 && agent_read(sp, w, 8) == 0 && w[0] == restorer &&
	    agent_sigframe_regs(sp, g) == 0)
		r = g; /* at the other handler's first instruction */
	if (agent_walk_start(r, out, &fp, &sp, to_java) == -1)
		return 0;
	while (n < max && fp > sp && fp - sp < (8u << 20) && (fp & 7) == 0 &&
	       agent_read(fp, w, 16) == 0 && w[1] != 0) {
		if (w[1] == restorer && restorer != 0) {
			if (agent_sigframe_regs(fp + 8, g) == -1)
				break;
			if (agent_walk_start(g, out, &fp, &sp, to_java) == -1)
				return 0;
			n = 1;
			continue;
		}
		if (to_java && agent_in_code(w[1]))
			return n;
		out[n++] = w[1];
		if (w[0] <= fp)
			break;
		fp = w[0];
	}
	return to_java ? 1 : n;
}

/* A Java stack walked from its last Java frame while the thread ran in
 * the VM or in native code (its PC outside the JIT's code, which the
 * code map knows): the native frames above it, stored after its Java
 * frames; returns the flags that count them. */
static uint32_t
agent_vmtop(ucontext_t *uc, uint64_t *out, uint64_t pc)
{
	jint n;

	if (!agent.as_safe_read || atomic_load(&agent.as_code_hi) == 0 ||
	    agent_in_code(pc))
		return 0;
	n = agent_walk_native(uc, out, AGENT_VMTOP_DEPTH, 1);
	return (uint32_t)n << REC_VMTOP_SHIFT;
}

/* The Java stack of a thread with a JNIEnv, recovering what can be;
 * *pc becomes the PC the stack was walked from, when not uc's. */
static jint
agent_walk_java(JNIEnv *env, uint64_t *frames, ucontext_t *uc, uint32_t *flags,
		uint64_t *pc)
{
	agct_trace trace;

	trace.env_id = env;
	trace.num_frames = 0;
	trace.frames = (agct_frame *)frames;
	agent.as_agct(&trace, AGENT_MAX_DEPTH, uc);
	if ((trace.num_frames == -5 || trace.num_frames == -6) &&
	    agent.as_safe_read) {
		jint code = trace.num_frames;

		trace.num_frames = code;
		if (!agent_in_code(*pc) &&
		    agent_retry_sigframe(&trace, uc, pc) > 0) {
			atomic_fetch_add(&agent.as_recovered, 1);
		} else if (agent_retry_popped(&trace, uc) > 0) {
			*flags |= REC_RECOVERED;
			atomic_fetch_add(&agent.as_recovered, 1);
		} else {
			trace.num_frames = code;
		}
	}
	return trace.num_frames;
}

/* Takes one sample of the interrupted thread into arena a. */
static void
agent_record(struct agent_arena *a, void *uc)
{
	const uint64_t need =
	    AGENT_REC_HEAD + 2 * (uint64_t)AGENT_MAX_DEPTH + AGENT_VMTOP_DEPTH;
	uint64_t start, len, want, *w;
	ucontext_t *ctx = uc;
	JNIEnv *env = NULL;
	JavaVM *vm = agent.as_vm;
	uint64_t pc = (uint64_t)ctx->uc_mcontext.gregs[REG_RIP];
	uint32_t flags = 0;
	jint num, code;

	start = atomic_fetch_add(&a->aa_used, need);
	if (start + need > AGENT_ARENA_WORDS) {
		if (start < AGENT_ARENA_WORDS)
			a->aa_words[start] = 0; /* end of the records */
		atomic_fetch_add(&agent.as_dropped, 1);
		return;
	}
	w = &a->aa_words[start];
	/* jni_GetEnv with a JNI version only reads the current thread's
	 * pointer: no allocation, no lock. JVM-internal threads (GC, VM
	 * thread) have none. */
	if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_6) != JNI_OK ||
	    env == NULL)
		num = AGENT_NON_JAVA;
	else
		num =
		    agent_walk_java(env, &w[AGENT_REC_HEAD], ctx, &flags, &pc);
	code = num > 0 ? 0 : num;
	/* No Java stack for this thread (a JVM-internal or compiler thread,
	 * a thread in the VM or in native code, a GC running, a safepoint,
	 * or a Java stack that could not be walked even after the top frame
	 * was popped): its native stack, kept under its reason. */
	if (num <= 0 && num != -1 && agent.as_safe_read) {
		num = agent_walk_native(ctx, &w[AGENT_REC_HEAD],
					AGENT_NATIVE_DEPTH, 0);
		flags |= REC_NATIVE;
		atomic_fetch_add(&agent.as_native, 1);
	} else if (num > 0 && !(flags & REC_RECOVERED)) {
		flags |= agent_vmtop(ctx, &w[AGENT_REC_HEAD + 2 * num], pc);
	}
	flags |= (uint32_t)(code + 128) & REC_CODE_MASK;
	len = AGENT_REC_HEAD +
	      (num > 0 ? (flags & REC_NATIVE ? 1 : 2) * (uint64_t)num : 0) +
	      ((flags >> REC_VMTOP_SHIFT) & REC_VMTOP_MASK);
	want = start + need;
	if (!atomic_compare_exchange_strong(&a->aa_used, &want, start + len))
		len = need; /* someone reserved after us: keep the gap */
	w[1] =
	    (uint64_t)(uint32_t)syscall(SYS_gettid) | ((uint64_t)flags << 32);
	w[2] = pc;
	w[0] = (uint64_t)(uint32_t)num | (len << 32);
}

static void
agent_on_prof(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	(void)sig;
	(void)si;
	/* Called through the kernel's signal frame: our return address is
	 * libc's signal trampoline (see agent_retry_sigframe). */
	if (atomic_load(&agent.as_restorer) == 0)
		atomic_store(&agent.as_restorer,
			     (uintptr_t)__builtin_return_address(0));
	atomic_fetch_add(&agent_inflight, 1);
	if (atomic_load(&agent.as_running)) {
		if (agent_now_ms() - atomic_load(&agent.as_contact_ms) >
		    agent.as_timeout_ms) {
			atomic_store(&agent.as_running, 0);
			agent_timers_disarm();
		} else {
			agent_record(
			    &agent.as_arena[atomic_load(&agent.as_active)], uc);
		}
	}
	atomic_fetch_sub(&agent_inflight, 1);
	errno = saved;
}

static int
agent_no_handler(void *arg)
{
	(void)arg;
	return atomic_load(&agent_inflight) == 0;
}

/* Waits until no handler is inside; 0, or -1 after AGENT_SWAP_WAIT_MS. */
static int
agent_wait_handlers(void)
{
	return agent_wait_until(agent_no_handler, NULL, AGENT_SWAP_WAIT_MS);
}

struct agent_arena *
agent_sample_swap(void)
{
	uint32_t old = atomic_load(&agent.as_active);
	struct agent_arena *a = &agent.as_arena[old];

	atomic_store(&agent.as_active, 1 - old);
	if (agent_wait_handlers() == -1)
		return NULL;
	return a;
}

/* Creates and arms thread tid's CPU timer in slot i; 0 or -1. */
static int
agent_timer_create(int i, pid_t tid)
{
	struct sigevent sev;
	struct itimerspec its;
	int id = -1;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGPROF;
	sev._sigev_un._tid = tid;
	/* The CPU clock of thread tid (the kernel's MAKE_THREAD_CPUCLOCK). */
	if (syscall(SYS_timer_create, (clockid_t)((~(unsigned)tid << 3) | 6),
		    &sev, &id) == -1)
		return -1;
	agent.as_timers[i] = id;
	its.it_interval.tv_sec = agent.as_interval_ns / 1000000000;
	its.it_interval.tv_nsec = agent.as_interval_ns % 1000000000;
	its.it_value = its.it_interval;
	return (int)syscall(SYS_timer_settime, id, 0, &its, NULL);
}

int
agent_timer_add(pid_t tid)
{
	int i, rv = -1;

	/* Counted in, then the running check: a stop that cleared
	 * as_running waits for us before it deletes the timers, so no timer
	 * is created after the stop (it would kill the JVM with SIGPROF). */
	atomic_fetch_add(&agent_adders, 1);
	if (agent.as_cpu_mode && atomic_load(&agent.as_running) &&
	    (i = atomic_fetch_add(&agent.as_ntimers, 1)) < AGENT_MAX_TIMERS)
		rv = agent_timer_create(i, tid);
	atomic_fetch_sub(&agent_adders, 1);
	return rv;
}

/* cpu mode: a timer on each thread running now (new threads get theirs
 * from the ThreadStart event). */
static int
agent_timers_all(void)
{
	struct dirent *d;
	DIR *dir;
	int n = 0;

	if ((dir = opendir("/proc/self/task")) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.' &&
		    agent_timer_add((pid_t)atoi(d->d_name)) == 0)
			n++;
	closedir(dir);
	return n > 0 ? 0 : -1;
}

static int
agent_timers_start(void)
{
	struct itimerval it;

	if (agent.as_cpu_mode)
		return agent_timers_all();
	it.it_interval.tv_sec = agent.as_interval_ns / 1000000000;
	it.it_interval.tv_usec = (agent.as_interval_ns % 1000000000) / 1000;
	if (it.it_interval.tv_sec == 0 && it.it_interval.tv_usec == 0)
		it.it_interval.tv_usec = 1;
	it.it_value = it.it_interval;
	return setitimer(ITIMER_PROF, &it, NULL);
}

static void
agent_timers_delete(void)
{
	struct timespec ms = {0, 1000000};
	int n;

	for (int i = 0; i < 1000 && atomic_load(&agent_adders) != 0; i++)
		nanosleep(&ms, NULL);
	n = atomic_exchange(&agent.as_ntimers, 0);

	agent_timers_disarm();
	for (int i = 0; i < n && i < AGENT_MAX_TIMERS; i++)
		if (agent.as_timers[i] >= 0)
			syscall(SYS_timer_delete, agent.as_timers[i]);
}

static int
agent_arenas_map(void)
{
	size_t len = AGENT_ARENA_WORDS * sizeof(uint64_t);

	for (int i = 0; i < 2; i++) {
		void *p =
		    mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED)
			return -1;
		agent.as_arena[i].aa_words = p;
		atomic_store(&agent.as_arena[i].aa_used, 0);
	}
	return 0;
}

static void
agent_arenas_unmap(void)
{
	for (int i = 0; i < 2; i++) {
		if (agent.as_arena[i].aa_words != NULL)
			munmap(agent.as_arena[i].aa_words,
			       AGENT_ARENA_WORDS * sizeof(uint64_t));
		agent.as_arena[i].aa_words = NULL;
	}
}

int
agent_sample_start(void)
{
	struct sigaction sa;

	if (sigaction(SIGPROF, NULL, &agent.as_old_prof) == -1)
		return AGENT_SIGPROF_USED;
	if ((agent.as_old_prof.sa_flags & SA_SIGINFO) ||
	    (agent.as_old_prof.sa_handler != SIG_DFL &&
	     agent.as_old_prof.sa_handler != SIG_IGN))
		return AGENT_SIGPROF_USED;
	if (agent_arenas_map() == -1) {
		agent_arenas_unmap();
		return AGENT_NO_MEMORY;
	}
	for (int i = 0; i < AGENT_MAX_TIMERS; i++)
		agent.as_timers[i] = -1;
	atomic_store(&agent.as_ntimers, 0);
	atomic_store(&agent.as_active, 0);
	atomic_store(&agent.as_dropped, 0);
	atomic_store(&agent.as_contact_ms, agent_now_ms());
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = agent_on_prof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPROF, &sa, NULL);
	agent_sampling = 1;
	atomic_store(&agent.as_running, 1);
	if (agent_timers_start() == -1) {
		agent_sample_stop();
		return AGENT_TIMER;
	}
	return AGENT_OK;
}

void
agent_sample_stop(void)
{
	struct sigaction ign;

	/* A start that failed (SIGPROF taken by another profiler, maybe
	 * another copy of this agent) touched neither the process's
	 * interval timer nor the SIGPROF disposition: nothing to undo. */
	if (!agent_sampling) {
		agent_arenas_unmap();
		return;
	}
	agent_sampling = 0;

	atomic_store(&agent.as_running, 0);
	agent_timers_delete();
	/* SIG_IGN discards SIGPROFs still pending, which the JVM's own
	 * disposition (usually SIG_DFL: terminate) must never see. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPROF, &ign, NULL);
	sigaction(SIGPROF, &agent.as_old_prof, NULL);
	if (agent_wait_handlers() == 0)
		agent_arenas_unmap();
	/* else: a handler is stuck inside; leaking 32 MB of address space
	 * is better than unmapping under it. */
}
