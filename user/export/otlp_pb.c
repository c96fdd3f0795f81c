// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * otlp_pb.c - protobuf-c helpers the trace and metric encoders share:
 * packing a request into a malloc'd body, and reading the partial_success
 * of either Export*ServiceResponse through protobuf-c's descriptors (both
 * have partial_success, whose field 1 is the rejected count and field 2
 * the message). See otlp_encode.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "otlp_encode.h"

int otlp_pb_pack(const ProtobufCMessage *m, uint8_t **out, size_t *outlen)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);

	if (!buf)
		return -ENOMEM;
	*outlen = protobuf_c_message_pack(m, buf);
	*out = buf;
	return 0;
}

int otlp_pb_partial(const ProtobufCMessageDescriptor *d, const uint8_t *body, size_t len,
		    int64_t *rejected, char *msg, size_t msglen)
{
	const ProtobufCFieldDescriptor *f, *rf, *mf;
	ProtobufCMessage *resp, *ps = NULL;

	*rejected = 0;
	if (msglen)
		msg[0] = '\0';
	if (!len)
		return 0;
	resp = protobuf_c_message_unpack(d, NULL, len, body);
	if (!resp)
		return -EINVAL;
	f = protobuf_c_message_descriptor_get_field_by_name(d, "partial_success");
	if (f && f->type == PROTOBUF_C_TYPE_MESSAGE)
		ps = *(ProtobufCMessage **)((char *)resp + f->offset);
	if (ps) {
		rf = protobuf_c_message_descriptor_get_field(ps->descriptor, 1);
		mf = protobuf_c_message_descriptor_get_field(ps->descriptor, 2);
		if (rf && rf->type == PROTOBUF_C_TYPE_INT64)
			*rejected = *(int64_t *)((char *)ps + rf->offset);
		if (mf && mf->type == PROTOBUF_C_TYPE_STRING && msglen) {
			const char *s = *(char **)((char *)ps + mf->offset);

			if (s)
				snprintf(msg, msglen, "%s", s);
		}
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	return 0;
}
