"""Pages side by side: Refundesk vs django-helpdesk 2.6.1 vs bare Flask / bare Django.

    .venv/bin/python bench/pages_bench.py [--tickets 100000] [--duration 10] [--no-peer] [--reuse]
        [--only ours,flask,peer,django] [--rounds 2]

1. Builds Refundesk's data in its own PostgreSQL database (`bench_ours`, or `bench_ours_1m` for
   1,000,000): the schema from the models, COPY of users, merchants, orders, tickets and SLA
   records with bench/sla_bench.py's mix (20 % open: submitted/review/finance with running
   deadlines; 80 % paid/rejected/resolved/withdrawn/closed), ANALYZE; then 200 tickets filed
   through the services (submit, start_review, a message) that the detail/tracker loads visit.
2. Builds the peer in `bench_peer`: a virtualenv in bench/out/peer-venv (git-ignored) with
   django-helpdesk 2.6.1 from PyPI, `migrate`, then COPY of the same ticket count and mix
   (bench/peer/peer_tool.py).
3. Starts the four apps under the same gunicorn config (-w 2, sync workers, 127.0.0.1).
4. For each endpoint, peer and ours alternately, two rounds: `wrk -t2 -c16 -d<duration>s`, then
   one at a time `wrk -t1 -c1` (p50/p99). Records the load average before each measurement,
   worker RSS after it, and counts SQL statements per request in-process (SQLAlchemy event /
   Django CaptureQueriesContext).
Prints a Markdown table; raw results go to bench/out/pages-<tickets>.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PEER_DIR = ROOT / "bench" / "peer"
PEER_VENV = OUT / "peer-venv"
PY = sys.executable
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PORTS = {"ours": 8701, "flask": 8702, "peer": 8711, "django": 8712}
REDIS = "redis://127.0.0.1:6379/6"
BENCH_ORDERS = 60_200  # fresh orders of the benchmark customer: 200 visited tickets + one per create request

sys.path.insert(0, str(ROOT))


COLD = {"STAFF_PAGE_CACHE_SECONDS": "0", "TRACKER_FRESH_SECONDS": "0"}  # --cold: every page rendered


def ours_env(db: str) -> dict:
    env = dict(os.environ)
    if "--cold" in sys.argv:
        env.update(COLD)
    env.update(
        DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}",
        SECRET_KEY="bench-secret",
        REDIS_URL=REDIS,
        SLA_INPROCESS_SWEEP="0",
        PYTHONPATH=str(ROOT),
    )
    return env


# --------------------------------------------------------------------------- data


def build_ours(db: str, n: int, reuse: bool) -> dict:
    info_path = OUT / f"{db}.json"
    if reuse and info_path.exists():
        return json.loads(info_path.read_text())
    code = f"""
