/* Messages: chunk round trip and validation, hostile encodings, budget;
 * number parsing and JSON strings. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "chunk.h"
#include "json.h"
#include "pbmsg.h"
#include "profd.pb-c.h"
#include "stacks.h"
#include "util.h"

#define GARBAGE_ROUNDS 1000
#define GARBAGE_MAX    512    /* bytes in one random buffer */
#define EMPTY_FIELDS   100000 /* repeated empty fields in one message */
#define FUZZ_BUDGET    (1u << 20)

static const ProtobufCMessageDescriptor *const chunk_d =
    &profd__profile_chunk__descriptor;
static const ProtobufCMessageDescriptor *const control_d =
    &profd__control__descriptor;

/* xorshift64: the same "random" bytes on every run. */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint32_t
id_of(struct stack_table *t, const char *s)
{
	uint32_t id = stacks_intern_str(t, s);

	ck_assert_uint_ne(id, STACKS_NONE);
	return id;
}

static int
proc_of(struct stack_table *t, uint32_t pid, const char *comm,
	const char *container, const char *app_id)
{
	int p = stacks_proc(t, pid, id_of(t, comm), id_of(t, container),
			    id_of(t, app_id));

	ck_assert_int_ge(p, 0);
	return p;
}

/* Three processes, one with an error, 300 stacks of 2 to 6 frames. */
static struct stack_table *
sample_table(void)
{
	struct stack_table *t = stacks_new(0);
	uint32_t ids[40], f[6];
	char buf[32];
	int p[3];

	ck_assert_ptr_nonnull(t);
	p[0] = proc_of(t, 10, "python", "", "");
	p[1] = proc_of(t, 20, "java", "pod-a", "shop");
	p[2] = proc_of(t, 30, "bash", "pod-b", "");
	stacks_proc_at(t, 0)->sp_error = id_of(t, "py-spy: no such process");
	for (size_t i = 0; i < 40; i++) {
		snprintf(buf, sizeof(buf), "func_%zu", i);
		ids[i] = id_of(t, buf);
	}
	for (size_t i = 0; i < 300; i++) {
		size_t n = 2 + i % 5;

		for (size_t j = 0; j < n; j++)
			f[j] = ids[(i * 7 + j * 13) % 40];
		f[0] = ids[i % 40];
		f[1] = ids[i / 40];
		ck_assert_int_eq(stacks_add(t, p[i % 3], f, n, i + 1), 0);
	}
	return t;
}

struct dump_ctx {
	FILE *dc_f;
	const struct stack_table *dc_t;
};

static int
dump_stack(void *arg, const struct stack_proc *p, const uint32_t *frames,
	   size_t n, uint64_t count)
{
	struct dump_ctx *c = arg;

	fprintf(c->dc_f, "%u", p->sp_pid);
	for (size_t i = 0; i < n; i++)
		fprintf(c->dc_f, ";%s", stacks_str(c->dc_t, frames[i]));
	fprintf(c->dc_f, " %llu\n", (unsigned long long)count);
	return 0;
}

/* Returns every process and stack of t as text, by string not by id. */
static char *
dump(const struct stack_table *t)
{
	char *buf = NULL;
	size_t len = 0;
	struct dump_ctx c = {open_memstream(&buf, &len), t};

	ck_assert_ptr_nonnull(c.dc_f);
	for (size_t i = 0; i < stacks_nproc(t); i++) {
		const struct stack_proc *p =
		    stacks_proc_at((struct stack_table *)t, i);

		fprintf(c.dc_f, "proc %u [%s] [%s] [%s] [%s] %llu\n", p->sp_pid,
			stacks_str(t, p->sp_comm),
			stacks_str(t, p->sp_container),
			stacks_str(t, p->sp_app_id), stacks_str(t, p->sp_error),
			(unsigned long long)p->sp_samples);
	}
	ck_assert_int_eq(stacks_foreach(t, dump_stack, &c), 0);
	ck_assert_int_eq(fclose(c.dc_f), 0);
	return buf;
}

/* Encodes the chunk of t. */
static void *
encode_table(const struct stack_table *t, size_t *len)
{
	struct chunk_buf b;
	void *enc;

	ck_assert_int_eq(chunk_build(&b, t, "perf", 42), 0);
	ck_assert_int_eq(chunk_validate(&b.cb_chunk), 0);
	enc = pbmsg_pack(&b.cb_chunk.base, len);
	ck_assert_ptr_nonnull(enc);
	ck_assert_uint_gt(*len, 0);
	chunk_buf_free(&b);
	return enc;
}

static Profd__ProfileChunk *
decode_chunk(const void *buf, size_t len)
{
	ProtobufCMessage *m = pbmsg_unpack(chunk_d, buf, len);

	ck_assert_msg(m != NULL, "decode failed: errno %d", errno);
	return (Profd__ProfileChunk *)m;
}

