"""Imports every model module so the metadata (and Alembic) sees every table."""

from app.admin.models import AdminAction  # noqa: F401
from app.analytics.models import AnalyticsSnapshot, ComplainantFlag, ComplaintDaily  # noqa: F401
from app.auth.models import ApiToken, User  # noqa: F401
from app.evidence.models import Evidence  # noqa: F401
from app.kb.models import KbVersion  # noqa: F401
from app.merchants.models import (  # noqa: F401
    MerchantAction,
    MerchantCharge,
    MerchantLedgerEntry,
    Webhook,
    WebhookDelivery,
    WebhookHost,
)
from app.notifications.models import ChannelOptOut, ContactPoint, Delivery, Notification  # noqa: F401
from app.payouts.models import Payout  # noqa: F401
from app.sla.models import SlaRecord  # noqa: F401
from app.tickets.activity import TicketActivity  # noqa: F401
from app.tickets.counters import TicketStateCount  # noqa: F401
from app.tickets.macros import Macro  # noqa: F401
from app.tickets.models import Merchant, Message, Order, Ticket  # noqa: F401
from app.tickets.saved_views import SavedView  # noqa: F401
from app.tickets.tags import TicketTag  # noqa: F401
from app.workflow.models import Incident, TicketEvent  # noqa: F401
