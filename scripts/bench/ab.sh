#!/usr/bin/env bash
# A/B CPU per request of two corouter builds, for "is this change slower?" on a noisy box: both JVMs run at once,
# pinned to core 1 with one event loop each, and are loaded in turn (A then B, ROUNDS times, SECONDS each) by wrk on
# core 0, with the fake upstream and both embedded PostgreSQLs there too. Prints CPU us per request per round; compare
# medians and minimums (noise only ever adds).
#   scripts/bench/ab.sh ROOT_A ROOT_B [ROUNDS=6] [SECONDS=10] [plain|stream]
#   KEY_LIMIT=100000 scripts/bench/ab.sh ...   the bench key gets a monthly spend limit of that many USD (issue 11:
#                                              the cost of the limits stage for a limited key)
#   AUDIT=file scripts/bench/ab.sh ...         the bench account opts in to audit logging into files (issue 12: the
#                                              cost of an opted-in account); AUDIT_B=file: on side B only, so A/B of
#                                              one build gives the cost of opting in
# ROOT_A/ROOT_B: checkouts with built jars (scripts/corouter build), e.g. a clone at the base commit and this one.
set -euo pipefail
if ! command -v wrk >/dev/null; then
  echo "ab.sh: installing wrk (apt-get)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null
fi
A=$(cd "$1" && pwd); B=$(cd "$2" && pwd); rounds=${3:-6}; secs=${4:-10}; mode=${5:-plain}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up_port=$(free_port)
chunks=4; interval=0; [[ $mode == stream ]] && { chunks=20; interval=2; }
taskset -c 0 java -Xms1g -Xmx1g -XX:+UseSerialGC -cp "$B/platform/testkit/target/corouter-testkit-0.1.0-SNAPSHOT.jar:$B/platform/server/target/corouter-server.jar" \
  co.corouter.testkit.upstream.FakeOpenAiUpstream --port="$up_port" --completion-tokens=20 --prompt-tokens=12 \
  --chunks=$chunks --interval-ms=$interval --content="benchmark answer" > "$work/upstream.log" 2>&1 &
token=bench-admin-token-0123456789
declare -A port pid key
for side in A B; do
  root=${!side}; d="$work/$side"; mkdir -p "$d/conf"; cp "$root/conf/corouter.yaml" "$d/conf/"
  cat > "$d/conf/models.yaml" <<YAML
models:
  - id: bench/model
    provider: bench
    upstream_model: gpt-bench
    context_length: 8192
    max_output_tokens: 1024
    pricing: { prompt_per_million: "1.00", completion_per_million: "2.00" }
YAML
  p=$(free_port); port[$side]=$p
  audit_env=(); [[ ${AUDIT:-} == file || ${AUDIT_B:-} == file ]] && audit_env=(COROUTER__AUDIT__FILE_ROOT="$d/audit-files" COROUTER__AUDIT__SPOOL_DIR="$d/audit-spool")
  (cd "$d" && exec env "${audit_env[@]}" COROUTER_ADMIN_TOKEN=$token COROUTER__HTTP__PORT=$p COROUTER__PLUGINS__DIR="$root/var/plugins" COROUTER__HTTP__EVENT_LOOPS=1 \
   COROUTER__PROVIDERS__BENCH__TYPE=openai COROUTER__PROVIDERS__BENCH__CONFIG__BASE_URL="http://127.0.0.1:$up_port/v1" \
   taskset -c 1 java -Dab.side=$side -XX:ActiveProcessorCount=1 -Xms256m -Xmx256m -XX:+UseSerialGC -XX:+AlwaysPreTouch \
   -jar "$root/platform/server/target/corouter-server.jar" up --conf "$d/conf" > "$d/corouter.log" 2>&1) &
  pid[$side]=$!
done
for side in A B; do
  for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:${port[$side]}/ready" >/dev/null && break; sleep 0.5; done
  for q in $(pgrep -x postgres || true); do taskset -pc 0 "$q" >/dev/null 2>&1 || true; done
  admin() { curl -sf -X POST "http://127.0.0.1:${port[$side]}$1" -H "Authorization: Bearer $token" -d "$2"; }
  acc=$(admin /admin/accounts '{"name":"bench"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
  admin "/admin/accounts/$acc/credits" '{"amount_usd":"100000","reason":"benchmark"}' >/dev/null
  created=$(admin "/admin/accounts/$acc/keys" '{"label":"bench"}')
  key[$side]=$(echo "$created" | python3 -c 'import sys,json; print(json.load(sys.stdin)["key"])')
  if [[ ${AUDIT:-} == file || ( $side == B && ${AUDIT_B:-} == file ) ]]; then
    curl -sf -X PUT "http://127.0.0.1:${port[$side]}/admin/accounts/$acc/audit" -H "Authorization: Bearer $token" \
      -d '{"sink":"file","config":{"path":"bench"}}' >/dev/null
  fi
  if [[ -n ${KEY_LIMIT:-} ]]; then
    kid=$(echo "$created" | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
    curl -sf -X PATCH "http://127.0.0.1:${port[$side]}/admin/keys/$kid" -H "Authorization: Bearer $token" \
      -d "{\"limit_usd\":\"$KEY_LIMIT\",\"limit_reset\":\"monthly\"}" >/dev/null
  fi
done
stream=false; [[ $mode == stream ]] && stream=true
jpid() { pgrep -f "ab.side=$1 " | head -1; }
run() { # side secs -> prints "cpu_us reqs"
  local side=$1 s=$2 root=${!1}
  cat > "$work/post-$side.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"bench/model","max_tokens":20,"stream":$stream,"messages":[{"role":"system","content":"You are a concise assistant."},{"role":"user","content":"Say something short about benchmarks."}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${key[$side]}"
LUA
  local jp; jp=$(jpid "$side")
  local c0; c0=$(awk '{print $14+$15}' /proc/$jp/stat)
  local res; res=$(taskset -c 0 wrk -t1 -c64 -d${s}s -s "$work/post-$side.lua" "http://127.0.0.1:${port[$side]}/v1/chat/completions"); echo "$res" | grep -E "Non-2xx|Socket errors" >&2 || true
  local c1; c1=$(awk '{print $14+$15}' /proc/$jp/stat)
  local n; n=$(echo "$res" | awk '/requests in/ {print $1}')
  python3 -c "print(f'{($c1-$c0)/$(getconf CLK_TCK)*1e6/$n:.1f} $n')"
}
echo "warming both (40 s each)" >&2
run A 40 >/dev/null; run B 40 >/dev/null
: > "$work/rounds"
for i in $(seq 1 $rounds); do
  a=$(run A $secs); b=$(run B $secs)
  echo "round $i: A $a   B $b"
  echo "${a%% *} ${b%% *}" >> "$work/rounds"
done
python3 - "$work/rounds" <<'PY'
import statistics, sys
rows = [tuple(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
a, b = [r[0] for r in rows], [r[1] for r in rows]
print(f"A: median {statistics.median(a):.1f} min {min(a):.1f} | B: median {statistics.median(b):.1f} min {min(b):.1f} "
      f"| B/A: median {statistics.median(b) / statistics.median(a):.3f} min {min(b) / min(a):.3f} (us per request)")
PY
