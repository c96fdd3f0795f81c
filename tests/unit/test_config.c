// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_config.c - unit tests for user/core/config.c: defaults, every option,
 * lists, precedence file < environment < flags, YAML errors, listen and
 * size parsing, `redtap run` argv splitting, help and version.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <yaml.h>

#include "config.h"
#include "config_table.h"
#include "version.h"

#define MAX_ARGS 32

/* Unsets every variable of the settings table, so that tests start clean. */
static void clear_env(void)
{
	for (size_t i = 0; i < nsettings; i++) {
		if (settings[i].env)
			unsetenv(settings[i].env);
	}
}

struct state {
	struct redtap_config c;
	enum redtap_command cmd;
	char err[512];
	char *argv[MAX_ARGS + 1]; /* run_argv points in here */
	char tmp[16][64];	  /* temporary YAML files to remove */
	int ntmp;
};

static int setup(void **ts)
{
	struct state *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	clear_env();
	config_init(&s->c);
	*ts = s;
	return 0;
}

static int teardown(void **ts)
{
	struct state *s = *ts;

	config_release(&s->c);
	for (int i = 0; i < s->ntmp; i++)
		unlink(s->tmp[i]);
	clear_env();
	free(s);
	return 0;
}

/* Parses "redtap" followed by args, which ends with NULL. */
static int parse_args(struct state *s, const char *const *args)
{
	int argc = 0;

	s->argv[argc++] = "redtap";
	for (; *args; args++) {
		assert_true(argc < MAX_ARGS);
		s->argv[argc++] = (char *)*args;
	}
	s->argv[argc] = NULL;
	memset(s->err, 'X', sizeof(s->err) - 1);
	s->err[sizeof(s->err) - 1] = '\0';
	return config_parse(&s->c, argc, s->argv, &s->cmd, s->err, sizeof(s->err));
}

/* parse(s, "--pid", "1") parses "redtap --pid 1"; parse(s, NULL) just "redtap". */
#define parse(s, ...) parse_args((s), (const char *[]){__VA_ARGS__, NULL})