START_TEST(test_chunk_round_trip)
{
	struct stack_table *t = sample_table(), *u = stacks_new(0);
	size_t len;
	void *enc = encode_table(t, &len);
	Profd__ProfileChunk *c = decode_chunk(enc, len);
	char *want = dump(t), *got;

	ck_assert_str_eq(c->worker, "perf");
	ck_assert_uint_eq(c->window, 42);
	ck_assert_uint_eq(c->samples, stacks_total(t));
	ck_assert_uint_eq(c->n_strings, stacks_nstr(t));
	ck_assert_uint_eq(c->n_processes, 3);
	ck_assert_int_eq(chunk_validate(c), 0);
	ck_assert_int_eq(chunk_merge(u, c), 0);
	got = dump(u);
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(stacks_total(u), stacks_total(t));
	ck_assert_uint_eq(stacks_count(u), 300);
	ck_assert_uint_eq(stacks_nproc(u), 3);
	free(got);
	free(want);
	pbmsg_free(&c->base);
	free(enc);
	stacks_free(u);
	stacks_free(t);
}
END_TEST

START_TEST(test_chunk_merge_twice)
{
	struct stack_table *t = sample_table(), *u = stacks_new(0);
	size_t len;
	void *enc = encode_table(t, &len);
	Profd__ProfileChunk *c = decode_chunk(enc, len);

	ck_assert_int_eq(chunk_merge(u, c), 0);
	ck_assert_int_eq(chunk_merge(u, c), 0);
	ck_assert_uint_eq(stacks_total(u), 2 * stacks_total(t));
	ck_assert_uint_eq(stacks_count(u), stacks_count(t));
	ck_assert_uint_eq(stacks_nstr(u), stacks_nstr(t));
	pbmsg_free(&c->base);
	free(enc);
	stacks_free(u);
	stacks_free(t);
}
END_TEST

START_TEST(test_chunk_empty_table)
{
	struct stack_table *t = stacks_new(0), *u = stacks_new(0);
	size_t len;
	void *enc = encode_table(t, &len);
	Profd__ProfileChunk *c = decode_chunk(enc, len);

	ck_assert_uint_eq(c->n_strings, 1);
	ck_assert_str_eq(c->strings[0], "");
	ck_assert_uint_eq(c->n_processes, 0);
	ck_assert_int_eq(chunk_validate(c), 0);
	ck_assert_int_eq(chunk_merge(u, c), 0);
	ck_assert_uint_eq(stacks_count(u), 0);
	ck_assert_uint_eq(stacks_nstr(u), 1);
	pbmsg_free(&c->base);
	free(enc);
	stacks_free(u);
	stacks_free(t);
}
END_TEST

START_TEST(test_chunk_merge_full_table)
{
	struct stack_table *t = sample_table(), *u = stacks_new(4096);
	size_t len;
	void *enc = encode_table(t, &len);
	Profd__ProfileChunk *c = decode_chunk(enc, len);

	ck_assert_ptr_nonnull(u);
	errno = 0;
	ck_assert_int_eq(chunk_merge(u, c), -1);
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_uint_le(stacks_memory(u), 4096 + 1024);
	pbmsg_free(&c->base);
	free(enc);
	stacks_free(u);
	stacks_free(t);
}
END_TEST

/* Packs a Control and decodes it again. */
static Profd__Control *
control_round_trip(const Profd__Control *in)
{
	size_t len;
	void *enc = pbmsg_pack(&in->base, &len);
	ProtobufCMessage *m;

	ck_assert_ptr_nonnull(enc);
	m = pbmsg_unpack(control_d, enc, len);
	ck_assert_ptr_nonnull(m);
	free(enc);
	return (Profd__Control *)m;
}

START_TEST(test_control_hello)
{
	Profd__Hello h = PROFD__HELLO__INIT;
	Profd__Control in = PROFD__CONTROL__INIT, *out;

	h.worker = "perf";
	h.pid = 4321;
	h.version = "0.1.0";
	in.body_case = PROFD__CONTROL__BODY_HELLO;
	in.hello = &h;
	out = control_round_trip(&in);
	ck_assert_int_eq(out->body_case, PROFD__CONTROL__BODY_HELLO);
	ck_assert_str_eq(out->hello->worker, "perf");
	ck_assert_uint_eq(out->hello->pid, 4321);
	ck_assert_str_eq(out->hello->version, "0.1.0");
	pbmsg_free(&out->base);
}
END_TEST

