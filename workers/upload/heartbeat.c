/*
 * Heartbeat: every interval, POST /api/metrics/heartbeat; an answer with
 * a new command becomes a RemoteCommand to profd, which checks it and
 * acts; profd's CommandDone becomes POST /api/metrics/command_completion.
 * This file parses the server's JSON; profd sees only the few fields.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hb_parse.h"
#include "heartbeat.h"
#include "ipc.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define HB_PATH	      "/api/metrics/heartbeat"
#define HB_COMPLETION "/api/metrics/command_completion"

const char *
heartbeat_server(const struct net_conf *c)
{
	return c->nc_api_server != NULL ? c->nc_api_server : c->nc_server;
}

/* Adds id to a ring of remembered ids. */
static void
hb_remember(char ids[HB_IDS][HB_ID_MAX + 1], unsigned *n, const char *id)
{
	snprintf(ids[*n % HB_IDS], HB_ID_MAX + 1, "%s", id);
	(*n)++;
}

static int
hb_known(char ids[HB_IDS][HB_ID_MAX + 1], unsigned n, const char *id)
{
	for (unsigned i = 0; i < n && i < HB_IDS; i++)
		if (strcmp(ids[i], id) == 0)
			return 1;
	return 0;
}

static void
hb_put_ids(FILE *f, char ids[HB_IDS][HB_ID_MAX + 1], unsigned n)
{
	fputc('[', f);
	for (unsigned i = 0; i < n && i < HB_IDS; i++) {
		fputs(i ? ", " : "", f);
		json_put_string(f, ids[i]);
	}
	fputc(']', f);
}

