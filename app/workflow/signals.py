"""The workflow's one signal: `ticket_transitioned`, sent after a transition has committed.

    ticket_transitioned.send(app, ticket_id=…, ticket_ref=…, event=…, from_state=…, to_state=…,
                             actor_id=…, actor_role=…)

- sender: the Flask app (receivers are connected per app, in `create_app`, with `sender=app`);
- ticket_id, ticket_ref: the ticket (reload it by id: the receiver runs after the commit);
- event, from_state (None for `submit`), to_state: the transition, as in the audit trail;
- actor_id (None for the system), actor_role ("system" for the system).

Receivers do after-commit work (auto-pay, fast-track rules on submit, …). They are connected in
one place, `_connect_receivers` in app/__init__.py, never at import time; no order among them
is promised. `send_transitioned` calls each receiver in isolation: a receiver that raises is
logged with the ticket ref, its session work is rolled back, the other receivers still run, and
the committed transition is never turned into an error response. A receiver whose work must not
be lost (money, mail) is backed by a periodic job (PERIODIC in app/jobs.py), because a crash
between the commit and the receiver loses it.
"""

from __future__ import annotations

import logging

from blinker import Namespace
from flask import current_app

from app.extensions import db

log = logging.getLogger(__name__)

_signals = Namespace()

ticket_transitioned = _signals.signal(
    "ticket-transitioned",
    doc="Sent after a workflow transition committed (see app/workflow/signals.py for the arguments).",
)


def send_transitioned(
    *,
    ticket_id: int,
    ticket_ref: str,
    event: str,
    from_state: str | None,
    to_state: str,
    actor_id: int | None,
    actor_role: str,
) -> None:
    """Call every receiver of `ticket_transitioned` for the current app, each in isolation."""
    sender = current_app._get_current_object()  # type: ignore[attr-defined]
    for receiver in list(ticket_transitioned.receivers_for(sender)):
        try:
            receiver(
                sender,
                ticket_id=ticket_id,
                ticket_ref=ticket_ref,
                event=event,
                from_state=from_state,
                to_state=to_state,
                actor_id=actor_id,
                actor_role=actor_role,
            )
        except Exception:  # the transition is committed: log, undo the receiver's work, go on
            db.session.rollback()
            log.exception(
                "ticket_transitioned receiver %s failed for ticket %s (%s: %s → %s)",
                getattr(receiver, "__qualname__", receiver),
                ticket_ref,
                event,
                from_state,
                to_state,
            )
