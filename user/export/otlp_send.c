// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * otlp_send.c - one OTLP request delivered with the retry policy of the
 * OTLP/HTTP specification, and rate-limited logging of what went wrong.
 * See otlp_send.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "otlp_retry.h"
#include "otlp_send.h"

#define MS 1000000ULL

/* Whether to log now; *unlogged gets how many were skipped since the last line. */
static bool may_log(struct otlp_sender *s, uint64_t *unlogged)
{
	uint64_t now = otlp_mono_ns();

	if (s->last_log_ns && now - s->last_log_ns < OTLP_LOG_INTERVAL_MS * MS) {
		s->unlogged++;
		return false;
	}
	*unlogged = s->unlogged;
	s->unlogged = 0;
	s->last_log_ns = now;
	return true;
}

/* A printable excerpt of a response body (OTLP errors carry a google.rpc.Status). */
static void excerpt(char *out, size_t outlen, const uint8_t *body, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < outlen; i++) {
		unsigned char c = body[i];

		if (isprint(c))
			out[o++] = (char)c;
		else if (o && out[o - 1] != ' ')
			out[o++] = ' ';
	}
	out[o] = '\0';
}

/* Replaces control bytes in a collector's text, so that it cannot forge log lines. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static void log_failure(struct otlp_sender *s, const char *why)
{
	uint64_t unlogged;

	if (!may_log(s, &unlogged))
		return;
	if (unlogged)
		rt_err("otlp %s: export failed: %s (and %llu more problems in the last %d s)",
		       s->what, why, (unsigned long long)unlogged, OTLP_LOG_INTERVAL_MS / 1000);
	else
		rt_err("otlp %s: export failed: %s", s->what, why);
}

static bool default_sleep(void *ctx, uint64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000};

	(void)ctx;
	nanosleep(&ts, NULL);
	return true;
}

static uint64_t effective_deadline(const struct otlp_sender *s, uint64_t deadline_ns)
{
	uint64_t at = s->abort_at_ns ? atomic_load(s->abort_at_ns) : 0;

	return at && at < deadline_ns ? at : deadline_ns;
}

static void on_accepted(struct otlp_sender *s, const struct otlp_http_result *hr,
			struct otlp_send_result *res)
{
	char msg[256];
	uint64_t unlogged;

	if (!s->partial || s->partial(hr->body, hr->body_len, &res->rejected, msg, sizeof(msg))) {
		res->rejected = 0;
		return;
	}
	printable(msg);
	if ((res->rejected > 0 || msg[0]) && may_log(s, &unlogged))
		rt_warn("otlp %s: partial success: the collector rejected %lld%s%s%s", s->what,
			(long long)res->rejected, msg[0] ? ": " : "", msg,
			unlogged ? " (more problems were not logged)" : "");
	if (res->rejected < 0)
		res->rejected = 0;
}

int otlp_send(struct otlp_sender *s, const uint8_t *body, size_t len, uint64_t deadline_ns,
	      struct otlp_send_result *res)
{
	bool (*sleep_fn)(void *, uint64_t) = s->sleep ? s->sleep : default_sleep;
	struct otlp_http_result hr;
	char why[512], text[200];
	unsigned attempt = 0;

	memset(res, 0, sizeof(*res));
	for (;;) {
		uint64_t now = otlp_mono_ns(), end = effective_deadline(s, deadline_ns);
		uint64_t left_ms, delay_ms;
		unsigned t = s->timeout_ms;
		int rc;

		if (now >= end) {
			log_failure(s, attempt ? "gave up retrying: the time for this batch ran out"
					       : "no time left to send");
			return -ETIMEDOUT;
		}
		left_ms = (end - now) / MS;
		if (left_ms < t)
			t = left_ms ? (unsigned)left_ms : 1;
		rc = otlp_http_post(s->http, body, len, t, s->abort_at_ns, &hr);
		if (rc == -ENOMEM) {
			log_failure(s, "out of memory");
			return rc;
		}
		res->status = hr.status;
		if (!rc && hr.status >= 200 && hr.status < 300) {
			on_accepted(s, &hr, res);
			return 0;
		}
		if (!rc && !otlp_status_retryable(hr.status)) {
			excerpt(text, sizeof(text), hr.body, hr.body_len);
			snprintf(why, sizeof(why), "HTTP %ld%s%s (not retried)", hr.status,
				 text[0] ? ": " : "", text);
			log_failure(s, why);
			return -EPROTO;
		}
		if (hr.aborted) {
			log_failure(s, "stopped at shutdown");
			return -ETIMEDOUT;
		}
		/* retryable: Retry-After wins (within a floor), else exponential backoff */
		if (rc || !hr.retry_after[0] ||
		    otlp_retry_after_parse(hr.retry_after, time(NULL), &delay_ms)) {
			delay_ms = otlp_backoff_ms(++attempt, &s->seed);
		} else {
			uint64_t least = otlp_retry_after_floor_ms(++attempt);

			if (delay_ms < least)
				delay_ms = least;
		}
		now = otlp_mono_ns();
		end = effective_deadline(s, deadline_ns);
		if (now + delay_ms * MS >= end) {
			if (rc)
				snprintf(why, sizeof(why), "%s; no time left to retry", hr.error);
			else
				snprintf(why, sizeof(why), "HTTP %ld; no time left to retry%s%s",
					 hr.status, hr.retry_after[0] ? " after " : "",
					 hr.retry_after);
			log_failure(s, why);
			return -ETIMEDOUT;
		}
		if (rc)
			rt_debug("otlp %s: %s; retrying in %llu ms", s->what, hr.error,
				 (unsigned long long)delay_ms);
		else
			rt_debug("otlp %s: HTTP %ld; retrying in %llu ms", s->what, hr.status,
				 (unsigned long long)delay_ms);
		if (!sleep_fn(s->sleep_ctx, delay_ms)) {
			log_failure(s, "stopped at shutdown");
			return -ETIMEDOUT;
		}
		res->retries++;
	}
}