START_TEST(test_control_configure)
{
	uint32_t pids[3] = {1, 200, 4194304};
	Profd__Configure cf = PROFD__CONFIGURE__INIT;
	Profd__PerfSettings ps = PROFD__PERF_SETTINGS__INIT;
	Profd__Control in = PROFD__CONTROL__INIT, *out;

	cf.frequency = 99;
	cf.duration = 60;
	cf.n_pids = 3;
	cf.pids = pids;
	cf.continuous = 1;
	ps.perf_mode = "dwarf";
	ps.insert_dso_name = 1;
	ps.perf_dwarf_stack_size = 8192;
	cf.settings_case = PROFD__CONFIGURE__SETTINGS_PERF;
	cf.perf = &ps;
	in.body_case = PROFD__CONTROL__BODY_CONFIGURE;
	in.configure = &cf;
	out = control_round_trip(&in);
	ck_assert_int_eq(out->body_case, PROFD__CONTROL__BODY_CONFIGURE);
	ck_assert_uint_eq(out->configure->frequency, 99);
	ck_assert_uint_eq(out->configure->duration, 60);
	ck_assert_uint_eq(out->configure->n_pids, 3);
	ck_assert_mem_eq(out->configure->pids, pids, sizeof(pids));
	ck_assert_int_eq(out->configure->continuous, 1);
	ck_assert_int_eq(out->configure->settings_case,
			 PROFD__CONFIGURE__SETTINGS_PERF);
	ck_assert_str_eq(out->configure->perf->perf_mode, "dwarf");
	ck_assert_int_eq(out->configure->perf->insert_dso_name, 1);
	ck_assert_uint_eq(out->configure->perf->perf_dwarf_stack_size, 8192);
	pbmsg_free(&out->base);
}
END_TEST

START_TEST(test_control_snapshot)
{
	char *expect[2] = {"perf", "pyspy"};
	Profd__Snapshot sn = PROFD__SNAPSHOT__INIT;
	Profd__Control in = PROFD__CONTROL__INIT, *out;

	sn.window = 7;
	sn.start_time = -5;
	sn.end_time = 1700000000;
	sn.n_expect = 2;
	sn.expect = expect;
	sn.cpu_avg = 12.5;
	sn.mem_avg = 33.25;
	in.body_case = PROFD__CONTROL__BODY_SNAPSHOT;
	in.snapshot = &sn;
	out = control_round_trip(&in);
	ck_assert_int_eq(out->body_case, PROFD__CONTROL__BODY_SNAPSHOT);
	ck_assert_uint_eq(out->snapshot->window, 7);
	ck_assert_int_eq(out->snapshot->start_time, -5);
	ck_assert_int_eq(out->snapshot->end_time, 1700000000);
	ck_assert_uint_eq(out->snapshot->n_expect, 2);
	ck_assert_str_eq(out->snapshot->expect[0], "perf");
	ck_assert_str_eq(out->snapshot->expect[1], "pyspy");
	ck_assert_double_eq(out->snapshot->cpu_avg, 12.5);
	ck_assert_double_eq(out->snapshot->mem_avg, 33.25);
	pbmsg_free(&out->base);
}
END_TEST

START_TEST(test_control_stop)
{
	Profd__Stop st = PROFD__STOP__INIT;
	Profd__Control in = PROFD__CONTROL__INIT, *out;

	st.deadline_ms = 1500;
	in.body_case = PROFD__CONTROL__BODY_STOP;
	in.stop = &st;
	out = control_round_trip(&in);
	ck_assert_int_eq(out->body_case, PROFD__CONTROL__BODY_STOP);
	ck_assert_uint_eq(out->stop->deadline_ms, 1500);
	pbmsg_free(&out->base);
}
END_TEST

START_TEST(test_control_status)
{
	Profd__Status st = PROFD__STATUS__INIT;
	Profd__Control in = PROFD__CONTROL__INIT, *out;

	st.kind = PROFD__STATUS__KIND__ERROR;
	st.window = 9;
	st.message = "disk full";
	st.samples = UINT64_MAX;
	st.errors = 3;
	in.body_case = PROFD__CONTROL__BODY_STATUS;
	in.status = &st;
	out = control_round_trip(&in);
	ck_assert_int_eq(out->body_case, PROFD__CONTROL__BODY_STATUS);
	ck_assert_int_eq(out->status->kind, PROFD__STATUS__KIND__ERROR);
	ck_assert_uint_eq(out->status->window, 9);
	ck_assert_str_eq(out->status->message, "disk full");
	ck_assert_uint_eq(out->status->samples, UINT64_MAX);
	ck_assert_uint_eq(out->status->errors, 3);
	pbmsg_free(&out->base);
}
END_TEST

START_TEST(test_control_empty)
{
	Profd__Control in = PROFD__CONTROL__INIT, *out;
	size_t len = 99;
	void *enc = pbmsg_pack(&in.base, &len);

	ck_assert_ptr_nonnull(enc);
	ck_assert_uint_eq(len, 0);
	free(enc);
	out = control_round_trip(&in);
	ck_assert_int_eq(out->body_case, PROFD__CONTROL__BODY__NOT_SET);
	pbmsg_free(&out->base);
	pbmsg_free(NULL);
}
END_TEST

/* Decodes buf as d; a failure must be EBADMSG, never a crash. */
static int
try_decode(const ProtobufCMessageDescriptor *d, const void *buf, size_t len)
{
	ProtobufCMessage *m;

	errno = 0;
	m = pbmsg_unpack(d, buf, len);
	if (m == NULL) {
		ck_assert_msg(errno == EBADMSG, "errno %d for %zu bytes", errno,
			      len);
		return -1;
	}
	pbmsg_free(m);
	return 0;
}

