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
    code = """
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
""" % tickets
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
        self.head = (f"--{self.boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                     f"Content-Type: {ctype}\r\n\r\n").encode()
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
    headers = {"Authorization": f"Bearer {token}", "Content-Length": str(body.length),
               "Content-Type": f"multipart/form-data; boundary={body.boundary}"}
    return request(port, "POST", f"/api/v1/tickets/{ref}/evidence", body=iter(body), headers=headers)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100, help="file size in MiB")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rd-upload-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(REFUNDESK_INSTANCE=str(tmp), DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
               EVIDENCE_DIR=str(tmp / "evidence"), SECRET_KEY="bench", STORAGE_BACKEND="local",
               PYTHONPATH=str(ROOT), TMPDIR=str(tmp))
    refs = setup(env, args.runs + 1)
    files = []
    for n in range(args.runs):   # different bytes per run: every run stores a new blob (no dedupe)
        p = tmp / f"recording{n}.mp4"
        make_mp4(p, args.mb * 1024 * 1024)
        files.append(p)

    port = free_port()
    server = subprocess.Popen([str(Path(PY).parent / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}",
                               "--timeout", "300", "wsgi:app"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=open(tmp / "gunicorn.log", "w"))
    try:
        for _ in range(100):
            try:
                status, data = request(port, "POST", "/api/v1/auth/tokens",
                                       body=json.dumps({"email": "bench@example.test", "password": "password123"}),
                                       headers={"Content-Type": "application/json"})
                break
            except OSError:
                time.sleep(0.1)
        assert status == 201, data
        token = json.loads(data)["token"]
        worker = worker_pid(server.pid)
        # warm-up: a small upload loads every module the big one needs
        small = tmp / "small.mp4"
        make_mp4(small, 64 * 1024)
        status, data = upload(port, token, refs[-1], small)
        assert status == 201, data

        results = []
        for path, ref in zip(files, refs):
            subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm page cache
            t0 = time.perf_counter()
            subprocess.run(["sha256sum", str(path)], stdout=subprocess.DEVNULL, check=True)
            t_sha = time.perf_counter() - t0
            rss_before = status_kb(worker, "VmRSS")
            Path(f"/proc/{worker}/clear_refs").write_text("5")   # reset VmHWM to the current RSS
            t0 = time.perf_counter()
            status, data = upload(port, token, ref, path)
            t_up = time.perf_counter() - t0
            assert status == 201, data
            assert json.loads(data)["mime"] == "video/mp4"
            peak = status_kb(worker, "VmHWM")
            results.append((t_sha, t_up, (peak - rss_before) / 1024, rss_before / 1024))
        mib = args.mb
        print(f"file: {mib} MiB MP4, {len(results)} runs, gunicorn 1 sync worker, SQLite file, local storage")
        for n, (t_sha, t_up, growth, base) in enumerate(results, 1):
            print(f"run {n}: sha256sum {t_sha:.3f}s ({mib / t_sha:.0f} MiB/s) | upload {t_up:.3f}s "
                  f"({mib / t_up:.0f} MiB/s) = {100 * t_sha / t_up:.0f}% of sha256sum | "
                  f"worker RSS {base:.1f} MiB, peak growth {growth:.1f} MiB")
        best = min(results, key=lambda r: r[1])
        print(f"best: {100 * best[0] / best[1]:.0f}% of sha256sum; max peak RSS growth "
              f"{max(r[2] for r in results):.1f} MiB")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept", tmp)


if __name__ == "__main__":
    main()