/* The heartbeat's JSON body (called with the lock held). */
static char *
hb_body(struct heartbeat *h, size_t *len)
{
	char now[32], *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f == NULL)
		return NULL;
	fmt_iso8601(time(NULL), now, sizeof(now));
	fputs("{\"ip_address\": ", f);
	json_put_string(f, h->hb_ip);
	fputs(", \"hostname\": ", f);
	json_put_string(f, h->hb_conf->nc_hostname);
	fputs(", \"service_name\": ", f);
	json_put_string(f, h->hb_conf->nc_service);
	fputs(", \"last_command_id\": ", f);
	if (h->hb_last[0] != '\0')
		json_put_string(f, h->hb_last);
	else
		fputs("null", f);
	fprintf(f,
		", \"status\": \"active\", \"timestamp\": \"%s\", "
		"\"received_command_ids\": ",
		now);
	hb_put_ids(f, h->hb_received, h->hb_nreceived);
	fputs(", \"executed_command_ids\": ", f);
	hb_put_ids(f, h->hb_executed, h->hb_nexecuted);
	fputc('}', f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Ends a request when the thread is told to stop. */
static int
hb_should_stop(void *arg)
{
	struct heartbeat *h = arg;
	int stop;

	pthread_mutex_lock(&h->hb_lock);
	stop = h->hb_stop;
	pthread_mutex_unlock(&h->hb_lock);
	return stop;
}

/* POSTs body as JSON to path on the API server (--api-server, else the
 * server host), without a query: gProfiler's heartbeat URLs carry none,
 * and the token goes only in the header. 0 on a 2xx answer (in rs). */
static int
hb_post(struct heartbeat *h, const char *path, const char *body, size_t len,
	struct http_resp *rs)
{
	struct http_req rq = {"POST",	    NULL, NULL, body, len,
			      HB_TIMEOUT_S, NULL, NULL, NULL};
	struct http_headers hdr;
	char url[HTTP_URL_MAX];
	int rv = -1;

	if (sender_url(url, sizeof(url), heartbeat_server(h->hb_conf), path) ==
	    -1) {
		log_error("heartbeat: the API server URL is too long");
		return -1;
	}
	memset(&hdr, 0, sizeof(hdr));
	rq.hq_url = url;
	rq.hq_stop = hb_should_stop;
	rq.hq_stop_arg = h;
	rq.hq_headers = &hdr;
	rq.hq_auth = "Authorization: Bearer "; /* + the token, in the child */
	if (http_header_add(&hdr, "Content-Type: application/json") == -1 ||
	    http_header_add(&hdr, "Expect:") == -1)
		log_error("heartbeat: cannot make the request's headers");
	else if (http_do(&rq, rs) == -1)
		log_info("heartbeat: %s: %s", path, rs->hr_error);
	else if (rs->hr_status < 200 || rs->hr_status > 299)
		log_info("heartbeat: %s: HTTP %ld", path, rs->hr_status);
	else
		rv = 0;
	explicit_bzero(url, sizeof(url));
	http_headers_clear(&hdr);
	return rv;
}

/* Queues a completion (lock held); the oldest goes when full. */
static void
hb_queue_done(struct heartbeat *h, const char *id, int ok, const char *error)
{
	struct hb_done *d;
	int64_t start = 0;

	if (h->hb_ndone == HB_QUEUE) {
		log_warn("heartbeat: completion of %s not reported (queue "
			 "full)",
			 h->hb_done[0].hd_id);
		memmove(h->hb_done, h->hb_done + 1,
			sizeof(h->hb_done[0]) * (HB_QUEUE - 1));
		h->hb_ndone--;
	}
	for (unsigned i = 0; i < HB_IDS; i++)
		if (strcmp(h->hb_sent[i].hs_id, id) == 0) {
			start = h->hb_sent[i].hs_ms;
			h->hb_sent[i].hs_id[0] = '\0';
		}
	d = &h->hb_done[h->hb_ndone++];
	memset(d, 0, sizeof(*d));
	snprintf(d->hd_id, sizeof(d->hd_id), "%s", id);
	d->hd_ok = ok;
	snprintf(d->hd_error, sizeof(d->hd_error), "%s", error ? error : "");
	d->hd_seconds = start ? (double)(now_ms() - start) / 1000.0 : 0;
	if (!hb_known(h->hb_executed, h->hb_nexecuted, id))
		hb_remember(h->hb_executed, &h->hb_nexecuted, id);
	pthread_cond_signal(&h->hb_cond);
}

void
heartbeat_done(struct heartbeat *h, const Profd__CommandDone *d)
{
	if (!h->hb_running)
		return;
	pthread_mutex_lock(&h->hb_lock);
	if (heartbeat_id_ok(d->id))
		hb_queue_done(h, d->id, d->ok, d->error);
	else
		log_warn("heartbeat: profd refused a command: %.200s",
			 d->error);
	pthread_mutex_unlock(&h->hb_lock);
}

/* Reports the first queued completion; 0, or -1 to try again later. */
static int
hb_report_one(struct heartbeat *h)
{
	static struct http_resp rs;
	struct hb_done d;
	char *buf = NULL;
	size_t len;
	FILE *f;
	int rv = -1;

	pthread_mutex_lock(&h->hb_lock);
	if (h->hb_ndone == 0) {
		pthread_mutex_unlock(&h->hb_lock);
		return 1;
	}
	d = h->hb_done[0];
	pthread_mutex_unlock(&h->hb_lock);
	if ((f = open_memstream(&buf, &len)) == NULL)
		return -1;
	fputs("{\"command_id\": ", f);
	json_put_string(f, d.hd_id);
	fputs(", \"hostname\": ", f);
	json_put_string(f, h->hb_conf->nc_hostname);
	/* The Studio's model takes whole seconds. */
	fprintf(f,
		", \"status\": \"%s\", \"execution_time\": %lld, "
		"\"error_message\": ",
		d.hd_ok ? "completed" : "failed",
		(long long)(d.hd_seconds + 0.5));
	if (d.hd_error[0] != '\0')
		json_put_string(f, d.hd_error);
	else
		fputs("null", f);
	fputc('}', f);
	if (fclose(f) == 0)
		rv = hb_post(h, HB_COMPLETION, buf, len, &rs);
	free(buf);
	pthread_mutex_lock(&h->hb_lock);
	if (rv == 0 || ++h->hb_done[0].hd_tries >= HB_TRIES) {
		if (rv == -1)
			log_warn("heartbeat: completion of %s not reported "
				 "after %d attempts",
				 d.hd_id, HB_TRIES);
		memmove(h->hb_done, h->hb_done + 1,
			sizeof(h->hb_done[0]) * (HB_QUEUE - 1));
		h->hb_ndone--;
	}
	pthread_mutex_unlock(&h->hb_lock);
	return rv;
}

/* Passes a parsed command to profd (lock held). */
static void
hb_pass(struct heartbeat *h, Profd__RemoteCommand *c)
{
	Profd__Control m = PROFD__CONTROL__INIT;
	int rv;

	m.body_case = PROFD__CONTROL__BODY_COMMAND;
	m.command = c;
	for (unsigned i = 0; i < HB_IDS; i++)
		if (h->hb_sent[i].hs_id[0] == '\0') {
			snprintf(h->hb_sent[i].hs_id, HB_ID_MAX + 1, "%s",
				 c->id);
			h->hb_sent[i].hs_ms = now_ms();
			break;
		}
	log_info("heartbeat: command %s (%s) passed to profd", c->id,
		 c->kind == PROFD__REMOTE_COMMAND__KIND__STOP ? "stop"
							      : "start");
	if ((rv = ipc_send_pb(h->hb_ctl, &m.base)) != 0)
		hb_queue_done(h, c->id, 0, "profd cannot be reached");
}

/* Acts on a heartbeat answer: a new command goes to profd once. A start
 * for other hosts (target_hostnames) is not passed on; it is reported
 * completed with the reason, as gProfiler reports it. */
static void
hb_answer(struct heartbeat *h, const struct http_resp *rs)
{
	static struct hb_cmd c;
	enum hb_parsed rv;

	if (rs->hr_len >= HTTP_ANSWER_MAX) {
		log_warn("heartbeat: an answer of %u bytes or more was "
			 "ignored",
			 HTTP_ANSWER_MAX);
		return;
	}
	rv = heartbeat_parse(rs->hr_body, rs->hr_len, h->hb_conf->nc_hostname,
			     &c);
	if (rv == HB_NONE || (rv == HB_REFUSED && c.hc_id[0] == '\0')) {
		if (rv == HB_REFUSED)
			log_warn("heartbeat: a command was ignored: %s",
				 c.hc_err);
		return;
	}
	pthread_mutex_lock(&h->hb_lock);
	if (hb_known(h->hb_received, h->hb_nreceived, c.hc_id)) {
		pthread_mutex_unlock(&h->hb_lock);
		log_debug("heartbeat: command %s already received", c.hc_id);
		return;
	}
	hb_remember(h->hb_received, &h->hb_nreceived, c.hc_id);
	snprintf(h->hb_last, sizeof(h->hb_last), "%s", c.hc_id);
	if (rv == HB_ELSEWHERE)
		log_info("heartbeat: command %s ignored: %s (%s)", c.hc_id,
			 c.hc_err, h->hb_conf->nc_hostname);
	if (rv == HB_COMMAND)
		hb_pass(h, &c.hc_c);
	else
		hb_queue_done(h, c.hc_id, rv == HB_ELSEWHERE, c.hc_err);
	pthread_mutex_unlock(&h->hb_lock);
}

static void
hb_beat(struct heartbeat *h)
{
	static struct http_resp rs;
	size_t len;
	char *body;

	pthread_mutex_lock(&h->hb_lock);
	body = hb_body(h, &len);
	pthread_mutex_unlock(&h->hb_lock);
	if (body == NULL)
		return;
	if (hb_post(h, HB_PATH, body, len, &rs) == 0)
		hb_answer(h, &rs);
	if (rs.hr_local_ip[0] != '\0')
		snprintf(h->hb_ip, sizeof(h->hb_ip), "%s", rs.hr_local_ip);
	free(body);
}

/* Waits until due_ms, a stop, or (if wake) a completion to report;
 * 1 to stop. */
static int
hb_wait(struct heartbeat *h, int64_t due_ms, int wake)
{
	struct timespec ts;
	int64_t ms = due_ms - now_ms();
	int stop;

	if (ms < 0)
		ms = 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&h->hb_lock);
	while (!h->hb_stop && !(wake && h->hb_ndone > 0) &&
	       pthread_cond_timedwait(&h->hb_cond, &h->hb_lock, &ts) == 0)
		;
	stop = h->hb_stop;
	pthread_mutex_unlock(&h->hb_lock);
	return stop;
}

