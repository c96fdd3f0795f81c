/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * config_table.h - the settings table shared by config.c (the table, its
 * setters, the environment and the command line), config_yaml.c (the YAML
 * file) and config_help.c (--help and the checks of the documentation).
 * Private to those files; the rest of the daemon uses config.h.
 *
 * API: settings[0..nsettings) describes every setting once. A row with a
 * name is a command-line option; rows without one are reached through
 * their env and key only. config_apply() runs a row's setter on one value
 * of one layer; struct src names that layer in error messages.
 *
 * Evolution: rows use designated initialisers, so fields are only ever
 * added to struct setting, never reordered or removed.
 */
#ifndef REDTAP_CONFIG_TABLE_H
#define REDTAP_CONFIG_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Where a value came from, for error messages, and the layer it belongs to. */
struct src {
	const char *what; /* "--capture-bytes", "REDTAP_CAPTURE_BYTES", "f.yaml:3: capture.bytes" */
	char *errbuf;
	size_t errlen;
	unsigned int *replaced;	  /* bit per list already replaced on this layer */
	bool env;		  /* the value comes from the environment */
	const struct setting *st; /* the row being applied (set by config_apply) */
};

enum kind { K_VALUE, K_FLAG, K_CONFIG, K_HELP, K_VERSION, K_SHIM_ENV };
enum list {
	LIST_NONE,
	LIST_PIDS,
	LIST_EXES,
	LIST_PORTS,
	LIST_ROUTES,
	LIST_CRITICAL,
	LIST_LOGFILES
};

typedef int (*setter_fn)(struct redtap_config *c, const char *v, const struct src *s);

struct setting {
	const char *name; /* long option without "--"; NULL: environment and file only */
	int val;	  /* short option letter or OPT_*; env-only entries share their option's */
	enum kind kind;	  /* K_SHIM_ENV: read by the shim in wrapped programs, not the agent */
	const char *arg;  /* metavariable in --help; NULL when the option takes no value */
	const char *env;  /* environment variable, or NULL */
	const char *key;  /* YAML key "section.name", "section.sub.name" or "name", or NULL */
	const char *def;  /* default as --help shows it, or NULL */
	const char *help; /* lines of at most 68 columns */
	bool run;	  /* listed in `redtap run --help` too */
	enum list list;
	setter_fn set;
	/* From the environment, a value the setter rejects is logged and ignored
	 * (the OpenTelemetry rule for malformed values) instead of failing. */
	bool lenient;
	const char *group; /* heading of the section of ENVIRONMENT that lists an env-only row */
	/* The field a generic setter writes: offsetof and sizeof in struct redtap_config. */
	size_t off, size;
};

/* .off and .size of a field of struct redtap_config, for a generic setter. */
#define CONFIG_FIELD(f)                                                                            \
	.off = offsetof(struct redtap_config, f), .size = sizeof(((struct redtap_config *)0)->f)

extern const struct setting settings[];
extern const size_t nsettings;

/* snprintf into buf when buf is not NULL. */
void config_errf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Runs st's setter on v (NULL for a flag) in the layer s; replaces a list
 * on its first value in that layer. Returns 0 or -errno with errbuf set. */
int config_apply(struct redtap_config *c, const struct setting *st, const char *v,
		 const struct src *s);

/* Empties list l on its first value of the layer s. */
void config_list_begin(struct redtap_config *c, enum list l, const struct src *s);

/* The row with YAML key key, or NULL. */
const struct setting *config_setting_by_key(const char *key);

/* Whether some key lives below prefix ("otlp" or "otlp.traces"). */
bool config_is_section(const char *prefix);

#endif /* REDTAP_CONFIG_TABLE_H */
