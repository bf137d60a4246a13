"""Customer and agent pages for tickets (HTML)."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app.tickets import services
from app.tickets.serializers import timeline

bp = Blueprint("tickets", __name__)


@bp.get("/")
@login_required
def home():
    return render_template("tickets/home.html", user=current_user)


@bp.get("/t/<token>")
def tracker(token: str):
    """The progress page reachable with the unguessable tracker link, without logging in."""
    ticket = services.ticket_by_tracker(token)
    return render_template("tickets/tracker.html", ticket=ticket, events=timeline(ticket))