import json, sys, time
BENCH_ORDERS = {BENCH_ORDERS}
sys.path.insert(0, {str(ROOT / "bench")!r})
from sla_bench import recreate_database, seed
recreate_database({ADMIN_URL!r}, {db!r})
from sqlalchemy import select, update
from app import create_app
from app.extensions import db
app = create_app()
with app.app_context():
    db.create_all()
    t = time.perf_counter()
    with db.engine.connect() as conn:
        seed(conn, {n}, {n} // 5)
    print(f"ours: seeded {n:,} tickets in {{time.perf_counter() - t:.0f}} s", file=sys.stderr)
    try:
        from app.tickets.counters import rebuild_state_counts
        rebuild_state_counts()
    except ImportError:
        pass
    from app.auth.models import User
    from app.auth.services import issue_token
    from app.tickets.models import Order
    from app.tickets.services import add_message, create_ticket
    from app.workflow.service import apply_event
    agent = db.session.scalar(select(User).where(User.role == "agent").order_by(User.id).limit(1))
    customer = db.session.get(User, 52)
    db.session.execute(update(Order).where(Order.customer_id == customer.id).values(amount_cents=10**9))
    db.session.commit()
    # One open request per order and kind: the 200 visited tickets and every create of the load get
    # an order of their own (copies of one of the customer's orders).
    mine = select(Order.__table__).where(Order.customer_id == customer.id).limit(1)
    row = dict(db.session.execute(mine).mappings().one())
    row.pop("id")
    db.session.execute(Order.__table__.insert(), [dict(row, order_no=f"BENCH{{i:06d}}") for i in range(BENCH_ORDERS)])
    db.session.commit()
    orders = [f"BENCH{{i:06d}}" for i in range(200, BENCH_ORDERS)]
    refs, tokens = [], []
    for i in range(200):
        order_no = f"BENCH{{i:06d}}"
        t = create_ticket(order_no, "not_delivered", "bench ticket", customer, requested_amount_cents=100)
        if i % 2 and t.state == "submitted":
            apply_event(t, "start_review", agent)
        add_message(t, agent, "We are looking into it.")
        refs.append(t.ref)
        tokens.append(t.tracker_token)
    with app.test_client() as c:
        with c.session_transaction() as s:
            s["_user_id"] = agent.get_id()  # "id:session_version" (sessions end at logout)
            s["_fresh"] = True
        cookie = c.get_cookie("session").value
    print(json.dumps({{"session": cookie, "agent_token": issue_token(agent), "customer_token": issue_token(customer),
                      "refs": refs, "trackers": tokens, "orders": orders}}))
"""
    out = subprocess.run([PY, "-c", code], env=ours_env(db), cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    info_path.write_text(out.stdout.strip().splitlines()[-1])
    return json.loads(info_path.read_text())


def build_peer(n: int, reuse: bool) -> dict:
    info_path = OUT / f"bench_peer-{n}.json"
    if reuse and info_path.exists():
        return json.loads(info_path.read_text())
    if not (PEER_VENV / "bin" / "gunicorn").exists():
        subprocess.run(["python3", "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [PEER_VENV / "bin" / "pip", "install", "-q", "django-helpdesk==2.6.1", "gunicorn", "psycopg[binary]"],
            check=True,
        )
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q"]
    subprocess.run([*psql, "-c", "DROP DATABASE IF EXISTS bench_peer WITH (FORCE)"], check=True)
    subprocess.run([*psql, "-c", "CREATE DATABASE bench_peer"], check=True)
    t = time.perf_counter()
    out = subprocess.run(
        [PEER_VENV / "bin" / "python", "peer_tool.py", "seed", str(n), str(n // 5)],
        cwd=PEER_DIR,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    print(f"peer: migrated and seeded {n:,} tickets in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    info_path.write_text(out.stdout.strip().splitlines()[-1])
    return json.loads(info_path.read_text())


def unused_orders(db: str) -> list[str]:
    sql = (
        "SELECT order_no FROM orders o WHERE order_no LIKE 'BENCH%' "
        "AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.order_id = o.id) ORDER BY order_no"
    )
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-Atc", sql]
    out = subprocess.run(psql, check=True, stdout=subprocess.PIPE, text=True)
    return out.stdout.split()


# --------------------------------------------------------------------------- servers


def start(name: str, db: str) -> subprocess.Popen:
    port = PORTS[name]
    common = ["-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    if name in ("ours", "flask"):
        app = "bench.ours_wsgi:app" if name == "ours" else "bench.bare_flask:app"
        cmd, cwd, env = [str(Path(sys.executable).parent / "gunicorn"), *common, app], ROOT, ours_env(db)
    else:
        app = "wsgi:application" if name == "peer" else "bare_django:application"
        cmd, cwd, env = [str(PEER_VENV / "bin" / "gunicorn"), *common, app], PEER_DIR, dict(os.environ)
    log = open(OUT / f"gunicorn-{name}.log", "w")
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(100):
        time.sleep(0.2)
        try:
            subprocess.run(["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{port}/bench/ping"], check=True)
            return proc
        except subprocess.CalledProcessError:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} did not start: see {log.name}")
    raise RuntimeError(f"{name} did not answer")


def workers(proc: subprocess.Popen) -> list[int]:
    kids = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    return [int(k) for k in kids]


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


# --------------------------------------------------------------------------- load


def wrk(url: str, headers: dict, *, conns: int, threads: int, duration: int, script: Path | None = None) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--timeout", "30s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    if script:
        cmd += ["-s", str(script)]
    text = subprocess.run([*cmd, url], check=True, stdout=subprocess.PIPE, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    lat = {}
    for pct, val, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M):
        lat[pct] = float(val) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors: (.*)", text)
    return {
        "rps": rps,
        "requests": total,
        "p50": lat.get("50"),
        "p99": lat.get("99"),
        "non2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def one_at_a_time(ep: dict, seconds: float, at_least: int = 3) -> dict:
    """Sequential requests on one keep-alive connection: p50/p99 of at least `at_least` requests."""
    import http.client
    import statistics

    conn = http.client.HTTPConnection("127.0.0.1", PORTS[ep["system"]], timeout=60)
    times: list[float] = []
    bodies = ep.get("bodies") or [None]
    end = time.perf_counter() + seconds
    while len(times) < at_least or time.perf_counter() < end:
        body = bodies[ep.get("cursor", 0) % len(bodies)]
        ep["cursor"] = ep.get("cursor", 0) + 1  # every create on a fresh order (one open request per order)
        headers = dict(ep["headers"])
        if body is not None:
            headers["Content-Type"] = "application/json"
        t = time.perf_counter()
        try:
            conn.request(ep["method"], ep["path"], body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
        except (ConnectionError, http.client.RemoteDisconnected):  # the worker closed a kept-alive socket
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", PORTS[ep["system"]], timeout=60)
            continue
        times.append((time.perf_counter() - t) * 1000)
        if resp.status >= 400:
            raise RuntimeError(f"{ep['system']} {ep['name']}: HTTP {resp.status}")
        if resp.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", PORTS[ep["system"]], timeout=60)
    conn.close()
    times.sort()
    return {"p50": statistics.median(times), "p99": times[min(len(times) - 1, int(len(times) * 0.99))], "n": len(times)}


def post_script(ep: dict, threads: int) -> Path:
    """A wrk script that POSTs the endpoint's JSON bodies from its cursor on, each thread taking every
    `threads`-th one, so no body is sent twice (ours refuses a second open request on one order)."""
    lua = OUT / f"post-{ep['system']}-{ep['name']}.lua"
    items = ",\n".join("[[" + b + "]]" for b in ep["bodies"])
    hdrs = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in ep["headers"].items())
    lua.write_text(
        f'wrk.method = "POST"\n{hdrs}wrk.headers["Content-Type"] = "application/json"\n'
        f"local bodies = {{\n{items}\n}}\nlocal start = {ep.get('cursor', 0)}\nlocal threads = {threads}\n"
        'local counter = 0\nfunction setup(thread)\n  thread:set("tid", counter)\n  counter = counter + 1\nend\n'
        "local i = -1\nrequest = function()\n  i = i + 1\n"
        "  return wrk.format(nil, nil, nil, bodies[((start + tid + threads * i) % #bodies) + 1])\nend\n"
    )
    return lua


def advance(ep: dict, result: dict) -> None:
    """After a wrk run: move the cursor past every body it may have sent (threads finish unevenly)."""
    if ep["method"] == "POST":
        ep["cursor"] = ep.get("cursor", 0) + 2 * result["requests"] + 64
        if ep["cursor"] >= len(ep["bodies"]) and ep["system"] == "ours":
            raise RuntimeError("out of fresh orders for the create load: raise BENCH_ORDERS")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --------------------------------------------------------------------------- queries per request


def ours_queries(db: str, endpoints: list[dict]) -> dict[str, int]:
    env = ours_env(db)
    code = f"""
import json, sys
from sqlalchemy import event
from app import create_app
from app.extensions import db
sys.path.insert(0, {str(ROOT)!r})
from bench.ours_wsgi import app
eps = json.loads(sys.argv[1])
out = {{}}
with app.app_context():
    engine = db.engine
n = [0]
event.listen(engine, "before_cursor_execute", lambda *a, **k: n.__setitem__(0, n[0] + 1))
staff = app.test_client()
staff.set_cookie("session", sys.argv[2])
anonymous = app.test_client()
for ep in eps:
    c = staff if ep["cookie"] else anonymous
    for _ in range(2):  # the second (warm) request is counted
        n[0] = 0
        if ep["method"] == "POST":
            hdrs = {{**ep["headers"], "Content-Type": "application/json"}}
            r = c.post(ep["path"], data=ep["bodies"][_], headers=hdrs)  # a fresh order each time
        else:
            r = c.get(ep["path"], headers=ep["headers"])
    out[ep["name"]] = [r.status_code, n[0]]
out["_session"] = staff.get_cookie("session").value  # as a browser holds it now: CSRF token, queue filters
print(json.dumps(out))
"""
    ours = [e for e in endpoints if e["system"] == "ours"]
    session = next((e["headers"]["Cookie"].split("=", 1)[1] for e in ours if "Cookie" in e["headers"]), "")
    payload = json.dumps(
        [
            {
                "name": e["name"],
                "method": e["method"],
                "path": e["path"],
                "bodies": e.get("bodies", [""])[:2],  # the two requests counted
                "cookie": "Cookie" in e["headers"],
                "headers": {k: v for k, v in e["headers"].items() if k != "Cookie"},
            }
            for e in ours
        ]
    )
    out = subprocess.run(
        [PY, "-c", code, payload, session], env=env, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def peer_queries(endpoints: list[dict], token: str) -> dict[str, int]:
    peer = [e for e in endpoints if e["system"] == "peer"]
    specs = [f"{e['method']} {e['path']}" for e in peer]
    out = subprocess.run(
        [PEER_VENV / "bin" / "python", "peer_tool.py", "queries", json.dumps(specs), token],
        cwd=PEER_DIR,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    raw = json.loads(out.stdout.strip().splitlines()[-1])
    return {e["name"]: [raw[s]["status"], raw[s]["queries"]] for e, s in zip(peer, specs, strict=True)}


# --------------------------------------------------------------------------- main

ROWS = [
    ("list", "staff list data (JSON)"),
    ("queue", "agent queue page (HTML incl. data)"),
    ("detail", "ticket detail (staff HTML)"),
    ("tracker", "customer tracker (public link)"),
    ("create", "create ticket (API)"),
    ("bare", "bare framework route"),
    ("ping", "a trivial route inside our app (all hooks)"),
]


def endpoints(ours: dict, peer: dict | None) -> list[dict]:
    cookie = {"Cookie": f"session={ours['session']}"}
    eps = [
        {
            "name": "list",
            "system": "ours",
            "path": "/api/v1/tickets?limit=25",
            "headers": {"Authorization": f"Bearer {ours['agent_token']}"},
        },
        {"name": "queue", "system": "ours", "path": "/queue", "headers": cookie},
        {"name": "detail", "system": "ours", "path": f"/tickets/{ours['refs'][1]}", "headers": cookie},
        {"name": "tracker", "system": "ours", "path": f"/t/{ours['trackers'][1]}", "headers": {}},
        {
            "name": "create",
            "system": "ours",
            "path": "/api/v1/tickets",
            "method": "POST",
            "headers": {"Authorization": f"Bearer {ours['customer_token']}"},
            "bodies": [
                json.dumps(
                    {"order_no": o, "kind": "not_delivered", "description": "bench", "requested_amount_cents": 100}
                )
                for o in ours["orders"]
            ],
        },
        {"name": "ping", "system": "ours", "path": "/bench/ping", "headers": {}},
        {"name": "bare", "system": "flask", "path": "/bench/ping", "headers": {}, "base": "flask"},
    ]
    if peer:
        q = base64.b64encode(
            json.dumps(
                {"filtering": {"status__in": [1, 2]}, "sorting": "created", "search_string": "", "sortreverse": False}
            ).encode()
        ).decode()
        pcookie = {"Cookie": f"sessionid={peer['sessionid']}"}
        tid, email, key, kind = peer["tickets"][1]
        eps += [
            {
                "name": "list",
                "system": "peer",
                "path": f"/datatables_ticket_list/{q}?draw=1&start=0&length=25",
                "headers": pcookie,
            },
            {"name": "queue", "system": "peer", "path": "/tickets/", "headers": pcookie},
            {"name": "detail", "system": "peer", "path": f"/tickets/{tid}/", "headers": pcookie},
            {
                "name": "tracker",
                "system": "peer",
                "path": f"/view/?ticket={kind}-{tid}&email={email}&key={key}",
                "headers": {},
            },
            {
                "name": "create",
                "system": "peer",
                "path": "/api/tickets/",
                "method": "POST",
                "headers": {"Authorization": f"Token {peer['token']}"},
                "bodies": [
                    json.dumps(
                        {
                            "queue": 1 + i % 8,
                            "title": "bench",
                            "description": "bench",
                            "submitter_email": f"c{52 + i}@bench.example",
                            "priority": 3,
                        }
                    )
                    for i in range(50)
                ],
            },
            {"name": "bare", "system": "django", "path": "/bench/ping", "headers": {}},
        ]
    for e in eps:
        e.setdefault("method", "GET")
        e["url"] = f"http://127.0.0.1:{PORTS[e['system']]}{e['path']}"
    return eps


def measure(ep: dict, duration: int) -> dict:
    script = post_script(ep, 2) if ep["method"] == "POST" else None
    headers = {} if script else ep["headers"]
    res = {"load": loadavg()}
    res["many"] = wrk(ep["url"], headers, conns=16, threads=2, duration=duration, script=script)
    advance(ep, res["many"])
    if res["many"]["non2xx"]:
        raise RuntimeError(f"{ep['system']} {ep['name']}: {res['many']['non2xx']} non-2xx answers under load")
    res["one"] = one_at_a_time(ep, max(3, duration // 2))
    return res


def fmt_ms(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:.1f}" if v < 100 else f"{v:,.0f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint and round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-peer", action="store_true", help="ours and bare Flask only (default at 1,000,000)")
    ap.add_argument("--reuse", action="store_true", help="keep the databases of a previous run")
    ap.add_argument("--only", default="", help="comma list of endpoint names to load (list,queue,...)")
    ap.add_argument("--build-only", action="store_true", help="build the databases and stop")
    ap.add_argument(
        "--cold",
        action="store_true",
        help="ours without the staff page cache and the tracker's 1 s window (the tracker keeps its fingerprint check)",
    )
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install -y wrk")
    with_peer = not args.no_peer and args.tickets <= 100_000
    db = "bench_ours" if args.tickets == 100_000 else f"bench_ours_{args.tickets}"
    ours = build_ours(db, args.tickets, args.reuse)
    if args.reuse:  # an earlier run's creates used some orders: keep only those without a ticket
        ours["orders"] = unused_orders(db)
    peer = build_peer(args.tickets, args.reuse) if with_peer else None
    if args.build_only:
        return
    eps = endpoints(ours, peer)
    if args.only:
        eps = [e for e in eps if e["name"] in args.only.split(",")]

    queries = ours_queries(db, eps)
    browser_session = queries.pop("_session")  # a browser keeps the cookie the pages set (wrk does not)
    for e in eps:
        if e["system"] == "ours" and "Cookie" in e["headers"]:
            e["headers"] = {**e["headers"], "Cookie": f"session={browser_session}"}
    wrong = {name: status for name, (status, _n) in queries.items() if not 200 <= status < 300}
    if wrong:  # e.g. a session cookie the app no longer accepts: a 302 to the login page is not the page
        sys.exit(f"ours answered {wrong} instead of 2xx: fix the benchmark data before measuring")
    for e in eps:
        if e["method"] == "POST":
            e["cursor"] = 2  # ours_queries used the first two bodies
    if peer:
        queries.update({f"peer:{k}": v for k, v in peer_queries(eps, peer["token"]).items()})
    procs = {name: start(name, db) for name in {e["system"] for e in eps}}
    rss: dict[str, dict] = {name: {"rss": 0.0, "hwm": 0.0} for name in procs}
    results: dict[str, list] = {}
    try:
        for e in eps:  # warm every worker (imports, template compile, connection pools)
            warm = wrk(
                e["url"],
                {} if e["method"] == "POST" else e["headers"],
                conns=4,
                threads=2,
                duration=1,
                script=post_script(e, 2) if e["method"] == "POST" else None,
            )
            advance(e, warm)
        for rnd in range(args.rounds):
            for name, _label in ROWS:
                for e in [e for e in eps if e["name"] == name]:  # peer then ours (alternating)
                    res = measure(e, args.duration)
                    for pid in workers(procs[e["system"]]):
                        rss[e["system"]]["rss"] = max(rss[e["system"]]["rss"], rss_mib(pid))
                        rss[e["system"]]["hwm"] = max(rss[e["system"]]["hwm"], rss_mib(pid, "VmHWM"))
                    results.setdefault(f"{e['system']}:{name}", []).append(res)
                    m, o = res["many"], res["one"]
                    print(
                        f"round {rnd + 1} {e['system']:6} {name:8} {m['rps']:9.1f} req/s  p50 {fmt_ms(m['p50'])} "
                        f"p99 {fmt_ms(m['p99'])} ms | one at a time p50 {fmt_ms(o['p50'])} p99 {fmt_ms(o['p99'])} ms"
                        f" | load {res['load']}" + (f" | non-2xx {m['non2xx']}" if m["non2xx"] else ""),
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        for proc in procs.values():
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            proc.wait(timeout=30)
    report = {"tickets": args.tickets, "results": results, "queries": queries, "rss": rss}
    (OUT / f"pages-{args.tickets}{'-cold' if args.cold else ''}.json").write_text(json.dumps(report, indent=1))
    print_table(report)


def print_table(report: dict) -> None:
    res, q = report["results"], report["queries"]

    def rps(key: str) -> str:
        runs = res.get(key) or []
        return (
            "–".join(f"{r['many']['rps']:,.1f}" if r["many"]["rps"] < 100 else f"{r['many']['rps']:,.0f}" for r in runs)
            or "—"
        )

    def best(key: str) -> float:
        runs = res.get(key) or []
        return sum(r["many"]["rps"] for r in runs) / len(runs) if runs else 0.0

    def one(key: str, f: str = "p50") -> str:
        runs = res.get(key) or []
        return "/".join(fmt_ms(r["one"][f]) for r in runs) or "—"

    flask = best("flask:bare")
    print(
        f"\n{report['tickets']:,} tickets. req/s: wrk -t2 -c16, one value per round; "
        "ratio = ours / peer (mean of rounds); one at a time: sequential requests on one keep-alive "
        "connection, p50 ms (p99) per round\n"
    )
    print(
        "| endpoint | peer req/s | ours req/s | ratio | ours % of bare Flask | one at a time p50 (p99): peer | ours "
        "| queries/request peer / ours | load avg (1, 5, 15 min) at each ours measurement |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, label in ROWS:
        ok = "flask:bare" if name == "bare" else f"ours:{name}"
        pk = "django:bare" if name == "bare" else f"peer:{name}"
        ratio = f"{best(ok) / best(pk):,.1f}×" if best(pk) and best(ok) else ""
        pct = f"{100 * best(ok) / flask:.0f} %" if flask and name != "bare" else ""
        qo = q.get(name, [None, "—"])[1] if name not in ("bare", "ping") else "0"
        qp = q.get(f"peer:{name}", [None, "—"])[1] if name not in ("bare", "ping") else "0"
        loads = "; ".join(r["load"] for r in res.get(ok, []))
        print(
            f"| {label} | {rps(pk)} | {rps(ok)} | {ratio} | {pct} | {one(pk)} ({one(pk, 'p99')}) "
            f"| {one(ok)} ({one(ok, 'p99')}) | {qp} / {qo} | {loads} |"
        )
    rss = report["rss"]
    print(
        "\nRSS per worker after load, max (peak VmHWM): "
        + ", ".join(f"{k} {v['rss']:.0f} MiB ({v['hwm']:.0f})" for k, v in rss.items())
    )
    bad = {k: v for k, v in q.items() if v[0] >= 400}
    if bad:
        print(f"WARNING: in-process status codes >= 400: {bad}")


if __name__ == "__main__":
    main()
