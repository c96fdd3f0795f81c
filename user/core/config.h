/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * config.h - the agent's settings: command line, YAML file, environment,
 * --help and --version. Every setting, the OpenTelemetry variables
 * included, is one row of the settings table (config.c); the agent is
 * configured from struct redtap_config, not from getenv().
 *
 * API: config_init() fills a struct redtap_config with the defaults.
 * config_parse() then layers, lowest first, the YAML file (-c FILE, else
 * $REDTAP_CONFIG), the environment and the command line on top of it,
 * resolves what depends on several settings (the OTLP URLs), and says
 * which command to run. config_load_file(), config_load_env() and
 * config_resolve() are its steps, for callers that need one layer.
 * config_release() frees what the parse allocated. config_print_help(),
 * config_print_man() and config_print_version() print the texts of
 * `redtap help`, the generated parts of redtap(8) and `redtap version`.
 *
 * Ownership: the lists (pids, exe_globs, ports, routes, critical_routes,
 * logs_files)
 * and their strings belong to the struct and are freed by
 * config_release(). run_argv points into the argv given to config_parse()
 * and is not owned.
 *
 * Invariants after a successful config_parse() or config_load_file(): every
 * value is within the range its comment gives; listen_host is a bare IPv4
 * or IPv6 address or a host name (IPv6 without brackets); lists hold no
 * duplicates; a list set on a higher layer replaces, not extends, the list
 * of a lower one. After an error the struct holds a mix of layers and must
 * only be released.
 *
 * Thread-safety: config_parse() uses getopt_long()'s global state and
 * getenv(): call it from one thread, at start-up. The print functions are
 * thread-safe.
 */
#ifndef REDTAP_CONFIG_H
#define REDTAP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "otlp_env.h"
#include "sampler.h"

#ifndef REDTAP_SHIM_DEFAULT_PATH
#define REDTAP_SHIM_DEFAULT_PATH "/usr/local/lib/redtap/libredtap.so"
#endif

#define REDTAP_DEFAULT_LISTEN_HOST    "127.0.0.1"
#define REDTAP_DEFAULT_LISTEN_PORT    9464
#define REDTAP_DEFAULT_MAX_SERIES     2000
#define REDTAP_DEFAULT_SERIES_TTL_S   300 /* Prometheus' staleness is 5 min */
#define REDTAP_DEFAULT_CONNS_PER_IP   32
#define REDTAP_DEFAULT_RINGBUF_BYTES  0 /* auto: user/intake/rings.c sizes each ring */
#define REDTAP_DEFAULT_SHIM_RATE      2000
#define REDTAP_DEFAULT_LOGS_RATE      1000 /* log writes per second per process */
#define REDTAP_DEFAULT_LOGS_BURST     2000
#define REDTAP_DEFAULT_SHIM_BURST     4000
#define REDTAP_DEFAULT_SHIM_UID_RATE  10000
#define REDTAP_DEFAULT_TRACES_SLOW_MS "1000"

/* Exit statuses documented in --help and redtap(8). */
enum redtap_exit {
	REDTAP_EXIT_OK = 0,
	REDTAP_EXIT_FAILURE = 1,    /* run-time failure, e.g. eBPF could not be loaded */
	REDTAP_EXIT_USAGE = 2,	    /* bad command line, environment or config file */
	REDTAP_EXIT_NOEXEC = 126,   /* redtap run: PROGRAM found but not executable */
	REDTAP_EXIT_NOTFOUND = 127, /* redtap run: PROGRAM not found */
};

enum redtap_command { CMD_AGENT, CMD_RUN, CMD_VERSION, CMD_HELP };

