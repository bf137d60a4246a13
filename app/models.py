"""Imports every model module so the metadata (and Alembic) sees every table."""
import importlib

from app.auth.models import ApiToken, User  # noqa: F401
from app.tickets.models import Merchant, Message, Order, Ticket  # noqa: F401
from app.workflow.models import TicketEvent  # noqa: F401

from app.notifications.models import Notification  # noqa: F401

for _module in ("app.evidence.models", "app.workflow.sla_models", "app.payouts.models"):
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as exc:  # the feature package has no models yet
        if exc.name != _module:
            raise
