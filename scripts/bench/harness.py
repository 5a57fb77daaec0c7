#!/usr/bin/env python3
"""corouter benchmark harness (issue 3). Run it through scripts/bench/run.sh, which builds what it needs.

Everything runs on this box, pinned: every gateway under test (corouter, nginx, Portkey) on core 1, the mock
upstreams, the canned nginx upstream, the load generators and corouter's embedded PostgreSQL on core 0.
Gateways are measured in the same run, interleaved ABAB (the order flips on every repeat), and each measured run
records the CPU the box spent on processes that are not ours ("foreign CPU"), so noise is visible.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BENCH = os.path.join(ROOT, "scripts", "bench")
CACHE = os.path.join(BENCH, ".cache")
RESULTS = os.path.join(BENCH, "results")
LOADGEN = os.path.join(BENCH, "loadgen")
CLK = os.sysconf("SC_CLK_TCK")
GATEWAY_CORE = "1"
CLIENT_CORE = "0"
ALL_GATEWAYS = ["direct", "nginx", "corouter", "portkey"]

# Upstreams: the Java mock (platform/testkit FakeOpenAiUpstream), one instance per behaviour, and nginx's canned answer.
UPSTREAMS = {
    "m0": dict(delay=0, chunks=4, interval=0, doc="mock, 0 ms"),
    "m20": dict(delay=20, chunks=4, interval=0, doc="mock, 20 ms"),
    "s64": dict(delay=0, chunks=64, interval=20, doc="mock SSE, 64 deltas x 20 ms"),
    "s20": dict(delay=0, chunks=20, interval=2, doc="mock SSE, 20 deltas x 2 ms"),
    "canned": dict(doc="nginx canned JSON answer"),
}
CONTENT = "The quick brown fox jumps over the lazy dog while the benchmark keeps on counting every token."
CANNED = json.dumps({
    "id": "chatcmpl-canned", "object": "chat.completion", "created": 1700000000, "model": "gpt-bench",
    "system_fingerprint": "fp_canned",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "benchmark answer"},
                 "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 20, "total_tokens": 25}}, separators=(",", ":"))

TARGETS = {  # issue 3, corouter pinned to one core
    "s2_cpu_us": 45.0, "s2_canned_rps": 20000, "s1_p50_vs_nginx_us": 30.0, "s1_p99_vs_nginx_us": 150.0,
    "s3_cpu_us_per_chunk": 25.0, "s3_ttft_p99_vs_nginx_us": 100.0, "s3_streams": 800, "rss_mb": 512,
    "gc_pause_ms": 5.0, "s4_extra_cpu_pct": 10.0,
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=60.0, proc=None):
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def http(method, url, body=None, headers=None, timeout=30):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


# ---------------------------------------------------------------- /proc accounting

def proc_stat(pid):
    """(utime+stime, cutime+cstime, ppid, starttime) in ticks, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    f = s[s.rindex(")") + 2:].split()
    return int(f[11]) + int(f[12]), int(f[13]) + int(f[14]), int(f[1]), int(f[19])


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def descendants(root_pids):
    parent = {}
    for p in all_pids():
        st = proc_stat(p)
        if st:
            parent[p] = st[2]
    out = set(p for p in root_pids if p in parent)
    changed = True
    while changed:
        changed = False
        for p, pp in parent.items():
            if pp in out and p not in out:
                out.add(p)
                changed = True
    return out


def cpu_ticks(pids, children=False):
    t = 0
    for p in pids:
        st = proc_stat(p)
        if st:
            t += st[0] + (st[1] if children else 0)
    return t


def box_stat():
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu"):
                name, *v = line.split()
                v = [int(x) for x in v]
                idle = v[3] + v[4]
                out[name] = (sum(v[:8]) - idle, sum(v[:8]))
    return out


def status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_hwm(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def uptime_s():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


def fg(rec):
    return f"foreign c0 {rec.get('foreign_core0', 0):.0%} c1 {rec.get('foreign_core1', 0):.0%}"


def fgs(x):
    a, b = x.get("foreign_core0"), x.get("foreign_core1")
    return f"{a:.0%} / {b:.0%}" if a is not None and b is not None else "-"


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def rng(xs):
    xs = [x for x in xs if x is not None]
    return [min(xs), max(xs)] if xs else None


# ---------------------------------------------------------------- processes

class Procs:
    """Processes this harness started, each in its own session; stopped by their own ids at exit."""

    def __init__(self, work):
        self.work = work
        self.items = []  # (name, Popen, stop_signal, grace_s)

    def start(self, name, cmd, core=None, env=None, stop_signal=signal.SIGTERM, grace=10, cwd=None, pipes=False):
        full = (["taskset", "-c", core] if core is not None else []) + cmd
        logf = open(os.path.join(self.work, f"{name}.log"), "w")
        p = subprocess.Popen(full, stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
                             stdout=subprocess.PIPE if pipes else logf, stderr=logf if pipes else subprocess.STDOUT,
                             env={**os.environ, **(env or {})}, start_new_session=True, cwd=cwd or ROOT,
                             text=pipes, bufsize=1 if pipes else -1)
        self.items.append((name, p, stop_signal, grace))
        return p

    def ours(self):
        """Every live process of this run: our descendants, plus the embedded PostgreSQL and its backends (the
        postmaster may be re-parented; it is ours by its data directory under the work dir)."""
        roots = {os.getpid()}
        for p in all_pids():
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    if self.work.encode() in f.read():
                        roots.add(p)
            except OSError:
                pass
        return descendants(roots)

    def stop_all(self):
        for name, p, sig, grace in reversed(self.items):
            if p.poll() is None:
                try:
                    p.send_signal(sig)
                except OSError:
                    pass
        for name, p, sig, grace in reversed(self.items):
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)  # the session this harness created for it
                except OSError:
                    pass
        # an embedded PostgreSQL left behind by a killed corouter: ours by its data directory
        for pid in all_pids():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if b"postgres" in cmd and self.work.encode() in cmd:
                try:
                    os.kill(pid, signal.SIGQUIT)
                except OSError:
                    pass


# ---------------------------------------------------------------- the bench