static void
assert_bad_msg(const ProtobufCMessageDescriptor *d, const void *buf, size_t len)
{
	errno = 0;
	ck_assert_ptr_null(pbmsg_unpack(d, buf, len));
	ck_assert_int_eq(errno, EBADMSG);
}

START_TEST(test_unpack_bad_bytes)
{
	static const uint8_t wire7[] = {0x0f, 0x00};
	static const uint8_t short_varint[] = {0x10, 0x80};
	static const uint8_t long_len[] = {0x1a, 0x05, 'a'};
	static const uint8_t huge_len[] = {0x22, 0xff, 0xff, 0xff, 0xff, 0x0f};
	static const uint8_t bad_type[] = {0x08, 0x01};
	static const uint8_t ten_ff[] = {0x10, 0xff, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};

	assert_bad_msg(chunk_d, wire7, sizeof(wire7));
	assert_bad_msg(chunk_d, short_varint, sizeof(short_varint));
	assert_bad_msg(chunk_d, long_len, sizeof(long_len));
	assert_bad_msg(chunk_d, huge_len, sizeof(huge_len));
	assert_bad_msg(chunk_d, bad_type, sizeof(bad_type));
	assert_bad_msg(chunk_d, ten_ff, sizeof(ten_ff));
	assert_bad_msg(control_d, huge_len, sizeof(huge_len));
	assert_bad_msg(control_d, wire7, sizeof(wire7));
}
END_TEST

START_TEST(test_unpack_random)
{
	uint8_t buf[GARBAGE_MAX];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t bad = 0;

	for (int r = 0; r < GARBAGE_ROUNDS; r++) {
		size_t len = 1 + next_rand(&seed) % GARBAGE_MAX;

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)next_rand(&seed);
		bad += try_decode(chunk_d, buf, len) != 0;
		bad += try_decode(control_d, buf, len) != 0;
	}
	/* Random bytes almost never form a message. */
	ck_assert_uint_gt(bad, GARBAGE_ROUNDS);
}
END_TEST

START_TEST(test_unpack_truncated)
{
	struct stack_table *t = sample_table();
	size_t len, ok = 0;
	uint8_t *enc = encode_table(t, &len);

	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		ProtobufCMessage *m;

		ck_assert_ptr_nonnull(copy);
		memcpy(copy, enc, n);
		errno = 0;
		if ((m = pbmsg_unpack(chunk_d, copy, n)) != NULL) {
			(void)chunk_validate((Profd__ProfileChunk *)m);
			pbmsg_free(m);
			ok++;
		} else {
			ck_assert_int_eq(errno, EBADMSG);
		}
		free(copy);
	}
	ck_assert_uint_gt(ok, 0);
	ck_assert_uint_lt(ok, len);
	free(enc);
	stacks_free(t);
}
END_TEST

/* Decodes a mutated chunk; whatever validates must merge without harm. */
static void
decode_and_merge(const uint8_t *buf, size_t len)
{
	ProtobufCMessage *m = pbmsg_unpack(chunk_d, buf, len);
	struct stack_table *u;

	if (m == NULL)
		return;
	if (chunk_validate((Profd__ProfileChunk *)m) == 0) {
		u = stacks_new(FUZZ_BUDGET);
		ck_assert_ptr_nonnull(u);
		(void)chunk_merge(u, (Profd__ProfileChunk *)m);
		stacks_free(u);
	}
	pbmsg_free(m);
}

START_TEST(test_unpack_mutated)
{
	struct stack_table *t = sample_table();
	uint64_t seed = 12345;
	size_t len;
	uint8_t *enc = encode_table(t, &len);

	for (size_t i = 0; i < len; i++) {
		uint8_t old = enc[i];

		enc[i] ^= (uint8_t)(1 + next_rand(&seed) % 255);
		decode_and_merge(enc, len);
		enc[i] = old;
	}
	free(enc);
	stacks_free(t);
}
END_TEST

/* Returns n copies of the two bytes {tag, 0}: n empty fields. */
static uint8_t *
empty_fields(uint8_t tag, size_t n)
{
	uint8_t *buf = malloc(2 * n);

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < n; i++) {
		buf[2 * i] = tag;
		buf[2 * i + 1] = 0;
	}
	return buf;
}

START_TEST(test_budget_empty_strings)
{
	uint8_t *buf = empty_fields(0x1a, EMPTY_FIELDS);
	ProtobufCMessage *m;

	errno = 0;
	m = pbmsg_unpack(chunk_d, buf, 2 * EMPTY_FIELDS);
	if (m != NULL) {
		ck_assert_uint_eq(((Profd__ProfileChunk *)m)->n_strings,
				  EMPTY_FIELDS);
		pbmsg_free(m);
	} else {
		ck_assert_int_eq(errno, ENOMEM);
	}
	free(buf);
}
END_TEST

