/*
 * Test-only: makes a running process execute one system call of our
 * choice, to prove its seccomp filter (never installed).
 *
 *   inject_syscall PID NAME [ARG...]
 *
 * An ARG is a number (strtoull, base 0), or bytes that the injector
 * writes into the thread's stack, below its stack pointer and its red
 * zone, passing their address: zero:N (N zero bytes), hex:HEX (those
 * bytes), str:TEXT (TEXT and its NUL). The words it overwrote are put
 * back once the call has returned.
 * Seizes PID's main thread with ptrace, interrupts it where it waits in a
 * system call, points it at the `syscall` instruction it just ran with the
 * registers of NAME(ARG...), and follows that one call. If seccomp
 * refuses it (the kernel's SIGSYS for that call is pending at its exit)
 * and the process dies, prints "PID killed by SIGNAME" and exits 0 for
 * SIGSYS (a kill-process filter), 1 otherwise. If the call returns,
 * prints "NAME returned VALUE", puts the thread back where it was (its own
 * call restarted as the kernel would have) and exits 3. 77 when this
 * cannot work here (not x86_64, no ptrace); 1 on any other failure.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#define INJ_TRIES   200	 /* seizes until the thread sits in a system call */
#define INJ_STOPS   64	 /* stops followed before giving up */
#define INJ_TIMEOUT 30	 /* seconds in all */
#define INJ_MEM_MAX 512	 /* bytes of all memory arguments */
#define INJ_MEM_GAP 1024 /* kept free below the stack pointer */

#if defined(__x86_64__)

#define INJ_ERESTARTSYS		  512 /* the kernel's restart codes */
#define INJ_ERESTARTNOINTR	  513
#define INJ_ERESTARTNOHAND	  514
#define INJ_ERESTART_RESTARTBLOCK 516
#define INJ_NR_RESTART_SYSCALL	  219
#define INJ_SYS_SECCOMP		  1 /* si_code of a seccomp SIGSYS */

struct inj {
	pid_t ij_pid;
	long ij_nr;
	unsigned long long ij_args[6];
	int ij_argmem[6]; /* 1: ij_args[i] is an offset in ij_mem */
	unsigned char ij_mem[INJ_MEM_MAX]; /* the memory arguments */
	size_t ij_memlen;		   /* in whole words, once placed */
	unsigned long long ij_memat;	   /* where they are in the thread */
	long ij_memsaved[INJ_MEM_MAX / sizeof(long)]; /* what was there */
	struct user_regs_struct ij_saved; /* the thread as we found it */
	unsigned long long ij_at;	  /* the syscall instruction */
};

/* Waits for the next stop of the tracee; -1 when it has ended (status
 * in *st). */
static int
inj_wait(const struct inj *j, int *st)
{
	if (waitpid(j->ij_pid, st, __WALL) == -1) {
		fprintf(stderr, "waitpid: %s\n", strerror(errno));
		exit(1);
	}
	return WIFSTOPPED(*st) ? 0 : -1;
}

static int
inj_ended(const struct inj *j, int st)
{
	const char *sig;

	if (WIFEXITED(st)) {
		printf("%d exited with %d\n", (int)j->ij_pid, WEXITSTATUS(st));
		return 1;
	}
	sig = sigabbrev_np(WTERMSIG(st));
	printf("%d killed by SIG%s\n", (int)j->ij_pid, sig ? sig : "?");
	return WTERMSIG(st) == SIGSYS ? 0 : 1;
}

/* Interrupts the seized thread; 0 once it is in a trap stop. A signal
 * that arrives first is passed on. */
