/*
 * fault_worker: a TEST-ONLY worker, built by `make check` and never
 * installed. It misbehaves on purpose (--fault MODE) once profiling
 * starts, so the tests can prove that profd enforces each limit: memory,
 * process count, seccomp, restart backoff, the stop deadline, and the
 * rejection of messages that do not decode or are over the size limit. Before
 * that it completes hello, configure and started like any worker.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "worker.h"

#define FAULT_HOG_BLOCK	     (4u << 20)	 /* bytes allocated per step */
#define FAULT_HOG_STEP_MS    20		 /* between two blocks */
#define FAULT_BOMB_RETRY_MS  10		 /* after a failed fork or thread */
#define FAULT_BOMB_STACK     (64u << 10) /* bytes, each bomb thread */
#define FAULT_DELAY_MS	     200 /* before the forbidden call, garbage */
#define FAULT_CRASH_MS	     300 /* after start, crash-loop exits */
#define FAULT_CRASH_STATUS   3
#define FAULT_UNSTOPPED_EXIT 99 /* the forbidden syscall returned */
#define FAULT_GARBAGE_BYTES  64
#define FAULT_SLOW_START_MS  6000	 /* slow-start: configure to started */
#define FAULT_BIG_BYTES	     (4u << 20)	 /* big-message: over IPC_CTL_MAX */
#define FAULT_NEAR_BYTES     (60u << 10) /* near-limit: under IPC_CTL_MAX */
#define FAULT_MODES                                                            \
	"none, memory-hog, fork-bomb, forbidden-syscall, crash-loop, "         \
	"hang-on-stop, garbage, big-message, near-limit or slow-start"

struct fault {
	const char *f_name;
	void *(*f_thread)(void *); /* misbehaves from po_start, or NULL */
	int f_hang;		   /* ignores SIGTERM; po_stop never returns */
	int f_slow;		   /* po_start takes FAULT_SLOW_START_MS */
};

static const struct fault *fault_mode; /* from --fault */
static void *volatile fault_hog_list;  /* keeps every block reachable */

/* memory-hog: 4 MiB touched every 20 ms, never freed (~200 MB/s). */
static void *
fault_memory_hog(void *arg)
{
	void **block;

	(void)arg;
	for (;;) {
		if ((block = malloc(FAULT_HOG_BLOCK)) != NULL) {
			memset(block, 0xa5, FAULT_HOG_BLOCK);
			*block = fault_hog_list;
			fault_hog_list = block;
		}
		sleep_ms(FAULT_HOG_STEP_MS);
	}
	return NULL; /* not reached */
}

static void *
fault_idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL; /* not reached */
}

static void fault_child(pid_t parent) __attribute__((noreturn));

/* A bomb child: dies with the thread that forked it, else waits. */
static void
fault_child(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	for (;;)
		pause();
}

/* Adds one child and one thread; 0, or -1 when either failed. */
static int
fault_spawn(pid_t self, const pthread_attr_t *attr)
{
	pthread_t t;
	pid_t pid;
	int rv = 0;

	if ((pid = fork()) == 0)
		fault_child(self);
	if (pid == -1)
		rv = -1;
	if (pthread_create(&t, attr, fault_idle, NULL) != 0)
		rv = -1;
	return rv;
}

/* fork-bomb: children and threads as fast as possible, forever. */
static void *
fault_fork_bomb(void *arg)
{
	pthread_attr_t attr;
	pid_t self = getpid();

	(void)arg;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, FAULT_BOMB_STACK);
	for (;;)
		if (fault_spawn(self, &attr) == -1)
			sleep_ms(FAULT_BOMB_RETRY_MS);
	return NULL; /* not reached */
}

/* forbidden-syscall: chroot is in no allowlist, so seccomp kills the
 * process with SIGSYS (without CAP_SYS_CHROOT it would fail anyway). */
static void *
fault_forbidden_syscall(void *arg)
{
	(void)arg;
	sleep_ms(FAULT_DELAY_MS);
	syscall(SYS_chroot, "/");
	log_error("chroot returned (%s): the sandbox did not stop it",
		  strerror(errno));
	_exit(FAULT_UNSTOPPED_EXIT);
}

/* crash-loop: dies soon after every start. */
static void *
fault_crash_loop(void *arg)
{
	(void)arg;
	sleep_ms(FAULT_CRASH_MS);
	_exit(FAULT_CRASH_STATUS);
}

/* garbage: one message to profd that can never decode, then carries on. */
static void *
fault_garbage(void *arg)
{
	struct worker_ctx *ctx = arg;
	unsigned char buf[FAULT_GARBAGE_BYTES];
	int rv;

	sleep_ms(FAULT_DELAY_MS);
	if (nng_socket_id(ctx->wc_ctl) < 0) {
		log_info("standalone: no control socket to send garbage on");
		return NULL;
	}
	memset(buf, 0, sizeof(buf));
	(void)getrandom(buf, sizeof(buf), 0);
	/* Wire type 7 does not exist: random bytes that happen to decode
	 * would make the test flaky. */
	buf[0] = (unsigned char)((buf[0] & 0x78) | 0x07);
	if ((rv = nng_send(ctx->wc_ctl, buf, sizeof(buf), 0)) != 0)
		log_error("cannot send garbage: %s", nng_strerror(rv));
	return NULL;
}

