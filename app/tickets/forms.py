"""Flask-WTF forms of the ticket pages. Field shapes only; workflow rules stay in the services."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import (
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.inputs import InputForm
from app.tickets.labels import CHANNEL_LABELS, KIND_LABELS, PRODUCT_TYPE_LABELS
from app.tickets.models import KINDS, PAYMENT_CHANNELS, PRODUCT_TYPES
from app.workflow.labels import STATE_LABELS
from app.workflow.machine import BY_TRIGGER, EVENTS, STATES

MAX_YUAN = Decimal("1000000000")


def yuan_to_cents(amount: Decimal | None) -> int | None:
    """¥12.34 → 1234, exactly (Decimal, never float)."""
    if amount is None:
        return None
    return int((amount * 100).to_integral_value())


def cents_to_yuan(cents: int | None) -> Decimal | None:
    return None if cents is None else (Decimal(cents) / 100).quantize(Decimal("0.01"))


def _two_places(form, field) -> None:
    if field.data is not None and field.data != field.data.quantize(Decimal("0.01")):
        raise ValidationError(_l("Use at most two decimals (fen)."))


class YuanField(DecimalField):
    """A money amount typed in yuan ("12.34", "12"); ¥ and commas are tolerated."""

    def process_formdata(self, valuelist):
        if valuelist:
            raw = (valuelist[0] or "").strip().replace("¥", "").replace("￥", "").replace(",", "")
            if not raw:
                self.data = None
                return
            try:
                self.data = Decimal(raw)
            except (InvalidOperation, ValueError):
                self.data = None
                raise ValueError(str(_l("Enter an amount like 12.34."))) from None
            if not self.data.is_finite():
                self.data = None
                raise ValueError(str(_l("Enter an amount like 12.34.")))


def _money_validators(required: bool):
    first = InputRequired(_l("Enter an amount.")) if required else Optional()
    return [first, NumberRange(min=Decimal(0), max=MAX_YUAN, message=_l("Enter an amount of 0 or more.")), _two_places]


class KindField(RadioField):
    def pre_validate(self, form) -> None:
        if self.data not in KINDS:
            raise ValidationError(_l("Choose what went wrong."))


class TicketForm(InputForm):
    """A customer's complaint/refund on one of their orders."""

    kind = KindField(
        _l("What went wrong?"),
        choices=[SelectChoice(k, KIND_LABELS[k]) for k in KINDS],
        validators=[InputRequired(_l("Choose what went wrong."))],
    )
    description = TextAreaField(
        _l("Describe what happened"),
        validators=[DataRequired(_l("Tell us in a few words what happened.")), Length(max=5000)],
    )
    amount = YuanField(_l("Amount to refund (¥)"), places=2, validators=_money_validators(True))


# Which inputs each event's form shows (reason_required comes from the machine).
EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "request_evidence": ("items", "reason"),
    "provide_evidence": ("reason",),
    "start_review": (),
    "approve": ("amount", "reason"),
    "reject": ("reason",),
    "resolve": ("reason",),
    "return_to_review": ("reason",),
    "pay": ("reference",),
    "withdraw": ("reason",),
    "appeal": ("reason",),
    "reopen": ("reason",),
    "merge": ("into", "reason"),
    "escalate": ("amount", "reason"),
}


