"""The HTML upload route checks login, ticket access, Content-Length and CSRF before staging a byte."""

from __future__ import annotations

import pytest

from app.evidence import uploads
from tests.evidence.helpers import image_bytes
from tests.factories import make_ticket, make_user

BOUNDARY = "guardBOUNDARY"
BIG = 60 * 1024 * 1024


class Body:
    """A multipart request body produced on demand, counting the bytes the server read."""

    def __init__(self, fields: dict[str, str], file_size: int, fields_after: dict[str, str] | None = None):
        head = "".join(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()
        )
        head += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        head += "Content-Type: image/png\r\n\r\n"
        tail = "".join(
            f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}'
            for k, v in (fields_after or {}).items()
        )
        self.head, self.tail = head.encode(), (tail + f"\r\n--{BOUNDARY}--\r\n").encode()
        self.png = image_bytes()
        self.file_size = max(file_size, len(self.png))
        self.length = len(self.head) + self.file_size + len(self.tail)
        self.read_bytes = 0

    def _byte_range(self, start: int, n: int) -> bytes:
        out = bytearray()
        for part, offset in ((self.head, 0), (None, len(self.head)), (self.tail, len(self.head) + self.file_size)):
            size = self.file_size if part is None else len(part)
            lo, hi = max(start, offset), min(start + n, offset + size)
            if lo >= hi:
                continue
            if part is None:
                data = self.png + b"\0" * (self.file_size - len(self.png))
                out += data[lo - offset : hi - offset] if self.file_size < 10_000_000 else b"\0" * (hi - lo)
            else:
                out += part[lo - offset : hi - offset]
        return bytes(out)

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            n = self.length - self.read_bytes
        data = self._byte_range(self.read_bytes, n)
        self.read_bytes += len(data)
        return data


@pytest.fixture
def staged(monkeypatch):
    """Every staging file the request opened (none may be opened for a refused upload)."""
    opened: list[str] = []
    real = uploads.StagingFile

    class Counting(real):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened.append(self.path)

    monkeypatch.setattr(uploads, "StagingFile", Counting)
    return opened


def post(client, ref: str, body: Body, *, length: int | None = -1):
    size = body.length if length == -1 else length
    environ = {"wsgi.input": body, "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}"}
    if size is None:
        environ.update({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    else:
        environ["CONTENT_LENGTH"] = str(size)
    return client.post(f"/tickets/{ref}/evidence", environ_overrides=environ)


def test_anonymous_60mb_post_is_refused_before_reading_and_stages_nothing(client, app, staged, stored):
    ticket = make_ticket()
    body = Body({"csrf_token": "x"}, BIG)
    resp = post(client, ticket.ref, body)
    assert resp.status_code == 401
    assert body.read_bytes == 0 and staged == [] and stored.nothing()


def test_someone_elses_ticket_is_404_before_reading(client, browser, app, staged):
    ticket = make_ticket()
    browser.login(make_user("customer"))
    body = Body({"csrf_token": browser.csrf()}, BIG)
    assert post(client, ticket.ref, body).status_code == 404
    assert body.read_bytes == 0 and staged == []


def test_declared_length_over_the_cap_is_413_before_reading(client, browser, app, staged):
    ticket = make_ticket()
    browser.login(ticket.customer)
    body = Body({"csrf_token": browser.csrf()}, 200 * 1024 * 1024)
    assert post(client, ticket.ref, body).status_code == 413
    assert body.read_bytes == 0 and staged == []


def test_a_body_without_content_length_is_411(client, browser, app, staged):
    ticket = make_ticket()
    browser.login(ticket.customer)
    body = Body({"csrf_token": browser.csrf()}, 1000)
    assert post(client, ticket.ref, body, length=None).status_code == 411
    assert body.read_bytes == 0 and staged == []


@pytest.mark.parametrize("where", ["missing", "wrong", "after the file"])
def test_bad_csrf_stops_at_the_file_part_and_stages_nothing(client, browser, app, staged, stored, where):
    ticket = make_ticket()
    browser.login(ticket.customer)
    token = browser.csrf()
    fields = {"missing": {}, "wrong": {"csrf_token": "forged"}, "after the file": {}}[where]
    body = Body(fields, 5 * 1024 * 1024, fields_after={"csrf_token": token} if where == "after the file" else None)
    assert post(client, ticket.ref, body).status_code == 400
    assert staged == [] and stored.nothing()
    assert body.read_bytes < 1024 * 1024  # stopped at the file part, not after the whole body


def test_the_real_form_still_uploads(client, browser, app, staged):
    ticket = make_ticket()
    browser.login(ticket.customer)
    body = Body({"csrf_token": browser.csrf(), "next": "/somewhere"}, 0)
    resp = post(client, ticket.ref, body)
    assert resp.status_code == 303 and [c for c, _ in browser.flashes()] == ["success"]
    assert len(staged) == 1
