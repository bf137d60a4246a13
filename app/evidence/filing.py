"""Evidence chosen on the new-ticket form: one file slot per checklist item of the kind, plus "other".

The form shows the slots of every kind, grouped (static/app.js shows only the chosen kind's group
and disables the others). A file in a slot is attached with that checklist item's code
(`Evidence.item_code`), so when an agent later requests the item it already counts as provided
(app/evidence/items.py). The files are checked (type, size, count) before the ticket is created:
a refused file comes back next to its slot and nothing is filed.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage, MultiDict

from app.errors import DomainError
from app.evidence import services
from app.evidence.checklists import checklist_for

OTHER_FIELD = "evidence"  # the "other files" input (multiple)


@dataclass(frozen=True)
class Slot:
    kind: str
    code: str
    label: str
    hint: str

    @property
    def field(self) -> str:
        return f"evidence-{self.kind}-{self.code}"


@dataclass(frozen=True)
class SlotGroup:
    kind: str
    label: str
    slots: list[Slot]


@dataclass(frozen=True)
class Chosen:
    """One file chosen on the form: the input it came in and the checklist item it is for (None: other)."""

    field: str
    code: str | None
    file: FileStorage


def slots_for(kind: str) -> list[Slot]:
    return [Slot(kind, i.code, str(i.label), str(i.hint)) for i in checklist_for(kind)]


def slot_groups() -> list[SlotGroup]:
    """The slots of every kind, in the order of the kind choices."""
    from app.tickets.labels import KIND_LABELS
    from app.tickets.models import KINDS

    return [SlotGroup(k, str(KIND_LABELS[k]), slots_for(k)) for k in KINDS]


def chosen_files(files: MultiDict, kind: str) -> list[Chosen]:
    """The files of the form: the chosen kind's slots with their item, then the "other" input.

    A file left in another kind's slot (no JavaScript, the customer changed their mind) counts
    for the item of the same code when the chosen kind has it, else as an other file."""
    codes = {s.code for s in slots_for(kind)}
    out: list[Chosen] = []
    for name in files:
        if not name.startswith("evidence-"):
            continue
        for f in files.getlist(name):
            if f and f.filename:
                code = name.removeprefix(f"evidence-{kind}-") if name.startswith(f"evidence-{kind}-") else None
                if code is None:
                    code = next((c for c in codes if name.endswith("-" + c)), None)
                out.append(Chosen(name, code if code in codes else None, f))
    out += [Chosen(OTHER_FIELD, None, f) for f in files.getlist(OTHER_FIELD) if f and f.filename]
    return out


def check_chosen(chosen: list[Chosen]) -> dict[str, str]:
    """Input name → why its file would be refused, before the ticket exists (empty: all fine)."""
    errors: dict[str, str] = {}
    limit = services.limits().max_files_per_ticket
    if len(chosen) > limit:
        errors[OTHER_FIELD] = str(_l("A ticket can hold at most %(n)s files.", n=limit))
    for c in chosen:
        if c.field in errors:
            continue
        try:
            services.check_file(c.file.stream)
        except DomainError as exc:
            errors[c.field] = str(_l("%(name)s: %(why)s", name=c.file.filename, why=exc.message))
    return errors


def attach_chosen(ticket, chosen: list[Chosen], user) -> list[tuple[str, str]]:
    """Attach the checked files to the new ticket; (file name, why) of any that still failed."""
    failed = []
    for c in chosen:
        try:
            services.attach_evidence(ticket, c.file.stream, c.file.filename or "", user, checklist_code=c.code)
        except DomainError as exc:
            failed.append((c.file.filename or "", str(exc.message)))
    return failed
