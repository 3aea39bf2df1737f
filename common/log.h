/* Logging to stderr or syslog, with levels. */
#ifndef PROFD_LOG_H
#define PROFD_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level {
	LOGL_ERROR = 0,
	LOGL_WARN = 1,
	LOGL_INFO = 2,
	LOGL_DEBUG = 3,
};

#define PRINTFLIKE(a, b) __attribute__((format(printf, a, b)))
#define LOG_LINE_MAX	 2048 /* bytes of one line before escaping */

/* Sets the program name, the destination, and the most verbose level. */
void log_init(const char *prog, int use_syslog, int level);
/* Also writes every line to path (opened O_NOFOLLOW, mode 0640), moving
 * it to path.1 ... path.BACKUPS when it would pass max_bytes (0: never);
 * 0, or -1 with errno. */
int log_file(const char *path, uint64_t max_bytes, unsigned backups);
/* Closes the log file. */
void log_file_close(void);
/* Logs at a level; lines above the current level are dropped. */
void log_error(const char *fmt, ...) PRINTFLIKE(1, 2);
void log_warn(const char *fmt, ...) PRINTFLIKE(1, 2);
void log_info(const char *fmt, ...) PRINTFLIKE(1, 2);
void log_debug(const char *fmt, ...) PRINTFLIKE(1, 2);
/* Copies src into dst (len bytes, NUL-terminated), every byte that is not
 * printable ASCII or part of valid UTF-8 (C1 controls excluded) written as
 * \xNN, so that no string can end a log line or drive a terminal; stops
 * before an escape would not fit. Returns the length written. Every log
 * line goes through it. */
size_t log_escape(char *dst, size_t len, const char *src);
/* Logs one line that program prog wrote (a worker's output), as it is
 * but with control characters escaped; its "error: " or "warning: " tag
 * picks the syslog priority. Not filtered by level: prog filtered it. */
void log_relay(const char *prog, const char *line);
/* Logs an error and exits with status 1. */
void fatal(const char *fmt, ...) PRINTFLIKE(1, 2) __attribute__((noreturn));
/* Logs a broken invariant as an error and aborts, in every build. */
void fatalx(const char *fmt, ...) PRINTFLIKE(1, 2) __attribute__((noreturn));

#endif