/* Writes a temporary YAML file and returns its path. */
static const char *yaml_file(struct state *s, const char *text)
{
	char *path;
	int fd;

	assert_true(s->ntmp < 16);
	path = s->tmp[s->ntmp++];
	strcpy(path, "/tmp/test_config_XXXXXX.yaml");
	fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Asserts that parsing fails with exactly the message want. */
#define assert_parse_error(s, want, ...)                                                           \
	do {                                                                                       \
		assert_int_equal(parse((s), __VA_ARGS__), -EINVAL);                                \
		assert_string_equal((s)->err, (want));                                             \
	} while (0)

static void assert_defaults(const struct redtap_config *c)
{
	assert_string_equal(c->listen_host, "127.0.0.1");
	assert_int_equal(c->listen_port, 9464);
	assert_int_equal(c->npids, 0);
	assert_null(c->pids);
	assert_int_equal(c->nexe_globs, 0);
	assert_int_equal(c->nports, 0);
	assert_int_equal(c->nroutes, 0);
	assert_int_equal(c->max_series, 2000);
	assert_int_equal(c->capture_bytes, 256);
	assert_int_equal(c->http2_capture_bytes, 8192);
	assert_int_equal(c->ringbuf_bytes, 0); /* auto */
	assert_true(c->sched_batch);
	assert_int_equal(c->loop_slice_us, 0);
	assert_string_equal(c->shim_path, REDTAP_SHIM_DEFAULT_PATH);
	assert_false(c->no_bpf);
	assert_int_equal(c->log_level, 2);
	assert_false(c->log_json);
	assert_string_equal(c->shim_ring, "");
	assert_string_equal(c->otlp.traces_url, "");
	assert_string_equal(c->otlp.metrics_url, "");
	assert_string_equal(c->otlp_endpoints.endpoint, "");
	assert_false(c->otlp.gzip);
	assert_int_equal(c->otlp.timeout_ms, 10000);
	assert_int_equal(c->otlp.metric_interval_ms, 60000);
	assert_int_equal(c->otlp.queue_max_spans, 2048);
	assert_int_equal(c->otlp.batch_max_spans, 512);
	assert_int_equal(c->sampler.root, SAMPLER_ALWAYS_ON);
	assert_true(c->sampler.parent_based);
	assert_true(c->sampler.ratio == 1.0);
	assert_string_equal(c->traces_slow, "1000");
	assert_int_equal(c->ncritical, 0);
}

static void test_defaults(void **ts)
{
	struct state *s = *ts;

	assert_defaults(&s->c);
	assert_string_equal(REDTAP_SHIM_DEFAULT_PATH, "/usr/local/lib/redtap/libredtap.so");
	assert_int_equal(parse(s, NULL), 0);
	assert_int_equal(s->cmd, CMD_AGENT);
	assert_string_equal(s->err, "");
	assert_defaults(&s->c);
	assert_null(s->c.run_argv);
	assert_string_equal(s->c.config_path, "");

	assert_int_equal(parse(s, "agent"), 0);
	assert_int_equal(s->cmd, CMD_AGENT);
	assert_defaults(&s->c);
}

static void test_every_long_option(void **ts)
{
	struct state *s = *ts;

	assert_int_equal(parse(s, "--listen", "0.0.0.0:9100", "--pid", "42", "--exe",
			       "/usr/sbin/nginx", "--port", "8080", "--route", "/users/{id}",
			       "--max-series", "500", "--capture-bytes", "1024", "--ringbuf-size",
			       "16M", "--shim", "/opt/libredtap.so", "--no-bpf", "--log-level",
			       "warn", "--log-format", "json"),
			 0);
	assert_int_equal(s->cmd, CMD_AGENT);
	assert_string_equal(s->c.listen_host, "0.0.0.0");
	assert_int_equal(s->c.listen_port, 9100);
	assert_int_equal(s->c.npids, 1);
	assert_int_equal(s->c.pids[0], 42);
	assert_int_equal(s->c.nexe_globs, 1);
	assert_string_equal(s->c.exe_globs[0], "/usr/sbin/nginx");
	assert_int_equal(s->c.nports, 1);
	assert_int_equal(s->c.ports[0], 8080);
	assert_int_equal(s->c.nroutes, 1);
	assert_string_equal(s->c.routes[0], "/users/{id}");
	assert_int_equal(s->c.max_series, 500);
	assert_int_equal(s->c.capture_bytes, 1024);
	assert_int_equal(s->c.ringbuf_bytes, 16u << 20);
	assert_string_equal(s->c.shim_path, "/opt/libredtap.so");
	assert_true(s->c.no_bpf);
	assert_int_equal(s->c.log_level, 1);
	assert_true(s->c.log_json);
}

static void test_short_options_and_equals(void **ts)
{
	struct state *s = *ts;

	assert_int_equal(parse(s, "-l", "[::1]:9000", "-p", "7", "-e", "*/python3*", "-r", "/a/{x}",
			       "-v", "--max-series=9", "--log-format=text"),
			 0);
	assert_string_equal(s->c.listen_host, "::1");
	assert_int_equal(s->c.listen_port, 9000);
	assert_int_equal(s->c.pids[0], 7);
	assert_string_equal(s->c.exe_globs[0], "*/python3*");
	assert_string_equal(s->c.routes[0], "/a/{x}");
	assert_int_equal(s->c.max_series, 9);
	assert_int_equal(s->c.log_level, 3);
	assert_false(s->c.log_json);
}

static void test_lists_repeat_and_comma(void **ts)
{
	struct state *s = *ts;

	assert_int_equal(parse(s, "-p", "1,2", "-p", "3", "--pid=2", "--port", "80, 443", "--port",
			       "80", "-e", "/bin/a", "-e", "/bin/b", "-e", "/bin/a", "-r", "/x",
			       "-r", "/y/{id}"),
			 0);
	assert_int_equal(s->c.npids, 3);
	assert_int_equal(s->c.pids[0], 1);
	assert_int_equal(s->c.pids[1], 2);
	assert_int_equal(s->c.pids[2], 3);
	assert_int_equal(s->c.nports, 2);
	assert_int_equal(s->c.ports[0], 80);
	assert_int_equal(s->c.ports[1], 443);
	assert_int_equal(s->c.nexe_globs, 2);
	assert_string_equal(s->c.exe_globs[1], "/bin/b");
	assert_int_equal(s->c.nroutes, 2);
	assert_string_equal(s->c.routes[1], "/y/{id}");

	assert_parse_error(s, "--pid: empty item in the list", "-p", "1,,2");
	assert_parse_error(s, "--port: empty item in the list", "--port", "80,");
	assert_parse_error(s, "--pid: 'x' is not a number", "-p", "1,x");
}

static void test_bad_values(void **ts)
{
	struct state *s = *ts;

	assert_parse_error(s, "--capture-bytes: 99999 is out of range 16..8192", "--capture-bytes",
			   "99999");
	assert_parse_error(s, "--capture-bytes: 15 is out of range 16..8192", "--capture-bytes",
			   "15");
	assert_parse_error(s, "--capture-bytes: '12x' is not a number", "--capture-bytes", "12x");
	assert_parse_error(s, "--capture-bytes: '-1' is not a number", "--capture-bytes=-1");
	assert_parse_error(s, "--max-series: 0 is out of range 1..1000000", "--max-series", "0");
	assert_parse_error(s, "--max-series: 99999999999999999999999 is out of range 1..1000000",
			   "--max-series", "99999999999999999999999");
	assert_parse_error(s, "--pid: 0 is out of range 1..4194303", "-p", "0");
	assert_parse_error(s, "--port: 70000 is out of range 1..65535", "--port", "70000");
	assert_parse_error(s, "--log-level: 'loud' is not one of error, warn, info, debug",
			   "--log-level", "loud");
	assert_parse_error(s, "--log-format: 'xml' is not one of text, json", "--log-format",
			   "xml");
	assert_parse_error(s, "--shim: the path is empty", "--shim", "");
	assert_parse_error(
	    s, "--shim: '/a:b.so' contains ':' or a space, which LD_PRELOAD cannot carry", "--shim",
	    "/a:b.so");
	assert_parse_error(s,
			   "--exe: 'nginx' never matches: patterns match the whole executable "
			   "path, as '*/nginx'",
			   "-e", "nginx");
	assert_parse_error(s, "--exe: the pattern is empty", "-e", "");
	assert_parse_error(s, "--route: 'users' must start with '/'", "-r", "users");
	assert_parse_error(s, "--route: '/a/{id' has an unclosed or invalid '{name}'", "-r",
			   "/a/{id");
	assert_parse_error(s, "--route: '/a/{}' has an empty '{}'", "-r", "/a/{}");
	assert_parse_error(s, "--route: '/a}' has a '}' without '{'", "-r", "/a}");
	assert_parse_error(s, "--route: '/a b' contains a space or control character", "-r",
			   "/a b");
	assert_parse_error(s, "--config: the path is empty", "-c", "");
}

static void test_bad_options(void **ts)
{
	struct state *s = *ts;

	assert_parse_error(s, "unknown option '--bogus' (see 'redtap --help')", "--bogus");
	assert_parse_error(s, "unknown option '--bogus' (see 'redtap --help')", "--bogus=1");
	assert_parse_error(s, "unknown option '-x' (see 'redtap --help')", "-x");
	assert_parse_error(s, "unknown option '-x' (see 'redtap --help')", "-vx");
	assert_parse_error(s, "ambiguous option '--p' (see 'redtap --help')", "--p", "1");
	assert_parse_error(s, "--no-bpf takes no value", "--no-bpf=1");
	assert_parse_error(s, "--capture-bytes needs a value (N)", "--capture-bytes");
	assert_parse_error(s, "--config needs a value (FILE)", "-c");
	assert_parse_error(s, "unknown command 'frob' (commands: agent, run, version, help)",
			   "frob");
	assert_parse_error(s, "the command 'run' must come before the options", "-v", "run", "ls");
	assert_parse_error(s, "unexpected argument 'ls' (see 'redtap --help')", "agent", "ls");
	assert_parse_error(s, "unexpected argument 'x' (see 'redtap --help')", "--", "x");
	assert_parse_error(s, "version takes no arguments", "version", "x");
	assert_parse_error(s, "help: unknown command 'x'", "help", "x");
	assert_parse_error(s, "help takes at most one command", "help", "run", "x");

	/* A unique prefix of a long option is accepted, as getopt_long does. */
	assert_int_equal(parse(s, "--capture", "64"), 0);
	assert_int_equal(s->c.capture_bytes, 64);
}

static void test_parse_again_resets_getopt(void **ts)
{
	struct state *s = *ts;

	assert_int_equal(parse(s, "-v", "--capture-bytes", "100"), 0);
	assert_int_equal(s->c.capture_bytes, 100);
	/* A fresh parse must read its options from the start again. */
	assert_int_equal(parse(s, "--capture-bytes", "200"), 0);
	assert_int_equal(s->c.capture_bytes, 200);
	assert_parse_error(s, "unknown option '-x' (see 'redtap --help')", "-vx");
	assert_int_equal(parse(s, "-p", "5"), 0);
	assert_int_equal(s->c.npids, 1);
	assert_int_equal(s->c.pids[0], 5);
	/* getopt stopped inside "-xv"; the next parse must not see the stale "v" */
	config_release(&s->c);
	config_init(&s->c);
	assert_parse_error(s, "unknown option '-x' (see 'redtap --help')", "-xv");
	assert_int_equal(parse(s, NULL), 0);
	assert_int_equal(s->c.log_level, 2);
}

static void test_listen_parsing(void **ts)
{
	static const struct {
		const char *in, *host;
		uint16_t port;
	} good[] = {
	    {"127.0.0.1:9464", "127.0.0.1", 9464},
	    {":9000", "", 9000},
	    {"[::1]:9464", "::1", 9464},
	    {"[::]:80", "::", 80},
	    {"0.0.0.0:1", "0.0.0.0", 1},
	    {"localhost:65535", "localhost", 65535},
	    {"node-1.example.com:9464", "node-1.example.com", 9464},
	};
	static const char *const bad[] = {
	    "127.0.0.1",   "::1:9464",	    "[::1]", "[::1]9464", "[::1:9464",
	    "1.2.3.4:0",   "1.2.3.4:65536", "host:", "host:x",	  "-bad:1",
	    "1.2.3.999:1", "[1.2.3.4]:80",  "a b:1", "",	  "[]:1",
	};
	struct state *s = *ts;
	char host[256];
	uint16_t port;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(config_parse_listen(good[i].in, host, sizeof(host), &port), 0);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		port = 1234;
		if (config_parse_listen(bad[i], host, sizeof(host), &port) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(port, 1234);
	}
	assert_int_equal(config_parse_listen("127.0.0.1:1", host, 4, &port), -EINVAL);

	/* ":PORT" keeps the host of a lower layer. */
	assert_int_equal(parse(s, "-l", "[::1]:1", "-l", ":2"), 0);
	assert_string_equal(s->c.listen_host, "::1");
	assert_int_equal(s->c.listen_port, 2);
	assert_parse_error(s,
			   "--listen: '::1:9464' needs brackets around an IPv6 address, as "
			   "[::1]:9464",
			   "--listen", "::1:9464");
	assert_parse_error(s,
			   "--listen: '0.0.0.0' needs a port, as HOST:PORT, :PORT or "
			   "[IPv6]:PORT",
			   "--listen", "0.0.0.0");
	assert_parse_error(s, "--listen: ':0' has an invalid port (1..65535)", "--listen", ":0");
}

static void test_size_suffixes(void **ts)
{
	static const struct {
		const char *in;
		uint64_t out;
	} good[] = {
	    {"0", 0},		{"65536", 65536},
	    {"64K", 65536},	{"64k", 65536},
	    {"8M", 8u << 20},	{"8MiB", 8u << 20},
	    {"8mb", 8u << 20},	{"1G", 1u << 30},
	    {"3G", 3ull << 30}, {"18446744073709551615", UINT64_MAX},
	};
	static const char *const bad[] = {"", "K", "8X", "8 M", "-1", "8MM", "8Mx", "0x10", "1.5M"};
	struct state *s = *ts;
	uint64_t v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(config_parse_size(good[i].in, &v), 0);
		assert_true(v == good[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (config_parse_size(bad[i], &v) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
	}
	assert_int_equal(config_parse_size("18446744073709551616", &v), -ERANGE);
	assert_int_equal(config_parse_size("17179869184G", &v), -ERANGE);

	assert_int_equal(parse(s, "--ringbuf-size", "64K"), 0);
	assert_int_equal(s->c.ringbuf_bytes, 65536);
	assert_int_equal(parse(s, "--ringbuf-size", "1G"), 0);
	assert_int_equal(s->c.ringbuf_bytes, 1u << 30);
	assert_int_equal(parse(s, "--ringbuf-size", "262144"), 0);
	assert_int_equal(s->c.ringbuf_bytes, 262144);
	assert_int_equal(parse(s, "--ringbuf-size", "auto"), 0);
	assert_int_equal(s->c.ringbuf_bytes, 0);
	assert_parse_error(s,
			   "--ringbuf-size: 'big' is not a size (a number with an optional K, "
			   "M or G) nor auto",
			   "--ringbuf-size", "big");
	assert_parse_error(s, "--ringbuf-size: 3M is not a power of two", "--ringbuf-size", "3M");
	assert_parse_error(s, "--ringbuf-size: 32K is out of range 64K..1G", "--ringbuf-size",
			   "32K");
	assert_parse_error(s, "--ringbuf-size: 2G is out of range 64K..1G", "--ringbuf-size", "2G");
	assert_parse_error(s,
			   "--ringbuf-size: '8X' is not a size (a number with an optional K, M "
			   "or G) nor auto",
			   "--ringbuf-size", "8X");
}

static void test_log_levels(void **ts)
{
	static const struct {
		const char *in;
		int level;
	} levels[] = {{"error", 0}, {"warn", 1}, {"warning", 1}, {"info", 2},
		      {"debug", 3}, {"0", 0},	 {"3", 3}};
	struct state *s = *ts;

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		assert_int_equal(parse(s, "--log-level", levels[i].in), 0);
		assert_int_equal(s->c.log_level, levels[i].level);
	}
	assert_parse_error(s, "--log-level: '4' is not one of error, warn, info, debug",
			   "--log-level", "4");
	/* Options apply in order: the last one wins. */
	assert_int_equal(parse(s, "--log-level", "error", "-v"), 0);
	assert_int_equal(s->c.log_level, 3);
	assert_int_equal(parse(s, "-v", "--log-level", "error"), 0);
	assert_int_equal(s->c.log_level, 0);
}

static void test_precedence_file_env_flags(void **ts)
{
	struct state *s = *ts;
	const char *path = yaml_file(s, "prometheus: { listen: \"10.0.0.1:1000\" }\n"
					"limits: { max_series: 10 }\n"
					"capture: { bytes: 512, ringbuf_size: 16M }\n"
					"log: { level: error }\n");

	/* the file alone */
	assert_int_equal(parse(s, "-c", path), 0);
	assert_string_equal(s->c.config_path, path);
	assert_string_equal(s->c.listen_host, "10.0.0.1");
	assert_int_equal(s->c.listen_port, 1000);
	assert_int_equal(s->c.max_series, 10);
	assert_int_equal(s->c.capture_bytes, 512);
	assert_int_equal(s->c.ringbuf_bytes, 16u << 20);
	assert_int_equal(s->c.log_level, 0);

	/* the environment beats the file */
	config_release(&s->c);
	config_init(&s->c);
	setenv("REDTAP_CAPTURE_BYTES", "1024", 1);
	setenv("REDTAP_MAX_SERIES", "20", 1);
	setenv("REDTAP_LOG_LEVEL", "warn", 1);
	setenv("OTEL_EXPORTER_PROMETHEUS_HOST", "[::1]", 1);
	setenv("OTEL_EXPORTER_PROMETHEUS_PORT", "2000", 1);
	assert_int_equal(parse(s, "-c", path), 0);
	assert_int_equal(s->c.capture_bytes, 1024);
	assert_int_equal(s->c.max_series, 20);
	assert_int_equal(s->c.log_level, 1);
	assert_string_equal(s->c.listen_host, "::1");
	assert_int_equal(s->c.listen_port, 2000);
	assert_int_equal(s->c.ringbuf_bytes, 16u << 20); /* no variable: the file's */

	/* flags beat both; ":PORT" keeps the environment's host */
	config_release(&s->c);
	config_init(&s->c);
	assert_int_equal(
	    parse(s, "--capture-bytes", "2048", "-c", path, "-l", ":3000", "--log-level", "debug"),
	    0);
	assert_int_equal(s->c.capture_bytes, 2048);
	assert_int_equal(s->c.max_series, 20);
	assert_int_equal(s->c.log_level, 3);
	assert_string_equal(s->c.listen_host, "::1");
	assert_int_equal(s->c.listen_port, 3000);

	/* an empty variable counts as unset */
	config_release(&s->c);
	config_init(&s->c);
	setenv("REDTAP_CAPTURE_BYTES", "", 1);
	assert_int_equal(parse(s, "-c", path), 0);
	assert_int_equal(s->c.capture_bytes, 512);
}

static void test_config_from_environment(void **ts)
{
	struct state *s = *ts;
	const char *a = yaml_file(s, "capture: { bytes: 100 }\n");
	const char *b = yaml_file(s, "capture: { bytes: 200 }\n");

	setenv("REDTAP_CONFIG", a, 1);
	assert_int_equal(parse(s, NULL), 0);
	assert_int_equal(s->c.capture_bytes, 100);
	assert_string_equal(s->c.config_path, a);

	/* -c wins over REDTAP_CONFIG; the other file is not read at all */
	config_release(&s->c);
	config_init(&s->c);
	assert_int_equal(parse(s, "--config", b), 0);
	assert_int_equal(s->c.capture_bytes, 200);
	assert_string_equal(s->c.config_path, b);

	setenv("REDTAP_CONFIG", "/nonexistent/redtap.yaml", 1);
	assert_int_equal(parse(s, NULL), -ENOENT);
	assert_string_equal(s->err, "/nonexistent/redtap.yaml: cannot open the config file: "
				    "No such file or directory");
}

static void test_lists_replace_lower_layers(void **ts)
{
	struct state *s = *ts;
	const char *path = yaml_file(s, "select:\n"
					"  pids: [1, 2]\n"
					"  executables: [\"/usr/sbin/nginx\"]\n"
					"routes: [\"/a\", \"/b\"]\n");

	assert_int_equal(parse(s, "-c", path, "-p", "3", "-p", "4"), 0);
	assert_int_equal(s->c.npids, 2);
	assert_int_equal(s->c.pids[0], 3);
	assert_int_equal(s->c.pids[1], 4);
	/* lists the command line does not name keep the file's values */
	assert_int_equal(s->c.nexe_globs, 1);
	assert_string_equal(s->c.exe_globs[0], "/usr/sbin/nginx");
	assert_int_equal(s->c.nroutes, 2);
}

static void test_env_errors(void **ts)
{
	struct state *s = *ts;

	setenv("REDTAP_CAPTURE_BYTES", "99999", 1);
	assert_parse_error(s, "REDTAP_CAPTURE_BYTES: 99999 is out of range 16..8192", "-v");
	unsetenv("REDTAP_CAPTURE_BYTES");
	setenv("OTEL_EXPORTER_PROMETHEUS_PORT", "0", 1);
	assert_parse_error(s, "OTEL_EXPORTER_PROMETHEUS_PORT: 0 is out of range 1..65535", "-v");
	unsetenv("OTEL_EXPORTER_PROMETHEUS_PORT");
	setenv("OTEL_EXPORTER_PROMETHEUS_HOST", "bad host", 1);
	assert_parse_error(s, "OTEL_EXPORTER_PROMETHEUS_HOST: 'bad host' is not a valid host",
			   "-v");
	unsetenv("OTEL_EXPORTER_PROMETHEUS_HOST");
	setenv("REDTAP_LOG_LEVEL", "chatty", 1);
	assert_parse_error(s, "REDTAP_LOG_LEVEL: 'chatty' is not one of error, warn, info, debug",
			   "-v");
	unsetenv("REDTAP_LOG_LEVEL");
	setenv("REDTAP_MAX_SERIES", "0", 1);
	assert_parse_error(s, "REDTAP_MAX_SERIES: 0 is out of range 1..1000000", "-v");
}

/* capture.loop_slice_us: 0 or the 100..100000 us the kernel keeps, nothing it would round. */
static void test_loop_slice(void **ts)
{
	struct state *s = *ts;
	const char *path = yaml_file(s, "capture: { loop_slice_us: 100000 }\n");

	assert_int_equal(parse(s, "-c", path), 0);
	assert_int_equal(s->c.loop_slice_us, 100000);
	config_release(&s->c);
	config_init(&s->c);
	setenv("REDTAP_LOOP_SLICE_US", "100", 1);
	assert_int_equal(parse(s, "-c", path), 0); /* the environment beats the file */
	assert_int_equal(s->c.loop_slice_us, 100);
	config_release(&s->c);
	config_init(&s->c);
	setenv("REDTAP_LOOP_SLICE_US", "0", 1);
	assert_int_equal(parse(s, "-c", path), 0);
	assert_int_equal(s->c.loop_slice_us, 0);
	setenv("REDTAP_LOOP_SLICE_US", "99", 1);
	assert_parse_error(
	    s, "REDTAP_LOOP_SLICE_US: 99 is neither 0 nor in range 100..100000 (microseconds)",
	    "-v");
	setenv("REDTAP_LOOP_SLICE_US", "100001", 1);
	assert_parse_error(
	    s, "REDTAP_LOOP_SLICE_US: 100001 is neither 0 nor in range 100..100000 (microseconds)",
	    "-v");
	setenv("REDTAP_LOOP_SLICE_US", "1ms", 1);
	assert_parse_error(s, "REDTAP_LOOP_SLICE_US: '1ms' is not a number", "-v");
	unsetenv("REDTAP_LOOP_SLICE_US");
}

static void test_yaml_every_key(void **ts)
{
	struct state *s = *ts;
	const char *path = yaml_file(s, "# every key\n"
					"prometheus:\n"
					"  listen: \"[::]:9100\"\n"
					"select:\n"
					"  pids: [10, 11]\n"
					"  executables: [\"/usr/sbin/nginx\", \"*/python3*\"]\n"
					"  ports: 8080\n"
					"routes:\n"
					"  - /users/{id}\n"
					"limits: { max_series: 77 }\n"
					"capture:\n"
					"  bytes: 1024\n"
					"  ringbuf_size: 64K\n"
					"shim: { path: /opt/x.so, no_bpf: true }\n"
					"log: { level: debug, format: json }\n");

	assert_int_equal(config_load_file(&s->c, path, s->err, sizeof(s->err)), 0);
	assert_string_equal(s->c.config_path, path);
	assert_string_equal(s->c.listen_host, "::");
	assert_int_equal(s->c.listen_port, 9100);
	assert_int_equal(s->c.npids, 2);
	assert_int_equal(s->c.pids[1], 11);
	assert_int_equal(s->c.nexe_globs, 2);
	assert_string_equal(s->c.exe_globs[1], "*/python3*");
	assert_int_equal(s->c.nports, 1);
	assert_int_equal(s->c.ports[0], 8080);
	assert_int_equal(s->c.nroutes, 1);
	assert_string_equal(s->c.routes[0], "/users/{id}");
	assert_int_equal(s->c.max_series, 77);
	assert_int_equal(s->c.capture_bytes, 1024);
	assert_int_equal(s->c.ringbuf_bytes, 65536);
	assert_string_equal(s->c.shim_path, "/opt/x.so");
	assert_true(s->c.no_bpf);
	assert_int_equal(s->c.log_level, 3);
	assert_true(s->c.log_json);

	/* A second file is a new layer: its empty list selects everything again. */
	path = yaml_file(s, "select: { pids: [], ports: ~ }\nshim: { no_bpf: off }\nlog:\n");
	assert_int_equal(config_load_file(&s->c, path, s->err, sizeof(s->err)), 0);
	assert_int_equal(s->c.npids, 0);
	assert_int_equal(s->c.nports, 0);
	assert_int_equal(s->c.nexe_globs, 2);
	assert_false(s->c.no_bpf);
}

static void test_yaml_empty_file(void **ts)
{
	struct state *s = *ts;
	const char *path = yaml_file(s, "# nothing but a comment\n");

	assert_int_equal(parse(s, "-c", path), 0);
	assert_defaults(&s->c);
	assert_string_equal(s->c.config_path, path);
}

/* Finds a file of the repository, from its root or relative to this source. */
static void repo_path(const char *rel, char *path, size_t len)
{
	const char *file = __FILE__, *slash = strrchr(file, '/');

	snprintf(path, len, "%s", rel);
	if (access(path, R_OK) && slash) /* this file is tests/unit/test_config.c */
		snprintf(path, len, "%.*s/../../%s", (int)(slash - file), file, rel);
	if (access(path, R_OK))
		fail_msg("%s not found: run the test from the repository root", rel);
}

static void test_deploy_example_has_the_defaults(void **ts)
{
	struct state *s = *ts;
	char path[PATH_MAX];

	repo_path("deploy/redtap.yaml", path, sizeof(path));
	assert_int_equal(config_load_file(&s->c, path, s->err, sizeof(s->err)), 0);
	assert_defaults(&s->c);
}

static char *read_repo_file(const char *rel)
{
	char path[PATH_MAX], *buf;
	FILE *f;
	long len;

	repo_path(rel, path, sizeof(path));
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

/* The text between the lines that start with begin and end in doc, or NULL. */
static char *region(char *doc, const char *begin, const char *end, char **stop)
{
	char *b = strstr(doc, begin), *e;

	if (!b || !(b = strchr(b, '\n')))
		return NULL;
	e = strstr(++b, end);
	*stop = e;
	return e ? b : NULL;
}

static char *render_man(enum config_man_part part)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	config_print_man(f, part);
	fclose(f);
	return buf;
}

/*
 * The parts of docs/redtap.8 that list the config-file keys and the
 * environment are exactly what the settings table renders. With
 * REDTAP_UPDATE_DOCS=1 the test rewrites them instead of failing.
 */
static void test_man_page_generated_parts(void **ts)
{
	static const struct {
		enum config_man_part part;
		const char *begin, *end;
	} parts[] = {
	    {CONFIG_MAN_KEYS, ".\\\" BEGIN keys", ".\\\" END keys"},
	    {CONFIG_MAN_ENVIRONMENT, ".\\\" BEGIN environment", ".\\\" END environment"},
	};
	char path[PATH_MAX];
	char *man = read_repo_file("docs/redtap.8");
	bool update = getenv("REDTAP_UPDATE_DOCS") && !strcmp(getenv("REDTAP_UPDATE_DOCS"), "1");
	bool changed = false;

	(void)ts;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		char *want = render_man(parts[i].part), *stop, *have;

		have = region(man, parts[i].begin, parts[i].end, &stop);
		if (!have)
			fail_msg("docs/redtap.8 lacks the lines '%s' and '%s'", parts[i].begin,
				 parts[i].end);
		if ((size_t)(stop - have) != strlen(want) || strncmp(have, want, strlen(want))) {
			char *next;

			if (!update)
				fail_msg(
				    "docs/redtap.8: the part after '%s' is not what the settings "
				    "table renders; run REDTAP_UPDATE_DOCS=1 %s",
				    parts[i].begin, "build/tests/test_config");
			assert_true(
			    asprintf(&next, "%.*s%s%s", (int)(have - man), man, want, stop) > 0);
			free(man);
			man = next;
			changed = true;
		}
		free(want);
	}
	if (changed) {
		FILE *f;

		repo_path("docs/redtap.8", path, sizeof(path));
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(man, f);
		fclose(f);
	}
	free(man);
}

static const struct setting *setting_by_env(const char *env, size_t len)
{
	for (size_t i = 0; i < nsettings; i++) {
		if (settings[i].env && strlen(settings[i].env) == len &&
		    !strncmp(settings[i].env, env, len))
			return &settings[i];
	}
	return NULL;
}

static const struct setting *setting_by_name(const char *name)
{
	for (size_t i = 0; i < nsettings; i++) {
		if (settings[i].name && !strcmp(settings[i].name, name))
			return &settings[i];
	}
	return NULL;
}

/*
 * docs/redtap.8 names every option, variable and key of the settings table,
 * and nothing the table does not have: every "\-\-option", every OTEL_* and
 * REDTAP_* word and every key after "File:" is a row.
 */
static void test_man_page_in_step(void **ts)
{
	static const char *const sections[] = {".SH EXIT STATUS", ".SH FILES", ".SH EXAMPLES",
					       ".SH ENVIRONMENT", ".SH CONFIGURATION FILE"};
	char *man = read_repo_file("docs/redtap.8"), *p, *hit;
	const char *options, *options_end;

	(void)ts;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		if (!strstr(man, sections[i]))
			fail_msg("docs/redtap.8 lacks '%s'", sections[i]);
	}
	options = strstr(man, ".SH OPTIONS");
	assert_non_null(options);
	options_end = strstr(options, "\n.SH ");
	assert_non_null(options_end);
	for (size_t i = 0; i < nsettings; i++) {
		const struct setting *st = &settings[i];
		char opt[128] = "\\-\\-";

		for (const char *n = st->name; n && *n; n++)
			strncat(opt, *n == '-' ? "\\-" : (char[]){*n, 0},
				sizeof(opt) - strlen(opt) - 1);
		if (st->name && (!(hit = strstr(options, opt)) || hit > options_end))
			fail_msg("docs/redtap.8 lacks the option '%s' in OPTIONS", opt);
		if (st->env && !strstr(man, st->env))
			fail_msg("docs/redtap.8 lacks the variable %s", st->env);
		if (st->key && !strstr(man, st->key))
			fail_msg("docs/redtap.8 lacks the key %s", st->key);
	}
	/* and the other way round */
	for (p = man; (p = strstr(p, "\\-\\-"));) {
		char name[128];
		size_t n = 0;

		for (p += 4;
		     n + 1 < sizeof(name) && (isalnum((unsigned char)*p) || !strncmp(p, "\\-", 2));
		     p += *p == '\\' ? 2 : 1)
			name[n++] = *p == '\\' ? '-' : *p;
		name[n] = '\0';
		if (n && !setting_by_name(name))
			fail_msg("docs/redtap.8 names the option --%s, which the table lacks",
				 name);
	}
	for (p = man; *p; p++) {
		size_t len;

		if ((strncmp(p, "OTEL_", 5) && strncmp(p, "REDTAP_", 7)) ||
		    (p > man && (isalnum((unsigned char)p[-1]) || p[-1] == '_')))
			continue;
		len = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
		if (!setting_by_env(p, len))
			fail_msg("docs/redtap.8 names %.*s, which the settings table lacks",
				 (int)len, p);
		p += len - 1;
	}
	for (p = man; (p = strstr(p, "File:\n.BR "));) {
		char key[128];

		p += strlen("File:\n.BR ");
		snprintf(key, sizeof(key), "%.*s", (int)strcspn(p, " \n"), p);
		if (!config_setting_by_key(key))
			fail_msg("docs/redtap.8 names the key %s, which the table lacks", key);
	}
	free(man);
}

