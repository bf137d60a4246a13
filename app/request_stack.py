"""The hooks every request runs, made lean (bench/README.md: the per-request stack).

Flask-Limiter, Flask-WTF and Flask-Login each register hooks that run on every request of the app,
whatever the route. Their work is needed on a few routes only; the rest of the time it is a
sequence of context lookups that ends in "nothing to do". `install(app)` swaps each such hook, in
its place in the app's hook lists (the order hooks run in does not change), for one that first
asks the cheap question that decides whether the original has anything to do, and calls the
original when it has. Each answer is the original's own first condition, so what a request does
and sends is unchanged:

- **Flask-Limiter.** Every limit here is a decorator on its view (`@limiter.limit`); the decorator
  checks the limit when the view is called, and that check is what creates the limiter's
  per-request context (`_limiter_request_context` on Flask's request context). The after-request
  hook (the `deduct_when` deductions of the login limits, the `X-RateLimit-*` / `Retry-After`
  headers) and the teardown (which empties that context) have work only when it exists; on every
  other request they would build an empty context to find nothing in it. The before-request check
  (for default and application-wide limits, of which we have none) is removed outright.
- **Flask-WTF.** CSRF is checked for POST/PUT/PATCH/DELETE (`WTF_CSRF_METHODS`); the hook looks up
  the view and its blueprint's exemption before it looks at the method. The lean hook looks at the
  method first.
- **Flask-Login.** The remember-me cookie is set or cleared when the session holds `_remember`
  (login with `remember=True`, logout of such a login). Asking the session through `flask.session`
  marks it *accessed*, and Flask then adds `Vary: Cookie` to the response: every response carried
  it, also those that never read the session (static files, `/bench/ping`). The lean hook reads the
  session without marking it, so `Vary: Cookie` now goes exactly with the responses whose content
  read the session (Flask's own rule) — every page with a login, a CSRF token or a language choice.

- **Flask itself** asks `inspect.iscoroutinefunction` of every hook and view on every request
  (`Flask.ensure_sync`, ~1.5 µs a call, nine calls for a trivial route). The answer for a given
  function never changes, so the app remembers the functions found to be plain ones.

If a library update changes a hook so that it is no longer found, `install` raises: the app would
otherwise keep working, only slower, and nobody would notice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request
from flask.globals import _cv_request
from flask_limiter import Limiter


def install(app: Flask, *, limiter: Limiter, login: Any) -> None:
    _lean_limiter(app, limiter)
    _lean_csrf(app)
    _lean_remember_cookie(app, login)
    _known_sync_functions(app)


def _replace(
    hooks: list[Any], is_it: Callable[[Any], bool], lean: Callable[[Any], Callable[..., Any]], what: str
) -> None:
    for i, hook in enumerate(hooks):
        if is_it(hook):
            hooks[i] = lean(hook)
            return
    raise RuntimeError(f"request_stack: {what} not found among the app's hooks (library changed?)")


# --------------------------------------------------------------------------- Flask-Limiter

_LIMITER_CONTEXT = "_limiter_request_context"  # Limiter.context creates it on the request context


def _limiter_touched() -> bool:
    ctx = _cv_request.get(None)
    return ctx is not None and hasattr(ctx, _LIMITER_CONTEXT)


def _lean_limiter(app: Flask, limiter: Limiter) -> None:
    cfg = app.config
    manager = limiter.limit_manager
    generic = bool(
        cfg.get("RATELIMIT_DEFAULT")
        or cfg.get("RATELIMIT_APPLICATION")
        or cfg.get("RATELIMIT_META")
        or manager._default_limits  # given to Limiter(...) in code
        or manager._application_limits
    )
    if generic:  # limits on every request: the library's own hooks are all needed
        return
    if limiter not in app.extensions.get("limiter", ()):  # RATELIMIT_ENABLED off: it registered no hooks
        return
    before = app.before_request_funcs.get(None, [])
    app.before_request_funcs[None] = [f for f in before if f != limiter._check_request_limit]

    inject = Limiter._Limiter__inject_headers  # type: ignore[attr-defined]
    release = limiter._Limiter__release_context  # type: ignore[attr-defined]

    def lean_after(original: Callable[[Response], Response]) -> Callable[[Response], Response]:
        def limiter_after_request(response: Response) -> Response:
            return original(response) if _limiter_touched() else response

        return limiter_after_request

    def lean_teardown(original: Callable[[BaseException | None], None]) -> Callable[[BaseException | None], None]:
        def limiter_teardown(exc: BaseException | None = None) -> None:
            if _limiter_touched():
                original(exc)

        return limiter_teardown

    _replace(
        app.after_request_funcs.setdefault(None, []),
        lambda f: getattr(f, "func", None) is inject and getattr(f, "args", ())[:1] == (limiter,),
        lean_after,
        "Flask-Limiter's after_request",
    )
    _replace(
        app.teardown_request_funcs.setdefault(None, []),
        lambda f: f == release,
        lean_teardown,
        "Flask-Limiter's teardown",
    )


# --------------------------------------------------------------------------- Flask-WTF


def _lean_csrf(app: Flask) -> None:
    def lean(original: Callable[[], Any]) -> Callable[[], Any]:
        def csrf_protect() -> Any:
            if request.method not in app.config["WTF_CSRF_METHODS"]:
                return None  # the original returns here too, after looking up the view's exemption
            return original()

        return csrf_protect

    _replace(
        app.before_request_funcs.setdefault(None, []),
        lambda f: getattr(f, "__qualname__", "") == "CSRFProtect.init_app.<locals>.csrf_protect",
        lean,
        "Flask-WTF's csrf_protect",
    )


# --------------------------------------------------------------------------- Flask-Login


def _lean_remember_cookie(app: Flask, login: Any) -> None:
    def lean(original: Callable[[Response], Response]) -> Callable[[Response], Response]:
        def update_remember_cookie(response: Response) -> Response:
            ctx = _cv_request.get(None)
            session = ctx._session if ctx is not None else None  # read without marking it accessed
            if session is None:
                return response
            if "_remember" in session or app.config.get("REMEMBER_COOKIE_REFRESH_EACH_REQUEST"):
                return original(response)
            return response

        return update_remember_cookie

    _replace(
        app.after_request_funcs.setdefault(None, []),
        lambda f: f == login._update_remember_cookie,
        lean,
        "Flask-Login's _update_remember_cookie",
    )


# --------------------------------------------------------------------------- Flask


def _known_sync_functions(app: Flask) -> None:
    known: set[Any] = set()
    original = app.ensure_sync

    def ensure_sync(func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            if func in known:
                return func
        except TypeError:  # an unhashable callable: asked every time, as Flask does
            return original(func)
        out = original(func)
        if out is func and len(known) < 4096:  # hooks and views: a fixed set (bounded anyway)
            known.add(func)
        return out

    app.ensure_sync = ensure_sync  # type: ignore[method-assign]
