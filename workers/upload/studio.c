/* The gProfiler Performance Studio backend: POST /api/v2/profiles. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gzbuf.h"
#include "json.h"
#include "log.h"
#include "sender.h"
#include "util.h"

#define STUDIO_HEALTH	"/api/v1/health_check"
#define STUDIO_PROFILES "/api/v2/profiles"
#define STUDIO_TRIES	6 /* attempts to trim a window under the limit */
#define STUDIO_MSG_MAX	160

/* Which stacks of a window are sent when it must be trimmed: those with
 * more than tr_thr samples, and the first tr_eq with exactly tr_thr. */
struct trim {
	int tr_on;
	uint64_t tr_thr;
	uint64_t tr_eq;
	uint64_t tr_lines, tr_kept, tr_samples, tr_kept_samples;
};

static int
studio_enabled(const struct net_conf *c)
{
	return c->nc_server != NULL;
}

/* The API key goes in its header only (the server reads it there): a
 * URL lands in proxies' logs. */
int
studio_url(char *url, size_t len, const struct net_conf *c, const char *path,
	   int with_version)
{
	char now[32];

	fmt_iso8601(time(NULL), now, sizeof(now));
	if (sender_url(url, len, c->nc_server, path) == -1 ||
	    http_query_add(url, len, "service", c->nc_service) == -1 ||
	    http_query_add(url, len, "hostname", c->nc_hostname) == -1 ||
	    http_query_add(url, len, "timestamp", now) == -1 ||
	    (with_version &&
	     http_query_add(url, len, "version", PACKAGE_VERSION) == -1)) {
		log_error("studio: the server URL is too long");
		return -1;
	}
	return 0;
}

/* The API key (added by the request's child from secret memory), the
 * service name and, for a POST, the body's type. */
static int
studio_headers(struct http_req *rq, struct http_headers *h,
	       const struct net_conf *c, int post)
{
	memset(h, 0, sizeof(*h));
	rq->hq_auth = "GPROFILER-API-KEY: ";
	if (http_header_add(h, "GPROFILER-SERVICE-NAME: %s", c->nc_service) ==
	    -1)
		return -1;
	if (post &&
	    (http_header_add(h, "Content-Encoding: gzip") == -1 ||
	     http_header_add(h, "Content-Type: application/json") == -1 ||
	     http_header_add(h, "Expect:") == -1))
		return -1;
	return 0;
}

/* Copies the JSON string value of key in an answer, made printable, into
 * out; "" when there is none. */
