"""POST /api/v1/auth/tokens."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.api_support import load_json
from app.auth.schemas import TokenRequestSchema
from app.auth.services import authenticate, issue_token
from app.auth.views import account_key, failed_login
from app.errors import Unauthorized
from app.extensions import limiter

bp = Blueprint("auth_api", __name__, url_prefix="/api/v1/auth")


@bp.post("/tokens")
@limiter.limit("10/minute")
@limiter.limit("5/minute;20/hour", key_func=account_key, deduct_when=failed_login)
def create_token():
    """Exchange e-mail and password for an API token.
    ---
    post:
      tags: [auth]
      security: []
      requestBody:
        content:
          application/json:
            schema: TokenRequest
      responses:
        201: {description: token created, content: {application/json: {schema: TokenResponse}}}
        401: {description: wrong credentials, content: {application/json: {schema: Error}}}
        422: {description: bad fields, content: {application/json: {schema: Error}}}
        429:
          description: too many attempts (10 a minute per client; 5 failed a minute, 20 an hour per account)
          headers: {Retry-After: {schema: {type: integer}, description: seconds to wait}}
          content: {application/json: {schema: Error}}
    """
    data = load_json(TokenRequestSchema())
    user = authenticate(data["email"], data["password"])
    if user is None:
        raise Unauthorized(str(_l("Wrong e-mail or password.")))
    return {"token": issue_token(user)}, 201
