/* Protobuf encode and decode with bounded allocation. */
#ifndef PROFD_PBMSG_H
#define PROFD_PBMSG_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

/* Decoding may allocate at most this many bytes per input byte, plus a
 * fixed allowance: protobuf-c has no limit of its own. */
#define PBMSG_BUDGET_FACTOR 16
#define PBMSG_BUDGET_BASE   (64u << 10)

/* Decodes buf[0..len) as message type d with an allocation budget; NULL
 * with errno EBADMSG (does not decode) or ENOMEM (over budget). */
ProtobufCMessage *pbmsg_unpack(const ProtobufCMessageDescriptor *d,
			       const void *buf, size_t len);
/* Frees a message returned by pbmsg_unpack; NULL is allowed. */
void pbmsg_free(ProtobufCMessage *m);
/* Encodes m into a new buffer (free with free()); NULL on error. */
void *pbmsg_pack(const ProtobufCMessage *m, size_t *len);

#endif