START_TEST(test_budget_empty_processes)
{
	uint8_t *buf = empty_fields(0x22, EMPTY_FIELDS);
	size_t budget =
	    PBMSG_BUDGET_BASE + 2 * EMPTY_FIELDS * PBMSG_BUDGET_FACTOR;

	/* Decoding needs a Process and a pointer per two input bytes. */
	ck_assert_uint_gt(EMPTY_FIELDS * (sizeof(Profd__Process) + 8), budget);
	errno = 0;
	ck_assert_ptr_null(pbmsg_unpack(chunk_d, buf, 2 * EMPTY_FIELDS));
	ck_assert_int_eq(errno, ENOMEM);
	free(buf);
}
END_TEST

/* Control for the test above: the same kind of message, small enough for
 * its budget, decodes; so the refusal is the budget's, not the bytes'. */
START_TEST(test_budget_empty_processes_small)
{
	size_t n = 100;
	uint8_t *buf = empty_fields(0x22, n);
	ProtobufCMessage *m;

	ck_assert_uint_lt(n * (sizeof(Profd__Process) + 8),
			  PBMSG_BUDGET_BASE + 2 * n * PBMSG_BUDGET_FACTOR);
	m = pbmsg_unpack(chunk_d, buf, 2 * n);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(((Profd__ProfileChunk *)m)->n_processes, n);
	pbmsg_free(m);
	free(buf);
}
END_TEST

START_TEST(test_budget_unpacked_frames)
{
	size_t n = EMPTY_FIELDS, len = 1 + 3 + 2 * n;
	uint8_t *buf = malloc(len);
	ProtobufCMessage *m;

	ck_assert_ptr_nonnull(buf);
	/* One Process (field 4) holding n unpacked frame ids (field 5). */
	buf[0] = 0x22;
	buf[1] = (uint8_t)(0x80 | ((2 * n) & 0x7f));
	buf[2] = (uint8_t)(0x80 | (((2 * n) >> 7) & 0x7f));
	buf[3] = (uint8_t)((2 * n) >> 14);
	for (size_t i = 0; i < n; i++) {
		buf[4 + 2 * i] = 0x28;
		buf[5 + 2 * i] = 0;
	}
	errno = 0;
	m = pbmsg_unpack(chunk_d, buf, len);
	if (m != NULL) {
		ck_assert_uint_eq(
		    ((Profd__ProfileChunk *)m)->processes[0]->n_frames, n);
		pbmsg_free(m);
	} else {
		ck_assert_int_eq(errno, ENOMEM);
	}
	free(buf);
}
END_TEST

/* Round trip of a table through pack and a bounded unpack. */
static void
roundtrip_table(struct stack_table *t)
{
	struct stack_table *back = stacks_new(0);
	struct chunk_buf b;
	ProtobufCMessage *m;
	size_t len;
	void *buf;

	ck_assert_ptr_nonnull(back);
	ck_assert_int_eq(chunk_build(&b, t, "perf", 1), 0);
	ck_assert_int_eq(chunk_validate(&b.cb_chunk), 0);
	buf = pbmsg_pack(&b.cb_chunk.base, &len);
	ck_assert_ptr_nonnull(buf);
	m = pbmsg_unpack(chunk_d, buf, len);
	ck_assert_msg(m != NULL, "a chunk of %zu bytes did not decode", len);
	ck_assert_int_eq(chunk_validate((Profd__ProfileChunk *)m), 0);
	ck_assert_int_eq(chunk_merge(back, (Profd__ProfileChunk *)m), 0);
	ck_assert_uint_eq(stacks_total(back), stacks_total(t));
	ck_assert_uint_eq(stacks_count(back), stacks_count(t));
	pbmsg_free(m);
	free(buf);
	chunk_buf_free(&b);
	stacks_free(back);
}

/* Many shallow stacks: the legitimate worst case of decode expansion. */
START_TEST(test_roundtrip_shallow)
{
	struct stack_table *t = stacks_new(0);
	uint32_t f[100], frames[2];
	char name[16];
	int proc;

	ck_assert_ptr_nonnull(t);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		f[i] = stacks_intern_str(t, name);
	}
	proc = stacks_proc(t, 1, f[0], 0, 0);
	for (int i = 0; i < 10000; i++) {
		frames[0] = f[i % 100];
		frames[1] = f[i / 100];
		ck_assert_int_eq(stacks_add(t, proc, frames, 2, 1), 0);
	}
	for (uint32_t pid = 2; pid < 502; pid++) {
		proc = stacks_proc(t, pid, f[pid % 100], 0, 0);
		for (int i = 0; i < 100; i++)
			ck_assert_int_eq(stacks_add(t, proc, &f[i], 1, 1), 0);
	}
	roundtrip_table(t);
	stacks_free(t);
}
END_TEST

/* A valid chunk whose parts one test at a time breaks. */
struct fixture {
	Profd__ProfileChunk fx_chunk;
	Profd__Process fx_proc, *fx_procp;
	uint32_t fx_depth;
	uint64_t fx_count;
	char *fx_strings[3];
	uint32_t fx_frames[STACKS_MAX_FRAMES + 1];
	char fx_long[STACKS_MAX_STRING + 2];
};

