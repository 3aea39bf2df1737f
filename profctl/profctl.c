/* profctl: ask a running profd for worker status, start, stop and limits. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nng/nng.h>

#include "ipc.h"
#include "json.h"
#include "log.h"
#include "pbmsg.h"
#include "util.h"

#define CTL_DEFAULT_DIR	    "/run/profd"
#define CTL_SOCK_NAME	    "control.sock"
#define CTL_DEFAULT_TIMEOUT 10	 /* seconds */
#define CTL_MAX_TIMEOUT	    3600 /* seconds */
#define CTL_SUN_PATH_MAX    107	 /* bytes in a socket path, without NUL */

/* Exit statuses. */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAIL = 1,
	CTL_EXIT_USAGE = 2,
};

struct ctl_opts {
	const char *co_dir;
	int co_timeout; /* seconds */
	int co_json;
	Profd__CtlRequest co_req;
};

/* A command: its name, operation, and whether it takes a worker name. */
struct ctl_cmd {
	const char *cc_name;
	Profd__CtlRequest__Op cc_op;
	int cc_worker;
};

static const struct ctl_cmd ctl_cmds[] = {
    {"status", PROFD__CTL_REQUEST__OP__STATUS, 0},
    {"start", PROFD__CTL_REQUEST__OP__START, 1},
    {"stop", PROFD__CTL_REQUEST__OP__STOP, 1},
    {"restart", PROFD__CTL_REQUEST__OP__RESTART, 1},
    {"set", PROFD__CTL_REQUEST__OP__SET, 1},
    {"reload", PROFD__CTL_REQUEST__OP__RELOAD, 0},
};

/* A setting of `set`: its key, and how its value parses (0 or -1). */
struct ctl_key {
	const char *ck_name;
	int (*ck_parse)(const char *s, uint64_t *out);
	const char *ck_what; /* the accepted values, for the error */
};

static int ctl_parse_mem_max(const char *s, uint64_t *out);
static int ctl_parse_mem_high(const char *s, uint64_t *out);
static int ctl_parse_pids(const char *s, uint64_t *out);

static const struct ctl_key ctl_keys[] = {
    {"memory-max", ctl_parse_mem_max,
     "bytes with an optional K, M or G suffix, at "
     "least " PROFD_MEM_MAX_MIN_WORD},
    {"memory-high", ctl_parse_mem_high,
     "bytes with an optional K, M or G suffix, at "
     "least " PROFD_MEM_HIGH_MIN_WORD},
    {"pids-max", ctl_parse_pids, "a number from " PROFD_TASKS_RANGE},
};

#define CTL_NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
ctl_usage(FILE *f)
{
	fprintf(f, "usage: profctl [--runtime-dir DIR] [--timeout SECONDS] "
		   "COMMAND\n"
		   "commands:\n"
		   "  status [--json]              show profd's workers\n"
		   "  start WORKER                 start a worker\n"
		   "  stop WORKER                  stop a worker\n"
		   "  restart WORKER               stop, then start a worker\n"
		   "  set WORKER memory-max SIZE   hard memory limit "
		   "(K, M, G; at least 1M)\n"
		   "  set WORKER memory-high SIZE  soft memory limit "
		   "(K, M, G; at least 1M)\n"
		   "  set WORKER pids-max N        processes and threads "
		   "(" PROFD_TASKS_RANGE ")\n"
		   "  reload                       re-read the configuration "
		   "file\n"
		   "See profctl(8).\n");
}

static int ctl_bad_usage(const char *fmt, ...) PRINTFLIKE(1, 2);

/* Reports a usage error: the reason on one line, then the usage; -1. */
static int
ctl_bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("profctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ctl_usage(stderr);
	return -1;
}

static int
ctl_parse_mem_max(const char *s, uint64_t *out)
{
	return parse_size(s, out) == 0 && *out >= PROFD_MEM_MAX_MIN ? 0 : -1;
}

static int
ctl_parse_mem_high(const char *s, uint64_t *out)
{
	return parse_size(s, out) == 0 && *out >= PROFD_MEM_HIGH_MIN ? 0 : -1;
}

static int
ctl_parse_pids(const char *s, uint64_t *out)
{
	return parse_u64(s, 1, PROFD_TASKS_MAX, out);
}

/* The command called name, or NULL. */
static const struct ctl_cmd *
ctl_find_cmd(const char *name)
{
	for (size_t i = 0; i < CTL_NELEM(ctl_cmds); i++)
		if (strcmp(ctl_cmds[i].cc_name, name) == 0)
			return &ctl_cmds[i];
	return NULL;
}

