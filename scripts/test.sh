#!/bin/sh
# scripts/test.sh - the whole test suite from a fresh Debian 12 machine:
# installs missing build and test dependencies, builds, then runs the unit
# tests (also under ASan and UBSan), the end-to-end tests against real
# servers, and the rules and dashboards checks. Must run as root.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
make -s
exec scripts/run-tests.sh