static void
fixture_init(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	profd__profile_chunk__init(&fx->fx_chunk);
	profd__process__init(&fx->fx_proc);
	fx->fx_strings[0] = "";
	fx->fx_strings[1] = "main";
	fx->fx_strings[2] = "work";
	fx->fx_frames[0] = 1;
	fx->fx_frames[1] = 2;
	fx->fx_depth = 2;
	fx->fx_count = 3;
	fx->fx_proc.pid = 77;
	fx->fx_proc.comm = 1;
	fx->fx_proc.frames = fx->fx_frames;
	fx->fx_proc.n_frames = 2;
	fx->fx_proc.depths = &fx->fx_depth;
	fx->fx_proc.n_depths = 1;
	fx->fx_proc.counts = &fx->fx_count;
	fx->fx_proc.n_counts = 1;
	fx->fx_procp = &fx->fx_proc;
	fx->fx_chunk.worker = "perf";
	fx->fx_chunk.strings = fx->fx_strings;
	fx->fx_chunk.n_strings = 3;
	fx->fx_chunk.processes = &fx->fx_procp;
	fx->fx_chunk.n_processes = 1;
	memset(fx->fx_long, 'x', sizeof(fx->fx_long) - 1);
}

/* Returns a string of len bytes from the fixture's long buffer. */
static char *
long_str(struct fixture *fx, size_t len)
{
	return fx->fx_long + sizeof(fx->fx_long) - 1 - len;
}

static void
bad_frame_id(struct fixture *fx)
{
	fx->fx_frames[1] = 3;
}

static void
bad_frame_none(struct fixture *fx)
{
	fx->fx_frames[0] = UINT32_MAX;
}

static void
bad_comm(struct fixture *fx)
{
	fx->fx_proc.comm = 3;
}

static void
bad_container(struct fixture *fx)
{
	fx->fx_proc.container = 3;
}

static void
bad_app_id(struct fixture *fx)
{
	fx->fx_proc.app_id = 1000;
}

static void
bad_zero_count(struct fixture *fx)
{
	fx->fx_count = 0;
}

static void
bad_no_frames(struct fixture *fx)
{
	fx->fx_depth = 0;
	fx->fx_proc.n_frames = 0;
}

static void
bad_too_many_frames(struct fixture *fx)
{
	fx->fx_depth = STACKS_MAX_FRAMES + 1;
	fx->fx_proc.n_frames = STACKS_MAX_FRAMES + 1;
}

static void
bad_depths_vs_frames(struct fixture *fx)
{
	fx->fx_depth = 1;
}

static void
bad_depths_vs_counts(struct fixture *fx)
{
	fx->fx_proc.n_counts = 0;
}

static void
bad_huge_count(struct fixture *fx)
{
	fx->fx_count = CHUNK_MAX_COUNT + 1;
}

static void
bad_no_strings(struct fixture *fx)
{
	fx->fx_chunk.n_strings = 0;
	fx->fx_chunk.n_processes = 0;
}

static void
bad_too_many_strings(struct fixture *fx)
{
	fx->fx_chunk.n_strings = CHUNK_MAX_STRINGS + 1;
}

static void
bad_too_many_procs(struct fixture *fx)
{
	fx->fx_chunk.n_processes = CHUNK_MAX_PROCS + 1;
}

static void
bad_worker(struct fixture *fx)
{
	fx->fx_chunk.worker = long_str(fx, 33);
}

static void
bad_error(struct fixture *fx)
{
	fx->fx_proc.error = long_str(fx, STACKS_MAX_STRING + 1);
}

static void
bad_string(struct fixture *fx)
{
	fx->fx_strings[2] = long_str(fx, STACKS_MAX_STRING + 1);
}

static void (*const breakers[])(struct fixture *) = {
    bad_frame_id,
    bad_frame_none,
    bad_comm,
    bad_container,
    bad_app_id,
    bad_zero_count,
    bad_no_frames,
    bad_too_many_frames,
    bad_no_strings,
    bad_too_many_strings,
    bad_too_many_procs,
    bad_worker,
    bad_error,
    bad_string,
    bad_depths_vs_frames,
    bad_depths_vs_counts,
    bad_huge_count,
};

#define NBREAKERS (sizeof(breakers) / sizeof(breakers[0]))

START_TEST(test_validate_rejects)
{
	struct fixture *fx = malloc(sizeof(*fx));

	ck_assert_ptr_nonnull(fx);
	fixture_init(fx);
	ck_assert_int_eq(chunk_validate(&fx->fx_chunk), 0);
	breakers[_i](fx);
	errno = 0;
	ck_assert_int_eq(chunk_validate(&fx->fx_chunk), -1);
	ck_assert_int_eq(errno, EBADMSG);
	free(fx);
}
END_TEST