/* Adds the dotted keys of the leaves below node to keys ("a.b" for a: { b: 1 }). */
static void yaml_leaf_keys(yaml_document_t *doc, yaml_node_t *node, const char *prefix,
			   char keys[][64], size_t *n, size_t max)
{
	for (yaml_node_pair_t *pr = node->data.mapping.pairs.start;
	     pr < node->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(doc, pr->value);
		char key[64];

		snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "",
			 (const char *)k->data.scalar.value);
		if (v->type == YAML_MAPPING_NODE && config_is_section(key)) {
			yaml_leaf_keys(doc, v, key, keys, n, max);
			continue;
		}
		assert_true(*n < max);
		strcpy(keys[(*n)++], key);
	}
}

/* deploy/redtap.yaml holds every key of the table, and only those. */
static void test_deploy_example_in_step(void **ts)
{
	static char keys[256][64];
	char path[PATH_MAX];
	yaml_parser_t parser;
	yaml_document_t doc;
	size_t n = 0;
	FILE *f;

	(void)ts;
	repo_path("deploy/redtap.yaml", path, sizeof(path));
	f = fopen(path, "r");
	assert_non_null(f);
	assert_true(yaml_parser_initialize(&parser));
	yaml_parser_set_input_file(&parser, f);
	assert_true(yaml_parser_load(&parser, &doc));
	yaml_leaf_keys(&doc, yaml_document_get_root_node(&doc), "", keys, &n, 256);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	for (size_t i = 0; i < n; i++) {
		if (!config_setting_by_key(keys[i]))
			fail_msg("deploy/redtap.yaml has the key %s, which the table lacks",
				 keys[i]);
	}
	for (size_t i = 0; i < nsettings; i++) {
		size_t j = 0;

		while (settings[i].key && j < n && strcmp(keys[j], settings[i].key))
			j++;
		if (settings[i].key && j == n)
			fail_msg("deploy/redtap.yaml lacks the key %s", settings[i].key);
	}
}

