#!/usr/bin/env bash
# corouter benchmark harness (issue 3): corouter beside direct, nginx and Portkey, on this box, pinned.
#
#   scripts/bench/run.sh [s1 s2 s3 s4] [--quick] [--no-build] [options]     (default: every scenario)
#
#   s1  latency at concurrency 1 (mock 0 ms): p50/p99 through corouter, nginx, Portkey and direct
#   s2  non-streaming cost and capacity at c=64: gateway CPU us/request and req/s against the mock and against a
#       canned nginx answer; highest open-loop rate against the 20 ms mock with p99 <= 25 ms and no error
#   s3  streaming: CPU us per forwarded SSE chunk (64 x 20 ms and 20 x 2 ms), TTFT and inter-chunk gaps at c=1,
#       most concurrent stall-free streams at 50 chunks/s
#   s4  money path: CPU and database commits per request; after the run, usage cost == ledger charges exactly
#
#   --quick       short runs, 1 repeat, short warm-up: a smoke check of the harness (< 3 min after the build)
#   --no-build    use the jars already built (platform/server/target, var/plugins)
#   --render F    only rewrite BENCHMARKS.md from the raw results F of an earlier run
#   --repeats N --duration S --warmup S --gateways direct,nginx,corouter,portkey --heap 256m --keep-work ...
#   --audit file  the bench account opts in to audit logging into files (the cost of an opted-in account)
#   --key-limit USD  the bench key gets a monthly spend limit (the cost of the limits stage for a limited key)
#                 (scripts/bench/run.sh --help lists them all)
#
# Prints a table, writes raw JSON to scripts/bench/results/ and (full runs) BENCHMARKS.md at the repository root.
# Pinning: gateways on core 1; mock upstreams, load generators and corouter's PostgreSQL on core 0.
# Needs: java 17, mvn, python3 (+ PyYAML), node/npm, psql, taskset; installs nginx and wrk with apt-get if
# missing, Portkey (npm @portkey-ai/gateway@1.15.2) into scripts/bench/.cache.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench="$root/scripts/bench"
cd "$root"

build=1
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,25p' "$0"; python3 "$bench/harness.py" --help; exit 0 ;;
    --render) exec python3 "$bench/harness.py" "$@" ;;
  esac
done

need() { command -v "$1" >/dev/null 2>&1 || { echo "run.sh: '$1' is required" >&2; exit 1; }; }
for t in java mvn python3 node npm psql taskset curl; do need "$t"; done
python3 -c 'import yaml' 2>/dev/null || { echo "run.sh: python3 PyYAML is required (apt-get install -y python3-yaml)" >&2; exit 1; }
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
  echo "run.sh: installing nginx and wrk (apt-get)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx wrk >/dev/null
fi
mkdir -p "$bench/.cache" "$bench/results"

# corouter itself (server jar + plugin jars in var/plugins)
if [[ $build == 1 || ! -f platform/server/target/corouter-server.jar || ! -d var/plugins ]]; then
  scripts/corouter build
fi
# the load tools (a stand-alone Maven project, not a module of the root pom)
stamp="$bench/loadgen/target/classes/co/corouter/bench/LoadGen.class"
if [[ ! -s "$bench/loadgen/target/cp.txt" || ! -f "$stamp" || -n "$(find "$bench/loadgen/src" "$bench/loadgen/pom.xml" -newer "$stamp" 2>/dev/null)" ]]; then
  echo "run.sh: building scripts/bench/loadgen" >&2
  mvn -q -B -f "$bench/loadgen/pom.xml" package >/dev/null
fi
# Portkey, pinned, with the @hono/node-server override its streaming needs
pk="$bench/.cache/portkey"
if [[ ! -f "$pk/node_modules/@portkey-ai/gateway/build/start-server.js" ]]; then
  echo "run.sh: installing @portkey-ai/gateway@1.15.2 into scripts/bench/.cache/portkey" >&2
  mkdir -p "$pk"
  cat > "$pk/package.json" <<'JSON'
{
  "name": "corouter-bench-portkey",
  "private": true,
  "dependencies": { "@portkey-ai/gateway": "1.15.2" },
  "overrides": { "@hono/node-server": "1.14.1" }
}
JSON
  (cd "$pk" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi

exec python3 "$bench/harness.py" "$@"