static int
inj_interrupt(struct inj *j)
{
	int st;

	if (ptrace(PTRACE_INTERRUPT, j->ij_pid, 0, 0) == -1)
		return -1;
	for (int n = 0; n < INJ_STOPS; n++) {
		if (inj_wait(j, &st) == -1)
			exit(inj_ended(j, st));
		if ((st >> 16) == PTRACE_EVENT_STOP)
			return 0;
		/* A signal-delivery stop: deliver it, the trap comes next. */
		if (ptrace(PTRACE_CONT, j->ij_pid, 0, WSTOPSIG(st)) == -1)
			return -1;
	}
	return -1;
}

/* Is the word before rip a `syscall` instruction (0f 05)? */
static int
inj_at_syscall(const struct inj *j, unsigned long long rip)
{
	long w;

	errno = 0;
	w = ptrace(PTRACE_PEEKTEXT, j->ij_pid, (void *)(rip - 2), 0);
	return errno == 0 && (w & 0xffff) == 0x050f;
}

/* Seizes and stops the thread inside a system call: 0, or -1 to retry
 * (it was running user code), or exits on an error. */
static int
inj_catch(struct inj *j)
{
	struct user_regs_struct *r = &j->ij_saved;

	if (ptrace(PTRACE_SEIZE, j->ij_pid, 0, PTRACE_O_TRACESYSGOOD) == -1) {
		fprintf(stderr, "cannot seize %d: %s\n", (int)j->ij_pid,
			strerror(errno));
		exit(errno == EPERM ? 77 : 1);
	}
	if (inj_interrupt(j) == -1 ||
	    ptrace(PTRACE_GETREGS, j->ij_pid, 0, r) == -1) {
		fprintf(stderr, "cannot stop %d: %s\n", (int)j->ij_pid,
			strerror(errno));
		exit(1);
	}
	if ((long long)r->orig_rax >= 0 && inj_at_syscall(j, r->rip)) {
		j->ij_at = r->rip - 2;
		return 0;
	}
	ptrace(PTRACE_DETACH, j->ij_pid, 0, 0);
	return -1;
}

/* Writes the memory arguments below the thread's stack pointer, saving
 * what was there, and turns their offsets into addresses. */
static int
inj_place(struct inj *j)
{
	size_t words = (j->ij_memlen + sizeof(long) - 1) / sizeof(long);
	long w;

	j->ij_memlen = words * sizeof(long);
	j->ij_memat = (j->ij_saved.rsp - INJ_MEM_GAP - j->ij_memlen) & ~0xfULL;
	for (size_t i = 0; i < words; i++) {
		void *at = (void *)(j->ij_memat + i * sizeof(long));

		errno = 0;
		j->ij_memsaved[i] = ptrace(PTRACE_PEEKDATA, j->ij_pid, at, 0);
		memcpy(&w, j->ij_mem + i * sizeof(long), sizeof(w));
		if (errno != 0 ||
		    ptrace(PTRACE_POKEDATA, j->ij_pid, at, (void *)w) == -1)
			return -1;
	}
	for (int i = 0; i < 6; i++)
		if (j->ij_argmem[i])
			j->ij_args[i] += j->ij_memat;
	return 0;
}

/* Puts back the stack words that inj_place overwrote. */
static int
inj_unplace(const struct inj *j)
{
	for (size_t i = 0; i < j->ij_memlen / sizeof(long); i++)
		if (ptrace(PTRACE_POKEDATA, j->ij_pid,
			   (void *)(j->ij_memat + i * sizeof(long)),
			   (void *)j->ij_memsaved[i]) == -1)
			return -1;
	return 0;
}

/* Points the thread at the syscall instruction with our call in its
 * registers; orig_rax -1 keeps the kernel from restarting its own. */
static int
inj_load(const struct inj *j)
{
	struct user_regs_struct r = j->ij_saved;

	r.rip = j->ij_at;
	r.rax = (unsigned long long)j->ij_nr;
	r.orig_rax = (unsigned long long)-1;
	r.rdi = j->ij_args[0];
	r.rsi = j->ij_args[1];
	r.rdx = j->ij_args[2];
	r.r10 = j->ij_args[3];
	r.r8 = j->ij_args[4];
	r.r9 = j->ij_args[5];
	return (int)ptrace(PTRACE_SETREGS, j->ij_pid, 0, &r);
}

