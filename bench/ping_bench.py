"""The per-request stack under gunicorn: bare Flask against `/bench/ping` on our full app.

    .venv/bin/python bench/ping_bench.py [--rounds 3] [--duration 8] [--before /path/to/other/checkout]

Starts bare Flask (bench/bare_flask.py) and ours (bench/ours_wsgi.py) — and, with --before, ours from
another checkout (e.g. a worktree of main) — each under `gunicorn -w 2 -k sync` on 127.0.0.1:8791–8793
(not pages_bench.py's ports), then for each round loads them one after the other (the order reversed
every other round) with `wrk -t2 -c16`. Prints req/s, the workers' CPU per request (utime + stime from
/proc over the requests wrk counted: the steadier figure on a shared machine) and each one's ratio to
bare Flask in the same round, with the load average before each measurement. Needs the environment
pages_bench.py's databases use (any existing database: the route reads none).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _workers(proc: subprocess.Popen) -> list[int]:
    return [int(k) for k in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]


def _wrk(port: int, seconds: int) -> tuple[float, int]:
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", f"http://127.0.0.1:{port}/bench/ping"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"port {port}: non-2xx answers")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), int(
        re.search(r"(\d+) requests in", out).group(1)
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=8)
    ap.add_argument("--before", help="another checkout whose bench/ours_wsgi.py is measured too")
    ap.add_argument("--db", default="bench_ours")
    args = ap.parse_args()
    env = dict(
        os.environ,
        DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.db}",
        SECRET_KEY="bench-secret",
        REDIS_URL="redis://127.0.0.1:6379/6",
        SLA_INPROCESS_SWEEP="0",
    )
    servers = {"bare": (ROOT, 8792, "bench.bare_flask:app"), "ours": (ROOT, 8791, "bench.ours_wsgi:app")}
    if args.before:
        servers["before"] = (Path(args.before).resolve(), 8793, "bench.ours_wsgi:app")
    procs = {}
    try:
        for name, (tree, port, app) in servers.items():
            cmd = [GUNICORN, "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}", "--log-level", "warning", app]
            procs[name] = subprocess.Popen(
                cmd, cwd=tree, env={**env, "PYTHONPATH": str(tree)}, stdout=subprocess.DEVNULL, start_new_session=True
            )
        for _name, (_tree, port, _app) in servers.items():
            url = f"http://127.0.0.1:{port}/bench/ping"
            for _ in range(100):
                if subprocess.run(["curl", "-sf", "-o", "/dev/null", url]).returncode == 0:
                    break
                time.sleep(0.3)
            _wrk(port, 2)  # warm
        names = list(servers)
        results: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
        for r in range(args.rounds):
            for name in names if r % 2 == 0 else reversed(names):
                pids = _workers(procs[name])
                load = Path("/proc/loadavg").read_text().split()[0]
                before_cpu = _cpu_seconds(pids)
                rps, n = _wrk(servers[name][1], args.duration)
                per = (_cpu_seconds(pids) - before_cpu) / n * 1e6
                results[name].append((rps, per))
                print(
                    f"round {r + 1}  {name:6}  load {load:>5}  {rps:8.0f} req/s  worker CPU {per:5.0f} µs/request",
                    flush=True,
                )
        for name in names:
            if name == "bare":
                continue
            pairs = list(zip(results[name], results["bare"], strict=True))
            rps = ", ".join(f"{o[0] / b[0]:.0%}" for o, b in pairs)
            cpu = ", ".join(f"{b[1] / o[1]:.0%}" for o, b in pairs)
            print(f"{name}: req/s of bare Flask's per round {rps}; CPU per request, bare / {name}: {cpu}")
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait()


if __name__ == "__main__":
    main()