static const struct ctl_key *
ctl_find_key(const char *name)
{
	for (size_t i = 0; i < CTL_NELEM(ctl_keys); i++)
		if (strcmp(ctl_keys[i].ck_name, name) == 0)
			return &ctl_keys[i];
	return NULL;
}

/* Parses `set`'s KEY VALUE into the request. */
static int
ctl_parse_set(struct ctl_opts *o, char **argv, int argc)
{
	const struct ctl_key *k;

	if (argc < 2)
		return ctl_bad_usage("set: missing %s", argc ? "value" : "key");
	if ((k = ctl_find_key(argv[0])) == NULL)
		return ctl_bad_usage("set: unknown setting '%s' (memory-max, "
				     "memory-high or pids-max)",
				     argv[0]);
	if (k->ck_parse(argv[1], &o->co_req.value) == -1)
		return ctl_bad_usage("set: bad value '%s' for %s (%s)", argv[1],
				     k->ck_name, k->ck_what);
	if (argc > 2)
		return ctl_bad_usage("set: extra argument '%s'", argv[2]);
	o->co_req.key = (char *)k->ck_name;
	return 0;
}

/* Parses the arguments after a command that takes no worker. */
static int
ctl_parse_plain(struct ctl_opts *o, const struct ctl_cmd *c, char **argv,
		int argc)
{
	int i = 0;

	if (c->cc_op == PROFD__CTL_REQUEST__OP__STATUS && argc > 0 &&
	    strcmp(argv[0], "--json") == 0) {
		o->co_json = 1;
		i++;
	}
	if (i < argc)
		return ctl_bad_usage("%s: extra argument '%s'", c->cc_name,
				     argv[i]);
	return 0;
}

/* Parses COMMAND [ARG...] into the request. */
static int
ctl_parse_cmd(struct ctl_opts *o, char **argv, int argc)
{
	const struct ctl_cmd *c;

	if (argc == 0)
		return ctl_bad_usage("missing command");
	if ((c = ctl_find_cmd(argv[0])) == NULL)
		return ctl_bad_usage("unknown command '%s'", argv[0]);
	o->co_req.op = c->cc_op;
	if (!c->cc_worker)
		return ctl_parse_plain(o, c, argv + 1, argc - 1);
	if (argc < 2)
		return ctl_bad_usage("%s: missing worker name", c->cc_name);
	if (!worker_name_ok(argv[1]))
		return ctl_bad_usage(
		    "bad worker name '%s' (" PROFD_NAME_RULE ")", argv[1]);
	o->co_req.worker = argv[1];
	if (c->cc_op == PROFD__CTL_REQUEST__OP__SET)
		return ctl_parse_set(o, argv + 2, argc - 2);
	if (argc > 2)
		return ctl_bad_usage("%s: extra argument '%s'", c->cc_name,
				     argv[2]);
	return 0;
}

static int
ctl_parse_timeout(struct ctl_opts *o, const char *s)
{
	uint64_t v;

	if (parse_u64(s, 1, CTL_MAX_TIMEOUT, &v) == -1)
		return ctl_bad_usage("--timeout: '%s' is not a number of "
				     "seconds from 1 to 3600",
				     s);
	o->co_timeout = (int)v;
	return 0;
}

static int
ctl_parse_dir(struct ctl_opts *o, const char *s)
{
	if (s[0] != '/')
		return ctl_bad_usage("--runtime-dir: '%s' is not an absolute "
				     "path",
				     s);
	if (strlen(s) + sizeof("/" CTL_SOCK_NAME) - 1 > CTL_SUN_PATH_MAX)
		return ctl_bad_usage("--runtime-dir: '%s' is too long", s);
	o->co_dir = s;
	return 0;
}

/* Parses the command line; 1 when done (help, version), -1 on error. */
static int
ctl_parse_args(struct ctl_opts *o, int argc, char **argv)
{
	enum { OPT_RUNDIR = 256, OPT_TIMEOUT, OPT_VERSION };
	static const struct option lopts[] = {
	    {"runtime-dir", required_argument, NULL, OPT_RUNDIR},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "+h", lopts, NULL)) != -1) {
		switch (c) {
		case OPT_RUNDIR:
			if (ctl_parse_dir(o, optarg) == -1)
				return -1;
			break;
		case OPT_TIMEOUT:
			if (ctl_parse_timeout(o, optarg) == -1)
				return -1;
			break;
		case 'h':
			ctl_usage(stdout);
			return 1;
		case OPT_VERSION:
			printf("profctl %s\n", PACKAGE_VERSION);
			return 1;
		default:
			ctl_usage(stderr);
			return -1;
		}
	}
	return ctl_parse_cmd(o, argv + optind, argc - optind);
}

