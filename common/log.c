/* Logging to stderr or syslog. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_prog = "profd";
static int log_syslog;
static int log_lvl = LOGL_INFO;

/* The log file (--log-file): its path, size bound and backups kept. */
static struct {
	const char *lf_path;
	int lf_fd;
	uint64_t lf_max, lf_size;
	unsigned lf_backups;
} log_f = {NULL, -1, 0, 0, 0};

static int
log_file_open(void)
{
	struct stat st;

	log_f.lf_fd = open(log_f.lf_path,
			   O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
			       O_NOFOLLOW | O_NOCTTY | O_NONBLOCK,
			   0640);
	if (log_f.lf_fd == -1)
		return -1;
	if (fstat(log_f.lf_fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(log_f.lf_fd);
		log_f.lf_fd = -1;
		errno = EINVAL;
		return -1;
	}
	log_f.lf_size = (uint64_t)st.st_size;
	return 0;
}

int
log_file(const char *path, uint64_t max_bytes, unsigned backups)
{
	log_f.lf_path = path;
	log_f.lf_max = max_bytes;
	log_f.lf_backups = backups;
	return log_file_open();
}

/* Renames path.N-1 to path.N ... path to path.1 and starts afresh, as a
 * rotating log does; with no backups kept the file is never rotated. */
static void
log_file_rotate(void)
{
	char from[4200], to[4200];

	if (log_f.lf_backups == 0)
		return;
	close(log_f.lf_fd);
	log_f.lf_fd = -1;
	for (unsigned i = log_f.lf_backups; i > 0; i--) {
		snprintf(to, sizeof(to), "%s.%u", log_f.lf_path, i);
		if (i == 1)
			snprintf(from, sizeof(from), "%s", log_f.lf_path);
		else
			snprintf(from, sizeof(from), "%s.%u", log_f.lf_path,
				 i - 1);
		rename(from, to);
	}
	log_file_open();
}

static void
log_file_write(const char *prog, const char *tag, const char *line)
{
	char buf[4 * LOG_LINE_MAX + 160], when[32];
	struct tm tm;
	time_t t = time(NULL);
	int n;

	if (log_f.lf_fd == -1)
		return;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	n = snprintf(buf, sizeof(buf), "[%s] %s: %s%s\n", when, prog, tag,
		     line);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1, buf[n - 1] = '\n';
	if (log_f.lf_max > 0 && log_f.lf_size + (uint64_t)n > log_f.lf_max)
		log_file_rotate();
	if (log_f.lf_fd != -1 && write(log_f.lf_fd, buf, (size_t)n) == n)
		log_f.lf_size += (uint64_t)n;
}

void
log_file_close(void)
{
	if (log_f.lf_fd != -1)
		close(log_f.lf_fd);
	log_f.lf_fd = -1;
}

void
log_init(const char *prog, int use_syslog, int level)
{
	log_prog = prog;
	log_syslog = use_syslog;
	log_lvl = level;
	if (use_syslog)
		openlog(prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* The length of the valid UTF-8 sequence of two to four bytes at s that
 * is no C1 control (U+0080-U+009F), or 0. */
static size_t
log_utf8_len(const unsigned char *s)
{
	uint32_t c;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07u;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
		c = c << 6 | (s[i] & 0x3fu);
	}
	if (c < 0xa0 || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0; /* C1, overlong, surrogate or out of range */
	return n;
}

size_t
log_escape(char *dst, size_t len, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, n;

	if (len == 0)
		return 0;
	while (*s != '\0') {
		if (*s >= 0x20 && *s < 0x7f)
			n = 1;
		else
			n = log_utf8_len(s);
		if (n == 0) {
			if (o + 4 >= len)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[*s >> 4];
			dst[o++] = hex[*s & 0xf];
			s++;
			continue;
		}
		if (o + n >= len)
			break;
		for (size_t i = 0; i < n; i++)
			dst[o++] = (char)*s++;
	}
	dst[o] = '\0';
	return o;
}

static void
log_vemit(int level, const char *fmt, va_list ap)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	static const char *const tag[] = {"error: ", "warning: ", "", ""};
	char line[LOG_LINE_MAX], safe[4 * LOG_LINE_MAX];
	int saved = errno;

	if (level > log_lvl)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	log_escape(safe, sizeof(safe), line);
	log_file_write(log_prog, tag[level], safe);
	if (log_syslog)
		syslog(prio[level], "%s", safe);
	else
		fprintf(stderr, "%s: %s%s\n", log_prog, tag[level], safe);
	errno = saved;
}

#define LOG_FN(name, level)                                                    \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vemit(level, fmt, ap);                                     \
		va_end(ap);                                                    \
	}

LOG_FN(log_error, LOGL_ERROR)
LOG_FN(log_warn, LOGL_WARN)
LOG_FN(log_info, LOGL_INFO)
LOG_FN(log_debug, LOGL_DEBUG)

void
log_relay(const char *prog, const char *line)
{
	char esc[4096];
	int prio = LOG_INFO;
	int saved = errno;

	if (strncmp(line, "error: ", 7) == 0)
		prio = LOG_ERR;
	else if (strncmp(line, "warning: ", 9) == 0)
		prio = LOG_WARNING;
	log_escape(esc, sizeof(esc), line);
	log_file_write(prog, "", esc);
	if (log_syslog)
		syslog(prio, "%s: %s", prog, esc);
	else
		fprintf(stderr, "%s: %s\n", prog, esc);
	errno = saved;
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOGL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOGL_ERROR, fmt, ap);
	va_end(ap);
	abort();
}
