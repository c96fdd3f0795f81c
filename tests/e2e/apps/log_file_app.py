#!/usr/bin/env python3
"""tests/e2e/apps/log_file_app.py - a program that opens its log file only
after it started (after the agent), for tests/e2e/test_logs_files.sh.

  log_file_app.py LOG OTHER N READY

Waits until the file READY exists, then opens LOG (line-buffered: one
write(2) per line) and, for 300 ms, writes "WARN probe I T" every
millisecond (T: microseconds since the open), which measures how long
after an open the agent starts capturing (the window between the open and
the mark). Then writes N lines "ERROR file-line I" to LOG and N lines
"ERROR other-line I" to OTHER (a file the glob does not match), and prints
the number of probes it wrote.
"""
import os
import sys
import time

log, other, n, ready = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
for _ in range(300):
    if os.path.exists(ready):
        break
    time.sleep(0.05)
t0 = time.monotonic()
f = open(log, "a", buffering=1)
probes = 0
while time.monotonic() - t0 < 0.3:
    f.write("WARN probe %d %d\n" % (probes, (time.monotonic() - t0) * 1e6))
    probes += 1
    time.sleep(0.001)
o = open(other, "a", buffering=1)
for i in range(n):
    f.write("ERROR file-line %d\n" % i)
    o.write("ERROR other-line %d\n" % i)
f.close()
o.close()
print(probes, flush=True)
time.sleep(1)
