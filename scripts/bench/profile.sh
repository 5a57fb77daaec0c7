#!/usr/bin/env bash
# Where does corouter's CPU go? Warms corouter (pinned to core 1, one processor) under wrk load, then records a
# JFR profile of a further run and prints the hottest frames (self time) and the hottest call paths.
#   scripts/bench/profile.sh [plain|stream] [warm-seconds] [record-seconds] [connections]
# The mock upstream, wrk and PostgreSQL run on core 0. Output: the .jfr file path and the top-frame tables.
# GATEWAY_CORES=0,1 runs corouter on both cores with one event loop per core (the per-thread table then shows every
# event loop serving); the default, 1, pins it to core 1 with one event loop.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
mode=${1:-plain}; warm=${2:-60}; secs=${3:-30}; conns=${4:-64}
if ! command -v wrk >/dev/null; then
  echo "profile.sh: installing wrk (apt-get)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null
fi
[[ ${NO_BUILD:-0} == 1 ]] || scripts/corouter build >/dev/null

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; [[ -n ${KEEP_WORK:-} ]] && cp -r "$work" /tmp/profile-work; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up_port=$(free_port); gw_port=$(free_port)
chunks=4; interval=0
[[ $mode == stream ]] && { chunks=20; interval=2; }
taskset -c 0 java -Xms1g -Xmx1g -XX:+UseSerialGC -cp "platform/testkit/target/corouter-testkit-0.1.0-SNAPSHOT.jar:platform/server/target/corouter-server.jar" \
  co.corouter.testkit.upstream.FakeOpenAiUpstream --port="$up_port" --completion-tokens=20 --prompt-tokens=12 \
  --chunks=$chunks --interval-ms=$interval --content="benchmark answer" > "$work/upstream.log" 2>&1 &

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
out="$root/scripts/bench/results/profile-$mode-$(date +%Y%m%d-%H%M%S).jfr"
mkdir -p "$(dirname "$out")"
cores=${GATEWAY_CORES:-1}
ncores=$(awk -F, '{print NF}' <<< "$cores")
COROUTER_ADMIN_TOKEN=$token COROUTER__HTTP__PORT=$gw_port COROUTER__PLUGINS__DIR="$root/var/plugins" \
COROUTER__HTTP__EVENT_LOOPS=$ncores \
COROUTER__PROVIDERS__BENCH__TYPE=openai COROUTER__PROVIDERS__BENCH__CONFIG__BASE_URL="http://127.0.0.1:$up_port/v1" \
  taskset -c "$cores" java -XX:ActiveProcessorCount=$ncores -Xms256m -Xmx256m -XX:+AlwaysPreTouch ${JVM_OPTS:-} \
  -XX:StartFlightRecording=delay=$((warm + secs + 15))s,duration=$((secs))s,settings=${JFR_SETTINGS:-profile},filename="$out" \
  -jar platform/server/target/corouter-server.jar up --conf "$work/conf" > "$work/corouter.log" 2>&1 &
jvm=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$gw_port/ready" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$gw_port/ready" >/dev/null || { cat "$work/corouter.log"; exit 1; }
for p in $(pgrep -f "$work/var/pg" || true) $(pgrep -x postgres || true); do taskset -pc 0 "$p" >/dev/null 2>&1 || true; done

admin() { curl -sf -X POST "http://127.0.0.1:$gw_port$1" -H "Authorization: Bearer $token" -d "$2"; }
account=$(admin /admin/accounts '{"name":"bench"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
admin "/admin/accounts/$account/credits" '{"amount_usd":"100000","reason":"benchmark"}' >/dev/null
key=$(admin "/admin/accounts/$account/keys" '{"label":"bench"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["key"])')
stream=false; [[ $mode == stream ]] && stream=true
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"bench/model","max_tokens":20,"stream":$stream,"messages":[{"role":"system","content":"You are a concise assistant."},{"role":"user","content":"Say something short about benchmarks."}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
LUA
url="http://127.0.0.1:$gw_port/v1/chat/completions"
echo "warm-up: $warm s at c=$conns ($mode)" >&2
taskset -c 0 wrk -t1 -c"$conns" -d"${warm}s" -s "$work/post.lua" "$url" | grep -E 'Requests/sec|Non-2xx' >&2 || true
tck=$(getconf CLK_TCK)
# one line per thread: the kernel's 15-character name plus the thread id, so every event loop shows on its own
threads() { for t in /proc/$jvm/task/*; do echo "$(cat $t/comm 2>/dev/null)/${t##*/}|$(awk '{print $14" "$15}' $t/stat 2>/dev/null)"; done; }
threads > "$work/threads0"
cpu0=$(awk '{print $14+$15}' /proc/$jvm/stat)
res=$(taskset -c 0 wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$work/post.lua" "$url")
cpu1=$(awk '{print $14+$15}' /proc/$jvm/stat)
reqs=$(echo "$res" | awk '/requests in/ {print $1}')
threads > "$work/threads1"
echo "without JFR:"; echo "$res" | grep -E 'Requests/sec|50%|99%|Non-2xx' || true
python3 -c "print(f'CPU per request: {($cpu1-$cpu0)/$tck*1e6/$reqs:.1f} us over $reqs requests')"
python3 - "$work/threads0" "$work/threads1" "$reqs" "$tck" <<'PY'
import collections, sys
def load(f):
    d = collections.defaultdict(lambda: [0, 0])
    for line in open(f):
        name, _, t = line.rstrip("\n").rpartition("|")
        if t.strip():
            u, s = map(int, t.split()); d[name][0] += u; d[name][1] += s
    return d
a, b, n, tck = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print("per thread (us per request, user+sys):")
for name in sorted(b, key=lambda k: -(sum(b[k]) - sum(a.get(k, [0, 0])))):
    du, ds = b[name][0] - a.get(name, [0, 0])[0], b[name][1] - a.get(name, [0, 0])[1]
    if du + ds:
        print(f"  {name:28s} user {du / tck * 1e6 / n:6.1f}  sys {ds / tck * 1e6 / n:6.1f}")
PY
# the recording starts by itself (JVM flag) shortly after the measured run: wait for it
until jcmd $jvm JFR.check 2>/dev/null | grep -q running; do sleep 0.2; done
cpu0=$(awk '{print $14+$15}' /proc/$jvm/stat)
res=$(taskset -c 0 wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$work/post.lua" "$url")
cpu1=$(awk '{print $14+$15}' /proc/$jvm/stat)
until [[ -s "$out" ]]; do sleep 0.5; done; sleep 1
reqs=$(echo "$res" | awk '/requests in/ {print $1}')
echo "with JFR:"; echo "$res" | grep -E 'Requests/sec|50%|99%|Non-2xx' || true
python3 -c "print(f'CPU per request: {($cpu1-$cpu0)/$tck*1e6/$reqs:.1f} us over $reqs requests (includes JFR overhead)')"
echo "profile: $out"
jfr print --events jdk.ExecutionSample "$out" | python3 "$root/scripts/bench/jfr_top.py"
