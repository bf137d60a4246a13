"""Refundesk as gunicorn serves it in bench/pages_bench.py, plus one trivial route.

`/bench/ping` returns "ok" through the whole per-request stack (every before/after-request hook,
session, locale, security headers) so its req/s can be compared with bare Flask's.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app

app = create_app()


@app.get("/bench/ping")
def bench_ping():
    return "ok"
