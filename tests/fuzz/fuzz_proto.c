/*
 * libFuzzer target: every protobuf message that crosses a process
 * boundary, decoded as its receiver does (pbmsg_unpack: bounded). The
 * first input byte picks the message type, the rest is the encoding. A
 * ProfileChunk also goes through chunk_validate and chunk_merge, and what
 * was merged is built into a chunk again that must validate and merge to
 * the same samples.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "chunk.h"
#include "pbmsg.h"
#include "profd.pb-c.h"
#include "stacks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Received by: supervisor and workers (Control), profd-upload
 * (ProfileChunk), profilers (ChunkAck), profd (CtlRequest), profctl
 * (CtlReply). */
static const ProtobufCMessageDescriptor *const types[] = {
    &profd__control__descriptor,   &profd__profile_chunk__descriptor,
    &profd__chunk_ack__descriptor, &profd__ctl_request__descriptor,
    &profd__ctl_reply__descriptor,
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

/* Builds t into a chunk, encodes, decodes, validates and merges it. */
static void
rebuild(const struct stack_table *t, const char *worker)
{
	struct stack_table *t2;
	struct chunk_buf b;
	Profd__ProfileChunk *c;
	size_t len;
	void *buf;

	if (chunk_build(&b, t, worker, 1) != 0)
		abort();
	if ((buf = pbmsg_pack(&b.cb_chunk.base, &len)) == NULL)
		abort();
	c = (Profd__ProfileChunk *)pbmsg_unpack(
	    &profd__profile_chunk__descriptor, buf, len);
	if (c == NULL || chunk_validate(c) != 0)
		abort(); /* a chunk profd builds is one it accepts */
	if ((t2 = stacks_new(0)) == NULL || chunk_merge(t2, c) != 0)
		abort();
	if (stacks_total(t2) != stacks_total(t) ||
	    stacks_count(t2) != stacks_count(t))
		abort();
	stacks_free(t2);
	pbmsg_free(&c->base);
	free(buf);
	chunk_buf_free(&b);
}

static void
chunk(const Profd__ProfileChunk *c)
{
	struct stack_table *t;

	if (chunk_validate(c) != 0) {
		if (errno != EBADMSG)
			abort();
		return;
	}
	if ((t = stacks_new(0)) == NULL)
		abort();
	if (chunk_merge(t, c) == 0 && stacks_total(t) <= CHUNK_MAX_COUNT)
		rebuild(t, c->worker);
	stacks_free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const ProtobufCMessageDescriptor *d;
	ProtobufCMessage *m;

	if (size < 1)
		return 0;
	d = types[data[0] % NTYPES];
	m = pbmsg_unpack(d, data + 1, size - 1);
	if (m == NULL) {
		if (errno != EBADMSG && errno != ENOMEM)
			abort();
		return 0;
	}
	if (d == &profd__profile_chunk__descriptor)
		chunk((const Profd__ProfileChunk *)m);
	pbmsg_free(m);
	return 0;
}