/* Sends len bytes that never decode on the control channel. */
static void
fault_send_undecodable(struct worker_ctx *ctx, size_t len)
{
	unsigned char *buf;
	int rv;

	sleep_ms(FAULT_DELAY_MS);
	if (nng_socket_id(ctx->wc_ctl) < 0) {
		log_info("standalone: no control socket to send on");
		return;
	}
	if ((buf = calloc(1, len)) == NULL) {
		log_error("cannot allocate %zu bytes", len);
		return;
	}
	buf[0] = 0x07; /* field 0, wire type 7: neither exists */
	log_info("sending a message of %zu bytes to profd", len);
	if ((rv = nng_send(ctx->wc_ctl, buf, len, 0)) != 0)
		log_error("cannot send %zu bytes: %s", len, nng_strerror(rv));
	free(buf);
}

/* big-message: 4 MiB on the control channel, whose limit is 64 KiB. */
static void *
fault_big_message(void *arg)
{
	fault_send_undecodable(arg, FAULT_BIG_BYTES);
	return NULL;
}

/* near-limit: 60 KiB on the control channel: arrives, does not decode. */
static void *
fault_near_limit(void *arg)
{
	fault_send_undecodable(arg, FAULT_NEAR_BYTES);
	return NULL;
}

static const struct fault faults[] = {
    {"none", NULL, 0, 0},
    {"memory-hog", fault_memory_hog, 0, 0},
    {"fork-bomb", fault_fork_bomb, 0, 0},
    {"forbidden-syscall", fault_forbidden_syscall, 0, 0},
    {"crash-loop", fault_crash_loop, 0, 0},
    {"hang-on-stop", NULL, 1, 0},
    {"garbage", fault_garbage, 0, 0},
    {"big-message", fault_big_message, 0, 0},
    {"near-limit", fault_near_limit, 0, 0},
    {"slow-start", NULL, 0, 1},
    {NULL, NULL, 0, 0},
};

static const int fault_caps[] = {-1};

/* pause: bomb children and threads, hang-on-stop; rmdir: the shell
 * removes its standalone scratch directory at exit. */
static const char *const fault_syscalls[] = {
    "pause",
    "rmdir",
    NULL,
};

/* The parent-death signal of the bomb's children. */
static const int fault_prctls[] = {PR_SET_PDEATHSIG, -1};

static const struct sandbox_policy fault_policy = {
    .sp_name = "fault",
    .sp_caps = fault_caps,
    .sp_syscalls = fault_syscalls,
    .sp_prctls = fault_prctls,
    .sp_unix_only = 1,
};

enum {
	OPT_FAULT = 2000,
};

static const struct option fault_longopts[] = {
    {"fault", required_argument, NULL, OPT_FAULT},
    {NULL, 0, NULL, 0},
};

static int
fault_option(struct worker_ctx *ctx, int opt, const char *arg)
{
	(void)ctx;
	if (opt != OPT_FAULT)
		return -1;
	for (const struct fault *f = faults; f->f_name != NULL; f++) {
		if (strcmp(arg, f->f_name) == 0) {
			fault_mode = f;
			return 0;
		}
	}
	return worker_badarg("--fault", arg, FAULT_MODES);
}

static int
fault_ignore_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1) {
		log_error("cannot ignore SIGTERM: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
fault_start(struct worker_ctx *ctx)
{
	const struct fault *f = fault_mode;
	pthread_t t;
	int rv;

	if (f == NULL) {
		log_error("no --fault MODE given");
		return -1;
	}
	log_info("misbehaving from now on: %s", f->f_name);
	if (f->f_hang && fault_ignore_signals() == -1)
		return -1;
	if (f->f_slow)
		sleep_ms(FAULT_SLOW_START_MS);
	if (f->f_thread == NULL)
		return 0;
	if ((rv = pthread_create(&t, NULL, f->f_thread, ctx)) != 0) {
		log_error("cannot start the %s thread: %s", f->f_name,
			  strerror(rv));
		return -1;
	}
	pthread_detach(t);
	return 0;
}

/* Every window is empty: a chunk is still sent for it. */
static int
fault_snapshot(struct worker_ctx *ctx, uint64_t window, struct stack_table *t)
{
	(void)ctx;
	(void)window;
	(void)t;
	return 0;
}

static void
fault_stop(struct worker_ctx *ctx)
{
	(void)ctx;
	if (fault_mode == NULL || !fault_mode->f_hang)
		return;
	log_info("hanging in stop; only SIGKILL ends this");
	for (;;)
		pause();
}

/* po_option sees only options that are given: a missing --fault is
 * caught before worker_main. 1 if --fault (or help) is present. */
static int
fault_given(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--fault") == 0 ||
		    strncmp(argv[i], "--fault=", 8) == 0 ||
		    strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "--version") == 0)
			return 1;
	}
	return 0;
}

static const struct profiler_ops fault_ops = {
    .po_name = "fault",
    .po_policy = &fault_policy,
    .po_start = fault_start,
    .po_snapshot = fault_snapshot,
    .po_stop = fault_stop,
    .po_longopts = fault_longopts,
    .po_option = fault_option,
    .po_usage = "\n       --fault none|memory-hog|fork-bomb|forbidden-syscall|"
		"\n               crash-loop|hang-on-stop|garbage|big-message|"
		"\n               near-limit"
		"\n(test-only: misbehaves on purpose once profiling starts)",
};

int
main(int argc, char **argv)
{
	if (!fault_given(argc, argv)) {
		fprintf(stderr, "%s: missing --fault: expected %s\n",
			program_invocation_short_name, FAULT_MODES);
		return 2;
	}
	return worker_main(argc, argv, &fault_ops);
}