struct redtap_config {
	/* Prometheus endpoint */
	char listen_host[256];		   /* default "127.0.0.1"; stored without IPv6 brackets */
	uint16_t listen_port;		   /* default 9464, 1..65535 */
	char metrics_tls_cert[4096];	   /* PEM certificate: HTTPS; "" = plain HTTP */
	char metrics_tls_key[4096];	   /* its PEM private key */
	char metrics_token_file[4096];	   /* bearer token /metrics asks for; "" = none */
	uint32_t metrics_max_conns_per_ip; /* default 32, 1..65535 (non-loopback peers) */
	/* process selection: empty lists = every process on the node; a process
	 * is selected when it matches any entry of any list */
	pid_t *pids;
	size_t npids;
	char **exe_globs; /* fnmatch(3) patterns on the executable path */
	size_t nexe_globs;
	uint16_t *ports; /* processes listening on these TCP ports */
	size_t nports;
	/* routes and cardinality */
	char **routes; /* user route patterns like "/users/{id}" */
	size_t nroutes;
	uint32_t max_series;   /* per metric, default 2000, 1..1000000 */
	uint32_t series_ttl_s; /* idle series expire; default 300 s, 0 = never, ..31536000 */
	char k8s_labels[64];   /* Kubernetes labels on metrics (podmeta.h); "namespace,workload" */
	/* the optional pod list (k8sapi.h): "" = off */
	char k8s_pods_url[1024];
	char k8s_token_file[512]; /* bearer token, re-read on each fetch */
	char k8s_ca_file[512];	  /* CA of the kubelet or API server; "" = system CAs */
	uint32_t k8s_refresh_s;	  /* seconds between fetches; default 30 */
	/* kernel capture */
	uint32_t capture_bytes; /* default 256, 16..8192 */
	/* per record of an HTTP/2 connection, when above capture_bytes;
	 * default 8192, 16..8192 */
	uint32_t http2_capture_bytes;
	bool own_traffic;	/* parse the agent's own connections' other end; default off */
	uint32_t ringbuf_bytes; /* 0 (default): auto; else a power of two, 64 KiB .. 1 GiB */
	bool sched_batch;	/* the event loop runs as SCHED_BATCH; default on */
	uint32_t loop_slice_us; /* the event loop's EEVDF slice; 0 = the kernel's; 100..100000 */
	/* shim */
	char shim_path[4096]; /* default REDTAP_SHIM_DEFAULT_PATH */
	bool no_bpf;	      /* shim-only mode: no eBPF, no root needed */
	char shim_ring[4096]; /* shim-only mode's ring file; "" = shm_ring_default_path() */
	uint32_t shim_rate;   /* shim records per second per process, kernel-enforced;
			       * default 2000, 0 = no limit, ..1000000 */
	uint32_t shim_burst;  /* records above the rate a process may send at once; default 4000 */
	uint32_t shim_uid_rate;	 /* shim records per second per uid, all its processes together;
				  * default 10000, 0 = no limit; its burst is shim_burst */
	char shim_uids[1024];	 /* uids that may report through the ioctl channel; "" = any */
	char shim_cgroups[4096]; /* cgroup v2 paths that may report; "" = any */
	/* zero-code log capture (user/signals/logs.h) */
	bool logs;		     /* capture stdout/stderr of selected processes; default off */
	uint32_t logs_capture_bytes; /* bytes copied per write; default 2048, 16..8192 */
	uint32_t logs_rate;	/* writes per second per process, kernel-enforced; 0 = no limit */
	uint32_t logs_burst;	/* writes above the rate at once */
	char logs_redact[4096]; /* extra redaction patterns, ";;"-separated */
	bool logs_redact_defaults; /* the built-in secret patterns; default true */
	char **logs_files;	   /* path globs of log files (logfiles.h); none by default */
	size_t nlogs_files;
	/* OTLP export: the exporter's settings, with traces_url and metrics_url
	 * resolved by config_parse() (or config_resolve()) from otlp_endpoints */
	struct otlp_config otlp;
	struct otlp_endpoints otlp_endpoints;
	/* traces */
	struct sampler sampler; /* OTEL_TRACES_SAMPLER(_ARG); parentbased_always_on */
	char traces_slow[1024]; /* "MS[,/route=MS...]", checked; default "1000" */
	char **critical_routes; /* always keep traces of these routes */
	size_t ncritical;
	double critical_floor;	    /* ... at least this share of them; default 0.2 */
	double error_ratio;	    /* adaptive rates above this error ratio; 0.005, 0 = off */
	uint32_t sampling_window_s; /* the adaptive rates' sliding window; default 60 */
	uint32_t span_budget;	    /* spans per second per node; default 0 = no cap */
	char header_attrs[256];	    /* "Header=key,..." request attributes, checked; "" = none */
	char critical_header[128];  /* "Header=value": such requests are critical; "" = none */
	char baggage_attrs[256];    /* "entry=key,...": baggage entries as attributes; "" = none */
	char attr_labels[256];	    /* "key=allow:a|b,key=buckets:N": metric labels; "" = none */
	/* logging */
	int log_level; /* enum log_level: 0 error, 1 warn, 2 info (default), 3 debug */
	bool log_json;
	/* the program for `redtap run` (points into argv, NULL-terminated; not owned) */
	char **run_argv;
	char config_path[4096]; /* the YAML file that was loaded, "" if none */
	/* with CMD_HELP: whose help was asked for (CMD_AGENT or CMD_RUN) */
	enum redtap_command help_cmd;
};

