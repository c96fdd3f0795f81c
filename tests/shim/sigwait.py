# tests/shim/sigwait.py - a child for the `redtap run` signal test: writes
# READY_FILE, waits for SIGINT, SIGTERM, SIGHUP or SIGQUIT, prints which one
# arrived and exits with 10 + its number (so forwarding is visible).
import os
import signal
import sys
import time


def got(signum, frame):
    print("got", signal.Signals(signum).name, flush=True)
    os._exit(10 + signum)


for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
    signal.signal(s, got)
with open(sys.argv[1], "w") as f:
    f.write("ready\n")
time.sleep(20)
sys.exit(1)
