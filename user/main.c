// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * main.c - the redtap command: parses the command line and runs the node
 * agent, `redtap run`, or prints help or the version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "config.h"
#include "log.h"
#include "run.h"

/* The shim to preload: --shim when it exists, else next to this binary or
 * in ../lib/redtap/ from it (so a build tree and an install both work). */
static const char *find_shim(const struct redtap_config *cfg, char *buf, size_t len)
{
	if (access(cfg->shim_path, R_OK) == 0)
		return cfg->shim_path;
	if (run_find_shim(buf, len) == 0)
		return buf;
	return cfg->shim_path;
}

int main(int argc, char **argv)
{
	struct redtap_config cfg;
	enum redtap_command cmd;
	char err[512];
	int rc;

	config_init(&cfg);
	if (config_parse(&cfg, argc, argv, &cmd, err, sizeof(err))) {
		fprintf(stderr, "redtap: %s\nTry 'redtap --help' for more information.\n", err);
		config_release(&cfg);
		return REDTAP_EXIT_USAGE;
	}
	log_init((enum log_level)cfg.log_level, cfg.log_json);
	switch (cmd) {
	case CMD_HELP:
		config_print_help(stdout, cfg.help_cmd);
		rc = REDTAP_EXIT_OK;
		break;
	case CMD_VERSION:
		config_print_version(stdout);
		rc = REDTAP_EXIT_OK;
		break;
	case CMD_RUN: {
		char shim[4096];

		/* shim.ring from the config file reaches the shim as its variable */
		if (cfg.shim_ring[0] && setenv("REDTAP_SHIM_RING", cfg.shim_ring, 1)) {
			rc = REDTAP_EXIT_FAILURE;
			break;
		}
		rc = run_program(find_shim(&cfg, shim, sizeof(shim)), cfg.run_argv);
		break;
	}
	case CMD_AGENT:
	default:
		rc = agent_run(&cfg);
		break;
	}
	config_release(&cfg);
	return rc;
}
