"""Evidence upload through the real server: peak RSS growth and throughput vs sha256sum.

Usage: .venv/bin/python bench/upload_bench.py [--mb 100] [--runs 3] [--keep]

Starts gunicorn (1 sync worker) on 127.0.0.1 with a SQLite file database and local evidence
storage in a temp dir (jobs inline, REDIS_URL unset), creates a customer, an order and a
ticket, then POSTs a generated MP4 (valid ftyp + mdat boxes, random payload) of --mb MiB to
/api/v1/tickets/<ref>/evidence, streaming it from disk. For each run it resets the worker's
peak RSS (/proc/<pid>/clear_refs) and reads VmHWM after the upload; throughput is compared
with `sha256sum` on the same file (page cache warm for both).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def make_mp4(path: Path, size: int) -> None:
    ftyp = struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00isomiso2"
    mdat_size = size - len(ftyp)
    with open(path, "wb") as f:
        f.write(ftyp + struct.pack(">I", mdat_size) + b"mdat")
        left = mdat_size - 8
        while left:
            n = min(left, 4 << 20)
            f.write(os.urandom(n))
            left -= n


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def worker_pid(master: int) -> int:
    for _ in range(100):
        kids = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if kids:
            return int(kids[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn worker did not start")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(env: dict, tickets: int) -> list[str]:
    """Schema, a customer with a password, orders and tickets (in a separate process)."""
    code = (
        """
from app import create_app
from app.extensions import db
app = create_app()
with app.app_context():
    db.create_all()
    from tests.factories import make_order, make_user
    from app.tickets.services import create_ticket
    cust = make_user("customer", email="bench@example.test")
    for _ in range(%d):
        order = make_order(cust, amount_cents=10_000)
        print(create_ticket(order.order_no, "not_as_described", "bench", cust).ref)
