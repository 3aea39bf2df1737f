/* Logging to stderr or syslog, with levels. */
#ifndef PROFD_LOG_H
#define PROFD_LOG_H

enum log_level {
	LOGL_ERROR = 0,
	LOGL_WARN = 1,
	LOGL_INFO = 2,
	LOGL_DEBUG = 3,
};

#define PRINTFLIKE(a, b) __attribute__((format(printf, a, b)))

/* Sets the program name, the destination, and the most verbose level. */
void log_init(const char *prog, int use_syslog, int level);
/* Returns the current level. */
int log_level(void);
/* Logs at a level; lines above the current level are dropped. */
void log_error(const char *fmt, ...) PRINTFLIKE(1, 2);
void log_warn(const char *fmt, ...) PRINTFLIKE(1, 2);
void log_info(const char *fmt, ...) PRINTFLIKE(1, 2);
void log_debug(const char *fmt, ...) PRINTFLIKE(1, 2);
/* Logs one line that program prog wrote (a worker's output), as it is
 * but with control characters escaped; its "error: " or "warning: " tag
 * picks the syslog priority. Not filtered by level: prog filtered it. */
void log_relay(const char *prog, const char *line);
/* Logs an error and exits with status 1. */
void fatal(const char *fmt, ...) PRINTFLIKE(1, 2) __attribute__((noreturn));

#endif
