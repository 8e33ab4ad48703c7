#!/usr/bin/env python3
"""The first scan of the bench's 100 KiB Write in a fresh process, for one or more builds of
the `first_scan` example run alternately (so that the machine's load falls on all alike).

usage: cold_scan.py RUNS LABEL=BINARY [LABEL=BINARY ...]

Each run starts BINARY --payload and reads the time it prints for its first scan; prints
the best, the first quartile and the median per build. Build a binary with
`cargo build --release -p warden-secrets --example first_scan` and copy it out of the
target directory before building the next.
"""
import statistics
import subprocess
import sys

runs = int(sys.argv[1])
builds = [a.split("=", 1) for a in sys.argv[2:]]
times = {label: [] for label, _ in builds}
for _ in range(runs):
    for label, exe in builds:
        out = subprocess.run([exe, "--payload"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("first scan"):
                times[label].append(float(line.split()[-2]))
for label, t in times.items():
    t.sort()
    print(f"{label:12} best {t[0]:7.0f} µs  p25 {t[len(t) // 4]:7.0f} µs  "
          f"median {statistics.median(t):7.0f} µs  ({len(t)} runs)")