class Bench:
    def __init__(self, args):
        self.a = args
        self.quick = args.quick
        self.work = tempfile.mkdtemp(prefix="corouter-bench-")
        self.procs = Procs(self.work)
        self.ports = {}
        self.gw_procs = {}   # gateway -> Popen (nginx master, node, java)
        self.runs = []       # every measured run, raw
        self.summary = {}
        self.notes = []
        self.meta = {}
        self.warm = set()
        self.pg_port = None
        self.account = None
        self.key = None
        self.gc_log = os.path.join(self.work, "corouter-gc.log")
        self.scenario_windows = {}

    # ------------------------------------------------------------ durations
    def d(self, full, quick):
        return quick if self.quick else full

    # ------------------------------------------------------------ start-up
    def setup(self, gateways, upstreams):
        self.gateways = gateways
        self.meta = self.machine()
        log(f"work dir {self.work}")
        self.start_upstreams(upstreams)
        if "nginx" in gateways:
            self.start_nginx_proxy(upstreams)
        if "portkey" in gateways:
            self.start_portkey()
        if "corouter" in gateways:
            self.start_corouter(upstreams)
        self.check_paths(upstreams)
        self.start_loadgen()
        self.warm_clients(upstreams)
        self.idle_cpu()

    def machine(self):
        def out(cmd):
            try:
                return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=30).stdout.strip() \
                    or subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=30).stderr.strip()
            except Exception as e:  # noqa
                return f"? ({e})"
        cpu = re.search(r"Model name:\s*(.*)", out(["lscpu"]))
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        return {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "commit": out(["git", "rev-parse", "--short", "HEAD"]),
            "dirty": bool(out(["git", "status", "--porcelain", "--untracked-files=no"])),
            "cpu": cpu.group(1) if cpu else "?", "cores": os.cpu_count(), "mem_gib": round(mem, 1),
            "kernel": os.uname().release, "java": out(["java", "-version"]).splitlines()[0],
            "nginx": out(["nginx", "-v"]), "node": out(["node", "-v"]), "wrk": out(["wrk", "-v"]).splitlines()[0],
            "command": " ".join(["scripts/bench/run.sh"] + sys.argv[1:]),
            "corouter_jar_built": datetime.datetime.fromtimestamp(os.path.getmtime(
                os.path.join(ROOT, "platform/server/target/corouter-server.jar"))).isoformat(timespec="seconds")
            if os.path.exists(os.path.join(ROOT, "platform/server/target/corouter-server.jar")) else None,
            "mode": "quick" if self.quick else "full",
        }

    def start_upstreams(self, names):
        cp = "platform/testkit/target/" + next(f for f in os.listdir(os.path.join(ROOT, "platform/testkit/target"))
                                               if re.match(r"corouter-testkit-.*\.jar$", f))
        # the fake's dependencies (plugin-api, Vert.x, Jackson, logging) are all inside the server's shaded jar
        cp += ":platform/server/target/corouter-server.jar"
        started = []
        for n in names:
            port = free_port()
            self.ports[n] = port
            if n == "canned":
                self.start_nginx("canned", CLIENT_CORE, self.canned_conf(port))
                started.append((n, port, None))
                continue
            u = UPSTREAMS[n]
            p = self.procs.start(f"upstream-{n}", [
                "java", "-Xms1g", "-Xmx1g", "-Xmn768m", "-XX:+UseSerialGC",
                "-cp", cp, "co.corouter.testkit.upstream.FakeOpenAiUpstream", f"--port={port}",
                f"--chunks={u['chunks']}", f"--interval-ms={u['interval']}", f"--delay-ms={u['delay']}",
                "--completion-tokens=20", "--prompt-tokens=12", f"--content={CONTENT}"], core=CLIENT_CORE)
            started.append((n, port, p))
        for n, port, p in started:
            if not wait_port(port, 60, p):
                raise SystemExit(f"upstream {n} did not start; see {self.work}/upstream-{n}.log")
        # check each upstream alone, before any gateway is involved
        checks = {}
        for n in names:
            url = f"http://127.0.0.1:{self.ports[n]}/v1/chat/completions"
            t = time.time()
            st, body = http("POST", url, self.body("gpt-bench", False), {"Content-Type": "application/json"})
            ok = st == 200 and "usage" in json.loads(body)
            c = {"status": st, "usage": ok, "ms": round((time.time() - t) * 1000, 1)}
            if n.startswith("s"):
                t = time.time()
                st, body = http("POST", url, self.body("gpt-bench", True), {"Content-Type": "application/json"})
                events = [e for e in body.split("\n\n") if e.startswith("data:")]
                c.update(stream_status=st, stream_events=len(events), stream_done=events[-1] == "data: [DONE]",
                         stream_usage='"usage":{' in body, stream_ms=round((time.time() - t) * 1000, 1))
                ok = ok and c["stream_done"] and c["stream_usage"]
            if not ok:
                raise SystemExit(f"upstream {n} check failed: {c} {body[:300]}")
            checks[n] = c
        self.meta["upstream_check"] = checks
        log(f"upstreams ok: {checks}")

    def canned_conf(self, port):
        body = CANNED.replace("'", "\\'")
        return f"""
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        keepalive_requests 10000000;
        location / {{ default_type application/json; return 200 '{body}'; }}
    }}"""

    def start_nginx(self, name, core, servers):
        d = os.path.join(self.work, f"nginx-{name}")
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1;
worker_rlimit_nofile 16384;
daemon off;
master_process on;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;
    uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
    client_body_buffer_size 64k;
{servers}
}}
""")
        p = self.procs.start(f"nginx-{name}", ["nginx", "-p", d, "-c", conf], core=core, stop_signal=signal.SIGQUIT)
        return p

    def start_nginx_proxy(self, upstreams):
        port = free_port()
        ups, locs = [], []
        for n in upstreams:
            ups.append(f"    upstream {n} {{ server 127.0.0.1:{self.ports[n]}; keepalive 512; keepalive_requests 10000000; }}")
            buffering = "proxy_buffering off; " if n.startswith("s") else ""
            locs.append(f"        location /{n}/ {{ proxy_pass http://{n}/; proxy_http_version 1.1; "
                        f"proxy_set_header Connection \"\"; {buffering}}}")
        servers = "\n".join(ups) + f"""
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        keepalive_requests 10000000;
""" + "\n".join(locs) + "\n    }"
        p = self.start_nginx("proxy", GATEWAY_CORE, servers)
        if not wait_port(port, 20, p):
            raise SystemExit(f"nginx did not start; see {self.work}/nginx-proxy.log")
        self.ports["nginx"] = port
        self.gw_procs["nginx"] = p

    def start_portkey(self):
        gw = os.path.join(CACHE, "portkey", "node_modules", "@portkey-ai", "gateway", "build", "start-server.js")
        if not os.path.exists(gw):
            raise SystemExit("Portkey is not installed (scripts/bench/run.sh installs it into scripts/bench/.cache)")
        port = free_port()
        p = self.procs.start("portkey", ["node", "--require", os.path.join(BENCH, "force-localhost.cjs"), gw,
                                         f"--port={port}", "--headless"],
                             core=GATEWAY_CORE, env={"NODE_ENV": "production"},
                             cwd=os.path.join(CACHE, "portkey"))
        if not wait_port(port, 30, p):
            raise SystemExit(f"Portkey did not start; see {self.work}/portkey.log")
        ss = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True).stdout
        bound = [l for l in ss.splitlines() if f":{port} " in l]
        if any("127.0.0.1" not in l for l in bound):
            raise SystemExit(f"Portkey listens beyond 127.0.0.1: {bound}")
        self.ports["portkey"] = port
        self.gw_procs["portkey"] = p

    def start_corouter(self, upstreams):
        conf = os.path.join(self.work, "conf")
        os.makedirs(conf)
        jar = os.path.join(self.work, "corouter-server.jar")
        shutil.copy(os.path.join(ROOT, "platform/server/target/corouter-server.jar"), jar)
        shutil.copytree(os.path.join(ROOT, "var/plugins"), os.path.join(self.work, "plugins"))
        with open(os.path.join(ROOT, "conf/corouter.yaml")) as f:
            cfg = yaml.safe_load(f)
        cfg.setdefault("providers", {})
        models = []
        for n in upstreams:
            cfg["providers"][n] = {"type": "openai", "config": {
                "base_url": f"http://127.0.0.1:{self.ports[n]}/v1", "max_connections": 4096}}
            models.append({"id": f"bench/{n}", "provider": n, "upstream_model": "gpt-bench", "context_length": 8192,
                           "max_output_tokens": 1024,
                           "pricing": {"prompt_per_million": "1.25", "completion_per_million": "3.75"}})
        if self.a.audit == "file":
            # the bench account opts in to audit logging into files (issue 12: the cost of an opted-in account)
            cfg["audit"] = {"file_root": os.path.join(self.work, "audit-files"),
                            "spool_dir": os.path.join(self.work, "audit-spool")}
        with open(os.path.join(conf, "corouter.yaml"), "w") as f:
            yaml.safe_dump(cfg, f, sort_keys=False)
        with open(os.path.join(conf, "models.yaml"), "w") as f:
            yaml.safe_dump({"models": models}, f, sort_keys=False)
        port = free_port()
        self.admin_token = "bench-" + os.urandom(12).hex()
        heap = self.a.heap
        cmd = ["java", "-XX:ActiveProcessorCount=1", f"-Xms{heap}", f"-Xmx{heap}", "-XX:+AlwaysPreTouch",
               f"-Xlog:gc*:file={self.gc_log}:uptime,level,tags"] + self.a.jvm_opt + \
              ["-jar", jar, "up", "--conf", conf]
        self.meta["corouter_cmd"] = "taskset -c 1 " + " ".join(cmd)
        p = self.procs.start("corouter", cmd, core=GATEWAY_CORE, grace=40, env={
            "COROUTER_ADMIN_TOKEN": self.admin_token, "COROUTER__HTTP__PORT": str(port),
            "COROUTER__PLUGINS__DIR": os.path.join(self.work, "plugins")})
        self.ports["corouter"] = port
        self.gw_procs["corouter"] = p
        self.await_ready("corouter", p, port)
        m = re.search(r"embedded PostgreSQL started on 127\.0\.0\.1:(\d+)", open(f"{self.work}/corouter.log").read())
        self.pg_port = int(m.group(1)) if m else None
        # corouter alone on core 1: its embedded PostgreSQL inherited core 1, move it to core 0
        pg = [q for q in descendants([p.pid]) if q != p.pid]
        for q in self.procs.ours():
            try:
                if b"postgres" in open(f"/proc/{q}/cmdline", "rb").read() and q != p.pid:
                    pg.append(q)
            except OSError:
                pass
        self.pg_pids_seen = sorted(set(pg))
        for q in self.pg_pids_seen:
            subprocess.run(["taskset", "-a", "-p", "-c", CLIENT_CORE, str(q)], capture_output=True)
        a = f"http://127.0.0.1:{port}/admin"
        h = {"Authorization": f"Bearer {self.admin_token}", "Content-Type": "application/json"}
        st, body = http("POST", f"{a}/accounts", json.dumps({"name": "bench"}), h)
        self.account = json.loads(body)["id"]
        http("POST", f"{a}/accounts/{self.account}/credits",
             json.dumps({"amount_usd": "1000000", "reason": "benchmark"}), h)
        st, body = http("POST", f"{a}/accounts/{self.account}/keys", json.dumps({"label": "bench"}), h)
        self.key = json.loads(body)["key"]
        if self.a.key_limit:
            # the bench key gets a monthly spend limit (issue 11: the limits stage holds and settles every request)
            st, body = http("PATCH", f"{a}/keys/{json.loads(body)['id']}",
                            json.dumps({"limit_usd": self.a.key_limit, "limit_reset": "monthly"}), h)
            if st != 200:
                raise SystemExit(f"setting the bench key's limit failed: {st} {body}")
            self.meta["key_limit_usd"] = self.a.key_limit
        if self.a.audit == "file":
            st, body = http("PUT", f"{a}/accounts/{self.account}/audit",
                            json.dumps({"sink": "file", "config": {"path": "bench"}}), h)
            if st != 200:
                raise SystemExit(f"opting the bench account in to audit failed: {st} {body}")
            self.meta["audit"] = "file"
        log(f"corouter ready on {port} (embedded PostgreSQL on {self.pg_port}, pids {self.pg_pids_seen} -> core 0)")

    def await_ready(self, name, p, port):
        """Waits (up to 120 s) for a corouter JVM's /ready; stops the run if it exits or never gets ready."""
        end = time.time() + 120
        while time.time() < end:
            if p.poll() is not None:
                raise SystemExit(f"{name} exited; see {self.work}/{name}.log")
            try:
                if http("GET", f"http://127.0.0.1:{port}/ready", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"{name} not ready; see {self.work}/{name}.log")

    def start_corouter_unmetered(self):
        """A second corouter JVM, same jar, config and database, with metering.enabled=false (the S4 baseline)."""
        if "corouter-off" in self.gw_procs:
            return
        port = free_port()
        heap = self.a.heap
        cmd = ["java", "-XX:ActiveProcessorCount=1", f"-Xms{heap}", f"-Xmx{heap}", "-XX:+AlwaysPreTouch"] + \
            self.a.jvm_opt + ["-jar", os.path.join(self.work, "corouter-server.jar"), "up", "--conf",
                              os.path.join(self.work, "conf")]
        p = self.procs.start("corouter-off", cmd, core=GATEWAY_CORE, grace=40, env={
            "COROUTER_ADMIN_TOKEN": self.admin_token, "COROUTER__HTTP__PORT": str(port),
            "COROUTER__PLUGINS__DIR": os.path.join(self.work, "plugins"),
            "COROUTER__METERING__ENABLED": "false",
            "COROUTER__DATABASE__URL": f"postgresql://postgres@127.0.0.1:{self.pg_port}/postgres"})
        self.await_ready("corouter-off", p, port)
        self.ports["corouter-off"] = port
        self.gw_procs["corouter-off"] = p
        log(f"corouter with metering off ready on {port} (same database)")

    # ------------------------------------------------------------ requests
    @staticmethod
    def body(model, stream):
        b = {"model": model, "max_tokens": 20, "messages": [{"role": "user", "content": "Say something short."}]}
        if stream:
            b["stream"] = True
            b["stream_options"] = {"include_usage": True}
        return json.dumps(b, separators=(",", ":"))

    def endpoint(self, gw, up):
        """(url, headers, model) for gateway gw in front of upstream up."""
        if gw == "direct":
            return f"http://127.0.0.1:{self.ports[up]}/v1/chat/completions", {}, "gpt-bench"
        if gw == "nginx":
            return f"http://127.0.0.1:{self.ports['nginx']}/{up}/v1/chat/completions", {}, "gpt-bench"
        if gw == "portkey":
            return (f"http://127.0.0.1:{self.ports['portkey']}/v1/chat/completions",
                    {"x-portkey-provider": "openai", "x-portkey-custom-host": f"http://127.0.0.1:{self.ports[up]}/v1",
                     "Authorization": "Bearer sk-bench-unused"}, "gpt-bench")
        if gw in ("corouter", "corouter-off"):
            return (f"http://127.0.0.1:{self.ports[gw]}/v1/chat/completions",
                    {"Authorization": f"Bearer {self.key}"}, f"bench/{up}")
        raise ValueError(gw)

    def check_paths(self, upstreams):
        """Every gateway answers 200 with usage through every upstream before anything is measured."""
        for gw in self.gateways:
            for up in upstreams:
                url, h, model = self.endpoint(gw, up)
                stream = up.startswith("s")
                st, body = http("POST", url, self.body(model, stream), {**h, "Content-Type": "application/json"})
                good = st == 200 and ('"usage":{' in body.replace(" ", ""))
                if stream:
                    good = good and body.rstrip().endswith("data: [DONE]")
                if not good:
                    raise SystemExit(f"{gw} -> {up}: status {st}: {body[:400]}")
        log("every gateway answers through every upstream")

    def gw_pids(self, gw):
        if gw == "direct":
            return []
        p = self.gw_procs[gw]
        if gw in ("corouter", "corouter-off"):
            return [p.pid]  # the JVM only: its PostgreSQL is accounted separately (db_cpu)
        return sorted(descendants([p.pid]))

    def core1_pids(self):
        return [q for g in self.gw_procs for q in self.gw_pids(g)]

    # ------------------------------------------------------------ load tools
    def wrk(self, gw, up, conns, secs, record=True):
        url, h, model = self.endpoint(gw, up)
        lua = os.path.join(self.work, f"wrk-{gw}-{up}.lua")
        if not os.path.exists(lua):
            with open(lua, "w") as f:
                f.write('wrk.method = "POST"\n')
                f.write(f"wrk.body = [[{self.body(model, False)}]]\n")
                f.write('wrk.headers["Content-Type"] = "application/json"\n')
                for k, v in h.items():
                    f.write(f'wrk.headers["{k}"] = "{v}"\n')
                f.write("""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50":%.1f,"p90":%.1f,"p99":%.1f,"p999":%.1f,"max":%.1f,"mean":%.1f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
""")
        r = subprocess.run(["taskset", "-c", CLIENT_CORE, "wrk", "-t1", f"-c{conns}", f"-d{secs}s", "--timeout", "10s",
                            "-s", lua, url], capture_output=True, text=True)
        m = re.search(r"WRKJSON (\{.*\})", r.stdout)
        if not m:
            raise RuntimeError(f"wrk failed: {r.stdout} {r.stderr}")
        j = json.loads(m.group(1))
        j["errors"] = j["connect"] + j["read"] + j["write"] + j["status"] + j["timeout"]
        j["rps"] = round(j["requests"] / (j["duration_us"] / 1e6), 1)
        j["tool"] = f"wrk -t1 -c{conns} -d{secs}s"
        return j

    def start_loadgen(self):
        """One long-lived generator JVM on core 0 (scripts/bench/loadgen), JIT-warmed once, driven over stdin/stdout."""
        cp = os.path.join(LOADGEN, "target", "classes") + ":" + open(os.path.join(LOADGEN, "target", "cp.txt")).read().strip()
        self.lg = self.procs.start("loadgen", ["java", "-Xms512m", "-Xmx512m", "-XX:+UseSerialGC",
                                               "-Dio.netty.leakDetection.level=disabled", "-cp", cp,
                                               "co.corouter.bench.LoadGen", "serve"],
                                   core=CLIENT_CORE, pipes=True, stop_signal=signal.SIGTERM)

    def loadgen(self, mode, gw, up, secs, warmup, **flags):
        url, h, model = self.endpoint(gw, up)
        bf = os.path.join(self.work, f"body-{model.replace('/', '_')}-{mode}.json")
        if not os.path.exists(bf):
            with open(bf, "w") as f:
                f.write(self.body(model, mode == "sse"))
        cmd = {"mode": mode, "url": url, "body-file": bf, "duration-s": secs, "warmup-s": warmup,
               "headers": [[k, v] for k, v in h.items()]}
        cmd.update({k.replace("_", "-"): v for k, v in flags.items()})
        self.lg.stdin.write(json.dumps(cmd) + "\n")
        self.lg.stdin.flush()
        line = self.lg.stdout.readline()
        if not line:
            raise RuntimeError(f"loadgen died; see {self.work}/loadgen.log")
        r = json.loads(line)
        if "error" in r:
            raise RuntimeError(f"loadgen: {r['error']}")
        return r

    def warm_clients(self, ups):
        """Warms the generator's and the mocks' JIT (direct, no gateway) before anything is measured."""
        secs = self.d(10, 2)
        log(f"  warm-up load generator and mocks: {secs} s")
        self.loadgen("open", "direct", "m0", secs, 0, rate=2000, connections=64)
        for up in ups:
            if up.startswith("s"):
                self.loadgen("sse", "direct", up, secs, 0, concurrency=8, stall_ms=10000)
            else:
                self.wrk("direct", up, 16, secs)
        if "m20" in ups:
            self.loadgen("open", "direct", "m20", secs, 0, rate=1000, connections=256)

    def idle_cpu(self):
        """CPU each gateway burns doing nothing (timers, pools), in ms per second: the floor under low-load figures."""
        secs = self.d(5, 1)
        t = {g: cpu_ticks(self.gw_pids(g)) for g in self.gw_procs}
        time.sleep(secs)
        self.meta["idle_cpu_ms_per_s"] = {g: round((cpu_ticks(self.gw_pids(g)) - t[g]) / CLK * 1000 / secs, 1)
                                          for g in t}
        log(f"  idle CPU (ms/s): {self.meta['idle_cpu_ms_per_s']}")

    def pg(self, sql, timeout=60):
        if not self.pg_port:
            return None
        r = subprocess.run(["psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres",
                            "-d", "postgres", "-c", sql], capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"psql: {r.stderr}")
        return r.stdout.strip()

    def pg_commits(self):
        v = self.pg("SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'")
        return int(v) if v else None

    # ------------------------------------------------------------ measurement
    def measure(self, scenario, step, gw, fn, count_key, db=False):
        """Runs fn() and attaches the gateway's CPU per unit of work and the foreign CPU on the box."""
        attempts = 1 if self.quick else 1 + self.a.noisy_retries
        best = None
        for attempt in range(attempts):
            time.sleep(self.d(self.a.settle, 0.2))
            pids = self.gw_pids(gw)
            core1 = self.core1_pids()
            pg = sorted(self.pg_pids()) if db else []
            ours0 = cpu_ticks(self.procs.ours(), children=True)
            g0, c10, pg0, box0 = cpu_ticks(pids), cpu_ticks(core1), cpu_ticks(pg, True), box_stat()
            commits0 = self.pg_commits() if db else None
            t0 = time.time()
            res = fn()
            el = time.time() - t0
            g1, c11, pg1, box1 = cpu_ticks(pids), cpu_ticks(core1), cpu_ticks(pg, True), box_stat()
            ours1 = cpu_ticks(self.procs.ours(), children=True)
            commits1 = self.pg_commits() if db else None
            # processes this harness waited for (wrk, loadgen) land in its own cutime/cstime, counted in ours
            ours_d = (ours1 - ours0) / CLK
            busy = (box1["cpu"][0] - box0["cpu"][0]) / CLK
            busy1 = (box1.get("cpu1", (0, 0))[0] - box0.get("cpu1", (0, 0))[0]) / CLK
            busy0 = (box1.get("cpu0", (0, 0))[0] - box0.get("cpu0", (0, 0))[0]) / CLK
            n = res.get(count_key) or 0
            rec = {"scenario": scenario, "step": step, "gateway": gw, "elapsed_s": round(el, 2), "result": res,
                   "count": n, "attempt": attempt + 1}
            if pids:
                cpu = (g1 - g0) / CLK
                rec["gw_cpu_s"] = round(cpu, 3)
                rec["gw_cpu_util"] = round(cpu / el, 3)
                rec["cpu_us_per_unit"] = round(cpu * 1e6 / n, 1) if n else None
            if db:
                rec["db_cpu_us_per_unit"] = round((pg1 - pg0) / CLK * 1e6 / n, 1) if n else None
                rec["db_commits"] = commits1 - commits0 - 1
                rec["db_commits_per_s"] = round(rec["db_commits"] / el, 1)
            rec["foreign_box_cores"] = round(max(0.0, busy - ours_d) / el, 3)
            rec["foreign_core1"] = round(max(0.0, busy1 - (c11 - c10) / CLK) / el, 3)
            rec["foreign_core0"] = round(max(0.0, busy0 - (ours_d - (c11 - c10) / CLK)) / el, 3)
            noisy = (rec["foreign_core1"] > self.a.noise_core1 or rec["foreign_core0"] > self.a.noise_core0
                     or rec["foreign_box_cores"] > self.a.noise_box)
            rec["noisy"] = noisy
            self.runs.append(rec)
            if best is None or rec["foreign_core1"] + rec["foreign_core0"] < best["foreign_core1"] + best["foreign_core0"]:
                best = rec
            if not noisy:
                break
            log(f"    noisy run ({fg(rec)}, box {rec['foreign_box_cores']:.2f} cores)"
                + (", repeating" if attempt + 1 < attempts else ""))
        best["kept"] = True
        return best

    def pg_pids(self):
        return [q for q in self.procs.ours() if self._is_pg(q)]

    @staticmethod
    def _is_pg(q):
        try:
            return open(f"/proc/{q}/comm").read().startswith("postgres")
        except OSError:
            return False

    def interleaved(self, scenario, step, gws, fn, count_key, repeats, db=False, show=None):
        out = {g: [] for g in gws}
        for r in range(repeats):
            order = gws if r % 2 == 0 else list(reversed(gws))
            for g in order:
                rec = self.measure(scenario, step, g, lambda: fn(g), count_key, db=db and g == "corouter")
                rec["repeat"] = r + 1
                out[g].append(rec)
                if show:
                    log(f"  {scenario} {step:<14} {g:<9} r{r + 1}: {show(rec)}  {fg(rec)}")
        return out

    def warmup(self, gws, stream_ups):
        for g in gws:
            if g in self.warm:
                continue
            secs = {"corouter": self.a.warmup, "corouter-off": self.a.warmup, "portkey": max(5, self.a.warmup // 3)}.get(g, 5)
            if self.quick:
                secs = {"corouter": 5, "corouter-off": 5, "portkey": 2}.get(g, 1)
            log(f"  warm-up {g}: {secs} s")
            ns = secs if not stream_ups else max(1, secs * 2 // 3)
            self.wrk(g, "m0", 16, ns)
            for up in stream_ups:
                self.loadgen("sse", g, up, max(1, (secs - ns) // len(stream_ups)), 0, concurrency=8, stall_ms=10000)
            self.warm.add(g)
        self.gc_marks = getattr(self, "gc_marks", {})
        if "corouter" in gws and "warm_end" not in self.gc_marks:
            self.gc_marks["warm_end"] = self.jvm_uptime()

    def jvm_uptime(self):
        p = self.gw_procs.get("corouter")
        st = proc_stat(p.pid) if p else None
        return uptime_s() - st[3] / CLK if st else None

    def window(self, name, start):
        if "corouter" in self.gw_procs:
            self.scenario_windows[name] = (start, self.jvm_uptime())

    # ------------------------------------------------------------ scenarios
    def s1(self):
        gws = self.gateways
        self.warmup(gws, [])
        secs, reps = self.d(self.a.duration, 2), self.d(self.a.repeats, 1)
        log(f"S1: latency at c=1 through {gws}, {secs} s x {reps}")
        u0 = self.jvm_uptime()
        runs = self.interleaved("S1", "c1-m0", gws, lambda g: self.wrk(g, "m0", 1, secs), "requests", reps,
                                show=lambda r: f"p50 {r['result']['p50']:.0f} us p99 {r['result']['p99']:.0f} us")
        self.window("S1", u0)
        s = {}
        for g, rs in runs.items():
            s[g] = {k: med([r["result"][k] for r in rs]) for k in ("p50", "p99", "rps")}
            s[g].update({k + "_range": rng([r["result"][k] for r in rs]) for k in ("p50", "p99")})
            s[g]["errors"] = sum(r["result"]["errors"] for r in rs)
            s[g]["foreign_core1"] = med([r["foreign_core1"] for r in rs])
            s[g]["foreign_core0"] = med([r["foreign_core0"] for r in rs])
        for g in gws:
            if g != "direct" and "direct" in runs:
                s[g]["added_p50"] = med([a["result"]["p50"] - b["result"]["p50"] for a, b in zip(runs[g], runs["direct"])])
                s[g]["added_p99"] = med([a["result"]["p99"] - b["result"]["p99"] for a, b in zip(runs[g], runs["direct"])])
            if g not in ("nginx", "direct") and "nginx" in runs:
                s[g]["p50_vs_nginx"] = med([a["result"]["p50"] - b["result"]["p50"] for a, b in zip(runs[g], runs["nginx"])])
                s[g]["p99_vs_nginx"] = med([a["result"]["p99"] - b["result"]["p99"] for a, b in zip(runs[g], runs["nginx"])])
        self.summary["S1"] = s

    def s2(self):
        gws = self.gateways
        self.warmup(gws, [])
        secs, reps = self.d(self.a.duration, 2), self.d(self.a.repeats, 1)
        log(f"S2: cost and capacity at c=64, {secs} s x {reps}")
        s = {"mock": {}, "canned": {}, "open": {}}
        u0 = self.jvm_uptime()
        for c in self.procs_to_reset():
            reset_hwm(c)
        for up, key in (("m0", "mock"), ("canned", "canned")):
            runs = self.interleaved("S2", f"c64-{up}", gws, lambda g: self.wrk(g, up, 64, secs), "requests", reps,
                                    show=lambda r: f"{r['result']['rps']:.0f} req/s  {r.get('cpu_us_per_unit') or '-'} us/req")
            for g, rs in runs.items():
                s[key][g] = {"rps": med([r["result"]["rps"] for r in rs]), "rps_range": rng([r["result"]["rps"] for r in rs]),
                             "cpu_us": med([r.get("cpu_us_per_unit") for r in rs]),
                             "cpu_us_range": rng([r.get("cpu_us_per_unit") for r in rs]),
                             "gw_cpu_util": med([r.get("gw_cpu_util") for r in rs]),
                             "p99": med([r["result"]["p99"] for r in rs]),
                             "errors": sum(r["result"]["errors"] for r in rs),
                             "foreign_core1": med([r["foreign_core1"] for r in rs]), "foreign_core0": med([r["foreign_core0"] for r in rs])}
        s["rss_mb"] = {g: (status_kb(self.gw_procs[g].pid if g != "nginx" else self.gw_pids(g)[-1], "VmHWM") or 0) // 1024
                       for g in gws if g in self.gw_procs}
        self.window("S2", u0)
        # open loop against the 20 ms mock: the highest rate with p99 <= 25 ms and no error
        if "m20" in self.ports and not self.a.skip_open:
            for g in gws:
                s["open"][g] = self.open_search(g)
        self.summary["S2"] = s

    def procs_to_reset(self):
        return [q for g in self.gw_procs for q in self.gw_pids(g)]

    def open_search(self, g):
        secs, warm = self.d(10, 2), self.d(2, 0.5)
        limit_us = int(self.a.open_p99_ms * 1000)
        tried = []

        def trial(rate):
            rec = self.measure("S2", "open-m20", g, lambda: self.loadgen(
                "open", g, "m20", secs, warm, rate=rate, connections=2048), "all_ok")
            r = rec["result"]
            ok = r["errors"] == 0 and r["unfinished"] == 0 and r["latency_us"].get("p99", 1e12) <= limit_us
            tried.append({"rate": rate, "pass": ok, "p99_us": r["latency_us"].get("p99"), "errors": r["errors"],
                          "achieved_rps": r["achieved_rps"], "cpu_us": rec.get("cpu_us_per_unit"),
                          "foreign_core1": rec["foreign_core1"], "foreign_core0": rec["foreign_core0"]})
            log(f"  S2 open-m20      {g:<9} {rate:>6}/s: p99 {r['latency_us'].get('p99', 0) / 1000:.1f} ms "
                f"errors {r['errors']} -> {'pass' if ok else 'MISS'}  {fg(rec)}")
            return ok
        rate, best, worst = self.a.open_start, None, None
        ladder_max = self.a.open_max
        if self.quick:  # one modest rate only: a smoke check of the generator, not a search
            rate, ladder_max = 500, 500
        while rate <= ladder_max:
            if trial(rate):
                best = rate
                rate *= 2
            else:
                worst = rate
                break
        steps = self.d(3, 1)
        while best is not None and worst is not None and steps > 0 and worst - best > max(100, best // 10):
            mid = (best + worst) // 2
            if trial(mid):
                best = mid
            else:
                worst = mid
            steps -= 1
        return {"max_rate": best, "first_miss": worst, "trials": tried, "p99_limit_us": limit_us}

    def s3(self):
        gws = self.gateways
        profiles = ["s64", "s20"]
        self.warmup(gws, profiles)
        secs, reps = self.d(self.a.duration, 3), self.d(self.a.repeats, 1)
        log(f"S3: streaming, {secs} s x {reps}")
        s = {"cpu": {}, "timing": {}, "capacity": {}}
        u0 = self.jvm_uptime()
        conc = {"s64": 64, "s20": 16}
        for up in profiles:
            interval = UPSTREAMS[up]["interval"]
            s["timing"].setdefault(up, {})
            runs = self.interleaved("S3", f"cpu-{up}-c{conc[up]}", gws, lambda g: self.loadgen(
                "sse", g, up, secs, self.d(2, 0.5), concurrency=conc[up], stall_ms=10 * interval), "all_events", reps,
                show=lambda r: f"{r['result']['events_per_s']} ev/s  {r.get('cpu_us_per_unit') or '-'} us/chunk "
                               f"errors {r['result']['errors']}")
            s["cpu"][up] = {g: {"cpu_us_per_chunk": med([r.get("cpu_us_per_unit") for r in rs]),
                                "range": rng([r.get("cpu_us_per_unit") for r in rs]),
                                "events_per_s": med([r["result"]["events_per_s"] for r in rs]),
                                "events_per_stream": med([r["result"]["events_per_stream"] for r in rs]),
                                "errors": sum(r["result"]["errors"] for r in rs),
                                "stalled": sum(r["result"]["stalled"] for r in rs),
                                "foreign_core1": med([r["foreign_core1"] for r in rs]), "foreign_core0": med([r["foreign_core0"] for r in rs])} for g, rs in runs.items()}
            if self.quick and up == "s64":
                continue  # a 64 x 20 ms stream lasts 1.4 s: too few at c=1 in a quick run
            runs = self.interleaved("S3", f"c1-{up}", gws, lambda g: self.loadgen(
                "sse", g, up, secs, self.d(2, 0.5), concurrency=1, stall_ms=10 * interval), "all_events", reps,
                show=lambda r: f"TTFT p50 {r['result']['ttft_us'].get('p50')} p99 {r['result']['ttft_us'].get('p99')} us"
                               f" gap p99 {r['result']['gap_us'].get('p99')} us")
            t = {}
            for g, rs in runs.items():
                t[g] = {"ttft_p50": med([r["result"]["ttft_us"].get("p50") for r in rs]),
                        "ttft_p99": med([r["result"]["ttft_us"].get("p99") for r in rs]),
                        "ttft_p99_range": rng([r["result"]["ttft_us"].get("p99") for r in rs]),
                        "gap_p50": med([r["result"]["gap_us"].get("p50") for r in rs]),
                        "gap_p99": med([r["result"]["gap_us"].get("p99") for r in rs]),
                        "errors": sum(r["result"]["errors"] for r in rs),
                        "foreign_core1": med([r["foreign_core1"] for r in rs]), "foreign_core0": med([r["foreign_core0"] for r in rs])}
            for g in gws:
                for base in ("direct", "nginx"):
                    if g != base and g != "direct" and base in runs:
                        pre = "added" if base == "direct" else "vs_nginx"
                        t[g][f"{pre}_ttft_p99"] = med([a["result"]["ttft_us"].get("p99", 0) - b["result"]["ttft_us"].get("p99", 0)
                                                       for a, b in zip(runs[g], runs[base])])
                        t[g][f"{pre}_gap_p99"] = med([a["result"]["gap_us"].get("p99", 0) - b["result"]["gap_us"].get("p99", 0)
                                                      for a, b in zip(runs[g], runs[base])])
            s["timing"][up] = t
        self.window("S3", u0)
        # the most concurrent stall-free streams at 50 chunks/s (s64: 20 ms interval)
        if not self.a.skip_capacity:
            levels = [int(x) for x in (self.a.stream_levels.split(",") if not self.quick else ["100"])]
            for g in gws:
                best, trials = None, []
                for n in levels:
                    rec = self.measure("S3", f"streams-{n}", g, lambda: self.loadgen(
                        "sse", g, "s64", self.d(15, 2), self.d(3, 0.5), concurrency=n, stall_ms=200,
                        timeout_ms=60000), "all_events")
                    r = rec["result"]
                    ok = r["errors"] == 0 and r["stalled"] == 0 and r["ok"] > 0 and r["unfinished"] == 0
                    trials.append({"streams": n, "pass": ok, "errors": r["errors"], "stalled": r["stalled"],
                                   "max_gap_us": r["max_gap_us"], "events_per_s": r["events_per_s"],
                                   "cpu_us_per_chunk": rec.get("cpu_us_per_unit"), "foreign_core1": rec["foreign_core1"], "foreign_core0": rec["foreign_core0"]})
                    log(f"  S3 streams       {g:<9} {n:>5}: errors {r['errors']} stalled {r['stalled']} max gap "
                        f"{r['max_gap_us'] / 1000:.0f} ms -> {'pass' if ok else 'MISS'}  {fg(rec)}")
                    if not ok:
                        break
                    best = n
                s["capacity"][g] = {"max_streams": best, "trials": trials, "levels": levels}
        self.summary["S3"] = s

    def s4(self):
        if "corouter" not in self.gateways:
            return
        self.start_corouter_unmetered()
        self.warmup(["corouter", "corouter-off"], [])
        u0 = self.jvm_uptime()
        secs, reps = self.d(self.a.duration, 3), self.d(self.a.repeats, 1)
        log(f"S4: money path (auth + reservation + settlement + usage rows + ledger) vs metering off, c=64, "
            f"{secs} s x {reps}")
        runs = self.interleaved("S4", "c64-m0-money", ["corouter", "corouter-off"],
                                lambda g: self.wrk(g, "m0", 64, secs), "requests", reps, db=True,
                                show=lambda r: f"{r['result']['rps']:.0f} req/s {r.get('cpu_us_per_unit')} us/req "
                                               f"db {r.get('db_commits_per_s')} commits/s")
        self.window("S4", u0)
        off = runs["corouter-off"]
        rs = runs["corouter"]
        self.summary["S4"] = {
            "rps": med([r["result"]["rps"] for r in rs]), "cpu_us": med([r.get("cpu_us_per_unit") for r in rs]),
            "db_cpu_us": med([r.get("db_cpu_us_per_unit") for r in rs]),
            "db_commits_per_s": med([r.get("db_commits_per_s") for r in rs]),
            "commits_per_request": med([r["db_commits"] / r["count"] for r in rs if r["count"]]),
            "foreign_core1": med([r["foreign_core1"] for r in rs]), "foreign_core0": med([r["foreign_core0"] for r in rs]),
            "metering_off": {"rps": med([r["result"]["rps"] for r in off]),
                             "cpu_us": med([r.get("cpu_us_per_unit") for r in off]),
                             "cpu_us_range": [min(r.get("cpu_us_per_unit") or 0 for r in off),
                                              max(r.get("cpu_us_per_unit") or 0 for r in off)],
                             "errors": sum(r["result"]["errors"] for r in off)},
            "cpu_us_range": [min(r.get("cpu_us_per_unit") or 0 for r in rs), max(r.get("cpu_us_per_unit") or 0 for r in rs)],
            "errors": sum(r["result"]["errors"] for r in rs),
        }

    def soak(self):
        """10 minutes at the S2 load (wrk c=64, mock 0 ms, full money path): RSS and heap-after-GC must not grow."""
        if "corouter" not in self.gateways:
            return
        self.warmup(["corouter"], [])
        total, step = self.d(600, 20), self.d(30, 5)
        pid = self.gw_procs["corouter"].pid
        log(f"SOAK: corouter at c=64 (mock 0 ms) for {total} s, RSS sampled every {step} s")
        u0 = self.jvm_uptime()
        t0, cpu0 = time.time(), cpu_ticks([pid])
        samples, reqs, errors = [], 0, 0
        while time.time() - t0 < total:
            r = self.wrk("corouter", "m0", 64, step)
            reqs += r["requests"]
            errors += r["errors"]
            samples.append({"t_s": round(time.time() - t0), "rss_mb": round((status_kb(pid, "VmRSS") or 0) / 1024, 1),
                            "rps": r["rps"], "p99_us": r["p99"], "errors": r["errors"], "uptime_s": self.jvm_uptime()})
            log(f"  soak t={samples[-1]['t_s']:>4} s  RSS {samples[-1]['rss_mb']} MB  {r['rps']:.0f} req/s  "
                f"p99 {r['p99'] / 1000:.1f} ms  errors {r['errors']}")
        el = time.time() - t0
        self.window("SOAK", u0)
        # the first sample is taken after one step of load: growth is measured from there to the end
        base = samples[min(1, len(samples) - 1)]
        heap = self.heap_after_gc(base["uptime_s"], samples[-1]["uptime_s"])
        self.summary["SOAK"] = {
            "seconds": round(el), "requests": reqs, "errors": errors, "rps": round(reqs / el, 1),
            "cpu_us": round((cpu_ticks([pid]) - cpu0) / CLK * 1e6 / reqs, 1) if reqs else None,
            "rss_start_mb": base["rss_mb"], "rss_end_mb": samples[-1]["rss_mb"],
            "rss_max_mb": max(x["rss_mb"] for x in samples), "rss_growth_mb": round(samples[-1]["rss_mb"] - base["rss_mb"], 1),
            "heap_after_gc": heap, "samples": samples}

    def heap_after_gc(self, a, b):
        """Heap occupancy after young collections in the JVM-uptime window [a, b]: mean of the first and last tenth."""
        if not os.path.exists(self.gc_log) or a is None or b is None:
            return None
        after = []
        for line in open(self.gc_log):
            m = re.match(r"\[(\d+\.\d+)s\]\[info\s*\]\[gc\s*\] GC\(\d+\) Pause Young.* (\d+)M->(\d+)M\(", line.strip())
            if m and a <= float(m.group(1)) <= b:
                after.append(int(m.group(3)))
        if len(after) < 10:
            return {"pauses": len(after)}
        k = max(1, len(after) // 10)
        return {"pauses": len(after), "first_mb": round(sum(after[:k]) / k, 1), "last_mb": round(sum(after[-k:]) / k, 1)}

    def reconcile(self):
        """After the run: Σ usage cost == Σ ledger charges == Σ customer debits; balance == grants − charges."""
        if not self.pg_port:
            return
        prev, stable = None, 0
        for _ in range(60):  # metering flushes every 100 ms: wait until the row count stops moving
            n = self.pg("SELECT count(*) FROM generations")
            stable = stable + 1 if n == prev else 0
            prev = n
            if stable >= 3:
                break
            time.sleep(0.5)
        row = self.pg(f"""SELECT
            (SELECT count(*) FROM generations),
            (SELECT count(*) FROM generations WHERE status = 200),
            (SELECT coalesce(sum(cost), 0) FROM generations),
            (SELECT count(*) FROM ledger_transactions WHERE kind = 'charge'),
            (SELECT coalesce(sum(amount), 0) FROM ledger_transactions WHERE kind = 'charge'),
            (SELECT coalesce(-sum(e.amount), 0) FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn_id
               WHERE t.kind = 'charge' AND e.book = 'customer'),
            (SELECT coalesce(sum(amount), 0) FROM ledger_transactions WHERE kind IN ('grant', 'topup')),
            (SELECT balance FROM wallets WHERE account_id = {self.account}),
            (SELECT count(*) FROM generations WHERE cost > 0),
            (SELECT count(*) FROM generations WHERE cost > 0 AND charge_txn_id IS NULL),
            (SELECT count(*) FROM ledger_transactions t
               LEFT JOIN (SELECT charge_txn_id, sum(cost) AS total FROM generations
                          WHERE charge_txn_id IS NOT NULL GROUP BY charge_txn_id) g ON g.charge_txn_id = t.id
               WHERE t.kind = 'charge' AND t.amount <> coalesce(g.total, 0))""", timeout=900)
        v = [int(x) for x in row.split("|")]
        r = dict(generations=v[0], generations_ok=v[1], usage_cost_nano=v[2], charges=v[3], charged_nano=v[4],
                 customer_debits_nano=v[5], granted_nano=v[6], balance_nano=v[7], priced_generations=v[8],
                 priced_without_charge=v[9], charges_not_matching_their_rows=v[10])
        # each charge transaction collects one batch's usage rows of one account: it must equal their sum exactly
        r["exact"] = (r["usage_cost_nano"] == r["charged_nano"] == r["customer_debits_nano"]
                      and r["priced_without_charge"] == 0 and r["charges_not_matching_their_rows"] == 0
                      and r["balance_nano"] == r["granted_nano"] - r["charged_nano"])
        st, body = http("GET", f"http://127.0.0.1:{self.ports['corouter']}/v1/credits",
                        headers={"Authorization": f"Bearer {self.key}"})
        r["v1_credits"] = json.loads(body) if st == 200 else body
        self.summary.setdefault("S4", {})["reconciliation"] = r
        log(f"S4 reconciliation: {r}")

    def gc_pauses(self):
        """Max GC pause in each scenario window (JVM uptime), after warm-up."""
        if not os.path.exists(self.gc_log):
            return
        pauses = []
        gc_name = None
        for line in open(self.gc_log):
            m = re.match(r"\[(\d+\.\d+)s\]\[info\s*\]\[gc\s*\] GC\(\d+\) (Pause .*) (\d+\.\d+)ms$", line.strip())
            if m:
                pauses.append((float(m.group(1)), float(m.group(3)), m.group(2)))
            g = re.search(r"Using (\w+)", line)
            if g and not gc_name:
                gc_name = g.group(1)
        warm = getattr(self, "gc_marks", {}).get("warm_end") or 0
        out = {"collector": gc_name, "pauses_after_warmup": sum(1 for t, _, _ in pauses if t >= warm),
               "max_after_warmup_ms": max([d for t, d, _ in pauses if t >= warm], default=None),
               "max_after_warmup_kind": max([(d, k, t) for t, d, k in pauses if t >= warm], default=(None, None, None))[1:],
               "max_during_warmup_ms": max([d for t, d, _ in pauses if t < warm], default=None), "per_scenario": {}}
        for name, (a, b) in self.scenario_windows.items():
            ps = [d for t, d, _ in pauses if a is not None and b is not None and a <= t <= b]
            out["per_scenario"][name] = {"max_ms": max(ps, default=None), "count": len(ps)}
        self.summary["gc"] = out
        p = self.gw_procs.get("corouter")
        if p:
            self.summary["corouter_rss_mb"] = {"peak": (status_kb(p.pid, "VmHWM") or 0) // 1024,
                                               "now": (status_kb(p.pid, "VmRSS") or 0) // 1024}

    # ------------------------------------------------------------ output
    def verdicts(self):
        s, v = self.summary, []

        def add(target, measured, ok, note=""):
            verdict = "n/a" if ok is None else ("pass" if ok else "MISS")
            if self.quick and ok is not None:
                verdict += " (quick run: indicative only)"
            v.append({"target": target, "measured": measured, "verdict": verdict, "note": note})
        c = "corouter"
        if "S2" in s and c in s["S2"]["mock"]:
            x = s["S2"]["mock"][c]["cpu_us"]
            add("S2 CPU per non-streaming request <= 45 us", f"{x} us", x is not None and x <= 45)
            x = s["S2"]["canned"][c]["rps"]
            add("S2 >= 20k req/s against the canned upstream", f"{x:.0f} req/s", x >= 20000)
        if "S1" in s and c in s["S1"] and "p50_vs_nginx" in s["S1"][c]:
            x, y = s["S1"][c]["p50_vs_nginx"], s["S1"][c]["p99_vs_nginx"]
            add("S1 p50 within 0.03 ms of nginx", f"{x / 1000:+.3f} ms", x <= 30)
            add("S1 p99 within 0.15 ms of nginx", f"{y / 1000:+.3f} ms", y <= 150)
        if "S3" in s:
            cpu = s["S3"]["cpu"].get("s64", {}).get(c, {}).get("cpu_us_per_chunk")
            if cpu is not None:
                add("S3 <= 25 us CPU per forwarded chunk (64 x 20 ms)", f"{cpu} us", cpu <= 25)
            for up in ("s64", "s20"):
                t = s["S3"]["timing"].get(up, {}).get(c, {})
                if "vs_nginx_ttft_p99" in t:
                    x = t["vs_nginx_ttft_p99"]
                    add("S3 added TTFT p99 within 0.1 ms of nginx", f"{x / 1000:+.3f} ms", x <= 100, UPSTREAMS[up]["doc"])
                    break
            cap = s["S3"]["capacity"].get(c)
            if cap:
                m = cap["max_streams"]
                full = max(cap["levels"]) >= 800
                add(">= 800 concurrent stall-free streams at 50 chunks/s", f"{m} (levels tried {cap['levels']})",
                    (m or 0) >= 800 if full else None, "" if full else "levels below 800 tried (quick mode)")
        if "S4" in s:
            r = s["S4"].get("reconciliation")
            if r:
                add("S4 exact reconciliation (usage cost = ledger charges = debits; balance = grants - charges)",
                    f"{r['usage_cost_nano']} = {r['charged_nano']} = {r['customer_debits_nano']} nano-USD, "
                    f"{r['generations']} rows", r["exact"])
            if s["S4"].get("commits_per_request") is not None:
                x = s["S4"]["commits_per_request"]
                add("S4 no per-request database commit", f"{x:.4f} commits/request ({s['S4']['db_commits_per_s']}/s)",
                    x < 0.05)
            off = s["S4"].get("metering_off")
            if off and off.get("cpu_us") and s["S4"].get("cpu_us"):
                extra = (s["S4"]["cpu_us"] - off["cpu_us"]) / off["cpu_us"] * 100
                add("S4 money path <= 10% extra CPU per request",
                    f"{extra:+.1f}% ({s['S4']['cpu_us']:.1f} vs {off['cpu_us']:.1f} us/request off)", extra <= 10,
                    "JVM CPU only; PostgreSQL's is reported beside it")
        if "corouter_rss_mb" in s:
            x = s.get("S2", {}).get("rss_mb", {}).get(c) or s["corouter_rss_mb"]["peak"]
            add("RSS <= 512 MB at the S2 load", f"{x} MB (heap {self.a.heap})", x <= 512)
        if "SOAK" in s:
            k = s["SOAK"]
            h = k.get("heap_after_gc") or {}
            grew = k["rss_growth_mb"]
            heap_note = (f"; heap after young GC {h['first_mb']} -> {h['last_mb']} MB" if "first_mb" in h else "")
            limit = max(8.0, 0.02 * k["rss_start_mb"])
            heap_ok = "first_mb" not in h or h["last_mb"] <= h["first_mb"] * 1.10 + 2
            add("no RSS growth over a 10-minute run",
                f"{k['rss_start_mb']} -> {k['rss_end_mb']} MB ({grew:+.1f} MB){heap_note}; {k['requests']} requests, "
                f"{k['errors']} errors",
                None if k["seconds"] < 540 else (grew <= limit and heap_ok and k["errors"] == 0),
                f"pass = growth <= {limit:.0f} MB (2%) from minute 1 to the end, heap after GC within 10%, no error")
        else:
            add("no RSS growth over a 10-minute run", "not measured", None, "run the soak scenario")
        if "gc" in s and s["gc"]["max_after_warmup_ms"] is not None:
            x = s["gc"]["max_after_warmup_ms"]
            add("GC pause max <= 5 ms after warm-up", f"{x:.2f} ms ({s['gc']['collector']})", x <= 5)
        return v

    def table(self):
        s, L = self.summary, []

        def f(x, nd=0):
            return "-" if x is None else (f"{x:.{nd}f}" if isinstance(x, (int, float)) else str(x))

        def r(x, nd=0):
            return "" if not x else f" [{f(x[0], nd)}–{f(x[1], nd)}]"
        if "S1" in s:
            L += ["### S1 — latency at concurrency 1, mock 0 ms (wrk -t1 -c1; µs; median [range] over repeats)", "",
                  "| path | p50 | p99 | added p50 vs direct | added p99 vs direct | p50 − nginx | p99 − nginx | req/s | errors | foreign CPU core 0 / core 1 |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
            for g, x in s["S1"].items():
                L.append(f"| {g} | {f(x['p50'])}{r(x['p50_range'])} | {f(x['p99'])}{r(x['p99_range'])} | {f(x.get('added_p50'))} | "
                         f"{f(x.get('added_p99'))} | {f(x.get('p50_vs_nginx'))} | {f(x.get('p99_vs_nginx'))} | {f(x['rps'])} | "
                         f"{x['errors']} | {fgs(x)} |")
            L.append("")
        if "S2" in s:
            L += ["### S2 — cost and capacity, non-streaming, c=64 (wrk -t1 -c64)", "",
                  "| path | CPU µs/request (mock 0 ms) | req/s (mock 0 ms) | CPU µs/request (canned) | req/s (canned nginx) | gateway core busy | errors | peak RSS MB | open-loop max rate, 20 ms mock, p99 ≤ 25 ms and 0 errors | foreign CPU core 0 / core 1 |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
            for g in s["S2"]["mock"]:
                a, b = s["S2"]["mock"][g], s["S2"]["canned"].get(g, {})
                o = s["S2"]["open"].get(g, {})
                L.append(f"| {g} | {f(a['cpu_us'], 1)}{r(a['cpu_us_range'], 1)} | {f(a['rps'])}{r(a['rps_range'])} | "
                         f"{f(b.get('cpu_us'), 1)}{r(b.get('cpu_us_range'), 1)} | {f(b.get('rps'))}{r(b.get('rps_range'))} | "
                         f"{f(a['gw_cpu_util'], 2)} | {a['errors'] + b.get('errors', 0)} | {s['S2']['rss_mb'].get(g, '-')} | "
                         f"{f(o.get('max_rate'))}/s{' (miss at ' + str(o.get('first_miss')) + ')' if o.get('first_miss') else ''}"
                         f"{self.open_p99_note(o)} | "
                         f"{fgs(a)} |")
            L += ["", "(direct: the upstream alone, no gateway — its CPU is not counted.)", ""]
        if "S3" in s:
            L += ["### S3 — streaming (SSE client timestamps every event; µs)", "",
                  "| path | profile | CPU µs/chunk (c=64 / c=16) | events/s | TTFT p50 | TTFT p99 | TTFT p99 − direct | TTFT p99 − nginx | gap p99 | gap p99 − direct | errors/stalls | foreign CPU core 0 / core 1 |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
            for up in s["S3"]["cpu"]:
                for g in s["S3"]["cpu"][up]:
                    c = s["S3"]["cpu"][up].get(g, {})
                    t = s["S3"]["timing"].get(up, {}).get(g) or {"ttft_p50": None, "ttft_p99": None, "ttft_p99_range": None,
                                                               "gap_p99": None, "errors": 0,
                                                               "foreign_core0": c.get("foreign_core0"),
                                                               "foreign_core1": c.get("foreign_core1")}
                    L.append(f"| {g} | {UPSTREAMS[up]['doc']} | {f(c.get('cpu_us_per_chunk'), 1)}{r(c.get('range'), 1)} | "
                             f"{f(c.get('events_per_s'))} | {f(t['ttft_p50'])} | {f(t['ttft_p99'])}{r(t['ttft_p99_range'])} | "
                             f"{f(t.get('added_ttft_p99'))} | {f(t.get('vs_nginx_ttft_p99'))} | {f(t['gap_p99'])} | "
                             f"{f(t.get('added_gap_p99'))} | {t['errors'] + c.get('errors', 0)}/{c.get('stalled', 0)} | "
                             f"{fgs(t)} |")
            if s["S3"]["capacity"]:
                L += ["", "Concurrent streams at 50 chunks/s (64 × 20 ms), stall = a gap > 200 ms:", "",
                      "| path | most stall-free streams | trials (streams: pass, max gap ms, CPU µs/chunk) |", "|---|---|---|"]
                for g, c in s["S3"]["capacity"].items():
                    tr = "; ".join(f"{t['streams']}: {'ok' if t['pass'] else 'MISS'}, {t['max_gap_us'] / 1000:.0f}, "
                                   f"{f(t['cpu_us_per_chunk'], 1)}" for t in c["trials"])
                    L.append(f"| {g} | {f(c['max_streams'])} | {tr} |")
            L.append("")
        if "S4" in s:
            x = s["S4"]
            L += ["### S4 — money path (corouter, c=64, mock 0 ms)", ""]
            if "cpu_us" in x:
                L += [f"- {f(x['rps'])} req/s, {f(x['cpu_us'], 1)} µs CPU/request in the JVM, PostgreSQL "
                      f"{f(x['db_cpu_us'], 1)} µs/request, {f(x['db_commits_per_s'])} commits/s "
                      f"({f(x['commits_per_request'], 4)} per request)"]
            rc = x.get("reconciliation")
            if rc:
                L += [f"- after the run: {rc['generations']} usage rows, Σ cost {rc['usage_cost_nano']} n$, "
                      f"Σ charges {rc['charged_nano']} n$ ({rc['charges']} transactions), Σ customer debits "
                      f"{rc['customer_debits_nano']} n$, balance {rc['balance_nano']} = grants {rc['granted_nano']} − charges: "
                      f"**{'exact' if rc['exact'] else 'MISMATCH'}**"]
            off = x.get("metering_off")
            if off:
                L += [f"- the same corouter jar with `metering.enabled: false` (auth on; no reservation, settlement or "
                      f"usage row), interleaved with the runs above: {f(off['rps'])} req/s, {f(off['cpu_us'], 1)} µs "
                      f"CPU/request [{off['cpu_us_range'][0]}–{off['cpu_us_range'][1]}], {off['errors']} errors"]
            L += [""]
        if "SOAK" in s:
            k = s["SOAK"]
            h = k.get("heap_after_gc") or {}
            L += [f"### Soak — corouter for {k['seconds']} s at the S2 load (wrk -t1 -c64, mock 0 ms, money path on)", "",
                  f"- {k['requests']} requests ({f(k['rps'])} req/s), {k['errors']} errors, {f(k['cpu_us'], 1)} µs "
                  f"CPU/request; RSS {k['rss_start_mb']} MB after the first step -> {k['rss_end_mb']} MB at the end "
                  f"(max {k['rss_max_mb']} MB)" + (f"; heap after young GC {h['first_mb']} MB (first tenth of the "
                  f"pauses) -> {h['last_mb']} MB (last tenth), {h['pauses']} pauses" if "first_mb" in h else ""),
                  "- RSS by time (s: MB): " + ", ".join(f"{x['t_s']}: {x['rss_mb']}" for x in k["samples"]), ""]
        if "gc" in s:
            g = s["gc"]
            L += [f"GC ({g['collector']}): max pause after warm-up {f(g['max_after_warmup_ms'], 2)} ms "
                  f"({g['pauses_after_warmup']} pauses), during warm-up {f(g['max_during_warmup_ms'], 2)} ms; per scenario "
                  + ", ".join(f"{k} {f(v['max_ms'], 2)} ms" for k, v in g["per_scenario"].items())
                  + f". corouter RSS peak {s.get('corouter_rss_mb', {}).get('peak')} MB.", ""]
        return L

    @staticmethod
    def open_p99_note(o):
        tr = o.get("trials") or []
        return "; p99 " + ", ".join(f"{t['rate']}/s: {t['p99_us'] / 1000:.1f} ms" for t in tr if t.get("p99_us")) if tr else ""

    def report(self):
        verd = self.verdicts()
        L = [f"Machine: {self.meta['cpu']}, {self.meta['cores']} cores (2-core KVM VM: every gateway figure is per "
             f"gateway core), {self.meta['mem_gib']} GiB, kernel {self.meta['kernel']}; {self.meta['java']}; "
             f"{self.meta['nginx']}; node {self.meta['node']}; Portkey @portkey-ai/gateway 1.15.2.",
             f"Commit {self.meta['commit']}{' (+ uncommitted changes)' if self.meta['dirty'] else ''}, "
             f"{self.meta['date']}, mode {self.meta['mode']}; corouter jar built {self.meta.get('corouter_jar_built')}.",
             f"Command: `{self.meta['command']}`", "",
             "Pinning: corouter, nginx (1 worker) and Portkey on core 1 (corouter with -XX:ActiveProcessorCount=1, "
             f"-Xms{self.a.heap} -Xmx{self.a.heap}); mock upstreams, the canned nginx, wrk / the loadgen and corouter's "
             "embedded PostgreSQL on core 0. 'foreign CPU core 0 / core 1' is the share of each core used by "
             "processes outside this benchmark during the run.", ""]
        L += ["| target (issue 3) | measured | verdict | note |", "|---|---|---|---|"]
        L += [f"| {x['target']} | {x['measured']} | {x['verdict']} | {x['note']} |" for x in verd]
        L += [""] + self.table()
        return L, verd

    def run(self, scenarios):
        gws = [g for g in ALL_GATEWAYS if g in self.a.gateways.split(",")]
        ups = ["m0"]
        if "s2" in scenarios:
            ups += ["canned", "m20"]
        if "s3" in scenarios:
            ups += ["s64", "s20"]
        t0 = time.time()
        try:
            self.setup(gws, ups)
            for sc in scenarios:
                getattr(self, sc)()
            if "corouter" in gws:
                try:
                    self.reconcile()
                except Exception as e:  # the measurements are still worth keeping
                    log(f"S4 reconciliation failed: {e!r}")
                    self.summary.setdefault("S4", {})["reconciliation_error"] = repr(e)[:500]
            self.gc_pauses()
        finally:
            self.procs.stop_all()
        self.meta["wall_s"] = round(time.time() - t0)
        lines, verd = self.report()
        os.makedirs(RESULTS, exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = os.path.join(RESULTS, f"{stamp}-{self.meta['commit']}-{self.meta['mode']}.json")
        with open(out, "w") as f:
            json.dump({"meta": self.meta, "args": vars(self.a), "summary": self.summary, "verdicts": verd,
                       "runs": self.runs}, f, indent=1, default=str)
        print("\n".join(lines))
        print(f"\nraw results: {os.path.relpath(out, ROOT)}   (wall time {self.meta['wall_s']} s; logs in {self.work})")
        if self.a.update_md or (not self.quick and not self.a.no_md):
            self.write_md(lines, out)
        if not self.a.keep_work:
            shutil.rmtree(self.work, ignore_errors=True)

    def biggest_cost(self):
        s2 = self.summary.get("S2", {}).get("mock", {})
        out = ""
        if "corouter" in s2 and "nginx" in s2 and s2["corouter"]["cpu_us"] and s2["nginx"]["cpu_us"]:
            out = (f"The biggest measured cost: corouter spends {s2['corouter']['cpu_us']:.0f} µs of CPU per non-streaming "
                   f"request where nginx spends {s2['nginx']['cpu_us']:.0f} µs (target 45 µs). `scripts/bench/profile.sh` "
                   "splits it: about 40% is kernel time in the four socket calls of a proxied request (the same calls "
                   "nginx makes), the rest is the Vert.x HTTP server and client, and the JSON passes over the request and "
                   "the answer.")
        s4 = self.summary.get("S4", {})
        if s4.get("db_cpu_us"):
            out += (f" The embedded PostgreSQL adds {s4['db_cpu_us']:.0f} µs of CPU per request on the other core "
                    "(batched usage rows; one ledger charge per account per batch).")
        return out

    def write_md(self, lines, out):
        md = os.path.join(ROOT, "BENCHMARKS.md")
        head = ["# corouter benchmarks", "",
                "Produced by `scripts/bench/run.sh` (issue 3); every number below comes from the run described here. "
                "Rerun the command to reproduce it on this machine. Raw results: "
                f"`{os.path.relpath(out, ROOT)}` (gitignored).", ""]
        if self.quick:
            head += ["> **Quick mode** (2–3 s runs, 1 repeat, 5 s warm-up): a smoke check of the harness, NOT numbers "
                     "to quote. The JIT needs ≥ 60 s of warm-up and the box is shared; run `scripts/bench/run.sh` "
                     "(no `--quick`) for final numbers.", ""]
        verd = self.verdicts()
        gap = self.biggest_cost()
        tail = ["", "## How to run", "",
                "```bash",
                "scripts/bench/run.sh                 # everything: builds, ~1 h (60 s JIT warm-up, 3 repeats x 20 s, 10 min soak)",
                "scripts/bench/run.sh s1 s3           # some scenarios (s1 s2 s3 s4 soak)",
                "scripts/bench/run.sh --quick         # smoke check, 1 repeat, short runs (< 3 min after the build)",
                "scripts/bench/run.sh --help          # durations, repeats, gateways, heap, stream levels, ...",
                "scripts/bench/run.sh --render scripts/bench/results/<run>.json   # rewrite this file from a run's raw results",
                "scripts/bench/jmh.sh                 # JMH microbenchmarks of the hot-path pieces (~4 min)",
                "scripts/bench/profile.sh plain       # JFR profile + CPU per thread (user/sys) of a warm, pinned corouter",
                "```", "",
                "It installs nginx and wrk with apt-get when missing, Portkey (`@portkey-ai/gateway@1.15.2`, npm override "
                "`@hono/node-server` 1.14.1) into `scripts/bench/.cache/`, and builds the load tools "
                "(`scripts/bench/loadgen`, a stand-alone Maven project: open-loop HdrHistogram generator and SSE timing "
                "client).", "",
                "## How it is measured", "",
                "- Upstreams: platform/testkit's `FakeOpenAiUpstream` (one JVM per behaviour: 0 ms, 20 ms, SSE 64 × 20 ms, "
                "SSE 20 × 2 ms; each checked alone first) and nginx serving a canned JSON answer; all on core 0.",
                "- Gateways on core 1: corouter (`taskset -c 1 java -XX:ActiveProcessorCount=1`, fixed heap, GC log), "
                "nginx (1 worker, keepalive upstreams, `proxy_buffering off` for SSE), Portkey (node, forced onto "
                "127.0.0.1, `x-portkey-provider: openai` + `x-portkey-custom-host`). corouter's embedded PostgreSQL is "
                "moved to core 0 after start-up.",
                "- CPU per request / per chunk = Δ(utime + stime) of the gateway's processes (/proc/<pid>/stat; corouter: "
                "the JVM only, its PostgreSQL is shown in S4) ÷ responses (or SSE events) the client received in the "
                "same window. At low load the gateway's idle CPU (timers) is included; it is printed at start-up.",
                "- Latency: wrk's histogram at c=1 (S1); the open-loop generator (latency from each request's intended "
                "send time, coordinated-omission correct) for the 20 ms-mock capacity; the SSE client timestamps every "
                "event (TTFT = first event carrying content; gap = between consecutive events).",
                "- Every measured step runs the gateways interleaved (the order flips every repeat); medians and "
                "[min–max] over repeats; 'X − nginx' / 'X − direct' columns are medians of per-repeat paired differences.",
                "- Foreign CPU: from /proc/stat, busy time of each core not spent by this benchmark's processes. Runs with "
                f"more than {self.a.noise_core1:.0%} foreign on core 1 (or {self.a.noise_core0:.0%} on core 0) are "
                f"repeated (up to {self.a.noisy_retries}x, full mode) and the quietest kept.",
                "- S4: after the run, Σ generations.cost = Σ ledger charge transactions = −Σ customer ledger entries of "
                "charges, and the wallet balance = grants − charges, read with psql from the embedded PostgreSQL; "
                "database commits from pg_stat_database.",
                "- S4 'metering off' is the same jar started a second time with `metering.enabled: false` (auth still "
                "on; no reservation, settlement or usage row) against the same database, interleaved with the metered "
                "runs.",
                "- Soak: 10 minutes of the S2 load in 30 s steps; RSS (/proc VmRSS) after each step, and the heap "
                "occupancy after young collections from the GC log (first vs. last tenth of the pauses).",
                "", "## Not measured", "",
                "- The 1500 ms mock: a slow upstream only holds connections open; the 800-stream S3 levels and the "
                "open-loop 20 ms search cover held connections.",
                "", "## Closing note", ""]
        tail += ["| target | measured | verdict |", "|---|---|---|"]
        tail += [f"| {x['target']} | {x['measured']} | {x['verdict']} |" for x in verd]
        if gap:
            tail += ["", gap]
        with open(md, "w") as f:
            f.write("\n".join(head + lines + tail) + "\n")
        log(f"wrote {md}")


def render(path):
    """Rewrites BENCHMARKS.md (tables, verdicts, prose) from the raw results a run saved."""
    with open(path) as f:
        saved = json.load(f)
    args = argparse.Namespace(**saved["args"])
    b = Bench.__new__(Bench)
    b.a, b.quick = args, args.quick
    b.meta, b.summary, b.runs = saved["meta"], saved["summary"], saved["runs"]
    lines, _ = b.report()
    b.write_md(lines, os.path.abspath(path))


def main():
    p = argparse.ArgumentParser(prog="scripts/bench/run.sh", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenarios", nargs="*", help="s1 s2 s3 s4 soak (default: all)")
    p.add_argument("--quick", action="store_true", help="short runs, 1 repeat: a smoke check (< 3 min)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--duration", type=int, default=20, help="seconds per measured run (full mode)")
    p.add_argument("--warmup", type=int, default=60, help="corouter warm-up seconds (full mode)")
    p.add_argument("--gateways", default=",".join(ALL_GATEWAYS))
    p.add_argument("--heap", default="256m")
    p.add_argument("--audit", choices=["none", "file"], default="none",
                   help="file: the bench account opts in to audit logging into files (its cost per request/chunk)")
    p.add_argument("--key-limit", metavar="USD", help="give the bench key a monthly spend limit of USD (e.g. 100000)")
    p.add_argument("--jvm-opt", action="append", default=[], help="extra JVM option for corouter (repeatable)")
    p.add_argument("--open-start", type=int, default=1000)
    p.add_argument("--open-max", type=int, default=64000)
    p.add_argument("--open-p99-ms", type=float, default=25.0, help="open-loop pass: p99 <= this (20 ms mock + 5)")
    p.add_argument("--stream-levels", default="200,400,800,1200,1600")
    p.add_argument("--skip-open", action="store_true")
    p.add_argument("--skip-capacity", action="store_true")
    p.add_argument("--noise-core1", type=float, default=0.05)
    p.add_argument("--noise-core0", type=float, default=0.10)
    p.add_argument("--noise-box", type=float, default=0.25)
    p.add_argument("--noisy-retries", type=int, default=1)
    p.add_argument("--settle", type=float, default=0.5, help="seconds of quiet before each measured run")
    p.add_argument("--update-md", action="store_true", help="write BENCHMARKS.md even in --quick mode")
    p.add_argument("--no-md", action="store_true", help="do not write BENCHMARKS.md")
    p.add_argument("--keep-work", action="store_true", help="keep the temp dir (logs, GC log, configs)")
    p.add_argument("--no-build", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--render", metavar="RESULTS_JSON", help="only rewrite BENCHMARKS.md from a run's raw results")
    a = p.parse_args()
    if a.render:
        render(a.render)
        return
    scen = [s.lower() for s in a.scenarios] or ["s1", "s2", "s3", "s4", "soak"]
    for s in scen:
        if s not in ("s1", "s2", "s3", "s4", "soak"):
            p.error(f"unknown scenario {s}")
    b = Bench(a)

    def stop(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    b.run(scen)


if __name__ == "__main__":
    main()
