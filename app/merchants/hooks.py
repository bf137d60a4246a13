"""Template helpers of the merchants package (registered in app/__init__.py)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.merchants import labels


def merchant_panel(ticket: Any) -> dict[str, Any]:
    """For staff ticket pages: the ticket's merchant, its score and collective group."""
    from app.merchants.collective import group_of
    from app.merchants.score import cached_score

    merchant = ticket.order.merchant
    return {"merchant": merchant, "score": cached_score(merchant.id), "group": group_of(ticket)}


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        ledger_kind_label=labels.ledger_kind_label,
        charge_status_label=labels.charge_status_label,
        standing_action_label=labels.standing_action_label,
        merchant_panel=merchant_panel,
        reissue_feedback_form=_reissue_feedback_form,
    )


def _reissue_feedback_form():
    from app.merchants.forms import ReissueFeedbackForm

    return ReissueFeedbackForm(formdata=None)