static void
ctl_denied(const char *path)
{
	fprintf(stderr,
		"profctl: permission denied: only root and members of group "
		"profd may use profctl (%s)\n",
		path);
}

/* Checks that the control socket exists and that we may connect to it. */
static int
ctl_check_sock(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			fprintf(stderr,
				"profctl: profd is not running (no %s)\n",
				path);
		else if (errno == EACCES)
			ctl_denied(path);
		else
			fprintf(stderr, "profctl: %s: %s\n", path,
				strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "profctl: %s is not a socket\n", path);
		return -1;
	}
	/* Connecting to a socket needs write permission on it. */
	if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == -1) {
		if (errno == EACCES)
			ctl_denied(path);
		else
			fprintf(stderr, "profctl: %s: %s\n", path,
				strerror(errno));
		return -1;
	}
	return 0;
}

/* Explains a failure to connect to path. */
static void
ctl_dial_error(const char *path, int rv)
{
	switch (rv) {
	case NNG_ENOENT:
		fprintf(stderr, "profctl: profd is not running (no %s)\n",
			path);
		break;
	case NNG_ECONNREFUSED:
		fprintf(stderr,
			"profctl: profd is not running (nothing listens on "
			"%s)\n",
			path);
		break;
	case NNG_EPERM:
		ctl_denied(path);
		break;
	default:
		fprintf(stderr, "profctl: cannot connect to %s: %s\n", path,
			nng_strerror(rv));
	}
}

static char ctl_alarm_msg[64];
static size_t ctl_alarm_len;

/* Ends profctl when profd does not answer the handshake in time. */
static void
ctl_on_alarm(int sig)
{
	ssize_t n = write(STDERR_FILENO, ctl_alarm_msg, ctl_alarm_len);

	(void)sig;
	(void)n;
	_exit(CTL_EXIT_FAIL);
}

/* Bounds a synchronous nng_dial, which waits for the peer's handshake
 * without a time limit (a stopped profd accepts but never answers). */
static void
ctl_arm_alarm(int seconds)
{
	struct sigaction sa = {.sa_handler = ctl_on_alarm};
	int n;

	n = snprintf(ctl_alarm_msg, sizeof(ctl_alarm_msg),
		     "profctl: no answer from profd within %d s\n", seconds);
	ctl_alarm_len = n > 0 ? (size_t)n : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned)seconds);
}

/* Explains a failure to send the request or receive the reply. */
static void
ctl_talk_error(const struct ctl_opts *o, int rv)
{
	if (rv == NNG_ETIMEDOUT)
		fprintf(stderr, "profctl: no answer from profd within %d s\n",
			o->co_timeout);
	else if (rv == -1)
		fputs("profctl: bad answer from profd\n", stderr);
	else
		fprintf(stderr, "profctl: cannot talk to profd: %s\n",
			nng_strerror(rv));
}

/* Sends the request and receives the reply within the timeout; NULL
 * with *rv set to an nng error, or -1 when the reply does not decode. */
static Profd__CtlReply *
ctl_exchange(nng_socket s, const struct ctl_opts *o, int *rv)
{
	int64_t deadline = now_ms() + (int64_t)o->co_timeout * 1000;
	int64_t left;

	if ((*rv = ipc_send_pb(s, &o->co_req.base)) != 0)
		return NULL;
	if ((left = deadline - now_ms()) <= 0) {
		*rv = NNG_ETIMEDOUT;
		return NULL;
	}
	if ((*rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, left)) != 0)
		return NULL;
	return (Profd__CtlReply *)ipc_recv_pb(s, &profd__ctl_reply__descriptor,
					      0, rv);
}

/* Sends the request and returns the reply, or NULL after saying why. */
static Profd__CtlReply *
ctl_call(const struct ctl_opts *o)
{
	char path[IPC_URL_MAX], url[IPC_URL_MAX];
	Profd__CtlReply *r = NULL;
	nng_socket s;
	int rv;

	snprintf(path, sizeof(path), "%s/%s", o->co_dir, CTL_SOCK_NAME);
	if (ipc_url(url, sizeof(url), o->co_dir, CTL_SOCK_NAME) == -1) {
		fprintf(stderr, "profctl: %s: path too long\n", o->co_dir);
		return NULL;
	}
	if (ctl_check_sock(path) == -1)
		return NULL;
	if ((rv = ipc_open(&s, IPC_REQ, IPC_CTL_MAX, o->co_timeout * 1000))) {
		fprintf(stderr, "profctl: %s\n", nng_strerror(rv));
		return NULL;
	}
	/* Synchronous, so that a refused connection is told at once; no
	 * probe connection, which would break nng 1.5.2's listener. */
	ctl_arm_alarm(o->co_timeout);
	rv = ipc_dial(s, url, 0);
	alarm(0);
	if (rv != 0)
		ctl_dial_error(path, rv);
	else if ((r = ctl_exchange(s, o, &rv)) == NULL)
		ctl_talk_error(o, rv);
	nng_close(s);
	return r;
}

