/* Protobuf encode and decode with bounded allocation. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "pbmsg.h"

struct pb_budget {
	size_t pb_left;
	int pb_over;
};

struct pb_hdr {
	size_t ph_size;
	size_t ph_pad; /* keeps the payload 16-byte aligned */
};

static void *
pb_alloc(void *data, size_t size)
{
	struct pb_budget *b = data;
	struct pb_hdr *h;

	if (b != NULL) {
		if (size > b->pb_left) {
			b->pb_over = 1;
			return NULL;
		}
		b->pb_left -= size;
	}
	if ((h = malloc(sizeof(*h) + size)) == NULL)
		return NULL;
	h->ph_size = size;
	return h + 1;
}

static void
pb_release(void *data, void *ptr)
{
	(void)data;
	if (ptr != NULL)
		free((struct pb_hdr *)ptr - 1);
}

static ProtobufCAllocator pb_free_allocator = {pb_alloc, pb_release, NULL};

ProtobufCMessage *
pbmsg_unpack(const ProtobufCMessageDescriptor *d, const void *buf, size_t len)
{
	struct pb_budget b = {PBMSG_BUDGET_BASE + len * PBMSG_BUDGET_FACTOR, 0};
	ProtobufCAllocator a = {pb_alloc, pb_release, &b};
	ProtobufCMessage *m;

	m = protobuf_c_message_unpack(d, &a, len, buf);
	if (m == NULL) {
		errno = b.pb_over ? ENOMEM : EBADMSG;
		return NULL;
	}
	return m;
}

void
pbmsg_free(ProtobufCMessage *m)
{
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, &pb_free_allocator);
}

void *
pbmsg_pack(const ProtobufCMessage *m, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	void *buf;

	if ((buf = malloc(n ? n : 1)) == NULL)
		return NULL;
	*len = protobuf_c_message_pack(m, buf);
	return buf;
}
