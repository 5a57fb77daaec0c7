#!/usr/bin/env bash
# First latency numbers: wrk through corouter vs. direct to a mock OpenAI-compatible upstream, at concurrency 1
# and 64 (non-streaming, 0 ms upstream delay). corouter runs pinned to core 1, upstream and wrk to core 0.
#   scripts/bench/latency.sh [seconds-per-run]
# Needs wrk (apt-get install -y wrk). Prints p50/p99 per run; the full benchmark harness is scripts/bench/run.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
secs=${1:-20}
command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk" >&2; exit 1; }
scripts/corouter build >/dev/null
(cd platform/testkit && mvn -q -B dependency:build-classpath -Dmdep.outputFile=target/cp.txt >/dev/null)

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up_port=$(free_port); gw_port=$(free_port)

taskset -c 0 java -Xms256m -Xmx256m -cp "platform/testkit/target/corouter-testkit-0.1.0-SNAPSHOT.jar:$(cat platform/testkit/target/cp.txt)" \
  co.corouter.testkit.upstream.FakeOpenAiUpstream --port="$up_port" --completion-tokens=20 --content="benchmark answer" \
  > "$work/upstream.log" 2>&1 &

mkdir -p "$work/conf"
cp conf/corouter.yaml "$work/conf/"
cat > "$work/conf/models.yaml" <<YAML
models:
  - id: bench/model
    provider: bench
    upstream_model: gpt-bench
    context_length: 8192
    max_output_tokens: 1024
    pricing: { prompt_per_million: "1.00", completion_per_million: "2.00" }
YAML
token=bench-admin-token-$(date +%s)
COROUTER_ADMIN_TOKEN=$token COROUTER__HTTP__PORT=$gw_port COROUTER__PLUGINS__DIR="$root/var/plugins" \
COROUTER__PROVIDERS__BENCH__TYPE=openai COROUTER__PROVIDERS__BENCH__CONFIG__BASE_URL="http://127.0.0.1:$up_port/v1" \
  taskset -c 1 java -XX:ActiveProcessorCount=1 -Xms512m -Xmx512m -jar platform/server/target/corouter-server.jar up --conf "$work/conf" \
  > "$work/corouter.log" 2>&1 &
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$gw_port/ready" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$gw_port/ready" >/dev/null || { cat "$work/corouter.log"; exit 1; }
# the embedded PostgreSQL inherits corouter's core: move it to core 0 with the upstream and wrk
for p in $(pgrep -f "$work/var/pg" || true) $(pgrep -x postgres || true); do taskset -pc 0 "$p" >/dev/null 2>&1 || true; done

admin() { curl -sf -X POST "http://127.0.0.1:$gw_port$1" -H "Authorization: Bearer $token" -d "$2"; }
account=$(admin /admin/accounts '{"name":"bench"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
admin "/admin/accounts/$account/credits" '{"amount_usd":"100000","reason":"benchmark"}' >/dev/null
key=$(admin "/admin/accounts/$account/keys" '{"label":"bench"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["key"])')

cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"MODEL","max_tokens":20,"messages":[{"role":"user","content":"Say something short."}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
LUA
sed 's/MODEL/gpt-bench/' "$work/post.lua" > "$work/direct.lua"
sed 's/MODEL/bench\/model/' "$work/post.lua" > "$work/gateway.lua"

run() { # name url script connections
  local out
  out=$(taskset -c 0 wrk -t1 -c"$4" -d"${secs}s" --latency -s "$3" "$2")
  printf '%-10s c=%-3s %s p50=%s p99=%s errors=%s\n' "$1" "$4" \
    "$(echo "$out" | awk '/Requests\/sec/ {print "rps=" $2}')" \
    "$(echo "$out" | awk '$1=="50%" {print $2}')" "$(echo "$out" | awk '$1=="99%" {print $2}')" \
    "$(echo "$out" | grep -cE 'Non-2xx|Socket errors' || true)"
}
echo "warm-up ($secs s through corouter)..." >&2
taskset -c 0 wrk -t1 -c16 -d"${secs}s" -s "$work/gateway.lua" "http://127.0.0.1:$gw_port/v1/chat/completions" >/dev/null
for c in 1 64; do
  run direct "http://127.0.0.1:$up_port/v1/chat/completions" "$work/direct.lua" "$c"
  run corouter "http://127.0.0.1:$gw_port/v1/chat/completions" "$work/gateway.lua" "$c"
done