/* Returns the length of the printable character at s[0..len), or 0 for
 * a control character (C0, DEL, C1) or a byte that is not valid UTF-8. */
static size_t
ctl_char_len(const unsigned char *s, size_t len)
{
	size_t n = json_utf8_len(s, len);

	if (n == 1 && (s[0] < 0x20 || s[0] == 0x7f))
		return 0;
	if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return 0;
	return n;
}

/* Writes s to f (when f is not NULL) with '?' for each control character
 * or invalid byte, safe for a terminal; returns the characters written. */
static size_t
ctl_put_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), chars = 0;

	while (left > 0) {
		size_t n = ctl_char_len(p, left);

		if (f != NULL && n == 0)
			fputc('?', f);
		else if (f != NULL)
			fwrite(p, 1, n, f);
		n = n ? n : 1;
		p += n;
		left -= n;
		chars++;
	}
	return chars;
}

/* Returns s, or "-" when s is empty. */
static const char *
ctl_or_dash(const char *s)
{
	return s[0] != '\0' ? s : "-";
}

/* Writes s, or "-" when it is empty, left-aligned in a column of width,
 * then a space. */
static void
ctl_put_col(const char *s, size_t width)
{
	size_t n = ctl_put_text(stdout, ctl_or_dash(s));

	printf("%*s", (int)(n < width ? width - n : 0) + 1, "");
}

/* Formats n bytes as 512, 4K, 12.3M or 2G; "-" for 0. */
static void
ctl_fmt_size(char *buf, size_t len, uint64_t n)
{
	static const char units[] = "KMGTPE";
	uint64_t unit = 1024;
	size_t u = 0;

	if (n == 0) {
		snprintf(buf, len, "-");
		return;
	}
	if (n < 1024) {
		snprintf(buf, len, "%llu", (unsigned long long)n);
		return;
	}
	/* Go up a unit while the value would print as 1024.0 or more. */
	while (units[u + 1] != '\0' && (double)n / (double)unit >= 1023.95) {
		unit *= 1024;
		u++;
	}
	if (n % unit == 0)
		snprintf(buf, len, "%llu%c", (unsigned long long)(n / unit),
			 units[u]);
	else
		snprintf(buf, len, "%.1f%c", (double)n / (double)unit,
			 units[u]);
}

