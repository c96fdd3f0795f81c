// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * main.c - the redtap command: parses the command line and runs the node
 * agent, `redtap run`, or prints help or the version.
 */
#include <stdio.h>

#include "agent.h"
#include "config.h"
#include "log.h"

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
	case CMD_RUN:
		fprintf(stderr, "redtap: 'redtap run' is not available in this build\n");
		rc = REDTAP_EXIT_FAILURE;
		break;
	case CMD_AGENT:
	default:
		rc = agent_run(&cfg);
		break;
	}
	config_release(&cfg);
	return rc;
}
