/* pprof output: a gzipped perftools.profiles.Profile of one window. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gzbuf.h"
#include "pprof.h"
#include "pprof.pb-c.h"

/* Strings pprof needs beyond the table's, appended after them. */
enum { PS_SAMPLES, PS_COUNT, PS_CPU, PS_NANOS, PS_PID, PS_COMMENT, PS_N };

#define PPROF_MAX_DEPTH (STACKS_MAX_FRAMES + 3)
#define FIELD_LEN(n)	(((uint64_t)(n) << 3) | 2)
#define FIELD_VARINT(n) ((uint64_t)(n) << 3)

/* The fields of the Profile message are written one by one: a message's
 * repeated fields may come in any order and number, so nothing but one
 * sample is held in memory. */
struct pp_out {
	ProtobufCBuffer po_base;
	FILE *po_f;
	int po_err;
	size_t po_nstr; /* the table's strings; ours follow */
	uint64_t po_loc[PPROF_MAX_DEPTH];
};

static void
pp_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
	struct pp_out *o = (struct pp_out *)b;

	if (len > 0 && fwrite(data, 1, len, o->po_f) != len)
		o->po_err = 1;
}

static void
pp_varint(struct pp_out *o, uint64_t v)
{
	uint8_t buf[10];
	size_t n = 0;

	do {
		buf[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
	pp_append(&o->po_base, n, buf);
}

/* Writes field number field holding the message m. */
static void
pp_message(struct pp_out *o, unsigned field, const ProtobufCMessage *m)
{
	pp_varint(o, FIELD_LEN(field));
	pp_varint(o, protobuf_c_message_get_packed_size(m));
	protobuf_c_message_pack_to_buffer(m, &o->po_base);
}

static void
pp_string(struct pp_out *o, const char *s, size_t len)
{
	pp_varint(o, FIELD_LEN(6));
	pp_varint(o, len);
	pp_append(&o->po_base, len, (const uint8_t *)s);
}

static void
pp_scalar(struct pp_out *o, unsigned field, int64_t v)
{
	pp_varint(o, FIELD_VARINT(field));
	pp_varint(o, (uint64_t)v);
}

static void
pp_strings(struct pp_out *o, const struct stack_table *t, const char *comment)
{
	static const char *const ours[PS_N] = {"samples",     "count", "cpu",
					       "nanoseconds", "pid",   NULL};

	for (size_t i = 0; i < o->po_nstr; i++)
		pp_string(o, stacks_str(t, (uint32_t)i),
			  stacks_strlen(t, (uint32_t)i));
	for (size_t i = 0; i < PS_N; i++) {
		const char *s = ours[i] ? ours[i] : comment;

		pp_string(o, s, strlen(s));
	}
}

/* One function and one location per string of the table: location and
 * function i + 1 name string i (ids start at 1; an empty frame name, string
 * 0, still needs a location). */
static void
pp_locations(struct pp_out *o)
{
	Perftools__Profiles__Function fn = PERFTOOLS__PROFILES__FUNCTION__INIT;
	Perftools__Profiles__Location loc = PERFTOOLS__PROFILES__LOCATION__INIT;
	Perftools__Profiles__Line line = PERFTOOLS__PROFILES__LINE__INIT;
	Perftools__Profiles__Line *lines[1] = {&line};

	loc.n_line = 1;
	loc.line = lines;
	for (size_t i = 0; i < o->po_nstr && !o->po_err; i++) {
		fn.id = i + 1;
		fn.name = fn.system_name = (int64_t)i;
		pp_message(o, 5, &fn.base);
		loc.id = line.function_id = i + 1;
		pp_message(o, 4, &loc.base);
	}
}

static int
pp_sample(void *arg, const struct stack_proc *p, const uint32_t *frames,
	  size_t n, uint64_t count)
{
	Perftools__Profiles__Sample s = PERFTOOLS__PROFILES__SAMPLE__INIT;
	Perftools__Profiles__Label pid = PERFTOOLS__PROFILES__LABEL__INIT;
	Perftools__Profiles__Label *labels[1] = {&pid};
	struct pp_out *o = arg;
	int64_t value = (int64_t)count;
	size_t k = 0;

	for (size_t i = n; i > 0; i--)
		o->po_loc[k++] = (uint64_t)frames[i - 1] + 1;
	if (p->sp_app_id != 0)
		o->po_loc[k++] = (uint64_t)p->sp_app_id + 1;
	if (p->sp_comm != 0)
		o->po_loc[k++] = (uint64_t)p->sp_comm + 1;
	if (p->sp_container != 0)
		o->po_loc[k++] = (uint64_t)p->sp_container + 1;
	s.n_location_id = k;
	s.location_id = o->po_loc;
	s.n_value = 1;
	s.value = &value;
	pid.key = (int64_t)(o->po_nstr + PS_PID);
	pid.num = p->sp_pid;
	if (p->sp_pid != 0) {
		s.n_label = 1;
		s.label = labels;
	}
	pp_message(o, 2, &s.base);
	return o->po_err ? -1 : 0;
}

static void
pp_header(struct pp_out *o, const struct window_meta *m)
{
	Perftools__Profiles__ValueType st =
	    PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
	Perftools__Profiles__ValueType pt =
	    PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
	int64_t base = (int64_t)o->po_nstr;

	st.type = base + PS_SAMPLES;
	st.unit = base + PS_COUNT;
	pp_message(o, 1, &st.base);
	pt.type = base + PS_CPU;
	pt.unit = base + PS_NANOS;
	pp_message(o, 11, &pt.base);
	if (m->wm_frequency > 0)
		pp_scalar(o, 12, 1000000000 / (int64_t)m->wm_frequency);
	pp_scalar(o, 9, m->wm_start * 1000000000);
	if (m->wm_end > m->wm_start)
		pp_scalar(o, 10, (m->wm_end - m->wm_start) * 1000000000);
	pp_scalar(o, 13, base + PS_COMMENT);
}

int
pprof_write(FILE *f, const struct stack_table *t, const struct window_meta *m)
{
	struct pp_out *o;
	struct gzbuf g;
	char comment[64];
	int rv;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return -1;
	if ((o->po_f = gzbuf_open_file(&g, f)) == NULL) {
		free(o);
		return -1;
	}
	o->po_base.append = pp_append;
	o->po_nstr = stacks_nstr(t);
	snprintf(comment, sizeof(comment), "profd window %llu",
		 (unsigned long long)m->wm_window);
	pp_header(o, m);
	pp_strings(o, t, comment);
	pp_locations(o);
	rv = stacks_foreach(t, pp_sample, o);
	if (gzbuf_finish(&g) == -1 || o->po_err)
		rv = -1;
	gzbuf_free(&g);
	free(o);
	return rv == 0 ? 0 : -1;
}