/* Loads text as a config file; asserts the error "<path>:<rest>". */
static void assert_yaml_error(struct state *s, const char *text, int want_err, const char *rest)
{
	const char *path = yaml_file(s, text);
	char want[512];

	snprintf(want, sizeof(want), "%s%s", path, rest);
	assert_int_equal(config_load_file(&s->c, path, s->err, sizeof(s->err)), want_err);
	assert_string_equal(s->err, want);
	assert_string_equal(s->c.config_path, "");
}

static void test_yaml_errors(void **ts)
{
	struct state *s = *ts;

	assert_yaml_error(s, "capture:\n  bytes: 256\n  byts: 3\n", -EINVAL,
			  ":3: unknown key 'capture.byts' (capture has: bytes, http2_bytes, "
			  "own_traffic, sched_batch, loop_slice_us, ringbuf_size)");
	assert_yaml_error(s, "log: {}\nfoo: 1\n", -EINVAL,
			  ":2: unknown key 'foo' (known keys: prometheus, select, routes, limits, "
			  "k8s, capture, shim, log, otlp, traces, logs)");
	assert_yaml_error(s, "capture:\n  bytes: 99999\n", -EINVAL,
			  ":2: capture.bytes: 99999 is out of range 16..8192");
	assert_yaml_error(s, "select:\n  ports:\n    - 80\n    - 0\n", -EINVAL,
			  ":4: select.ports: 0 is out of range 1..65535");
	assert_yaml_error(s, "capture: 5\n", -EINVAL,
			  ":1: 'capture' must be a mapping of keys, as 'capture: { ... }'");
	assert_yaml_error(s, "- a\n", -EINVAL,
			  ":1: the top level must be a mapping of keys, as 'capture: { bytes: 256 "
			  "}'");
	assert_yaml_error(s, "shim:\n  path:\n", -EINVAL, ":2: shim.path: missing value");
	assert_yaml_error(s, "capture:\n  bytes: [1, 2]\n", -EINVAL,
			  ":2: capture.bytes: expected a single value");
	assert_yaml_error(s, "shim: { no_bpf: maybe }\n", -EINVAL,
			  ":1: shim.no_bpf: 'maybe' is not true or false");
	/* malformed YAML */
	assert_yaml_error(s, "capture:\n  bytes: [1\n", -EINVAL,
			  ":3:1: invalid YAML: did not find expected ',' or ']' (while parsing a "
			  "flow sequence)");
	assert_yaml_error(s, "a: b: c\n", -EINVAL,
			  ":1:5: invalid YAML: mapping values are not allowed in this context");
	assert_yaml_error(s, "capture:\n\tbytes: 1\n", -EINVAL,
			  ":2:1: invalid YAML: found character that cannot start any token (while "
			  "scanning for the next token)");

	assert_int_equal(parse(s, "-c", "/"), -EISDIR);
	assert_string_equal(s->err, "/: is a directory, not a config file");
}