START_TEST(test_validate_limits_accepted)
{
	struct fixture *fx = malloc(sizeof(*fx));
	struct stack_table *t = stacks_new(0);

	ck_assert_ptr_nonnull(fx);
	ck_assert_ptr_nonnull(t);
	fixture_init(fx);
	fx->fx_chunk.worker = long_str(fx, 32);
	fx->fx_proc.error = long_str(fx, STACKS_MAX_STRING);
	fx->fx_strings[2] = long_str(fx, STACKS_MAX_STRING);
	fx->fx_depth = STACKS_MAX_FRAMES;
	fx->fx_proc.n_frames = STACKS_MAX_FRAMES;
	fx->fx_frames[STACKS_MAX_FRAMES - 1] = 2;
	ck_assert_int_eq(chunk_validate(&fx->fx_chunk), 0);
	ck_assert_int_eq(chunk_merge(t, &fx->fx_chunk), 0);
	ck_assert_uint_eq(stacks_total(t), 3);
	ck_assert_uint_eq(stacks_strlen(t, stacks_proc_at(t, 0)->sp_error),
			  STACKS_MAX_STRING);
	free(fx);
	stacks_free(t);
}
END_TEST

static void
assert_u64_fails(const char *s, uint64_t min, uint64_t max, int err)
{
	uint64_t v = 12345;

	errno = 0;
	ck_assert_msg(parse_u64(s, min, max, &v) == -1, "accepted \"%s\"", s);
	ck_assert_int_eq(errno, err);
	ck_assert_uint_eq(v, 12345);
}

