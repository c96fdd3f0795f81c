// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * config_help.c - the texts of `redtap --help`, `redtap help run` and
 * `redtap --version`, rendered from the settings table (config_table.h):
 * every option, environment variable and config-file key appears there
 * because it has a row, never because someone remembered to write it.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_table.h"
#include "redtap/event.h"
#include "version.h"

#define HELP_INDENT 12
#define HELP_WIDTH  80

static void print_indented(FILE *out, const char *text, int indent)
{
	while (*text) {
		size_t len = strcspn(text, "\n");

		fprintf(out, "%*s%.*s\n", indent, "", (int)len, text);
		text += len + (text[len] == '\n');
	}
}

/* "Default: 256.  Env: REDTAP_CAPTURE_BYTES.  File: capture.bytes." on one line when it
 * fits. with_env: name the variables of the option too. */
static void print_facts(FILE *out, const struct setting *st, bool with_env)
{
	char facts[4][160], line[640] = "";
	size_t n = 0, off = 0;

	if (st->def)
		snprintf(facts[n++], sizeof(facts[0]), "Default: %s.", st->def);
	for (size_t i = 0; with_env && i < nsettings; i++) {
		if (settings[i].val == st->val && settings[i].env) {
			if (off == 0)
				off = (size_t)snprintf(facts[n], sizeof(facts[0]), "Env: %s",
						       settings[i].env);
			else
				off += (size_t)snprintf(facts[n] + off, sizeof(facts[0]) - off,
							", %s", settings[i].env);
		}
	}
	if (off)
		snprintf(facts[n++] + off, sizeof(facts[0]) - off, ".");
	if (st->key)
		snprintf(facts[n++], sizeof(facts[0]), "File: %s.", st->key);
	for (size_t i = 0, len = 0; i < n; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", i ? "  " : "",
					facts[i]);
	if (strlen(line) + HELP_INDENT <= HELP_WIDTH) {
		if (n)
			fprintf(out, "%*s%s\n", HELP_INDENT, "", line);
		return;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%*s%s\n", HELP_INDENT, "", facts[i]);
}

static void print_options(FILE *out, bool run_only)
{
	for (size_t i = 0; i < nsettings; i++) {
		const struct setting *st = &settings[i];

		if (!st->name || (run_only && !st->run))
			continue;
		if (st->val < 256)
			fprintf(out, "    -%c, --%s", st->val, st->name);
		else
			fprintf(out, "    --%s", st->name);
		fprintf(out, "%s%s\n", st->arg ? " " : "", st->arg ? st->arg : "");
		print_indented(out, st->help, HELP_INDENT);
		print_facts(out, st, true);
		fputc('\n', out);
	}
}

/* Every YAML key with its default, in the order of the table. */
static void print_file_keys(FILE *out)
{
	for (size_t i = 0; i < nsettings; i++) {
		const struct setting *st = &settings[i];

		if (st->key)
			fprintf(out, "        %-33s %s\n", st->key, st->def ? st->def : "");
	}
	fputc('\n', out);
}

/*
 * The variables of options (one line each), then the settings that have no
 * option, under the heading of their group, each with its help and facts.
 */
static void print_environment(FILE *out)
{
	const char *group = NULL;

	fputs("ENVIRONMENT\n"
	      "    Environment variables override the config file; options override\n"
	      "    both. An empty variable counts as unset. The settings without an\n"
	      "    option (below the list of option variables) are read by the agent\n"
	      "    only, not by 'redtap run'.\n",
	      out);
	for (size_t i = 0; i < nsettings; i++) {
		const struct setting *st = &settings[i];

		if (!st->env || st->group)
			continue;
		if (st->name)
			fprintf(out, "    %-31sthe same as --%s\n", st->env, st->name);
		else
			fprintf(out, "    %-31s%s\n", st->env, st->help);
	}
	for (size_t i = 0; i < nsettings; i++) {
		const struct setting *st = &settings[i];

		if (!st->env || !st->group)
			continue;
		if (!group || strcmp(group, st->group)) {
			group = st->group;
			fprintf(out, "\n    %s:\n", group);
		}
		fprintf(out, "    %s\n", st->env);
		print_indented(out, st->help, HELP_INDENT);
		print_facts(out, st, false);
	}
	fputc('\n', out);
}

/* text as roff: '\' and '-' escaped, a line that starts with '.' or '\'' guarded. */
static void print_roff(FILE *out, const char *text)
{
	bool bol = true;

	for (; *text; text++) {
		if (bol && (*text == '.' || *text == '\''))
			fputs("\\&", out);
		if (*text == '\\')
			fputs("\\e", out);
		else if (*text == '-')
			fputs("\\-", out);
		else
			fputc(*text, out);
		bol = *text == '\n';
	}
	if (!bol)
		fputc('\n', out);
}

static void print_man_keys(FILE *out)
{
	fputs(".nf\n", out);
	for (size_t i = 0; i < nsettings; i++) {
		char line[256];

		if (!settings[i].key)
			continue;
		snprintf(line, sizeof(line), "%-33s %s", settings[i].key,
			 settings[i].def ? settings[i].def : "");
		print_roff(out, line);
	}
	fputs(".fi\n", out);
}

static void print_man_environment(FILE *out)
{
	const char *group = NULL;

	for (size_t i = 0; i < nsettings; i++) {
		const struct setting *st = &settings[i];

		if (!st->env)
			continue;
		if (st->group && (!group || strcmp(group, st->group))) {
			group = st->group;
			fputs(".PP\n", out);
			print_roff(out, group);
			fputs(":\n", out);
		}
		fprintf(out, ".TP\n.B %s\n", st->env);
		if (st->name) {
			fputs("As\n.BR \\-\\-", out);
			for (const char *n = st->name; *n; n++)
				fputs(*n == '-' ? "\\-" : (char[]){*n, '\0'}, out);
			fputs(" .\n", out);
			continue;
		}
		print_roff(out, st->help);
		if (st->def) {
			char def[256];

			snprintf(def, sizeof(def), "Default: %s.", st->def);
			print_roff(out, def);
		}
		if (st->key)
			fprintf(out, "File:\n.BR %s .\n", st->key);
	}
}

void config_print_man(FILE *out, enum config_man_part part)
{
	if (part == CONFIG_MAN_KEYS)
		print_man_keys(out);
	else
		print_man_environment(out);
}

static void print_run_help(FILE *out)
{
	fputs("redtap run - start a program with the redtap shim preloaded\n"
	      "\n"
	      "USAGE\n"
	      "    redtap run [OPTIONS] [--] PROGRAM [ARGS...]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    Runs PROGRAM with LD_PRELOAD set to the redtap shim, which times every\n"
	      "    libpq (PostgreSQL) and hiredis (Redis) call with its statement and\n"
	      "    error, so that database and cache spans become children of the HTTP\n"
	      "    request the same thread serves. The options end at the first argument\n"
	      "    that is not an option, or at \"--\"; PROGRAM and ARGS are passed on\n"
	      "    unchanged. Every agent option is accepted; see 'redtap --help'.\n"
	      "\n"
	      "OPTIONS\n",
	      out);
	print_options(out, true);
	fputs("EXAMPLES\n"
	      "    Wrap a legacy binary; its database calls become child spans:\n"
	      "        sudo redtap run -- ./legacy-app --port 8080\n"
	      "\n"
	      "    Without root and without eBPF, shim only:\n"
	      "        redtap run --no-bpf python3 app.py\n"
	      "\n"
	      "EXIT STATUS\n"
	      "    The exit status of PROGRAM, or 128+N when a signal N killed it;\n"
	      "    126 when PROGRAM cannot be executed, 127 when it is not found,\n"
	      "    2 for invalid options or configuration.\n",
	      out);
}

static void print_agent_help(FILE *out)
{
	fprintf(out, "redtap - zero-code RED metrics and traces for HTTP, PostgreSQL and Redis\n"
		     "\n"
		     "USAGE\n"
		     "    redtap [agent] [OPTIONS]\n"
		     "    redtap run [OPTIONS] [--] PROGRAM [ARGS...]\n"
		     "    redtap version | -V | --version\n"
		     "    redtap help [run] | -h | --help\n"
		     "\n"
		     "DESCRIPTION\n"
		     "    The agent (the default command) loads eBPF tracepoint programs and\n"
		     "    measures the rate, errors and duration of every HTTP/1.x exchange and\n"
		     "    PostgreSQL and Redis call of the selected processes, with no change to\n"
		     "    them. Without -p, -e and --port it measures every process on the node;\n"
		     "    with them, the processes that match any of them. It needs root\n"
		     "    unless --no-bpf is given.\n"
		     "\n"
		     "    'redtap run' starts PROGRAM with the LD_PRELOAD shim, which adds exact\n"
		     "    libpq and hiredis timings; see 'redtap help run'.\n"
		     "\n"
		     "OPTIONS\n"
		     "    Settings come from, lowest first: the defaults, the config file, the\n"
		     "    environment, the command line.\n"
		     "\n");
	print_options(out, false);
	fprintf(out, "CONFIGURATION FILE\n"
		     "    YAML, given by --config or REDTAP_CONFIG; no file is read otherwise.\n"
		     "    Every key is optional, and unknown keys are errors. A key a.b.c is\n"
		     "    written a: { b: { c: VALUE } }; \"\" leaves a setting unset. A list\n"
		     "    given on a higher layer replaces the lower layer's list. The keys\n"
		     "    and their defaults:\n"
		     "\n");
	print_file_keys(out);
	print_environment(out);
	fprintf(out,
		"METRICS\n"
		"    Prometheus scrapes http://HOST:PORT/metrics, by default\n"
		"    http://%s:%d/metrics: http_server_request_duration_seconds,\n"
		"    http_client_request_duration_seconds, http_server_active_requests and\n"
		"    db_client_operation_duration_seconds, named after the OpenTelemetry\n"
		"    semantic conventions.\n"
		"\n",
		REDTAP_DEFAULT_LISTEN_HOST, REDTAP_DEFAULT_LISTEN_PORT);
	fputs("EXAMPLES\n"
	      "    Measure nginx and serve the metrics on all interfaces:\n"
	      "        sudo redtap --exe '*/nginx' --listen 0.0.0.0:9464\n"
	      "\n"
	      "    Measure the server on port 8080 and name its routes:\n"
	      "        sudo redtap --port 8080 -r '/users/{id}' -r '/orders/{id}/items'\n"
	      "\n"
	      "    Wrap a legacy binary; its database calls become child spans:\n"
	      "        sudo redtap run -- ./legacy-app --port 8080\n"
	      "\n"
	      "    Read the metrics:\n"
	      "        curl -s http://127.0.0.1:9464/metrics\n"
	      "\n"
	      "EXIT STATUS\n"
	      "    0   success; the agent stopped on SIGINT or SIGTERM\n"
	      "    1   run-time failure, such as eBPF programs that cannot be loaded\n"
	      "    2   invalid command line, environment or config file\n"
	      "    'redtap run' exits with the status of PROGRAM (see 'redtap help run').\n"
	      "\n"
	      "FILES\n"
	      "    /etc/redtap/redtap.yaml.example\n"
	      "            An annotated config file with every key at its default.\n",
	      out);
	fprintf(out,
		"    %s\n"
		"            The LD_PRELOAD shim (--shim).\n"
		"    /sys/kernel/btf/vmlinux\n"
		"            Kernel BTF, which the eBPF programs need.\n"
		"    /sys/kernel/tracing\n"
		"            tracefs; the agent mounts it when it is missing.\n"
		"\n"
		"SEE ALSO\n"
		"    redtap(8), fnmatch(3), ld.so(8)\n",
		REDTAP_SHIM_DEFAULT_PATH);
}

void config_print_help(FILE *out, enum redtap_command cmd)
{
	if (cmd == CMD_RUN)
		print_run_help(out);
	else
		print_agent_help(out);
}

void config_print_version(FILE *out)
{
	fprintf(out, "redtap %s (git %s)\n", redtap_version, redtap_git_rev);
}
