/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * agent.h - the node agent: wires capture, connection tracking, protocol
 * parsing, metrics and the /metrics endpoint together and runs the event
 * loop until SIGINT or SIGTERM.
 *
 * API: agent_run() returns the process exit status (enum redtap_exit) and
 * prints one sentence on stderr when it cannot start.
 */
#ifndef REDTAP_AGENT_H
#define REDTAP_AGENT_H

#include "config.h"

int agent_run(const struct redtap_config *cfg);

#endif /* REDTAP_AGENT_H */
