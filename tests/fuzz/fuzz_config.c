// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_config.c - fuzz target for the agent's configuration values: the
 * setters behind every command-line option, REDTAP_* variable and YAML key
 * (the public API of user/core/config.h), the sampler settings
 * (OTEL_TRACES_SAMPLER[_ARG], user/signals/sampler.c) and the tail-sampling
 * thresholds (REDTAP_TRACES_SLOW_MS, tracer_parse_slow()).
 *
 * Input: byte 0 picks the entry point; the rest is split on NUL bytes into
 * values. For the command line each value's first byte picks the option
 * (never --config, which would read a file the input names).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "log.h"
#include "sampler.h"
#include "tracer.h"

#define MAX_ARGS 16

static const char *const opts[] = {
    "listen",	  "pid",	   "exe",	   "port", "route",
    "max-series", "capture-bytes", "ringbuf-size", "shim", "no-bpf",
    "log-level",  "log-format",	   "verbose",	   "help", "version",
};

static const char *const envs[] = {
    "OTEL_EXPORTER_PROMETHEUS_HOST",
    "OTEL_EXPORTER_PROMETHEUS_PORT",
    "REDTAP_MAX_SERIES",
    "REDTAP_CAPTURE_BYTES",
    "REDTAP_LOG_LEVEL",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Splits in[0..n) on NUL bytes into at most max heap strings. */
static size_t split(const uint8_t *in, size_t n, char **out, size_t max)
{
	size_t k = 0;

	while (k < max) {
		const uint8_t *nul = memchr(in, 0, n);
		size_t len = nul ? (size_t)(nul - in) : n;

		out[k++] = fuzz_strdup(in, len);
		if (!nul)
			break;
		n -= len + 1;
		in += len + 1;
	}
	return k;
}

/* What every successful parse promises (config.h). */
static void check_config(const struct redtap_config *c)
{
	fuzz_check(fuzz_has_nul(c->listen_host, sizeof(c->listen_host)));
	fuzz_check(fuzz_has_nul(c->shim_path, sizeof(c->shim_path)));
	fuzz_check(c->listen_port >= 1);
	fuzz_check(c->max_series >= 1 && c->max_series <= 1000000);
	fuzz_check(c->capture_bytes >= 16 && c->capture_bytes <= 8192);
	fuzz_check(c->ringbuf_bytes == 0 /* auto */ ||
		   (c->ringbuf_bytes >= 65536 && c->ringbuf_bytes <= (1u << 30) &&
		    !(c->ringbuf_bytes & (c->ringbuf_bytes - 1))));
	fuzz_check(c->log_level >= 0 && c->log_level <= 3);
}

static void fuzz_cmdline(char **vals, size_t n)
{
	char *argv[MAX_ARGS + 2], err[256];
	struct redtap_config c;
	enum redtap_command cmd;
	char *owned[MAX_ARGS];
	size_t argc = 1;
	int ret;

	argv[0] = (char *)"redtap";
	for (size_t i = 0; i < n; i++) {
		const char *v = vals[i];
		unsigned pick = (unsigned char)v[0];

		owned[i] = malloc(strlen(v) + 32);
		if (!owned[i])
			abort();
		if (pick)
			v++;
		snprintf(owned[i], strlen(vals[i]) + 32, "--%s=%s", opts[pick % N(opts)], v);
		argv[argc++] = owned[i];
	}
	argv[argc] = NULL;
	config_init(&c);
	ret = config_parse(&c, (int)argc, argv, &cmd, err, sizeof(err));
	if (ret == 0 && cmd == CMD_AGENT)
		check_config(&c);
	else if (ret)
		fuzz_check(err[0] && fuzz_has_nul(err, sizeof(err)));
	config_release(&c);
	for (size_t i = 0; i < n; i++)
		free(owned[i]);
}

static void fuzz_yaml(const uint8_t *data, size_t size)
{
	struct redtap_config c;
	char path[64], err[256];
	int fd, ret;

	fd = memfd_create("fuzz-config", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	config_init(&c);
	ret = config_load_file(&c, path, err, sizeof(err));
	if (ret == 0)
		check_config(&c);
	else
		fuzz_check(err[0] && fuzz_has_nul(err, sizeof(err)));
	config_release(&c);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	char *vals[MAX_ARGS], host[64], err[128];
	struct redtap_config c;
	enum redtap_command cmd;
	struct sampler smp;
	const char *routes;
	uint64_t u;
	uint16_t port;
	size_t n;
	int ret;

	if (!init) {
		log_init(LOG_LVL_ERROR, false);
		init = true;
	}
	if (!size)
		return 0;
	if (data[0] % 7 == 5) {
		fuzz_yaml(data + 1, size - 1);
		return 0;
	}
	n = split(data + 1, size - 1, vals, MAX_ARGS);
	switch (data[0] % 7) {
	case 0:
		ret = sampler_parse(&smp, vals[0], n > 1 ? vals[1] : NULL, err, sizeof(err));
		if (ret == 0)
			fuzz_check(smp.ratio >= 0 && smp.ratio <= 1);
		else
			fuzz_check(ret == -EINVAL && err[0]);
		break;
	case 1:
		u = 0;
		ret = tracer_parse_slow(vals[0], &u, &routes);
		fuzz_check(ret == 0 || ret == -EINVAL);
		break;
	case 2:
		ret = config_parse_listen(vals[0], host, sizeof(host), &port);
		fuzz_check(ret == 0 || ret == -EINVAL);
		if (ret == 0)
			fuzz_check(port >= 1 && fuzz_has_nul(host, sizeof(host)));
		break;
	case 3:
		ret = config_parse_size(vals[0], &u);
		fuzz_check(ret == 0 || ret == -EINVAL || ret == -ERANGE);
		break;
	case 4:
		fuzz_cmdline(vals, n);
		break;
	default: {
		/* One environment variable, then the defaults. */
		const char *name = envs[(data[0] / 7) % N(envs)];
		char *argv[] = {(char *)"redtap", NULL};

		setenv(name, vals[0], 1);
		config_init(&c);
		ret = config_parse(&c, 1, argv, &cmd, err, sizeof(err));
		if (ret == 0)
			check_config(&c);
		config_release(&c);
		unsetenv(name);
		break;
	}
	}
	for (size_t i = 0; i < n; i++)
		free(vals[i]);
	return 0;
}