static void
json_find_string(const char *body, const char *key, char *out, size_t len)
{
	const char *p = strstr(body, key);
	size_t n = 0;

	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen(key);
	while (*p == ' ' || *p == ':' || *p == '\t')
		p++;
	if (*p++ != '"')
		return;
	while (*p != '\0' && *p != '"' && n + 1 < len) {
		out[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
		p++;
	}
	out[n] = '\0';
}

/* Keeps the gpid of a successful answer, as JSON, for the next upload. */
static void
studio_keep_gpid(struct backend *b, const char *body)
{
	const char *p = strstr(body, "\"gpid\"");
	char v[SENDER_GPID_MAX - 2];
	size_t n = 0;
	int quoted;

	if (p == NULL)
		return;
	p += 6;
	while (*p == ' ' || *p == ':' || *p == '\t')
		p++;
	if ((quoted = *p == '"'))
		p++;
	while (n + 1 < sizeof(v) &&
	       ((*p >= '0' && *p <= '9') ||
		(quoted && ((*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') || strchr("-_.", *p)))) &&
	       *p != '\0')
		v[n++] = *p++;
	v[n] = '\0';
	if (n == 0 || (quoted && *p != '"'))
		return;
	snprintf(b->b_gpid, sizeof(b->b_gpid), quoted ? "\"%s\"" : "%s", v);
}

/* Parses the count at the end of a collapsed line; 0 if none. */
static uint64_t
line_count(const char *line, size_t len)
{
	uint64_t v = 0, mul = 1;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	while (len > 0 && line[len - 1] >= '0' && line[len - 1] <= '9' &&
	       mul <= 1000000000000000000ull) {
		v += mul * (uint64_t)(line[len - 1] - '0');
		mul *= 10;
		len--;
	}
	return v;
}

/* Writes the profile of e, escaped for JSON, keeping what tr keeps. */
static int
studio_put_profile(FILE *out, struct spool_entry *e, struct trim *tr)
{
	char *line = NULL;
	size_t cap = 0;
	uint64_t eq = 0, count;
	ssize_t n;
	int rv = 0;

	if (fseek(e->se_f, e->se_body, SEEK_SET) == -1)
		return -1;
	tr->tr_lines = tr->tr_kept = tr->tr_samples = tr->tr_kept_samples = 0;
	while (rv == 0 && (n = getline(&line, &cap, e->se_f)) > 0) {
		if (line[0] != '#') {
			count = line_count(line, (size_t)n);
			tr->tr_lines++;
			tr->tr_samples += count;
			if (tr->tr_on &&
			    (count < tr->tr_thr ||
			     (count == tr->tr_thr && eq++ >= tr->tr_eq)))
				continue;
			tr->tr_kept++;
			tr->tr_kept_samples += count;
		}
		rv = json_put_chars(out, line, (size_t)n);
	}
	free(line);
	return rv == 0 && !ferror(e->se_f) ? 0 : -1;
}

static int
studio_body(FILE *f, struct sender *s, struct backend *b, struct spool_entry *e,
	    struct trim *tr)
{
	const struct window_meta *m = &e->se_meta;
	char start[32], end[32];

	fmt_iso8601(m->wm_start, start, sizeof(start));
	fmt_iso8601(m->wm_end, end, sizeof(end));
	fprintf(f,
		"{\"start_time\": \"%s\", \"end_time\": \"%s\", "
		"\"hostname\": ",
		start, end);
	json_put_string(f, s->sn_conf->nc_hostname);
	fputs(", \"profile\": \"", f);
	if (studio_put_profile(f, e, tr) == -1)
		return -1;
	if (output_gprofiler_flags() & OUTPUT_NO_METRICS)
		fputs("\", \"cpu_avg\": null, \"mem_avg\": null", f);
	else
		fprintf(f, "\", \"cpu_avg\": %.2f, \"mem_avg\": %.2f",
			m->wm_cpu_avg, m->wm_mem_avg);
	fprintf(f, ", \"spawn_time\": \"%s\", \"gpid\": %s}",
		s->sn_conf->nc_spawn_time, b->b_gpid);
	return 0;
}

/* Gzips the body into g; 0, or -1 with errno (E2BIG: over the limit). */
static int
studio_gzip(struct gzbuf *g, struct sender *s, struct backend *b,
	    struct spool_entry *e, struct trim *tr)
{
	FILE *f;
	int rv;

	if ((f = gzbuf_open(g, STUDIO_BODY_MAX)) == NULL)
		return -1;
	rv = studio_body(f, s, b, e, tr);
	if (gzbuf_finish(g) == -1 || rv == -1) {
		if (errno != E2BIG)
			errno = EIO;
		return -1;
	}
	return 0;
}

struct item {
	uint64_t it_count;
	uint64_t it_len;
};

static int
item_cmp_desc(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	return x->it_count > y->it_count ? -1 : x->it_count < y->it_count;
}

/* Reads the stacks' counts and lengths, most sampled first. */
static struct item *
studio_items(struct spool_entry *e, size_t *n)
{
	struct item *items = NULL, *p;
	size_t cap = 0, count = 0, lcap = 0;
	char *line = NULL;
	ssize_t len;

	if (fseek(e->se_f, e->se_body, SEEK_SET) == -1)
		return NULL;
	while ((len = getline(&line, &lcap, e->se_f)) > 0) {
		if (line[0] == '#')
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((p = realloc(items, cap * sizeof(*p))) == NULL) {
				free(items);
				free(line);
				return NULL;
			}
			items = p;
		}
		items[count].it_count = line_count(line, (size_t)len);
		items[count++].it_len = (uint64_t)len;
	}
	free(line);
	if (count > 1)
		qsort(items, count, sizeof(*items), item_cmp_desc);
	*n = count;
	return items;
}

/* Chooses the most sampled stacks that fit in raw bytes of text. */
static void
trim_choose(struct trim *tr, const struct item *items, size_t n, uint64_t raw)
{
	uint64_t used = 0;
	size_t k = 0;

	while (k < n && used + items[k].it_len <= raw)
		used += items[k++].it_len;
	tr->tr_on = 1;
	tr->tr_thr = k > 0 ? items[k - 1].it_count : UINT64_MAX;
	tr->tr_eq = 0;
	for (size_t i = 0; i < k; i++)
		if (items[i].it_count == tr->tr_thr)
			tr->tr_eq++;
}

/* Fits an over-large window under the limit by sending only its most
 * sampled stacks. */
static int
studio_trim(struct gzbuf *g, struct sender *s, struct backend *b,
	    struct spool_entry *e, struct trim *tr)
{
	double ratio =
	    g->gz_in > 0 ? (double)g->gz_len / (double)g->gz_in : 1.0;
	uint64_t raw = (uint64_t)(STUDIO_BODY_MAX * 0.9 / ratio);
	struct item *items;
	size_t n = 0;
	int rv = -1;

	gzbuf_free(g);
	if ((items = studio_items(e, &n)) == NULL)
		return -1;
	for (int i = 0; i < STUDIO_TRIES && rv == -1; i++, raw = raw * 7 / 10) {
		trim_choose(tr, items, n, raw);
		if ((rv = studio_gzip(g, s, b, e, tr)) == -1) {
			gzbuf_free(g);
			if (errno != E2BIG)
				break;
		}
	}
	free(items);
	if (rv == 0)
		log_warn("studio: window %" PRIu64 " is over %u bytes "
			 "compressed; sent its %" PRIu64
			 " most sampled of %" PRIu64 " stacks (%" PRIu64
			 " of %" PRIu64 " samples)",
			 e->se_meta.wm_window, STUDIO_BODY_MAX, tr->tr_kept,
			 tr->tr_lines, tr->tr_kept_samples, tr->tr_samples);
	return rv;
}

static enum send_result
studio_result(struct backend *b, const struct http_resp *rs, uint64_t win)
{
	char msg[STUDIO_MSG_MAX];
	long st = rs->hr_status;

	if (st >= 200 && st < 300) {
		studio_keep_gpid(b, rs->hr_body);
		return SEND_OK;
	}
	json_find_string(rs->hr_body, "\"message\"", msg, sizeof(msg));
	if (msg[0] == '\0') /* a validation error: {"detail": [{"msg": ..}]} */
		json_find_string(rs->hr_body, "\"msg\"", msg, sizeof(msg));
	if (st == 408 || st == 429 || st >= 500 || st == 401 || st == 403) {
		log_info("studio: window %" PRIu64 ": HTTP %ld %s", win, st,
			 msg);
		if (st == 401 || st == 403)
			log_error("studio: the server refuses the token (HTTP "
				  "%ld %s); windows stay in the spool",
				  st, msg);
		return SEND_RETRY;
	}
	snprintf(b->b_reason, sizeof(b->b_reason), "HTTP %ld: %s", st, msg);
	log_error("studio: the server refused window %" PRIu64
		  " for good (HTTP %ld %s); kept in the spool's " SPOOL_REJECTED
		  "/studio with the reason",
		  win, st, msg);
	return SEND_REJECT;
}

static enum send_result
studio_send(struct sender *s, struct backend *b, struct spool_entry *e)
{
	struct http_req rq = {"POST", NULL, NULL, NULL, 0, 0, NULL, NULL, NULL};
	static struct http_resp rs;
	struct http_headers hdr;
	struct trim tr = {0, 0, 0, 0, 0, 0, 0};
	char url[HTTP_URL_MAX];
	enum send_result r = SEND_RETRY;
	struct gzbuf g;

	if (studio_url(url, sizeof(url), s->sn_conf, STUDIO_PROFILES, 1))
		return SEND_RETRY;
	if (studio_gzip(&g, s, b, e, &tr) == -1 &&
	    (errno != E2BIG || studio_trim(&g, s, b, e, &tr) == -1)) {
		log_error("studio: cannot encode window %" PRIu64 ": %s",
			  e->se_meta.wm_window, strerror(errno));
		gzbuf_free(&g);
		return errno == ENOMEM ? SEND_RETRY : SEND_DROP;
	}
	rq.hq_url = url;
	rq.hq_body = g.gz_data;
	rq.hq_len = g.gz_len;
	rq.hq_timeout_s = s->sn_conf->nc_timeout_s;
	rq.hq_stop = sender_should_stop;
	rq.hq_stop_arg = s;
	rq.hq_headers = &hdr;
	if (studio_headers(&rq, &hdr, s->sn_conf, 1) == -1)
		log_error("studio: the token or service name is too long");
	else if (http_do(&rq, &rs) == 0)
		r = studio_result(b, &rs, e->se_meta.wm_window);
	else
		log_info("studio: window %" PRIu64 ": %s", e->se_meta.wm_window,
			 rs.hr_error);
	explicit_bzero(url, sizeof(url));
	http_headers_clear(&hdr);
	gzbuf_free(&g);
	return r;
}

static int
studio_check(struct sender *s, struct backend *b)
{
	struct http_req rq = {"GET", NULL, NULL, NULL, 0, 0, NULL, NULL, NULL};
	static struct http_resp rs;
	struct http_headers hdr;
	char url[HTTP_URL_MAX];
	int rv = -1;

	if (studio_url(url, sizeof(url), s->sn_conf, STUDIO_HEALTH, 0))
		return -1;
	rq.hq_url = url;
	rq.hq_timeout_s = 30;
	rq.hq_stop = sender_should_stop;
	rq.hq_stop_arg = s;
	rq.hq_headers = &hdr;
	if (studio_headers(&rq, &hdr, s->sn_conf, 0) == -1) {
		http_headers_clear(&hdr);
		return -1;
	}
	if (http_do(&rq, &rs) == -1)
		log_warn("studio: health check of %s failed: %s; windows are "
			 "spooled until it answers",
			 s->sn_conf->nc_server, rs.hr_error);
	else if (rs.hr_status != 200)
		log_warn("studio: health check of %s: HTTP %ld; windows are "
			 "spooled until it accepts them",
			 s->sn_conf->nc_server, rs.hr_status);
	else
		rv = 0;
	if (rv == 0)
		log_info("studio: %s is healthy", s->sn_conf->nc_server);
	explicit_bzero(url, sizeof(url));
	http_headers_clear(&hdr);
	return rv;
}

const struct backend_ops studio_ops = {
    .bo_name = "studio",
    .bo_enabled = studio_enabled,
    .bo_check = studio_check,
    .bo_send = studio_send,
};