/* Formats n in decimal; "-" for 0. */
static void
ctl_fmt_num(char *buf, size_t len, uint64_t n)
{
	if (n == 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%llu", (unsigned long long)n);
}

/* Widths of the text columns of the status table, in characters. */
struct ctl_widths {
	size_t cw_name;
	size_t cw_state;
	size_t cw_exit;
};

/* Widens w to fit the worker's text columns. */
static void
ctl_widen(struct ctl_widths *w, const Profd__WorkerStatus *s)
{
	size_t n;

	if ((n = ctl_put_text(NULL, s->name)) > w->cw_name)
		w->cw_name = n;
	if ((n = ctl_put_text(NULL, s->state)) > w->cw_state)
		w->cw_state = n;
	if ((n = ctl_put_text(NULL, ctl_or_dash(s->last_exit))) > w->cw_exit)
		w->cw_exit = n;
}

static void
ctl_print_worker(const struct ctl_widths *cw, const Profd__WorkerStatus *w)
{
	char pid[24], rss[24], mmax[24], pmax[24], smp[24], lost[24];

	ctl_fmt_num(pid, sizeof(pid), w->pid);
	ctl_fmt_size(rss, sizeof(rss), w->rss_bytes);
	ctl_fmt_size(mmax, sizeof(mmax), w->memory_max);
	ctl_fmt_num(pmax, sizeof(pmax), w->pids_max);
	ctl_fmt_num(smp, sizeof(smp), w->window_samples);
	/* A window with samples shows its lost ones, 0 too. */
	if (w->window_samples > 0)
		snprintf(lost, sizeof(lost), "%llu",
			 (unsigned long long)w->window_lost);
	else
		ctl_fmt_num(lost, sizeof(lost), w->window_lost);
	ctl_put_col(w->name, cw->cw_name);
	ctl_put_col(w->state, cw->cw_state);
	printf("%7s %8u ", pid, w->restarts);
	ctl_put_col(w->last_exit, cw->cw_exit);
	printf("%7s %10s %8s %8s %8s\n", rss, mmax, pmax, smp, lost);
}

static void
ctl_print_text(const Profd__CtlReply *r)
{
	struct ctl_widths cw = {8, 8, 12};

	for (size_t i = 0; i < r->n_workers; i++)
		ctl_widen(&cw, r->workers[i]);
	fputs("cgroups: ", stdout);
	ctl_put_text(stdout, ctl_or_dash(r->cgroup_mode));
	putchar('\n');
	printf("%-*s %-*s %7s %8s %-*s %7s %10s %8s %8s %8s\n", (int)cw.cw_name,
	       "NAME", (int)cw.cw_state, "STATE", "PID", "RESTARTS",
	       (int)cw.cw_exit, "LAST_EXIT", "RSS", "MEMORY_MAX", "PIDS_MAX",
	       "SAMPLES", "LOST");
	for (size_t i = 0; i < r->n_workers; i++)
		ctl_print_worker(&cw, r->workers[i]);
}

/* Writes last_exit: null when empty, a number for an exit code, else a
 * string such as "SIGKILL" or "memory-limit". */
static void
ctl_json_last_exit(const char *s)
{
	uint64_t code;

	if (s[0] == '\0')
		fputs("null", stdout);
	else if (parse_u64(s, 0, UINT32_MAX, &code) == 0)
		printf("%llu", (unsigned long long)code);
	else
		json_put_string(stdout, s);
}

static void
ctl_json_worker(const Profd__WorkerStatus *w)
{
	fputs("{\"name\":", stdout);
	json_put_string(stdout, w->name);
	fputs(",\"state\":", stdout);
	json_put_string(stdout, w->state);
	printf(",\"pid\":%u,\"restarts\":%u,\"last_exit\":", w->pid,
	       w->restarts);
	ctl_json_last_exit(w->last_exit);
	printf(",\"rss_bytes\":%llu,\"memory_max\":%llu,\"memory_high\":%llu,"
	       "\"pids_max\":%llu,\"enabled\":%s,\"window_samples\":%llu,"
	       "\"window_lost\":%llu}",
	       (unsigned long long)w->rss_bytes,
	       (unsigned long long)w->memory_max,
	       (unsigned long long)w->memory_high,
	       (unsigned long long)w->pids_max, w->enabled ? "true" : "false",
	       (unsigned long long)w->window_samples,
	       (unsigned long long)w->window_lost);
}

static void
ctl_print_json(const Profd__CtlReply *r)
{
	fputs("{\"cgroup_mode\":", stdout);
	json_put_string(stdout, r->cgroup_mode);
	fputs(",\"workers\":[", stdout);
	for (size_t i = 0; i < r->n_workers; i++) {
		if (i > 0)
			putchar(',');
		ctl_json_worker(r->workers[i]);
	}
	fputs("]}\n", stdout);
}

/* Flushes standard output; returns the exit status. */
static int
ctl_flush(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr,
			"profctl: cannot write to standard output: "
			"%s\n",
			strerror(errno));
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

/* Reports the reply; returns the exit status. */
static int
ctl_report(const struct ctl_opts *o, const Profd__CtlReply *r)
{
	if (!r->ok) {
		fputs("profctl: ", stderr);
		ctl_put_text(stderr, r->error[0] != '\0'
					 ? r->error
					 : "profd refused the request");
		fputc('\n', stderr);
		return CTL_EXIT_FAIL;
	}
	if (o->co_req.op != PROFD__CTL_REQUEST__OP__STATUS)
		return CTL_EXIT_OK;
	if (o->co_json)
		ctl_print_json(r);
	else
		ctl_print_text(r);
	return ctl_flush();
}

int
main(int argc, char **argv)
{
	struct ctl_opts o = {
	    .co_dir = CTL_DEFAULT_DIR,
	    .co_timeout = CTL_DEFAULT_TIMEOUT,
	    .co_req = PROFD__CTL_REQUEST__INIT,
	};
	Profd__CtlReply *r;
	int rv;

	if ((rv = ctl_parse_args(&o, argc, argv)) != 0)
		return rv > 0 ? ctl_flush() : CTL_EXIT_USAGE;
	if ((r = ctl_call(&o)) == NULL)
		return CTL_EXIT_FAIL;
	rv = ctl_report(&o, r);
	pbmsg_free(&r->base);
	return rv;
}