START_TEST(test_parse_u64)
{
	uint64_t v;

	ck_assert_int_eq(parse_u64("0", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(parse_u64("10", 5, 10, &v), 0);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(parse_u64("5", 5, 10, &v), 0);
	ck_assert_uint_eq(v, 5);
	ck_assert_int_eq(parse_u64("18446744073709551615", 0, UINT64_MAX, &v),
			 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	assert_u64_fails("", 0, 10, EINVAL);
	assert_u64_fails(NULL, 0, 10, EINVAL);
	assert_u64_fails("-1", 0, 10, EINVAL);
	assert_u64_fails("+1", 0, 10, EINVAL);
	assert_u64_fails(" 1", 0, 10, EINVAL);
	assert_u64_fails("1 ", 0, 10, EINVAL);
	assert_u64_fails("12a", 0, 100, EINVAL);
	assert_u64_fails("0x10", 0, 100, EINVAL);
	assert_u64_fails("4", 5, 10, ERANGE);
	assert_u64_fails("11", 5, 10, ERANGE);
	assert_u64_fails("18446744073709551616", 0, UINT64_MAX, ERANGE);
	assert_u64_fails("99999999999999999999999", 0, UINT64_MAX, ERANGE);
}
END_TEST

static void
assert_pids_fail(const char *s, size_t max, int err)
{
	uint32_t pids[8];
	size_t n;

	errno = 0;
	ck_assert_msg(parse_pids(s, pids, max, &n) == -1, "accepted \"%s\"", s);
	ck_assert_msg(errno == err, "\"%s\": errno %d", s, errno);
}

START_TEST(test_parse_pids)
{
	uint32_t pids[8];
	size_t n = 0;

	ck_assert_int_eq(parse_pids("1,2,3", pids, 8, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(pids[0], 1);
	ck_assert_uint_eq(pids[1], 2);
	ck_assert_uint_eq(pids[2], 3);
	ck_assert_int_eq(parse_pids("4194304", pids, 1, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(pids[0], 4194304);
	assert_pids_fail("1,,2", 8, EINVAL);
	assert_pids_fail(",1", 8, EINVAL);
	assert_pids_fail("1,", 8, EINVAL);
	assert_pids_fail(",", 8, EINVAL);
	assert_pids_fail("", 8, EINVAL);
	assert_pids_fail("abc", 8, EINVAL);
	assert_pids_fail("1,x", 8, EINVAL);
	assert_pids_fail("1, 2", 8, EINVAL);
	assert_pids_fail("12345678901234567", 8, EINVAL);
	/* Out of [1, 4194304]: parse_u64 says ERANGE. */
	assert_pids_fail("0", 8, ERANGE);
	assert_pids_fail("4194305", 8, ERANGE);
	assert_pids_fail("1,2,3,4", 3, E2BIG);
}
END_TEST

START_TEST(test_parse_pids_max)
{
	size_t len = PROFD_MAX_PIDS * 8 + 16, n = 0;
	uint32_t *pids = calloc(PROFD_MAX_PIDS, sizeof(*pids));
	char *s = malloc(len), *p = s;

	ck_assert_ptr_nonnull(pids);
	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < PROFD_MAX_PIDS; i++)
		p += sprintf(p, "%s%zu", i ? "," : "", i + 1);
	ck_assert_int_eq(parse_pids(s, pids, PROFD_MAX_PIDS, &n), 0);
	ck_assert_uint_eq(n, PROFD_MAX_PIDS);
	ck_assert_uint_eq(pids[PROFD_MAX_PIDS - 1], PROFD_MAX_PIDS);
	strcpy(p, ",5000");
	errno = 0;
	ck_assert_int_eq(parse_pids(s, pids, PROFD_MAX_PIDS, &n), -1);
	ck_assert_int_eq(errno, E2BIG);
	free(s);
	free(pids);
}
END_TEST

static void
assert_size(const char *s, uint64_t want)
{
	uint64_t v = 0;

	ck_assert_msg(parse_size(s, &v) == 0, "rejected \"%s\"", s);
	ck_assert_uint_eq(v, want);
}

static void
assert_size_fails(const char *s, int err)
{
	uint64_t v;

	errno = 0;
	ck_assert_msg(parse_size(s, &v) == -1, "accepted \"%s\"", s);
	ck_assert_msg(errno == err, "\"%s\": errno %d", s, errno);
}

START_TEST(test_parse_size)
{
	assert_size("16M", 16777216);
	assert_size("16m", 16777216);
	assert_size("1K", 1024);
	assert_size("1k", 1024);
	assert_size("2G", 2147483648ULL);
	assert_size("0", 0);
	assert_size("0K", 0);
	assert_size("123", 123);
	assert_size("17179869183G", UINT64_MAX - ((1ULL << 30) - 1));
	assert_size("18446744073709551615", UINT64_MAX);
	assert_size_fails("", EINVAL);
	assert_size_fails("M", EINVAL);
	assert_size_fails("1T", EINVAL);
	assert_size_fails("1KB", EINVAL);
	assert_size_fails("-1K", EINVAL);
	assert_size_fails(" 1K", EINVAL);
	assert_size_fails("1.5G", EINVAL);
	assert_size_fails("123456789012345678901234567890123", EINVAL);
	assert_size_fails("17179869184G", ERANGE);
	assert_size_fails("18014398509481984K", ERANGE);
	assert_size_fails("18446744073709551616", ERANGE);
}
END_TEST

/* Returns json_put_string's output for s. */
static char *
json_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(json_put_string(f, s), 0);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static void
assert_json(const char *in, const char *want)
{
	char *got = json_of(in);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_json_escapes)
{
	assert_json("", "\"\"");
	assert_json("plain", "\"plain\"");
	assert_json("a\"b", "\"a\\\"b\"");
	assert_json("a\\b", "\"a\\\\b\"");
	assert_json("a\nb\tc", "\"a\\nb\\tc\"");
	assert_json("\x01\r\x1f", "\"\\u0001\\u000d\\u001f\"");
	assert_json("</script>", "\"\\u003c/script\\u003e\"");
	assert_json("a&b", "\"a\\u0026b\"");
}
END_TEST

START_TEST(test_json_utf8)
{
	assert_json("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	assert_json("\xe2\x82\xac 5", "\"\xe2\x82\xac 5\"");
	assert_json("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
	assert_json("\xff", "\"\\ufffd\"");
	assert_json("a\xc3", "\"a\\ufffd\"");
	assert_json("\xc3(", "\"\\ufffd(\"");
	assert_json("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	assert_json("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
	assert_json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	assert_json("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	assert_json("\xe2\x82", "\"\\ufffd\\ufffd\"");
}
END_TEST

static Suite *
proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *ch = tcase_create("chunk"), *ct = tcase_create("control");
	TCase *bad = tcase_create("hostile"), *val = tcase_create("validate");

	tcase_add_test(ch, test_chunk_round_trip);
	tcase_add_test(ch, test_chunk_merge_twice);
	tcase_add_test(ch, test_chunk_empty_table);
	tcase_add_test(ch, test_chunk_merge_full_table);
	tcase_add_test(ct, test_control_hello);
	tcase_add_test(ct, test_control_configure);
	tcase_add_test(ct, test_control_snapshot);
	tcase_add_test(ct, test_control_stop);
	tcase_add_test(ct, test_control_status);
	tcase_add_test(ct, test_control_empty);
	tcase_add_test(bad, test_unpack_bad_bytes);
	tcase_add_test(bad, test_unpack_random);
	tcase_add_test(bad, test_unpack_truncated);
	tcase_add_test(bad, test_unpack_mutated);
	tcase_add_test(bad, test_budget_empty_strings);
	tcase_add_test(bad, test_budget_empty_processes);
	tcase_add_test(bad, test_budget_empty_processes_small);
	tcase_add_test(bad, test_budget_unpacked_frames);
	tcase_add_test(bad, test_roundtrip_shallow);
	tcase_add_loop_test(val, test_validate_rejects, 0, (int)NBREAKERS);
	tcase_add_test(val, test_validate_limits_accepted);
	tcase_set_timeout(bad, 60);
	suite_add_tcase(s, ch);
	suite_add_tcase(s, ct);
	suite_add_tcase(s, bad);
	suite_add_tcase(s, val);
	return s;
}

static Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *num = tcase_create("numbers"), *js = tcase_create("json");

	tcase_add_test(num, test_parse_u64);
	tcase_add_test(num, test_parse_pids);
	tcase_add_test(num, test_parse_pids_max);
	tcase_add_test(num, test_parse_size);
	tcase_add_test(js, test_json_escapes);
	tcase_add_test(js, test_json_utf8);
	suite_add_tcase(s, num);
	suite_add_tcase(s, js);
	return s;
}

CHECK_MAIN(proto_suite(), util_suite())
