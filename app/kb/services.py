"""Knowledge-base verbs: read a page (its highest version, else the built-in text), save and restore
(admins; each a new version row with its author and time, audited), and write the built-in pages.

Saves are optimistic: the editor sends the version number it started from; if another save came
first (or two race: the unique (kind, lang, number) key), the later one is a `Conflict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.auth.permissions import can
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.i18n import current_locale
from app.kb.defaults import LANGS, default_page
from app.kb.models import KbVersion
from app.kb.render import MAX_BODY, render
from app.tickets.models import KINDS
from app.types import utcnow


@dataclass
class Page:
    kind: str
    lang: str
    title: str
    body: str  # Markdown
    number: int  # 0: the built-in text, never saved
    author: User | None = None
    created_at: datetime | None = None
    restored_from: int | None = None

    @property
    def html(self) -> Markup:
        return render(self.body)


def page_lang() -> str:
    """The page language for the current request: "en" in the English UI, else "zh"."""
    return "en" if str(current_locale()) == "en" else "zh"


def _check(kind: str, lang: str) -> None:
    if kind not in KINDS or lang not in LANGS:
        raise NotFound(str(_l("No such page.")))


def _require_editor(actor: User) -> None:
    if not can(actor, "kb_edit"):
        raise Forbidden(str(_l("Your account has no access to this page.")))


def _page(v: KbVersion) -> Page:
    return Page(v.kind, v.lang, v.title, v.body, v.number, v.author, v.created_at, v.restored_from)


def _latest(kind: str, lang: str) -> KbVersion | None:
    q = select(KbVersion).where(KbVersion.kind == kind, KbVersion.lang == lang)
    return db.session.scalar(q.options(joinedload(KbVersion.author)).order_by(KbVersion.number.desc()).limit(1))


def current(kind: str, lang: str) -> Page:
    """The page shown for `kind` in `lang`: its newest version, or the built-in text."""
    _check(kind, lang)
    latest = _latest(kind, lang)
    if latest is not None:
        return _page(latest)
    title, body = default_page(kind, lang)
    return Page(kind, lang, title, body, 0)


def pages(lang: str) -> list[Page]:
    """Every kind's current page in `lang`, in KINDS order (one query)."""
    _check(KINDS[0], lang)
    newest = (
        select(KbVersion.kind, func.max(KbVersion.number).label("n"))
        .where(KbVersion.lang == lang)
        .group_by(KbVersion.kind)
    ).subquery()
    rows = db.session.scalars(
        select(KbVersion)
        .join(newest, (KbVersion.kind == newest.c.kind) & (KbVersion.number == newest.c.n))
        .where(KbVersion.lang == lang)
    )
    saved = {v.kind: _page(v) for v in rows}
    return [saved.get(kind) or Page(kind, lang, *default_page(kind, lang), 0) for kind in KINDS]


def history(kind: str, lang: str, actor: User) -> list[KbVersion]:
    """Every saved version of the page, newest first (admins)."""
    _require_editor(actor)
    _check(kind, lang)
    q = select(KbVersion).where(KbVersion.kind == kind, KbVersion.lang == lang)
    return list(db.session.scalars(q.options(joinedload(KbVersion.author)).order_by(KbVersion.number.desc())))


def version(kind: str, lang: str, number: int, actor: User) -> Page:
    _require_editor(actor)
    _check(kind, lang)
    q = select(KbVersion).where(KbVersion.kind == kind, KbVersion.lang == lang, KbVersion.number == number)
    found = db.session.scalar(q.options(joinedload(KbVersion.author)))
    if found is None:
        raise NotFound(str(_l("No such version.")))
    return _page(found)


def save(
    kind: str, lang: str, title: str, body: str, actor: User, *, base: int, restored_from: int | None = None
) -> KbVersion:
    """A new version of the page by `actor`, on top of version `base` (what the editor started from)."""
    _require_editor(actor)
    _check(kind, lang)
    title, body = (title or "").strip(), (body or "").strip() + "\n"
    if not title or not body.strip():
        raise Invalid(str(_l("A page needs a title and a text.")), fields={"title": ["required"]})
    if len(title) > 200 or len(body) > MAX_BODY:
        raise Invalid(str(_l("The page is too long.")), fields={"body": [f"at most {MAX_BODY} characters"]})
    now = current(kind, lang)
    if now.number != base:
        raise Conflict(str(_l("Someone else saved this page first. Reload it and make your change again.")))
    if (now.title, now.body.strip()) == (title, body.strip()):
        raise Invalid(str(_l("Nothing changed.")), fields={"body": ["unchanged"]})
    at = utcnow()
    if now.number == 0:  # the built-in text becomes version 1, so history shows what was there
        db.session.add(KbVersion(kind=kind, lang=lang, number=1, title=now.title, body=now.body, created_at=at))
    row = KbVersion(
        kind=kind,
        lang=lang,
        number=max(now.number, 1) + 1,
        title=title,
        body=body,
        author_id=actor.id,
        restored_from=restored_from,
        created_at=at,
    )
    db.session.add(row)
    try:
        db.session.flush()
        from app.admin.services import record

        action = "kb_page_restored" if restored_from is not None else "kb_page_saved"
        record(actor, action, "kb_page", row.id, f"{kind}/{lang} v{row.number}", restored_from=restored_from)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(str(_l("Someone else saved this page first. Reload it and make your change again.")))
    return row


def restore(kind: str, lang: str, number: int, actor: User, *, base: int) -> KbVersion:
    """Make old version `number` current again: a new version with its text (history stays whole)."""
    old = version(kind, lang, number, actor)
    return save(kind, lang, old.title, old.body, actor, base=base, restored_from=number)


def ensure_defaults() -> int:
    """Write the built-in text as version 1 of every page that has none (seed-demo); how many were written."""
    have = {(k, lang) for k, lang in db.session.execute(select(KbVersion.kind, KbVersion.lang).distinct())}
    written = 0
    for kind in KINDS:
        for lang in LANGS:
            if (kind, lang) not in have:
                title, body = default_page(kind, lang)
                db.session.add(KbVersion(kind=kind, lang=lang, number=1, title=title, body=body, created_at=utcnow()))
                written += 1
    db.session.commit()
    return written