/* Fills c with the defaults; c needs no prior state. */
void config_init(struct redtap_config *c);

/* Frees the lists and forgets run_argv; the scalars keep their values. Safe
 * to call twice. */
void config_release(struct redtap_config *c);

/*
 * Parses argv (argv[argc] must be NULL) on top of c, which config_init()
 * prepared: defaults < config file (-c/--config FILE, else $REDTAP_CONFIG)
 * < environment < command line. Sets *cmd. For help and version nothing
 * else is read, so a broken config file cannot hide --help. Never exits
 * and prints nothing. Returns 0; -EINVAL (or -errno of a file that cannot
 * be read, -ENOMEM) with one sentence in errbuf, such as
 * "--capture-bytes: 99999 is out of range 16..8192".
 */
int config_parse(struct redtap_config *c, int argc, char **argv, enum redtap_command *cmd,
		 char *errbuf, size_t errlen);

/*
 * Applies the environment on top of c, as one layer (an empty variable is
 * unset). From the environment, malformed OTEL_* numbers and enums are
 * logged and ignored, as OpenTelemetry asks. Returns 0 or -EINVAL/-ENOMEM
 * with one sentence in errbuf.
 */
int config_load_env(struct redtap_config *c, char *errbuf, size_t errlen);

/*
 * Derives what depends on several settings once every layer is in: the
 * OTLP URL of each signal (see otlp_config_resolve()). config_parse() calls
 * it last. Returns 0 or -EINVAL with one sentence in errbuf.
 */
int config_resolve(struct redtap_config *c, char *errbuf, size_t errlen);

/*
 * Loads the YAML file path into c, as one layer: values it names override
 * c's, lists it names replace c's. Records path in c->config_path.
 * Returns 0; -EINVAL for malformed YAML, unknown keys and bad values,
 * -errno when the file cannot be read; errbuf then names the file, the line
 * and the key.
 */
int config_load_file(struct redtap_config *c, const char *path, char *errbuf, size_t errlen);

/*
 * Splits "HOST:PORT", ":PORT" or "[IPv6]:PORT". host gets the bare host
 * ("" for ":PORT"), *port the port (1..65535). Returns 0 or -EINVAL.
 */
int config_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port);

/*
 * Parses a byte count with an optional binary suffix: "65536", "64K",
 * "8M", "1G" (case-insensitive, "KiB"/"KB" also accepted). Returns 0,
 * -EINVAL for a malformed string, -ERANGE when it does not fit 64 bits.
 */
int config_parse_size(const char *s, uint64_t *out);

/* The man-page-like text of `redtap --help` (any cmd but CMD_RUN) or of
 * `redtap run --help` (CMD_RUN). */
void config_print_help(FILE *out, enum redtap_command cmd);

/* The parts of redtap(8) rendered from the settings table: the list of
 * config-file keys with their defaults, and the ENVIRONMENT entries. The
 * unit tests check that docs/redtap.8 holds exactly this text. */
enum config_man_part { CONFIG_MAN_KEYS, CONFIG_MAN_ENVIRONMENT };
void config_print_man(FILE *out, enum config_man_part part);

/* "redtap VERSION (git REV)", from the REDTAP_VERSION and REDTAP_GIT_REV macros. */
void config_print_version(FILE *out);

#endif /* REDTAP_CONFIG_H */