static void test_run_argv(void **ts)
{
	struct state *s = *ts;

	assert_int_equal(parse(s, "run", "--no-bpf", "--", "./app", "-x", "--help"), 0);
	assert_int_equal(s->cmd, CMD_RUN);
	assert_true(s->c.no_bpf);
	assert_ptr_equal(s->c.run_argv, &s->argv[4]);
	assert_string_equal(s->c.run_argv[0], "./app");
	assert_string_equal(s->c.run_argv[1], "-x");
	assert_string_equal(s->c.run_argv[2], "--help");
	assert_null(s->c.run_argv[3]);

	/* without "--": the first non-option starts PROGRAM */
	assert_int_equal(parse(s, "run", "--shim", "/x.so", "python3", "-m", "http.server"), 0);
	assert_int_equal(s->cmd, CMD_RUN);
	assert_string_equal(s->c.shim_path, "/x.so");
	assert_ptr_equal(s->c.run_argv, &s->argv[4]);
	assert_string_equal(s->c.run_argv[1], "-m");
	assert_null(s->c.run_argv[3]);

	/* "--" as PROGRAM's own argument stays */
	assert_int_equal(parse(s, "run", "--", "prog", "--", "arg"), 0);
	assert_string_equal(s->c.run_argv[0], "prog");
	assert_string_equal(s->c.run_argv[1], "--");

	assert_parse_error(s,
			   "run: missing PROGRAM (usage: redtap run [OPTIONS] [--] PROGRAM "
			   "[ARGS...])",
			   "run");
	assert_parse_error(s,
			   "run: missing PROGRAM (usage: redtap run [OPTIONS] [--] PROGRAM "
			   "[ARGS...])",
			   "run", "-v", "--");

	config_release(&s->c);
	assert_null(s->c.run_argv);
}