class EventForm(InputForm):
    """One workflow event; the page shows only the inputs EVENT_FIELDS names for it."""

    event = HiddenField(validators=[DataRequired(), Length(max=30)])
    version = IntegerField(validators=[Optional()])
    # No Optional() on these: it would skip the validate_<field> checks below when they are empty.
    reason = TextAreaField(_l("Reason"), validators=[Length(max=5000)])
    amount = YuanField(_l("Amount (¥)"), places=2, validators=_money_validators(False))
    checklist = SelectMultipleField(
        _l("From the checklist"), choices=[], validate_choice=False, validators=[Optional()]
    )
    items = TextAreaField(
        _l("Anything else the customer should send (one item per line)"), validators=[Length(max=4000)]
    )
    reference = StringField(_l("Payout reference"), validators=[Length(max=200)])
    into = StringField(_l("The ticket to keep (its ref)"), validators=[Length(max=24)])

    def validate_event(self, field) -> None:
        if field.data not in EVENTS:
            raise ValidationError(_l("Unknown action."))

    def validate_items(self, field) -> None:
        if self.event.data == "request_evidence":
            if not self.item_list():
                raise ValidationError(_l("Name at least one item the customer should send."))
            if len(self.item_list()) > 20 or any(len(i) > 200 for i in self.item_list()):
                raise ValidationError(_l("At most 20 items of up to 200 characters each."))

    def validate_reason(self, field) -> None:
        t = BY_TRIGGER.get(self.event.data or "")
        if t is not None and t.reason_required and not (field.data or "").strip():
            raise ValidationError(_l("Required."))

    def validate_reference(self, field) -> None:
        if self.event.data == "pay" and not (field.data or "").strip():
            raise ValidationError(_l("Enter the payout reference of the payment channel."))

    def item_list(self) -> list[str]:
        """Checklist codes ticked, then the free-text lines."""
        ticked = [c.strip() for c in (self.checklist.data or []) if c and c.strip()]
        return ticked + [line.strip() for line in (self.items.data or "").splitlines() if line.strip()]

    def service_kwargs(self) -> dict:
        """The arguments of workflow.service.apply_event for this submission."""
        event = self.event.data
        reason = (self.reference.data if event == "pay" else self.reason.data) or None
        kwargs = {
            "reason": reason.strip() if reason else None,
            "version": self.version.data,
            "amount_cents": yuan_to_cents(self.amount.data) if event in ("approve", "escalate") else None,
            "items": self.item_list() if event == "request_evidence" else None,
        }
        if event == "pay":
            kwargs["payload"] = {"reference": kwargs["reason"]}
        if event == "merge":
            kwargs["payload"] = {"into": (self.into.data or "").strip()}
        return kwargs


class MessageForm(InputForm):
    """A public reply (customer and agents) or an internal note (staff only)."""

    body = TextAreaField(_l("Message"), validators=[DataRequired(_l("Write a message first.")), Length(max=5000)])
    internal = HiddenField(default="0")
    version = IntegerField(validators=[Optional()])

    @property
    def is_internal(self) -> bool:
        return self.internal.data == "1"


class AssignForm(InputForm):
    """Claim (assignee = me) or assign a ticket to an agent (0 = nobody)."""

    assignee = SelectField(_l("Assignee"), coerce=int, validate_choice=False)
    version = IntegerField(validators=[Optional()])


