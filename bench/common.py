"""Shared by the benchmark scripts: an app on a given database, a logged-in test client."""

from __future__ import annotations


def bench_app(url: str):
    from app import create_app
    from app.settings import Settings

    app = create_app(Settings(DATABASE_URL=url, REDIS_URL=None, SLA_INPROCESS_SWEEP=False, RATELIMIT_ENABLED=False))
    app.config["WTF_CSRF_ENABLED"] = False  # the bench logs in without reading the form's token
    return app


def login_client(app, email: str, password: str = "bench-pass-2026"):
    """A test client logged in as `email` (its password is reset to `password`) and API headers."""
    from werkzeug.security import generate_password_hash

    from app.auth.models import User
    from app.extensions import db

    with app.app_context():
        user = db.session.query(User).filter_by(email=email).one()
        user.password_hash = generate_password_hash(password, method="pbkdf2:sha256:1000")
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": email, "password": password})
    token = client.post("/api/v1/auth/tokens", json={"email": email, "password": password}).json["token"]
    return client, {"Authorization": f"Bearer {token}"}