/* The thread as we found it, its interrupted call restarted the way the
 * kernel would have on the way out of that call. */
static int
inj_restore(const struct inj *j)
{
	struct user_regs_struct r = j->ij_saved;
	long long rv = (long long)r.rax;

	if (rv == -INJ_ERESTARTSYS || rv == -INJ_ERESTARTNOINTR ||
	    rv == -INJ_ERESTARTNOHAND) {
		r.rax = r.orig_rax;
		r.rip -= 2;
	} else if (rv == -INJ_ERESTART_RESTARTBLOCK) {
		r.rax = INJ_NR_RESTART_SYSCALL;
		r.rip -= 2;
	}
	r.orig_rax = (unsigned long long)-1;
	return (int)ptrace(PTRACE_SETREGS, j->ij_pid, 0, &r);
}

/* Does the thread hold the kernel's seccomp SIGSYS for our call? */
static int
inj_seccomp_pending(const struct inj *j)
{
	struct __ptrace_peeksiginfo_args a = {0, 0, 8};
	siginfo_t si[8];
	long n;

	n = ptrace(PTRACE_PEEKSIGINFO, j->ij_pid, &a, si);
	for (long i = 0; i < n; i++)
		if (si[i].si_signo == SIGSYS &&
		    si[i].si_code == INJ_SYS_SECCOMP &&
		    si[i].si_syscall == j->ij_nr)
			return 1;
	return 0;
}

/* Our call was refused by seccomp: lets the thread take its SIGSYS. */
static int
inj_refused(struct inj *j, const char *name)
{
	int st, sig = 0;

	fprintf(stderr, "%d: seccomp refused %s\n", (int)j->ij_pid, name);
	for (int n = 0; n < INJ_STOPS; n++) {
		if (ptrace(PTRACE_CONT, j->ij_pid, 0, sig) == -1)
			return 1;
		if (inj_wait(j, &st) == -1)
			return inj_ended(j, st);
		sig = (st >> 16) == 0 ? WSTOPSIG(st) : 0;
	}
	return 1;
}

/* Our call returned: the thread goes back to what it was doing. */
static int
inj_returned(struct inj *j, const char *name, long long rval)
{
	printf("%s returned %lld\n", name, rval);
	if (inj_unplace(j) == -1 || inj_restore(j) == -1 ||
	    ptrace(PTRACE_DETACH, j->ij_pid, 0, 0) == -1)
		return 1;
	return 3;
}

/* Follows the thread through our call: the exit code of the program (see
 * the head of this file). A signal that stops it first is passed on: its
 * handler runs, then our call. A call that seccomp refuses still reaches
 * its exit stop, with the kernel's SIGSYS pending. */
static int
inj_follow(struct inj *j, const char *name)
{
	struct __ptrace_syscall_info si;
	int st, sig = 0, entered = 0;

	for (int n = 0; n < INJ_STOPS; n++) {
		if (ptrace(PTRACE_SYSCALL, j->ij_pid, 0, sig) == -1)
			return 1;
		if (inj_wait(j, &st) == -1)
			return inj_ended(j, st);
		sig = 0;
		if (WSTOPSIG(st) != (SIGTRAP | 0x80)) {
			if ((st >> 16) == 0)
				sig = WSTOPSIG(st);
			continue;
		}
		if (ptrace(PTRACE_GET_SYSCALL_INFO, j->ij_pid,
			   (void *)sizeof(si), &si) == -1)
			return 1;
		if (si.op == PTRACE_SYSCALL_INFO_ENTRY &&
		    (long)si.entry.nr == j->ij_nr &&
		    si.instruction_pointer == j->ij_at + 2) {
			entered = 1;
			fprintf(stderr, "%d entered %s\n", (int)j->ij_pid,
				name);
		} else if (si.op == PTRACE_SYSCALL_INFO_EXIT && entered) {
			if (inj_seccomp_pending(j))
				return inj_refused(j, name);
			return inj_returned(j, name, si.exit.rval);
		}
	}
	fprintf(stderr, "%d never ran %s\n", (int)j->ij_pid, name);
	return 1;
}