static void test_help_and_version_commands(void **ts)
{
	static const struct {
		const char *a, *b;
		enum redtap_command cmd, help;
	} cases[] = {
	    {"--help", NULL, CMD_HELP, CMD_AGENT},
	    {"-h", NULL, CMD_HELP, CMD_AGENT},
	    {"help", NULL, CMD_HELP, CMD_AGENT},
	    {"help", "run", CMD_HELP, CMD_RUN},
	    {"help", "agent", CMD_HELP, CMD_AGENT},
	    {"run", "--help", CMD_HELP, CMD_RUN},
	    {"run", "-h", CMD_HELP, CMD_RUN},
	    {"agent", "-h", CMD_HELP, CMD_AGENT},
	    {"--version", NULL, CMD_VERSION, CMD_AGENT},
	    {"-V", NULL, CMD_VERSION, CMD_AGENT},
	    {"version", NULL, CMD_VERSION, CMD_AGENT},
	    {"run", "-V", CMD_VERSION, CMD_RUN},
	};
	struct state *s = *ts;

	/* a broken config must not hide the help */
	setenv("REDTAP_CONFIG", "/nonexistent.yaml", 1);
	setenv("REDTAP_CAPTURE_BYTES", "1", 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_release(&s->c);
		config_init(&s->c);
		assert_int_equal(parse(s, cases[i].a, cases[i].b), 0);
		assert_int_equal(s->cmd, cases[i].cmd);
		if (cases[i].cmd == CMD_HELP)
			assert_int_equal(s->c.help_cmd, cases[i].help);
	}
	/* options are read in order: an unknown one before --help is an error */
	assert_parse_error(s, "unknown option '--bogus' (see 'redtap --help')", "--bogus",
			   "--help");
}

