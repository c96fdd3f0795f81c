// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * span.c - filling a span: its bounded text area and its attributes. See
 * span.h.
 */
#include "span.h"

uint16_t span_text_add(struct span *s, const char *v)
{
	size_t room, n = 0;
	uint16_t off;

	if (!s->text_len || s->text_len > SPAN_TEXT_MAX) { /* not from span_init() */
		s->text[0] = '\0';
		s->text_len = 1;
	}
	while (v && n < SPAN_VALUE_MAX && v[n])
		n++;
	room = SPAN_TEXT_MAX - s->text_len;
	off = s->text_len;
	if (!n || room < 2)
		return 0;
	if (n > room - 1)
		n = room - 1;
	memcpy(s->text + off, v, n);
	s->text[off + n] = '\0';
	s->text_len = (uint16_t)(off + n + 1);
	return off;
}

static struct span_attr *attr_add(struct span *s, enum semconv_attr key)
{
	struct span_attr *a;

	if (s->nattrs >= SPAN_ATTRS_MAX)
		return NULL;
	a = &s->attrs[s->nattrs++];
	memset(a, 0, sizeof(*a));
	a->key = (uint8_t)key;
	return a;
}

void span_attr_str(struct span *s, enum semconv_attr key, const char *val)
{
	struct span_attr *a;
	uint16_t off;

	if (!val || s->nattrs >= SPAN_ATTRS_MAX)
		return;
	off = span_text_add(s, val);
	if (!off && val[0])
		return; /* no room left */
	a = attr_add(s, key);
	a->off = off;
}

void span_attr_int(struct span *s, enum semconv_attr key, int64_t val)
{
	struct span_attr *a = attr_add(s, key);

	if (!a)
		return;
	a->i = val;
	a->is_int = true;
}
