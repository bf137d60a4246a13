"""A bare Flask app: one route, no extensions (the framework's floor for bench/pages_bench.py)."""

from flask import Flask

app = Flask(__name__)


@app.get("/bench/ping")
def ping():
    return "ok"
