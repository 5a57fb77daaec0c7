#!/usr/bin/env python3
"""Reads `jfr print --events jdk.ExecutionSample` on stdin; prints the hottest frames by self and by total samples."""
import collections
import re
import sys

self_count, total, n = collections.Counter(), collections.Counter(), 0
stack = None
for line in sys.stdin:
    if line.startswith("jdk.ExecutionSample"):
        stack = []
    elif stack is not None and line.strip().startswith("]"):
        pass
    elif stack is not None and "line:" in line:
        m = re.match(r"\s*(.+?)\s+line:", line)
        if m:
            stack.append(re.sub(r"\(.*\)", "", m.group(1)))
    elif stack is not None and line.strip() == "}":
        if stack:
            n += 1
            self_count[stack[0]] += 1
            for f in set(stack):
                total[f] += 1
        stack = None
print(f"{n} samples\n-- self --")
for f, c in self_count.most_common(30):
    print(f"{100*c/n:5.1f}%  {f}")
print("-- total (co.corouter / vertx / netty / jackson) --")
for f, c in [x for x in total.most_common(400) if re.match(r"(co\.corouter|io\.vertx|com\.fasterxml)", x[0])][:45]:
    print(f"{100*c/n:5.1f}%  {f}")
