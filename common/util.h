/* Small helpers: number parsing, clocks, file descriptors, threads. */
#ifndef PROFD_UTIL_H
#define PROFD_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "profd_limits.h"

/* Parses a decimal integer in [min, max] into *out; -1 with errno EINVAL
 * (not a number, trailing text) or ERANGE (out of range). */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Parses "P[,P...]" into pids[0..max); -1 with errno EINVAL (malformed),
 * ERANGE (a PID out of 1 to PROFD_PID_MAX) or E2BIG (more than max). */
int parse_pids(const char *s, uint32_t *pids, size_t max, size_t *n);
/* Parses a size with an optional K, M or G suffix (powers of 1024). */
int parse_size(const char *s, uint64_t *out);
/* Returns CLOCK_MONOTONIC in milliseconds. */
int64_t now_ms(void);
/* Sleeps ms milliseconds, resuming after signals. */
void sleep_ms(int64_t ms);
/* Formats unix time t as ISO 8601 UTC into buf. */
void fmt_iso8601(int64_t t, char *buf, size_t len);
/* Writes all of buf to fd; -1 on error. */
int write_all(int fd, const void *buf, size_t len);
/* Closes every fd >= lowfd; async-signal-safe. */
void close_from(int lowfd);
/* Initialises lock and cond (on CLOCK_MONOTONIC, for timed waits against
 * now_ms) and starts fn(arg) in *t; 0, or -1 with errno and nothing left
 * initialised. */
int thread_start(pthread_t *t, pthread_mutex_t *lock, pthread_cond_t *cond,
		 void *(*fn)(void *), void *arg);

/* Whether name is a worker's name: PROFD_NAME_RULE. */
int worker_name_ok(const char *name);

#endif
