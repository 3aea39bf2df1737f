/* Delivery of spooled windows to the backends, in order, with backoff. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sender.h"
#include "util.h"

static const struct backend_ops *const backends[] = {
    &studio_ops,
    &pyroscope_ops,
};
#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

size_t
sender_queues(const struct net_conf *c, const char **names)
{
	size_t n = 0;

	for (size_t i = 0; i < NBACKENDS && n < SPOOL_MAX_QUEUES; i++)
		if (backends[i]->bo_enabled(c))
			names[n++] = backends[i]->bo_name;
	names[n] = NULL;
	return n;
}

int
sender_url(char *buf, size_t len, const char *base, const char *path)
{
	size_t n = strlen(base);
	int w;

	while (n > 0 && base[n - 1] == '/')
		n--;
	w = snprintf(buf, len, "%.*s%s", (int)n, base, path);
	return w < 0 || (size_t)w >= len ? -1 : 0;
}

int
sender_should_stop(void *arg)
{
	struct sender *s = arg;
	int64_t until;

	pthread_mutex_lock(&s->sn_lock);
	until = s->sn_drain_until;
	pthread_mutex_unlock(&s->sn_lock);
	return until != 0 && now_ms() >= until;
}

static void
sender_failed(struct sender *s, struct backend *b, uint64_t window)
{
	int64_t max = (int64_t)s->sn_conf->nc_retry_max_s * 1000;

	b->b_backoff_ms =
	    b->b_backoff_ms == 0 ? SENDER_BACKOFF_MIN_MS : b->b_backoff_ms * 2;
	if (b->b_backoff_ms > max)
		b->b_backoff_ms = max;
	b->b_next_ms = now_ms() + b->b_backoff_ms;
	if (b->b_failures++ == 0)
		log_warn("%s: window %" PRIu64 " kept in the spool; retrying "
			 "with backoff",
			 b->b_ops->bo_name, window);
	else
		log_info("%s: attempt %" PRIu64 " failed; next in %" PRId64
			 " ms",
			 b->b_ops->bo_name, b->b_failures, b->b_backoff_ms);
}

static void
sender_delivered(struct backend *b, uint64_t window)
{
	if (b->b_failures > 0)
		log_warn("%s: delivering again after %" PRIu64
			 " failed attempts",
			 b->b_ops->bo_name, b->b_failures);
	b->b_failures = 0;
	b->b_backoff_ms = 0;
	b->b_next_ms = 0;
	b->b_sent++;
	log_info("%s: window %" PRIu64 " delivered", b->b_ops->bo_name, window);
}

/* Tries the oldest window of b's queue. 1 when it made progress, 0 when
 * the queue is empty or the attempt failed. */
static int
sender_try(struct sender *s, struct backend *b)
{
	struct spool_entry e;
	enum send_result r;
	int rv;

	if ((rv = spool_head(s->sn_spool, b->b_queue, &e)) <= 0)
		return 0;
	r = b->b_ops->bo_send(s, b, &e);
	spool_entry_close(&e);
	if (r == SEND_RETRY) {
		sender_failed(s, b, e.se_meta.wm_window);
		return 0;
	}
	if (r == SEND_REJECT) {
		b->b_rejected++;
		spool_reject(s->sn_spool, b->b_queue, e.se_seq, b->b_reason);
	} else
		spool_remove(s->sn_spool, b->b_queue, e.se_seq);
	if (r == SEND_OK)
		sender_delivered(b, e.se_meta.wm_window);
	return 1;
}

/* One pass over the backends. Returns 1 when some made progress; else
 * stores in *wait_ms how long nothing can happen. */
static int
sender_pass(struct sender *s, int64_t *wait_ms)
{
	int64_t now = now_ms();
	int progress = 0;

	*wait_ms = 60000;
	for (size_t i = 0; i < s->sn_nb; i++) {
		struct backend *b = &s->sn_b[i];

		if (b->b_next_ms > now) {
			if (b->b_next_ms - now < *wait_ms)
				*wait_ms = b->b_next_ms - now;
			continue;
		}
		if (sender_try(s, b))
			progress = 1;
		else if (b->b_next_ms > now && b->b_next_ms - now < *wait_ms)
			*wait_ms = b->b_next_ms - now;
	}
	return progress;
}

