/* Small helpers: number parsing, clocks, file descriptors. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s)) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int
parse_pids(const char *s, uint32_t *pids, size_t max, size_t *n)
{
	char buf[16];
	const char *p = s;
	uint64_t v;

	*n = 0;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");

		if (len == 0 || len >= sizeof(buf)) {
			errno = EINVAL;
			return -1;
		}
		memcpy(buf, p, len);
		buf[len] = '\0';
		if (parse_u64(buf, 1, PROFD_PID_MAX, &v) == -1)
			return -1;
		if (*n >= max) {
			errno = E2BIG;
			return -1;
		}
		pids[(*n)++] = (uint32_t)v;
		p += len;
		if (*p == ',' && *++p == '\0') {
			errno = EINVAL;
			return -1;
		}
	}
	if (*n == 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
parse_size(const char *s, uint64_t *out)
{
	char buf[32];
	size_t len = strlen(s);
	unsigned shift = 0;

	if (len == 0 || len >= sizeof(buf)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(buf, s, len + 1);
	switch (buf[len - 1]) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	}
	if (shift)
		buf[len - 1] = '\0';
	if (parse_u64(buf, 0, UINT64_MAX >> shift, out) == -1)
		return -1;
	*out <<= shift;
	return 0;
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sleep_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void
fmt_iso8601(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
thread_start(pthread_t *t, pthread_mutex_t *lock, pthread_cond_t *cond,
	     void *(*fn)(void *), void *arg)
{
	pthread_condattr_t ca;

	pthread_mutex_init(lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((errno = pthread_create(t, NULL, fn, arg)) != 0) {
		pthread_cond_destroy(cond);
		pthread_mutex_destroy(lock);
		return -1;
	}
	return 0;
}

void
close_from(int lowfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0) == 0)
		return;
#endif
	for (int fd = lowfd; fd < 65536; fd++)
		(void)close(fd);
}

int
worker_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= PROFD_NAME_MAX &&
	       strspn(name, PROFD_NAME_CHARS) == len;
}