class QueueFilterForm(InputForm):
    """The queue's filters, read from the query string (no CSRF: a GET form)."""

    class Meta:
        csrf = False

    state = SelectField(
        _l("State"),
        default="",
        validators=[Optional()],
        choices=[SelectChoice("", _l("All states")), *(SelectChoice(s, STATE_LABELS[s]) for s in STATES if s != "new")],
    )
    kind = SelectField(
        _l("Kind"),
        default="",
        validators=[Optional()],
        choices=[SelectChoice("", _l("All kinds")), *(SelectChoice(k, KIND_LABELS[k]) for k in KINDS)],
    )
    q = StringField(_l("Search"), validators=[Optional(), Length(max=200)])
    who = SelectField(
        _l("Assigned"),
        default="all",
        validate_choice=False,  # a saved view may name one agent (digits), checked below
        choices=[
            SelectChoice("all", _l("Everyone's")),
            SelectChoice("mine", _l("Mine")),
            SelectChoice("unassigned", _l("Unassigned")),
        ],
    )
    sla = SelectField(
        _l("SLA"),
        default="",
        validators=[Optional()],
        choices=[
            SelectChoice("", _l("Any SLA")),
            SelectChoice("warning", _l("Due soon")),
            SelectChoice("breached", _l("Overdue")),
        ],
    )
    flag = SelectField(
        _l("Marked"),
        default="",
        validators=[Optional()],
        choices=[
            SelectChoice("", _l("Any")),
            SelectChoice("replied", _l("Customer replied")),
            SelectChoice("appealed", _l("Appealed")),
            SelectChoice("urged", _l("Urged")),
            SelectChoice("escalated", _l("Escalated to managers")),
        ],
    )
    merchant = StringField(_l("Merchant code"), validators=[Optional(), Length(max=64)])
    product_type = SelectField(
        _l("Product type"),
        default="",
        validators=[Optional()],
        choices=[
            SelectChoice("", _l("Any product type")),
            *(SelectChoice(t, PRODUCT_TYPE_LABELS[t]) for t in PRODUCT_TYPES),
        ],
    )
    channel = SelectField(
        _l("Payment channel"),
        default="",
        validators=[Optional()],
        choices=[SelectChoice("", _l("Any channel")), *(SelectChoice(c, CHANNEL_LABELS[c]) for c in PAYMENT_CHANNELS)],
    )
    view = IntegerField(validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
    cursor = HiddenField()

    def validate_who(self, field) -> None:
        v = field.data or "all"
        if v not in ("all", "mine", "unassigned") and not (v.isascii() and v.isdigit() and len(v) <= 9):
            raise ValidationError(_l("Not a valid choice."))

    def filters(self) -> dict[str, str]:
        """The filters a saved view keeps (saved_views.FILTER_KEYS)."""
        return {
            "state": self.state.data or "",
            "kind": self.kind.data or "",
            "who": self.who.data or "all",
            "sla": self.sla.data or "",
            "merchant": (self.merchant.data or "").strip(),
            "flag": self.flag.data or "",
            "product_type": self.product_type.data or "",
            "channel": self.channel.data or "",
        }


class SavedViewForm(InputForm):
    """Save the queue's current filters under a name (shared: managers only)."""

    name = StringField(_l("View name"), validators=[DataRequired(_l("Give the view a name.")), Length(max=80)])
    shared = HiddenField(default="0")
    state = HiddenField()
    kind = HiddenField()
    who = HiddenField()
    sla = HiddenField()
    merchant = HiddenField()
    flag = HiddenField()
    product_type = HiddenField()
    channel = HiddenField()

    def filters(self) -> dict[str, str]:
        keys = ("state", "kind", "who", "sla", "merchant", "flag", "product_type", "channel")
        return {k: getattr(self, k).data or "" for k in keys}


class RenameViewForm(InputForm):
    name = StringField(_l("View name"), validators=[DataRequired(_l("Give the view a name.")), Length(max=80)])


class BulkForm(InputForm):
    """One action on the tickets ticked in the queue (`ref`, repeated)."""

    action = SelectField(
        _l("With the selected tickets"),
        choices=[
            SelectChoice("assign", _l("Assign")),
            SelectChoice("request_evidence", _l("Request the same evidence")),
            SelectChoice("tag", _l("Add a tag")),
            SelectChoice("merge", _l("Merge into another ticket")),
        ],
    )
    ref = SelectMultipleField(validate_choice=False, validators=[Optional()])
    assignee = StringField(_l("Assign to"), default="me", validators=[Optional(), Length(max=10)])
    items = TextAreaField(_l("Evidence to ask for (one item per line)"), validators=[Length(max=4000)])
    checklist = SelectMultipleField(choices=[], validate_choice=False, validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    tag = StringField(_l("Tag"), validators=[Length(max=40)])
    into = StringField(_l("The ticket to keep (its ref)"), validators=[Length(max=24)])
    back = HiddenField(validators=[Length(max=2000)])

    def validate_assignee(self, field) -> None:
        v = field.data or "me"
        if v not in ("me", "none") and not (v.isascii() and v.isdigit() and len(v) <= 9):
            raise ValidationError(_l("Not a valid choice."))

    def validate_ref(self, field) -> None:
        if len(field.data or []) > 100 or any(len(r) > 24 for r in field.data or []):
            raise ValidationError(_l("At most %(n)s tickets at once.", n=100))

    def item_list(self) -> list[str]:
        ticked = [c.strip() for c in (self.checklist.data or []) if c and c.strip()]
        return ticked + [line.strip() for line in (self.items.data or "").splitlines() if line.strip()][:20]


class MacroForm(InputForm):
    """A canned reply (managers and admins)."""

    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the macro a name.")), Length(max=80)])
    language = SelectField(
        _l("Written in"), choices=[SelectChoice("zh", _l("Chinese")), SelectChoice("en", _l("English"))], default="zh"
    )
    kind = SelectField(
        _l("For tickets of kind"),
        default="",
        validators=[Optional()],
        choices=[SelectChoice("", _l("Every kind")), *(SelectChoice(k, KIND_LABELS[k]) for k in KINDS)],
    )
    body = TextAreaField(
        _l("Reply"), validators=[DataRequired(_l("Write the reply.")), Length(max=4000)], render_kw={"rows": 5}
    )
