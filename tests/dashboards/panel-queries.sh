#!/bin/sh
# panel-queries.sh - run every panel query of every dashboard against a live
# Prometheus and fail naming each panel that would show "No data".
#
#   PROM_URL=http://127.0.0.1:9090 tests/dashboards/panel-queries.sh [options] SERVICE
#
# SERVICE is the service_name to select ("All" for every service). Grafana's
# variables are substituted as Grafana would: $service with SERVICE (regex-
# escaped), $__rate_interval with 1m, $__range with 5m, $__interval with 15s,
# every other variable with its All value unless set with -v NAME=VALUE.
# Options:
#   -d FILE        only this dashboard (repeatable; default dashboards/*.json)
#   -v NAME=VALUE  set a variable, e.g. -v job=redtap -v db_system=postgresql
#   --exemplars    panels with exemplars on must also return exemplars
#                  (Prometheus needs --enable-feature=exemplar-storage)
# Prints one PASS/FAIL line per panel; exits 0 when every panel has data.
exec python3 "$(dirname "$0")/panel_queries.py" "$@"