static char *capture(void (*fn)(FILE *, enum redtap_command), enum redtap_command cmd)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f, cmd);
	fclose(f);
	return buf;
}

static void print_version(FILE *f, enum redtap_command cmd)
{
	(void)cmd;
	config_print_version(f);
}

static void assert_lines_fit(const char *text)
{
	while (*text) {
		size_t len = strcspn(text, "\n");

		if (len > 80)
			fail_msg("line longer than 80 columns: %.*s", (int)len, text);
		text += len + (text[len] == '\n');
	}
}

static void test_help_text(void **ts)
{
	static const char *const needles[] = {
	    "USAGE",
	    "redtap [agent] [OPTIONS]",
	    "redtap run [OPTIONS] [--] PROGRAM [ARGS...]",
	    "-c, --config FILE",
	    "-l, --listen HOST:PORT",
	    "-p, --pid",
	    "-e, --exe GLOB",
	    "--port PORT",
	    "-r, --route PATTERN",
	    "--max-series N",
	    "--capture-bytes N",
	    "--ringbuf-size SIZE",
	    "--shim PATH",
	    "--no-bpf",
	    "--log-level LEVEL",
	    "--log-format FORMAT",
	    "-v, --verbose",
	    "-h, --help",
	    "-V, --version",
	    "REDTAP_CONFIG",
	    "OTEL_EXPORTER_PROMETHEUS_HOST",
	    "OTEL_EXPORTER_PROMETHEUS_PORT",
	    "REDTAP_LOG_LEVEL",
	    "REDTAP_CAPTURE_BYTES",
	    "REDTAP_MAX_SERIES",
	    "Default: 127.0.0.1:9464.",
	    "Default: 2000.",
	    "Default: 256.",
	    "Default: auto.",
	    "Default: " REDTAP_SHIM_DEFAULT_PATH ".",
	    "Default: info.",
	    "Default: text.",
	    "File: capture.ringbuf_size.",
	    "CONFIGURATION FILE",
	    "ENVIRONMENT",
	    "EXAMPLES",
	    "--exe '*/nginx'",
	    "redtap run -- ./legacy-app",
	    "EXIT STATUS",
	    "FILES",
	    "http://127.0.0.1:9464/metrics",
	    "/etc/redtap/redtap.yaml.example",
	};
	char *agent = capture(config_print_help, CMD_AGENT);
	char *run = capture(config_print_help, CMD_RUN);
	char *help = capture(config_print_help, CMD_HELP);
	char *version = capture(print_version, CMD_AGENT);

	(void)ts;
	for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++) {
		if (!strstr(agent, needles[i]))
			fail_msg("--help lacks '%s'", needles[i]);
	}
	assert_lines_fit(agent);
	assert_string_equal(help, agent);

	assert_non_null(strstr(run, "redtap run [OPTIONS] [--] PROGRAM [ARGS...]"));
	assert_non_null(strstr(run, "--shim PATH"));
	assert_non_null(strstr(run, "--no-bpf"));
	assert_non_null(strstr(run, "EXIT STATUS"));
	assert_null(strstr(run, "--max-series")); /* agent-only options stay out */
	assert_lines_fit(run);

	assert_non_null(strstr(version, "redtap "));
	assert_non_null(strstr(version, redtap_version));
	assert_non_null(strstr(version, redtap_git_rev));
	assert_int_equal(version[strlen(version) - 1], '\n');
	free(agent);
	free(run);
	free(help);
	free(version);
}

static void test_release_twice(void **ts)
{
	struct state *s = *ts;

	assert_int_equal(parse(s, "-p", "1", "-e", "/a", "--port", "2", "-r", "/r"), 0);
	config_release(&s->c);
	assert_null(s->c.pids);
	assert_null(s->c.exe_globs);
	assert_null(s->c.ports);
	assert_null(s->c.routes);
	assert_int_equal(s->c.npids + s->c.nexe_globs + s->c.nports + s->c.nroutes, 0);
	config_release(&s->c);
}

/* --help names every option, variable and key of the table. */
static void test_help_renders_the_table(void **ts)
{
	char *agent = capture(config_print_help, CMD_AGENT);

	(void)ts;
	for (size_t i = 0; i < nsettings; i++) {
		const struct setting *st = &settings[i];
		char opt[128];

		snprintf(opt, sizeof(opt), "--%s", st->name ? st->name : "");
		if (st->name && !strstr(agent, opt))
			fail_msg("--help lacks %s", opt);
		if (st->env && !strstr(agent, st->env))
			fail_msg("--help lacks %s", st->env);
		if (st->key && !strstr(agent, st->key))
			fail_msg("--help lacks %s", st->key);
	}
	free(agent);
}

