#!/usr/bin/env bash
# JMH microbenchmarks of corouter's hot-path pieces (sources and pom in scripts/bench/jmh/):
#   request parse (ChatRequestParser), SSE relay (openai SseRelay), cost and money formatting, cached key
#   authentication and key hashing, the usage JSON written back to the client.
#
# Usage:
#   scripts/bench/jmh.sh                          # every benchmark, with the defaults in the classes (5x1s + 5x1s)
#   scripts/bench/jmh.sh Parse -wi 2 -i 3         # benchmarks matching the regex 'Parse', shorter runs
#   scripts/bench/jmh.sh -wi 1 -i 1 -w 1s -r 1s   # a quick smoke run of everything
#   scripts/bench/jmh.sh -l                       # list the benchmarks;  -h for JMH's own options
# Arguments go to JMH unchanged (org.openjdk.jmh.Main): a regex selects benchmarks, options override the
# annotations. Results are also written as JSON to scripts/bench/results/jmh-<timestamp>.json (gitignored) unless
# -rf/-rff is given.
#
# What it does: installs the project's artifacts (0.1.0-SNAPSHOT) into the local Maven repository
# (mvn -o install -DskipTests from the repo root; online when offline fails), builds the uber jar
# scripts/bench/jmh/target/benchmarks.jar, and runs it.
#
# Pinning: the machine has 2 cores; when taskset exists JMH and its forked benchmark JVM run on core 1 only, so
# a benchmark thread and the JIT/GC threads share that core (as corouter does in scripts/bench/run.sh) and core 0
# stays for everything else. Numbers are per core. JMH_CPUS=0 (or any taskset list) picks other cores, JMH_CPUS=
# (empty) turns pinning off. A core that is busy with something else also starves the JIT compiler threads: with
# short warm-ups (-w 1s) code can still run interpreted, 100-1000x slower; check that the warm-up iterations have
# settled, and keep runs short when someone else measures on the machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

# mvn offline first (fast, no network), then online when something is missing from the local repository
mvn_build() {
    if ! mvn -q -B -o "$@"; then
        echo "jmh.sh: offline 'mvn $*' failed; retrying online" >&2
        mvn -q -B "$@"
    fi
}

echo "jmh.sh: installing the corouter artifacts" >&2
mvn_build install -DskipTests
echo "jmh.sh: building scripts/bench/jmh/target/benchmarks.jar" >&2
mvn_build -f scripts/bench/jmh/pom.xml package

args=("$@")
result_given=false
for arg in "$@"; do
    case "$arg" in
        -rf|-rff|-rf=*|-rff=*) result_given=true ;;
    esac
done
if ! $result_given; then
    mkdir -p scripts/bench/results
    results="scripts/bench/results/jmh-$(date +%Y%m%d-%H%M%S).json"
    args=(-rf json -rff "$results" "${args[@]}")
    echo "jmh.sh: JSON results go to $results" >&2
fi

pin=()
cpus="${JMH_CPUS-1}"
if [ -n "$cpus" ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc --all 2>/dev/null || echo 1)" -gt 1 ]; then
    pin=(taskset -c "$cpus")
    echo "jmh.sh: pinned to CPU $cpus (taskset)" >&2
fi
exec "${pin[@]}" java -jar scripts/bench/jmh/target/benchmarks.jar "${args[@]}"