/* Waits up to ms for a kick or a stop. Returns 1 when stopping. */
static int
sender_wait(struct sender *s, int64_t ms)
{
	struct timespec ts;
	int stopping;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->sn_lock);
	while (!s->sn_kicked && s->sn_drain_until == 0 &&
	       pthread_cond_timedwait(&s->sn_cond, &s->sn_lock, &ts) == 0)
		;
	s->sn_kicked = 0;
	stopping = s->sn_drain_until != 0;
	pthread_mutex_unlock(&s->sn_lock);
	return stopping;
}

static void *
sender_main(void *arg)
{
	struct sender *s = arg;
	int64_t wait_ms;

	for (size_t i = 0; i < s->sn_nb; i++)
		if (s->sn_b[i].b_ops->bo_check != NULL)
			s->sn_b[i].b_ops->bo_check(s, &s->sn_b[i]);
	for (;;) {
		if (sender_pass(s, &wait_ms))
			continue;
		/* Nothing to do now: stop if asked, else wait. */
		if (sender_should_stop(s) || sender_wait(s, wait_ms)) {
			if (sender_should_stop(s) || !sender_pass(s, &wait_ms))
				break;
		}
	}
	return NULL;
}

int
sender_start(struct sender *s, struct net_conf *c, struct spool *sp)
{
	const char *names[SPOOL_MAX_QUEUES + 1];
	size_t n = sender_queues(c, names);

	memset(s, 0, sizeof(*s));
	s->sn_conf = c;
	s->sn_spool = sp;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < NBACKENDS; k++)
			if (strcmp(backends[k]->bo_name, names[i]) == 0)
				s->sn_b[i].b_ops = backends[k];
		s->sn_b[i].b_queue = i;
		snprintf(s->sn_b[i].b_gpid, SENDER_GPID_MAX, "\"\"");
	}
	s->sn_nb = n;
	if (thread_start(&s->sn_thread, &s->sn_lock, &s->sn_cond, sender_main,
			 s) == -1) {
		log_error("cannot start the delivery thread: %s",
			  strerror(errno));
		return -1;
	}
	s->sn_running = 1;
	return 0;
}

void
sender_kick(struct sender *s)
{
	pthread_mutex_lock(&s->sn_lock);
	s->sn_kicked = 1;
	pthread_cond_signal(&s->sn_cond);
	pthread_mutex_unlock(&s->sn_lock);
}

size_t
sender_stop(struct sender *s, int64_t drain_ms)
{
	size_t left = 0;

	if (!s->sn_running)
		return 0;
	pthread_mutex_lock(&s->sn_lock);
	s->sn_drain_until = now_ms() + (drain_ms > 0 ? drain_ms : 1);
	pthread_cond_signal(&s->sn_cond);
	pthread_mutex_unlock(&s->sn_lock);
	pthread_join(s->sn_thread, NULL);
	s->sn_running = 0;
	for (size_t i = 0; i < s->sn_nb; i++) {
		size_t n = spool_count(s->sn_spool, s->sn_b[i].b_queue);

		if (n > 0)
			log_warn("%s: %zu windows left in the spool %s, for "
				 "the next run",
				 s->sn_b[i].b_ops->bo_name, n,
				 s->sn_spool->sp_dir);
		if (s->sn_b[i].b_rejected > 0)
			log_warn(
			    "%s: %" PRIu64 " windows refused by the server, "
			    "kept in %s/" SPOOL_REJECTED "/%s",
			    s->sn_b[i].b_ops->bo_name, s->sn_b[i].b_rejected,
			    s->sn_spool->sp_dir, s->sn_b[i].b_ops->bo_name);
		left += n + s->sn_b[i].b_rejected;
	}
	pthread_cond_destroy(&s->sn_cond);
	pthread_mutex_destroy(&s->sn_lock);
	return left;
}
