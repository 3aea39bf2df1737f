/*
 * libFuzzer target: heartbeat mode, from the server's answer to profd.
 * The input is the body of a heartbeat HTTP response:
 *   - jread_parse cuts it into tokens, which must be consistent (bounds,
 *     children, lookups), each string and number read back;
 *   - heartbeat_parse turns it into a RemoteCommand (or refuses it),
 *     which profd-upload sends to profd as a Control: packed, decoded
 *     with pbmsg_unpack (it must come out the same) and handed to
 *     remote_command, then to remote_tick until it is applied.
 * An input that starts with a NUL byte (never JSON) is instead a Control
 * as a compromised profd-upload could send it (the proto corpus's
 * control_* seeds have that form). remote.c runs against a profd of
 * four workers whose state machine, clock and sockets are stubs below;
 * whatever a command makes profd apply must lie in the ranges of profd's
 * own flags. Two profd configurations are tried: everything enabled, and
 * Python and Java disabled with --perf-mode=dwarf --perf-use-cgroups.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hb_parse.h"
#include "jread.h"
#include "json.h"
#include "pbmsg.h"
#include "profd.h"
#include "worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* --- the JSON reader -------------------------------------------------- */

static struct jread J;

/* Token i's children end where it ends; returns 0 when they do. */
static int
children_ok(const struct jread *j, uint32_t i)
{
	const struct jread_tok *t = &j->jr_tok[i];
	uint32_t k = i + 1;

	for (uint32_t m = 0; m < t->jt_count; m++) {
		if (k >= t->jt_next)
			return -1;
		if (t->jt_type == JREAD_OBJECT) {
			if (j->jr_tok[k].jt_type != JREAD_STRING ||
			    j->jr_tok[k].jt_next != k + 1 ||
			    k + 1 >= t->jt_next)
				return -1;
			k++;
		}
		if (t->jt_type == JREAD_ARRAY &&
		    jread_elem(j, (int)i, m) != (int)k)
			return -1;
		k = j->jr_tok[k].jt_next;
	}
	return k == t->jt_next && jread_elem(j, (int)i, t->jt_count) == -1 ? 0
									   : -1;
}

/* A string token, unescaped: never longer than its text, valid UTF-8. */
static void
string_ok(const struct jread *j, uint32_t i)
{
	const struct jread_tok *t = &j->jr_tok[i];
	size_t raw = t->jt_end - t->jt_start, n, w;
	char *s = malloc(raw + 1);

	if (s == NULL)
		abort();
	if (jread_string(j, (int)i, s, raw + 1) == 0) {
		if ((n = strlen(s)) > raw)
			abort();
		for (size_t o = 0; o < n; o += w)
			if ((w = json_utf8_len((const unsigned char *)s + o,
					       n - o)) == 0)
				abort();
	}
	/* One byte short of a text without escapes cannot fit. */
	if (raw > 0 && memchr(j->jr_src + t->jt_start, '\\', raw) == NULL &&
	    jread_string(j, (int)i, s, raw) != -1)
		abort();
	free(s);
}

/* An unescaped key of object 0 finds its first value. */
static void
lookup_ok(const struct jread *j)
{
	char key[64];
	uint32_t k = 1;

	if (j->jr_tok[0].jt_type != JREAD_OBJECT)
		return;
	for (uint32_t m = 0; m < j->jr_tok[0].jt_count; m++) {
		const struct jread_tok *t = &j->jr_tok[k];
		size_t n = t->jt_end - t->jt_start;
		int v;

		if (n < sizeof(key) &&
		    memchr(j->jr_src + t->jt_start, '\\', n) == NULL &&
		    memchr(j->jr_src + t->jt_start, '\0', n) == NULL) {
			memcpy(key, j->jr_src + t->jt_start, n);
			key[n] = '\0';
			v = jread_get(j, 0, key);
			if (v < 2 || (uint32_t)v > k + 1 ||
			    j->jr_tok[v - 1].jt_end -
				    j->jr_tok[v - 1].jt_start !=
				n ||
			    memcmp(j->jr_src + j->jr_tok[v - 1].jt_start, key,
				   n) != 0)
				abort();
		}
		k = j->jr_tok[k + 1].jt_next;
	}
}

/* A number jread_u64 takes: 1 to 20 digits. */
static int
digits_only(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n >= 1 && n <= 20;
}

