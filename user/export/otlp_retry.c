// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * otlp_retry.c - which OTLP/HTTP answers are retried, Retry-After parsing
 * and backoff with jitter. See otlp_retry.h.
 */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otlp_retry.h"

#define DAY_MS (24ULL * 3600 * 1000)

bool otlp_status_retryable(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
}

/* strptime() with the C locale's English names, whatever the process locale is. */
static bool parse_date(const char *v, const char *fmt, struct tm *tm)
{
	locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	locale_t old;
	const char *end;

	if (c == (locale_t)0)
		return false;
	old = uselocale(c);
	memset(tm, 0, sizeof(*tm));
	end = strptime(v, fmt, tm);
	uselocale(old);
	freelocale(c);
	if (!end)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	return *end == '\0';
}

int otlp_retry_after_parse(const char *value, time_t now, uint64_t *delay_ms)
{
	/* RFC 9110 section 5.6.7: IMF-fixdate, then the obsolete RFC 850 and asctime forms */
	static const char *const formats[] = {"%a, %d %b %Y %H:%M:%S GMT",
					      "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"};
	const char *v = value;
	struct tm tm;

	if (!v)
		return -EINVAL;
	while (isspace((unsigned char)*v))
		v++;
	if (isdigit((unsigned char)*v)) {
		unsigned long long secs = 0;
		const char *p = v;

		for (; isdigit((unsigned char)*p); p++)
			if (secs < DAY_MS)
				secs = secs * 10 + (unsigned)(*p - '0');
		while (isspace((unsigned char)*p))
			p++;
		if (!*p) {
			*delay_ms = secs >= DAY_MS / 1000 ? DAY_MS : secs * 1000;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		time_t when;

		if (!parse_date(v, formats[i], &tm))
			continue;
		when = timegm(&tm);
		if (when == (time_t)-1)
			return -EINVAL;
		if (when <= now)
			*delay_ms = 0;
		else if ((uint64_t)(when - now) >= DAY_MS / 1000)
			*delay_ms = DAY_MS;
		else
			*delay_ms = (uint64_t)(when - now) * 1000;
		return 0;
	}
	return -EINVAL;
}

uint64_t otlp_retry_after_floor_ms(unsigned attempt)
{
	uint64_t least = OTLP_RETRY_AFTER_MIN_MS;

	for (unsigned i = 2; i < attempt && least < OTLP_BACKOFF_MAX_MS; i++)
		least *= 2;
	return least < OTLP_BACKOFF_MAX_MS ? least : OTLP_BACKOFF_MAX_MS;
}

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

uint64_t otlp_backoff_ms(unsigned attempt, uint64_t *seed)
{
	uint64_t ceiling = OTLP_BACKOFF_INITIAL_MS;

	for (unsigned i = 1; i < attempt && ceiling < OTLP_BACKOFF_MAX_MS; i++)
		ceiling *= 2;
	if (ceiling > OTLP_BACKOFF_MAX_MS)
		ceiling = OTLP_BACKOFF_MAX_MS;
	return ceiling / 2 + xorshift64(seed) % (ceiling / 2 + 1);
}
