#!/bin/sh
# scripts/run.sh - builds redtap (installing missing build dependencies)
# and runs the agent in the foreground. Arguments go to the agent, e.g.
#   sudo scripts/run.sh --exe nginx --listen 127.0.0.1:9464
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -s
exec ./build/redtap "$@"
