/* The Pyroscope backend: each window to /ingest as folded stacks. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sender.h"

#define PYRO_LABEL_MAX 128

static int
pyro_enabled(const struct net_conf *c)
{
	return c->nc_pyro_url != NULL;
}

/* Copies a label value with every character Pyroscope's name syntax
 * reserves (and anything unusual) replaced by '_'. */
static void
pyro_label(char *out, size_t len, const char *v)
{
	size_t n = 0;

	for (; *v != '\0' && n + 1 < len; v++)
		out[n++] =
		    ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		     (*v >= '0' && *v <= '9') || strchr("-_.:/", *v))
			? *v
			: '_';
	out[n] = '\0';
}

static int
pyro_url(char *url, size_t len, const struct net_conf *c,
	 const struct window_meta *m)
{
	char name[3 * PYRO_LABEL_MAX + 64], host[PYRO_LABEL_MAX],
	    svc[PYRO_LABEL_MAX], app[PYRO_LABEL_MAX], num[32];

	pyro_label(app, sizeof(app),
		   c->nc_pyro_app  ? c->nc_pyro_app
		   : c->nc_service ? c->nc_service
				   : "profd");
	pyro_label(host, sizeof(host), c->nc_hostname);
	pyro_label(svc, sizeof(svc), c->nc_service ? c->nc_service : "");
	if (svc[0] != '\0')
		snprintf(name, sizeof(name), "%s{hostname=%s,service=%s}", app,
			 host, svc);
	else
		snprintf(name, sizeof(name), "%s{hostname=%s}", app, host);
	if (sender_url(url, len, c->nc_pyro_url, "/ingest") == -1 ||
	    http_query_add(url, len, "name", name) == -1)
		return -1;
	snprintf(num, sizeof(num), "%" PRId64, m->wm_start);
	if (http_query_add(url, len, "from", num) == -1)
		return -1;
	snprintf(num, sizeof(num), "%" PRId64,
		 m->wm_end > m->wm_start ? m->wm_end : m->wm_start + 1);
	if (http_query_add(url, len, "until", num) == -1 ||
	    http_query_add(url, len, "format", "folded") == -1)
		return -1;
	snprintf(num, sizeof(num), "%u", m->wm_frequency);
	if ((m->wm_frequency > 0 &&
	     http_query_add(url, len, "sampleRate", num) == -1) ||
	    http_query_add(url, len, "spyName", "profd") == -1 ||
	    http_query_add(url, len, "units", "samples") == -1 ||
	    http_query_add(url, len, "aggregationType", "sum") == -1)
		return -1;
	return 0;
}

/* Writes the window's stacks as folded lines: gProfiler's application
 * metadata index dropped, and its container field when empty. */
static int
pyro_body(FILE *out, struct spool_entry *e)
{
	char *line = NULL, *p;
	size_t cap = 0;
	ssize_t n;
	int rv = 0;

	if (fseek(e->se_f, e->se_body, SEEK_SET) == -1)
		return -1;
	while (rv == 0 && (n = getline(&line, &cap, e->se_f)) > 0) {
		if (line[0] == '#' || (p = strchr(line, ';')) == NULL)
			continue;
		p++;
		if (*p == ';')
			p++;
		if (fputs(p, out) == EOF)
			rv = -1;
	}
	free(line);
	return rv == 0 && !ferror(e->se_f) ? 0 : -1;
}

/* The body's type and, with a tenant, its id. */
static int
pyro_headers(struct http_headers *h, const struct net_conf *c)
{
	memset(h, 0, sizeof(*h));
	if (http_header_add(h, "Content-Type: text/plain") == -1 ||
	    http_header_add(h, "Expect:") == -1)
		return -1;
	if (c->nc_pyro_tenant != NULL &&
	    http_header_add(h, "X-Scope-OrgID: %s", c->nc_pyro_tenant) == -1)
		return -1;
	return 0;
}

/* The start of the server's answer (text or JSON), made printable, in
 * out[len]. */
static void
pyro_message(const struct http_resp *rs, char *out, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < rs->hr_len && i < HTTP_ANSWER_MAX && n + 1 < len;
	     i++) {
		unsigned char ch = (unsigned char)rs->hr_body[i];

		if (ch == '\n' || ch == '\r' || ch == '\t')
			ch = ' ';
		out[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* Another answer than 2xx and the ones worth retrying is a refusal for
 * good (Pyroscope answers 4xx to what it cannot ingest): the
 * window is kept in the spool's rejected/pyroscope with the reason, as
 * the Studio's refused windows are. */
static enum send_result
pyro_result(struct backend *b, const struct http_resp *rs, uint64_t win)
{
	char msg[160];
	long st = rs->hr_status;

	if (st >= 200 && st < 300)
		return SEND_OK;
	if (st == 408 || st == 429 || st >= 500 || st == 401 || st == 403) {
		log_info("pyroscope: window %" PRIu64 ": HTTP %ld", win, st);
		return SEND_RETRY;
	}
	pyro_message(rs, msg, sizeof(msg));
	snprintf(b->b_reason, sizeof(b->b_reason), "HTTP %ld: %s", st, msg);
	log_error("pyroscope: the server refused window %" PRIu64
		  " for good (HTTP %ld %s); kept in the spool's " SPOOL_REJECTED
		  "/pyroscope with the reason",
		  win, st, msg);
	return SEND_REJECT;
}

static enum send_result
pyro_send(struct sender *s, struct backend *b, struct spool_entry *e)
{
	struct http_req rq = {"POST", NULL, NULL, NULL, 0, 0, NULL, NULL, NULL};
	static struct http_resp rs;
	struct http_headers hdr;
	enum send_result r = SEND_RETRY;
	char url[HTTP_URL_MAX], *body = NULL;
	size_t len = 0;
	FILE *f;
	int rv;

	if (pyro_url(url, sizeof(url), s->sn_conf, &e->se_meta) == -1) {
		log_error("pyroscope: the URL is too long");
		return SEND_RETRY;
	}
	if ((f = open_memstream(&body, &len)) == NULL)
		return SEND_RETRY;
	rv = pyro_body(f, e);
	if (fclose(f) == EOF || rv == -1) {
		log_error("pyroscope: cannot read window %" PRIu64 ": %s",
			  e->se_meta.wm_window, strerror(errno));
		free(body);
		return SEND_RETRY;
	}
	rq.hq_url = url;
	rq.hq_body = body;
	rq.hq_len = len;
	rq.hq_timeout_s = s->sn_conf->nc_timeout_s;
	rq.hq_stop = sender_should_stop;
	rq.hq_stop_arg = s;
	rq.hq_headers = &hdr;
	if (pyro_headers(&hdr, s->sn_conf) == -1)
		log_error("pyroscope: the tenant id is too long");
	else if (http_do(&rq, &rs) == 0)
		r = pyro_result(b, &rs, e->se_meta.wm_window);
	else
		log_info("pyroscope: window %" PRIu64 ": %s",
			 e->se_meta.wm_window, rs.hr_error);
	free(body);
	return r;
}

const struct backend_ops pyroscope_ops = {
    .bo_name = "pyroscope",
    .bo_enabled = pyro_enabled,
    .bo_check = NULL,
    .bo_send = pyro_send,
};