/* OTLP settings from the file, overridden by the OpenTelemetry variables. */
static void test_otlp_from_file_and_env(void **ts)
{
	struct state *s = *ts;
	const char *path = yaml_file(s, "otlp:\n"
					"  endpoint: http://collector:4318/base\n"
					"  headers: \"api-key=a%20b\"\n"
					"  compression: gzip\n"
					"  timeout_ms: 1500\n"
					"  resource_attributes: deployment.environment=prod\n"
					"  traces:\n"
					"    max_queue_size: 100\n"
					"    max_batch_size: 10\n"
					"  metrics:\n"
					"    endpoint: http://prom:9090/api/v1/otlp/v1/metrics\n"
					"    interval_ms: 5000\n"
					"    compression: none\n"
					"traces:\n"
					"  sampler: parentbased_traceidratio\n"
					"  sampler_arg: 0.5\n"
					"  slow_ms: 250,/checkout=50\n"
					"  critical_routes: [/pay, /checkout]\n"
					"shim: { ring: /run/redtap/ring }\n");

	assert_int_equal(parse(s, "-c", path), 0);
	assert_string_equal(s->c.otlp.traces_url, "http://collector:4318/base/v1/traces");
	assert_string_equal(s->c.otlp.metrics_url, "http://prom:9090/api/v1/otlp/v1/metrics");
	assert_string_equal(s->c.otlp.headers, "api-key=a b");
	assert_true(s->c.otlp.gzip);
	assert_int_equal(s->c.otlp.metrics_compression, OTLP_COMPRESSION_NONE);
	assert_int_equal(s->c.otlp.timeout_ms, 1500);
	assert_int_equal(s->c.otlp.queue_max_spans, 100);
	assert_int_equal(s->c.otlp.batch_max_spans, 10);
	assert_int_equal(s->c.otlp.metric_interval_ms, 5000);
	assert_string_equal(s->c.otlp.resource_attrs, "deployment.environment=prod");
	assert_int_equal(s->c.sampler.root, SAMPLER_RATIO);
	assert_true(s->c.sampler.parent_based);
	assert_true(s->c.sampler.ratio == 0.5);
	assert_string_equal(s->c.traces_slow, "250,/checkout=50");
	assert_int_equal(s->c.ncritical, 2);
	assert_string_equal(s->c.critical_routes[1], "/checkout");
	assert_string_equal(s->c.shim_ring, "/run/redtap/ring");

	/* the variables beat the file; a list variable replaces the file's list */
	config_release(&s->c);
	config_init(&s->c);
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://other:4318", 1);
	setenv("OTEL_TRACES_EXPORTER", "none", 1);
	setenv("OTEL_TRACES_SAMPLER", "always_off", 1);
	setenv("REDTAP_TRACES_CRITICAL_ROUTES", "/only", 1);
	setenv("REDTAP_SHIM_RING", "/tmp/ring", 1);
	assert_int_equal(parse(s, "-c", path), 0);
	assert_string_equal(s->c.otlp.traces_url, "");
	assert_string_equal(s->c.otlp.metrics_url, "http://prom:9090/api/v1/otlp/v1/metrics");
	assert_int_equal(s->c.sampler.root, SAMPLER_ALWAYS_OFF);
	assert_false(s->c.sampler.parent_based);
	assert_true(s->c.sampler.ratio == 0.5); /* the file's argument stays */
	assert_int_equal(s->c.ncritical, 1);
	assert_string_equal(s->c.critical_routes[0], "/only");
	assert_string_equal(s->c.shim_ring, "/tmp/ring");

	/* the generic endpoint of the environment with the file's per-signal one */
	unsetenv("OTEL_TRACES_EXPORTER");
	config_release(&s->c);
	config_init(&s->c);
	assert_int_equal(parse(s, "-c", path), 0);
	assert_string_equal(s->c.otlp.traces_url, "https://other:4318/v1/traces");
}

/* In the file, a malformed OTel value is an error; from the environment it
 * is ignored with a warning (the OpenTelemetry rule) unless it is an
 * endpoint, a sampler, or a REDTAP_* value. */
static void test_otlp_errors(void **ts)
{
	struct state *s = *ts;

	assert_yaml_error(s, "otlp:\n  timeout_ms: soon\n", -EINVAL,
			  ":2: otlp.timeout_ms: 'soon' is not a number");
	assert_yaml_error(s, "otlp: { traces: { compression: zstd } }\n", -EINVAL,
			  ":1: otlp.traces.compression: 'zstd' is not one of gzip, none");
	assert_yaml_error(s, "otlp:\n  endpoint: collector:4318\n", -EINVAL,
			  ":2: otlp.endpoint: \"collector:4318\" is not a valid endpoint: use "
			  "an http:// or https:// URL of at most 1012 characters");
	assert_yaml_error(s, "traces: { sampler: sometimes }\n", -EINVAL,
			  ":1: traces.sampler: unknown sampler 'sometimes' (use always_on, "
			  "always_off, traceidratio or their parentbased_ forms)");
	assert_yaml_error(s, "traces: { sampler_arg: 2 }\n", -EINVAL,
			  ":1: traces.sampler_arg: '2' is not a ratio between 0 and 1");
	assert_yaml_error(s, "traces: { critical_routes: [checkout] }\n", -EINVAL,
			  ":1: traces.critical_routes: 'checkout' must start with '/'");
	assert_yaml_error(s, "otlp: { traces: { endpont: x } }\n", -EINVAL,
			  ":1: unknown key 'otlp.traces.endpont' (otlp.traces has: exporter, "
			  "endpoint, protocol, headers, timeout_ms, compression, batch_delay_ms, "
			  "export_timeout_ms, max_queue_size, max_batch_size)");

	setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "soon", 1);
	setenv("OTEL_BSP_MAX_QUEUE_SIZE", "0", 1);
	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318", 1);
	assert_int_equal(parse(s, "-v"), 0);
	assert_int_equal(s->c.otlp.timeout_ms, 10000);
	assert_int_equal(s->c.otlp.queue_max_spans, 2048);
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
	assert_parse_error(
	    s,
	    "OTEL_EXPORTER_OTLP_PROTOCOL=\"grpc\" is not supported: redtap sends OTLP over "
	    "HTTP with protobuf encoding only (set it, or the key otlp.protocol, to "
	    "http/protobuf, or unset it)",
	    "-v");
	unsetenv("OTEL_EXPORTER_OTLP_PROTOCOL");
	setenv("REDTAP_TRACES_SLOW_MS", "fast", 1);
	assert_parse_error(s,
			   "REDTAP_TRACES_SLOW_MS: 'fast' is not MS[,/route=MS...] (e.g. "
			   "1000,/checkout=250)",
			   "-v");
	unsetenv("REDTAP_TRACES_SLOW_MS");
	setenv("OTEL_TRACES_SAMPLER", "sometimes", 1);
	assert_int_equal(parse(s, "-v"), -EINVAL);
}

/* `redtap run` ignores the agent-only variables: they may belong to the
 * wrapped program (an OTLP/gRPC exporter, a vendor sampler). */
static void test_run_ignores_agent_only_env(void **ts)
{
	struct state *s = *ts;

	setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317", 1);
	setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
	setenv("OTEL_TRACES_SAMPLER", "xray", 1);
	assert_int_equal(parse(s, "run", "--", "/bin/true"), 0);
	assert_int_equal(s->cmd, CMD_RUN);
	assert_string_equal(s->c.otlp.traces_url, "");
	config_release(&s->c);
	config_init(&s->c);
	assert_int_equal(parse(s, "-v"), -EINVAL);
	assert_non_null(strstr(s->err, "OTEL_TRACES_SAMPLER: unknown sampler 'xray'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_long_option, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_short_options_and_equals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lists_repeat_and_comma, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_again_resets_getopt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_listen_parsing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_size_suffixes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_log_levels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_precedence_file_env_flags, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_from_environment, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lists_replace_lower_layers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loop_slice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_yaml_every_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_yaml_empty_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deploy_example_has_the_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_yaml_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run_argv, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_help_and_version_commands, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_help_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_man_page_in_step, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_man_page_generated_parts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deploy_example_in_step, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_help_renders_the_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_otlp_from_file_and_env, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_otlp_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run_ignores_agent_only_env, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_release_twice, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