static void
check_jread(const char *s, size_t len)
{
	uint64_t v;
	int b;

	if (jread_parse(&J, s, len) != 0) {
		if (J.jr_n != 0)
			abort();
		return;
	}
	if (J.jr_n < 1 || J.jr_n > JREAD_MAX_TOKENS ||
	    J.jr_tok[0].jt_next != J.jr_n)
		abort();
	for (uint32_t i = 0; i < J.jr_n; i++) {
		const struct jread_tok *t = &J.jr_tok[i];

		if (t->jt_start > t->jt_end || t->jt_end > len ||
		    t->jt_next <= i || t->jt_next > J.jr_n)
			abort();
		switch (t->jt_type) {
		case JREAD_OBJECT:
		case JREAD_ARRAY:
			if (children_ok(&J, i) != 0)
				abort();
			break;
		case JREAD_STRING:
			string_ok(&J, i);
			break;
		case JREAD_NUMBER:
			if (jread_u64(&J, (int)i, UINT64_MAX, &v) == 0 &&
			    !digits_only(s + t->jt_start,
					 t->jt_end - t->jt_start))
				abort();
			break;
		case JREAD_BOOL:
			if (jread_bool(&J, (int)i, &b) != 0 ||
			    b != (s[t->jt_start] == 't'))
				abort();
			break;
		case JREAD_NULL:
			break;
		default:
			abort();
		}
		if (t->jt_next != i + 1 && t->jt_type != JREAD_OBJECT &&
		    t->jt_type != JREAD_ARRAY)
			abort();
	}
	lookup_ok(&J);
}

/* --- profd's side: remote.c with the rest of profd stubbed ----------- */

static struct profd P;
static unsigned n_done; /* CommandDone messages sent */

int
workers_send(struct profd *p, struct worker *w, Profd__Control *c)
{
	const Profd__CommandDone *d = c->done;

	(void)p;
	if (strcmp(w->w_name, "upload") != 0 ||
	    c->body_case != PROFD__CONTROL__BODY_DONE || d == NULL ||
	    d->id == NULL || d->error == NULL || strlen(d->error) > 255 ||
	    (d->id[0] != '\0' && !heartbeat_id_ok(d->id)))
		abort(); /* only checked ids go back to the server */
	n_done++;
	return 0;
}

void
fsm_event(struct profd *p, struct worker *w, enum wevent ev)
{
	(void)p;
	if (ev == EV_START)
		w->w_state = W_RUNNING;
	else if (ev == EV_STOP)
		w->w_state = W_IDLE;
	else
		abort();
}

int
fsm_alive(const struct worker *w)
{
	return w->w_state == W_RUNNING;
}

/* What a command made profd apply: within profd's own limits. */
int
workers_configure(struct profd *p, struct worker *w)
{
	const struct profd_opts *o = &p->p_opts;
	enum perf_mode mode;

	(void)w;
	if (o->po_duration < 1 || o->po_duration > WORKER_MAX_DURATION ||
	    o->po_frequency < 1 || o->po_frequency > WORKER_MAX_FREQUENCY ||
	    o->po_npids > PROFD_MAX_PIDS ||
	    (o->po_npids > 0 && o->po_use_cgroups) ||
	    perf_mode_parse(o->po_perf_mode, &mode) == -1 ||
	    (perf_mode_dwarf(mode) &&
	     o->po_frequency > WORKER_MAX_DWARF_FREQUENCY &&
	     p->p_remote.r_next.rs_perf))
		abort();
	for (size_t i = 0; i < o->po_npids; i++)
		if (o->po_pids[i] == 0 || o->po_pids[i] > PROFD_PID_MAX)
			abort();
	return 0;
}

void
clock_stop(struct profd *p)
{
	(void)p;
}

void
clock_maybe_start(struct profd *p)
{
	(void)p;
}

static void
profd_setup(int variant)
{
	static const char *const names[] = {"perf", "python", "java", "upload"};
	static const enum wrole roles[] = {ROLE_PERF, ROLE_PYTHON, ROLE_JAVA,
					   ROLE_UPLOAD};
	struct profd_opts *o = &P.p_opts;

	P.p_nworkers = 4;
	for (size_t i = 0; i < P.p_nworkers; i++) {
		struct worker *w = &P.p_workers[i];

		snprintf(w->w_spec.ws_name, sizeof(w->w_spec.ws_name), "%s",
			 names[i]);
		w->w_name = w->w_spec.ws_name;
		w->w_spec.ws_role = w->w_spec.ws_kind = roles[i];
		w->w_profiler = i < 3;
		w->w_spec.ws_profiler = i < 3;
		w->w_spec.ws_enabled = variant == 0 || i == 0 || i == 3;
		w->w_state = i == 3 ? W_RUNNING : W_IDLE;
	}
	o->po_heartbeat = 1;
	o->po_use_cgroups = variant == 1;
	o->po_duration = PROFD_DEFAULT_DURATION;
	o->po_frequency = PROFD_DEFAULT_FREQUENCY;
	o->po_npids = 0;
	snprintf(o->po_perf_mode, sizeof(o->po_perf_mode), "%s",
		 variant == 0 ? "fp" : "dwarf");
	memset(&P.p_remote, 0, sizeof(P.p_remote));
	P.p_stopping = 0;
	remote_init(&P);
}

