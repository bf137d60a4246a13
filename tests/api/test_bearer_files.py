"""Evidence download_url in the ticket JSON works for bearer tokens, with the same authorization as the pages."""

from __future__ import annotations

import io

from tests.evidence.helpers import image_bytes
from tests.factories import make_ticket, make_user, staff

PNG = image_bytes("PNG")


def _uploaded(client, api, ticket):
    resp = client.post(
        f"/api/v1/tickets/{ticket.ref}/evidence",
        data={"file": (io.BytesIO(PNG), "receipt.png", "image/png")},
        headers=api.headers(ticket.customer),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 201, resp.json
    body = client.get(f"/api/v1/tickets/{ticket.ref}", headers=api.headers(ticket.customer)).json
    (ev,) = body["evidence"]
    return ev


def test_bearer_client_follows_download_url_of_its_own_file(client, api, app):
    ticket = make_ticket("submitted")
    ev = _uploaded(client, api, ticket)
    for user in (ticket.customer, staff("agent")):
        resp = client.get(ev["download_url"], headers=api.headers(user))
        assert resp.status_code == 200 and resp.data == PNG
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_someone_elses_file_is_404_for_a_bearer_client(client, api, app):
    ev = _uploaded(client, api, make_ticket("submitted"))
    resp = client.get(ev["download_url"], headers=api.headers(make_user("customer")))
    assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"


def test_bad_token_is_401_json_never_a_login_redirect(client, api, app):
    ev = _uploaded(client, api, make_ticket("submitted"))
    for header in ("Bearer nope", "Bearer "):
        resp = client.get(ev["download_url"], headers={"Authorization": header})
        assert resp.status_code == 401 and resp.json["error"]["code"] == "unauthorized"


def test_without_a_token_the_file_still_needs_a_login(client, api, app):
    ev = _uploaded(client, api, make_ticket("submitted"))  # API calls only: this client has no session
    resp = client.get(ev["download_url"])
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