static void *
hb_main(void *arg)
{
	struct heartbeat *h = arg;
	int64_t due = now_ms();

	int rv;

	for (;;) {
		/* Completions first; after a failed report, the next beat. */
		while ((rv = hb_report_one(h)) == 0)
			;
		if (now_ms() >= due) {
			hb_beat(h);
			due = now_ms() + (int64_t)h->hb_interval_s * 1000;
		}
		if (hb_wait(h, due, rv != -1))
			break;
	}
	return NULL;
}

int
heartbeat_start(struct heartbeat *h, struct net_conf *c, nng_socket ctl,
		uint32_t interval_s)
{
	memset(h, 0, sizeof(*h));
	h->hb_conf = c;
	h->hb_ctl = ctl;
	h->hb_interval_s = interval_s ? interval_s : HB_INTERVAL_S;
	if (thread_start(&h->hb_thread, &h->hb_lock, &h->hb_cond, hb_main, h) ==
	    -1) {
		log_error("cannot start the heartbeat thread: %s",
			  strerror(errno));
		return -1;
	}
	h->hb_running = 1;
	log_info("heartbeat: polling %s every %u s", heartbeat_server(c),
		 h->hb_interval_s);
	return 0;
}

void
heartbeat_stop(struct heartbeat *h)
{
	if (!h->hb_running)
		return;
	pthread_mutex_lock(&h->hb_lock);
	h->hb_stop = 1;
	pthread_cond_signal(&h->hb_cond);
	pthread_mutex_unlock(&h->hb_lock);
	pthread_join(h->hb_thread, NULL);
	h->hb_running = 0;
	pthread_cond_destroy(&h->hb_cond);
	pthread_mutex_destroy(&h->hb_lock);
}