/* Runs c through profd (both variants) until it is applied. */
static void
supervise(const Profd__RemoteCommand *c)
{
	for (int variant = 0; variant < 2; variant++) {
		unsigned before;

		profd_setup(variant);
		n_done = 0;
		remote_command(&P, c);
		for (int i = 0; i < 4; i++)
			remote_tick(&P);
		if (n_done != 1)
			abort(); /* every command is answered, once */
		before = n_done;
		remote_command(&P, c); /* a repeated id: ignored */
		if (heartbeat_id_ok(c->id) && n_done != before)
			abort();
		if (remote_active(&P))
			workers_configure(&P, NULL);
		remote_session_end(&P);
	}
}

/* --- from the server's answer to profd ------------------------------- */

/* c as profd-upload sends it and profd decodes it. */
static void
send_command(const Profd__RemoteCommand *c)
{
	Profd__Control ctl = PROFD__CONTROL__INIT;
	Profd__Control *got;
	const Profd__RemoteCommand *g;
	size_t len;
	void *buf;

	ctl.body_case = PROFD__CONTROL__BODY_COMMAND;
	ctl.command = (Profd__RemoteCommand *)c;
	if ((buf = pbmsg_pack(&ctl.base, &len)) == NULL)
		abort();
	got = (Profd__Control *)pbmsg_unpack(&profd__control__descriptor, buf,
					     len);
	if (got == NULL || got->body_case != PROFD__CONTROL__BODY_COMMAND)
		abort();
	g = got->command;
	if (strcmp(g->id, c->id) != 0 || g->kind != c->kind ||
	    g->duration != c->duration || g->frequency != c->frequency ||
	    g->continuous != c->continuous || g->n_pids != c->n_pids ||
	    (c->n_pids > 0 &&
	     memcmp(g->pids, c->pids, c->n_pids * sizeof(c->pids[0])) != 0) ||
	    g->perf != c->perf || strcmp(g->perf_mode, c->perf_mode) != 0 ||
	    g->python != c->python || g->java != c->java)
		abort();
	supervise(g);
	pbmsg_free(&got->base);
	free(buf);
}

static void
heartbeat(const char *body, size_t len)
{
	static struct hb_cmd h;
	Profd__RemoteCommand c;
	const char *id = h.hc_id, *mode = h.hc_mode;
	const uint32_t *pids = h.hc_pids;
	enum hb_parsed rv;

	rv = heartbeat_parse(body, len, "fuzzhost", &h);
	c = h.hc_c;
	if (c.id != h.hc_id || c.perf_mode != h.hc_mode ||
	    c.profiling_mode != h.hc_pmode ||
	    (id[0] != '\0' && !heartbeat_id_ok(id)))
		abort();
	switch (rv) {
	case HB_NONE:
		return;
	case HB_REFUSED:
	case HB_ELSEWHERE:
		if (h.hc_err[0] == '\0')
			abort();
		return;
	case HB_COMMAND:
		break;
	default:
		abort();
	}
	if (!heartbeat_id_ok(id) || strlen(mode) > HB_MODE_MAX ||
	    strlen(h.hc_pmode) > HB_MODE_MAX ||
	    (c.kind != PROFD__REMOTE_COMMAND__KIND__START &&
	     c.kind != PROFD__REMOTE_COMMAND__KIND__STOP) ||
	    c.n_pids > PROFD_MAX_PIDS || (c.n_pids > 0 && c.pids != pids))
		abort();
	send_command(&c);
}

/* A Control as any profd-upload could send it. */
static void
control(const uint8_t *d, size_t n)
{
	Profd__Control *c =
	    (Profd__Control *)pbmsg_unpack(&profd__control__descriptor, d, n);

	if (c == NULL)
		return;
	if (c->body_case == PROFD__CONTROL__BODY_COMMAND)
		supervise(c->command);
	pbmsg_free(&c->base);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body;

	if (size > 0 && data[0] == '\0') {
		control(data + 1, size - 1);
		return 0;
	}
	/* An exact-size copy, so that ASan sees any read past its end. */
	if ((body = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(body, data, size);
	check_jread(body, size);
	heartbeat(body, size);
	free(body);
	return 0;
}
