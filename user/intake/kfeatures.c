// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * kfeatures.c - the running kernel's features the capture programs may
 * use, from its release (kfeatures.h).
 */
#include <stdlib.h>
#include <sys/utsname.h>

#include "kfeatures.h"

/* The number at *p, moving p past it; false when there is none. */
static bool take_number(const char **p, unsigned long *v)
{
	char *end;

	if (**p < '0' || **p > '9')
		return false;
	*v = strtoul(*p, &end, 10);
	*p = end;
	return true;
}

bool kfeatures_release_at_least(const char *release, unsigned major, unsigned minor)
{
	const char *p = release;
	unsigned long ma, mi;

	if (!p || !take_number(&p, &ma) || *p++ != '.' || !take_number(&p, &mi))
		return false;
	return ma > major || (ma == major && mi >= minor);
}

bool kfeatures_untrusted_loads(void)
{
	struct utsname u;

	return uname(&u) == 0 && kfeatures_release_at_least(u.release, 6, 17);
}