"""
        % tickets
    )
    out = subprocess.run([PY, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return out.stdout.split()[-tickets:]  # one ticket per upload: 200 MB per-ticket limit


def request(port: int, method: str, path: str, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


class MultipartFile:
    """A multipart/form-data body with one file part, read from disk in 1 MiB pieces."""

    def __init__(self, path: Path, name: str, ctype: str = "video/mp4"):
        self.boundary = "----refundeskbench" + os.urandom(8).hex()
        self.head = (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.path = path
        self.length = len(self.head) + path.stat().st_size + len(self.tail)

    def __iter__(self):
        yield self.head
        with open(self.path, "rb") as f:
            while chunk := f.read(1 << 20):
                yield chunk
        yield self.tail


def upload(port: int, token: str, ref: str, path: Path):
    body = MultipartFile(path, "录屏.mp4")
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Length": str(body.length),
        "Content-Type": f"multipart/form-data; boundary={body.boundary}",
    }
    return request(port, "POST", f"/api/v1/tickets/{ref}/evidence", body=iter(body), headers=headers)


def sink_app(environ, start_response):
    """Transport floor: a WSGI app that only reads the request body (64 KiB reads) and drops it."""
    stream, n = environ["wsgi.input"], 0
    while chunk := stream.read(65536):
        n += len(chunk)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(n).encode()]


class ChainStream:
    """head + file + tail as one readable stream (an in-process request body, not held in memory)."""

    def __init__(self, body: MultipartFile):
        self.parts, self.cur, self.pos = iter(body), b"", 0

    def read(self, n: int = -1) -> bytes:
        out = []
        while n != 0:
            if self.pos >= len(self.cur):
                self.cur, self.pos = next(self.parts, b""), 0
                if not self.cur:
                    break
            take = len(self.cur) - self.pos if n < 0 else min(n, len(self.cur) - self.pos)
            out.append(self.cur[self.pos : self.pos + take])
            self.pos += take
            if n > 0:
                n -= take
        return b"".join(out)


def start_gunicorn(spec: str, env: dict, log: Path, *extra: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(PY).parent / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "--timeout", "300", *extra, spec],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "w"),
    )
    return proc, port


def wait_up(port: int) -> None:
    for _ in range(200):
        try:
            request(port, "GET", "/nothing-here")
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def in_process(app, token: str, ref: str, path: Path) -> float:
    """The same upload through the Flask app in this process (WSGI call, body streamed from disk):
    parsing + hashing + staging + fsync + rename + row + audit, without the HTTP server."""
    from flask.testing import EnvironBuilder

    body = MultipartFile(path, "录屏.mp4")
    environ = EnvironBuilder(
        app, path=f"/api/v1/tickets/{ref}/evidence", method="POST", headers={"Authorization": f"Bearer {token}"}
    ).get_environ()
    environ.update(
        {
            "wsgi.input": ChainStream(body),
            "CONTENT_LENGTH": str(body.length),
            "CONTENT_TYPE": f"multipart/form-data; boundary={body.boundary}",
        }
    )
    status = []
    t0 = time.perf_counter()
    out = b"".join(app(environ, lambda s, h, *a: status.append(s)))
    elapsed = time.perf_counter() - t0
    assert status[0].startswith("201"), out
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100, help="file size in MiB")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rd-upload-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        REFUNDESK_INSTANCE=str(tmp),
        DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
        EVIDENCE_DIR=str(tmp / "evidence"),
        SECRET_KEY="bench",
        STORAGE_BACKEND="local",
        PYTHONPATH=str(ROOT),
        TMPDIR=str(tmp),
    )
    refs = setup(env, 2 * args.runs + 1)  # one ticket per upload: 200 MB per-ticket limit
    files = []
    for n in range(args.runs):  # different bytes per run: every run stores a new blob (no dedupe)
        p = tmp / f"recording{n}.mp4"
        make_mp4(p, args.mb * 1024 * 1024)
        files.append(p)

    server, port = start_gunicorn("wsgi:app", env, tmp / "gunicorn.log")
    sink, sink_port = start_gunicorn(
        "upload_bench:sink_app", env, tmp / "sink.log", "--pythonpath", str(ROOT / "bench")
    )
    try:
        wait_up(port)
        wait_up(sink_port)
        status, data = request(
            port,
            "POST",
            "/api/v1/auth/tokens",
            body=json.dumps({"email": "bench@example.test", "password": "password123"}),
            headers={"Content-Type": "application/json"},
        )
        assert status == 201, data
        token = json.loads(data)["token"]
        worker = worker_pid(server.pid)
        small = tmp / "small.mp4"  # warm-up: a small upload loads every module the big one needs
        make_mp4(small, 64 * 1024)
        status, data = upload(port, token, refs[-1], small)
        assert status == 201, data
        os.environ.update(env)  # the in-process app: same database and storage
        sys.path.insert(0, str(ROOT))
        from app import create_app

        app = create_app()
        in_process(app, token, refs[-1], small)  # warm-up

        results = []
        for n, path in enumerate(files):
            subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm page cache
            t0 = time.perf_counter()
            subprocess.run(["sha256sum", str(path)], stdout=subprocess.DEVNULL, check=True)
            t_sha = time.perf_counter() - t0
            t0 = time.perf_counter()
            request(
                sink_port,
                "POST",
                "/",
                body=iter(MultipartFile(path, "x.mp4")),
                headers={"Content-Length": str(MultipartFile(path, "x.mp4").length)},
            )
            t_sink = time.perf_counter() - t0
            rss_before = status_kb(worker, "VmRSS")
            Path(f"/proc/{worker}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
            t0 = time.perf_counter()
            status, data = upload(port, token, refs[2 * n], path)
            t_up = time.perf_counter() - t0
            assert status == 201, data
            assert json.loads(data)["mime"] == "video/mp4"
            peak = status_kb(worker, "VmHWM")
            t_inproc = in_process(app, token, refs[2 * n + 1], path)
            results.append((t_sha, t_sink, t_up, t_inproc, (peak - rss_before) / 1024, rss_before / 1024))
        mib = args.mb
        print(f"file: {mib} MiB MP4, {len(results)} runs, gunicorn 1 sync worker, SQLite file, local storage")
        for n, (t_sha, t_sink, t_up, t_in, growth, base) in enumerate(results, 1):
            print(
                f"run {n}: sha256sum {t_sha:.3f}s ({mib / t_sha:.0f} MiB/s) | gunicorn body-only sink "
                f"{t_sink:.3f}s | upload via gunicorn {t_up:.3f}s = {100 * t_sha / t_up:.0f}% of sha256sum | "
                f"app in-process {t_in:.3f}s = {100 * t_sha / t_in:.0f}% | "
                f"worker RSS {base:.1f} MiB, peak growth {growth:.1f} MiB"
            )
        med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
        print(
            f"median: upload via gunicorn {100 * med([r[0] / r[2] for r in results]):.0f}% of sha256sum, "
            f"in-process {100 * med([r[0] / r[3] for r in results]):.0f}%, body-only sink "
            f"{100 * med([r[0] / r[1] for r in results]):.0f}%; max peak RSS growth "
            f"{max(r[4] for r in results):.1f} MiB"
        )
    finally:
        for proc in (server, sink):
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept", tmp)


if __name__ == "__main__":
    main()
