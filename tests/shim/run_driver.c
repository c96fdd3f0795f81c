// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * run_driver.c - exposes run_program() (`redtap run`) to the e2e test:
 *   run_driver SHIM PROGRAM ARGS...   exit with what run_program returned
 *   run_driver --check PATH           print run_check_target's verdict
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "run.h"

int main(int argc, char **argv)
{
	char why[4200];
	int rc;

	log_init(LOG_LVL_INFO, false);
	if (argc == 3 && !strcmp(argv[1], "--check")) {
		rc = run_check_target(argv[2], why, sizeof(why));
		printf("%d %s\n", rc, why);
		return rc ? 1 : 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: run_driver SHIM PROGRAM ARGS... | --check PATH\n");
		return 2;
	}
	return run_program(argv[1], argv + 2);
}
