/* Logging to stderr or syslog. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static const char *log_prog = "profd";
static int log_syslog;
static int log_lvl = LOGL_INFO;

void
log_init(const char *prog, int use_syslog, int level)
{
	log_prog = prog;
	log_syslog = use_syslog;
	log_lvl = level;
	if (use_syslog)
		openlog(prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_level(void)
{
	return log_lvl;
}

/* Copies src into dst (of len bytes) with every byte outside printable
 * ASCII written as \xNN. */
static void
log_escape(char *dst, size_t len, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (const unsigned char *c = (const unsigned char *)src;
	     *c != '\0' && n + 5 < len; c++) {
		if (*c >= 0x20 && *c < 0x7f) {
			dst[n++] = (char)*c;
			continue;
		}
		dst[n++] = '\\';
		dst[n++] = 'x';
		dst[n++] = hex[*c >> 4];
		dst[n++] = hex[*c & 15];
	}
	dst[n] = '\0';
}

static void
log_vemit(int level, const char *fmt, va_list ap)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	static const char *const tag[] = {"error: ", "warning: ", "", ""};
	char line[2048], esc[4096];
	int saved = errno;

	if (level > log_lvl)
		return;
	/* Outside text (process names, server answers) goes into lines:
	 * none may forge a line or reach a terminal as control codes. */
	vsnprintf(line, sizeof(line), fmt, ap);
	log_escape(esc, sizeof(esc), line);
	if (log_syslog)
		syslog(prio[level], "%s", esc);
	else
		fprintf(stderr, "%s: %s%s\n", log_prog, tag[level], esc);
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
