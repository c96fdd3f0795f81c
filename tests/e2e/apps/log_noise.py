#!/usr/bin/env python3
"""tests/e2e/apps/log_noise.py - writes what a hostile or careless program
writes to stdout, for tests/e2e/test_logs.sh:

  log_noise.py huge|garbage|partial|flood [N]

huge:    3 lines of 100 000 bytes each, then "after-huge"
garbage: 200 writes of random bytes (NULs and invalid UTF-8 included),
         then "after-garbage"
partial: one line written a few bytes per write, then a line left
         without its end for the reassembler to flush
flood:   N (default 100000) short lines as fast as possible, one write each;
         prints how long it took to stderr
It starts with a 1 s pause: the agent selects a new process from its exec
record within a poll (100 ms), and what it writes before is not captured.
Then it sleeps 3 s (so that the agent still knows the process) and exits.
"""
import os
import sys
import time

out = sys.stdout.fileno()
mode = sys.argv[1]
time.sleep(1)
if mode == "huge":
    for i in range(3):
        os.write(out, b"ERROR " + b"x" * 100000 + b"\n")
    os.write(out, b"INFO after-huge\n")
elif mode == "garbage":
    for _ in range(200):
        os.write(out, os.urandom(300))
    os.write(out, b"\nWARN after-garbage\n")
elif mode == "partial":
    line = b"INFO assembled from many small writes\n"
    for i in range(0, len(line), 3):
        os.write(out, line[i:i + 3])
        time.sleep(0.01)
    os.write(out, b"ERROR never finished")
elif mode == "flood":
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    t = time.monotonic()
    for i in range(n):
        os.write(out, b"DEBUG flood %d\n" % i)
    sys.stderr.write("flood %d lines in %.3f s\n" % (n, time.monotonic() - t))
time.sleep(3)