static int
inj_run(struct inj *j, const char *name)
{
	int n;

	for (n = 0; n < INJ_TRIES && inj_catch(j) == -1; n++)
		usleep(10000);
	if (n == INJ_TRIES) {
		fprintf(stderr, "%d never waited in a system call\n",
			(int)j->ij_pid);
		return 1;
	}
	if (inj_place(j) == -1) {
		fprintf(stderr, "cannot write below the stack pointer: %s\n",
			strerror(errno));
		return 1;
	}
	if (inj_load(j) == -1) {
		fprintf(stderr, "cannot set registers: %s\n", strerror(errno));
		return 1;
	}
	return inj_follow(j, name);
}

/* Appends n bytes to the memory arguments: their offset, or -1. */
static long long
inj_mem_add(struct inj *j, const void *p, size_t n)
{
	size_t at = (j->ij_memlen + 15) & ~(size_t)15;

	if (at + n > INJ_MEM_MAX)
		return -1;
	memcpy(j->ij_mem + at, p, n);
	j->ij_memlen = at + n;
	return (long long)at;
}

static long long
inj_mem_hex(struct inj *j, const char *hex)
{
	unsigned char b[INJ_MEM_MAX];
	size_t n = strlen(hex) / 2;
	unsigned v;

	if (strlen(hex) % 2 != 0 || n > sizeof(b))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		b[i] = (unsigned char)v;
	}
	return inj_mem_add(j, b, n);
}

/* One ARG (see the head of this file) into argument i: 0, or -1. */
static int
inj_arg(struct inj *j, int i, const char *arg)
{
	static const unsigned char zeros[INJ_MEM_MAX];
	long long off;
	char *end;

	if (strncmp(arg, "zero:", 5) == 0) {
		unsigned long n = strtoul(arg + 5, &end, 0);

		off = *end || n > INJ_MEM_MAX ? -1 : inj_mem_add(j, zeros, n);
	} else if (strncmp(arg, "hex:", 4) == 0) {
		off = inj_mem_hex(j, arg + 4);
	} else if (strncmp(arg, "str:", 4) == 0) {
		off = inj_mem_add(j, arg + 4, strlen(arg + 4) + 1);
	} else {
		errno = 0;
		j->ij_args[i] = strtoull(arg, &end, 0);
		return errno == 0 && *arg && !*end ? 0 : -1;
	}
	if (off < 0)
		return -1;
	j->ij_args[i] = (unsigned long long)off;
	j->ij_argmem[i] = 1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct inj j;

	if (argc < 3 || argc > 9) {
		fprintf(stderr, "usage: inject_syscall PID NAME [ARG...]\n");
		return 2;
	}
	memset(&j, 0, sizeof(j));
	j.ij_pid = (pid_t)atoi(argv[1]);
	j.ij_nr = seccomp_syscall_resolve_name(argv[2]);
	if (j.ij_pid <= 0 || j.ij_nr < 0) {
		fprintf(stderr, "bad pid %s or system call %s\n", argv[1],
			argv[2]);
		return 2;
	}
	for (int i = 3; i < argc; i++) {
		if (inj_arg(&j, i - 3, argv[i]) == -1) {
			fprintf(stderr, "bad argument %s\n", argv[i]);
			return 2;
		}
	}
	alarm(INJ_TIMEOUT);
	return inj_run(&j, argv[2]);
}

#else

int
main(void)
{
	printf("inject_syscall: x86_64 only\n");
	return 77;
}

#endif
