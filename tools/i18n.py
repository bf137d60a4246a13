"""Translation catalogs: extract, update, merge fragments, compile, check.

English is the msgid; Simplified Chinese (zh_Hans_CN) is the default language.

    python tools/i18n.py compile   # everyone (make run / make test): .po (+ fragments) → .mo
    python tools/i18n.py update    # developers: extract app/ and update the zh and en .po files
    python tools/i18n.py check     # every string of app/ has a Chinese translation (exit 1 if not)

Feature packages may ship their Chinese translations as app/translations/fragments/<name>.po
(msgid/msgstr pairs). They fill the gaps of the zh catalog when it is compiled; a translation in
the zh catalog itself wins.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
TRANSLATIONS = APP / "translations"
FRAGMENTS = TRANSLATIONS / "fragments"
ZH, EN = "zh_Hans_CN", "en"
LOCALES = (ZH, EN)
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "pgettext": ((1, "c"), 2),
    "lazy_pgettext": ((1, "c"), 2),
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def extract() -> Catalog:
    """Every user-visible string under app/ (Python and Jinja templates)."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    catalog = Catalog(project="Refundesk", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def fragments() -> list[tuple[Path, Catalog]]:
    return [(p, _read(p, ZH)) for p in sorted(FRAGMENTS.glob("*.po"))]


def merged(locale: str) -> Catalog:
    """The locale's catalog; for zh, with the fragments filling its untranslated entries."""
    catalog = _read(po_path(locale), locale)
    if locale != ZH:
        return catalog
    for _path, frag in fragments():
        for msg in frag:
            if not msg.id or not msg.string:
                continue
            mine = catalog.get(msg.id, context=msg.context)
            if mine is None:
                catalog.add(msg.id, msg.string, context=msg.context)
            elif not mine.string or mine.fuzzy:
                mine.string = msg.string
                mine.flags.discard("fuzzy")
    return catalog


def compile_catalogs() -> None:
    for locale in LOCALES:
        if not po_path(locale).exists():
            continue
        catalog = merged(locale)
        catalog.fuzzy = False
        with po_path(locale).with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)


def ensure_compiled() -> None:
    """Compile when a .mo is missing or older than its sources (cheap; used by the tests)."""
    sources = [ROOT / "babel.cfg", *FRAGMENTS.glob("*.po")]
    for locale in LOCALES:
        po = po_path(locale)
        mo = po.with_suffix(".mo")
        if po.exists() and (
            not mo.exists() or any(s.stat().st_mtime > mo.stat().st_mtime for s in [po, *sources] if s.exists())
        ):
            compile_catalogs()
            return


def update() -> None:
    template = extract()
    for locale in LOCALES:
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = _read(path, locale) if path.exists() else Catalog(locale=locale, project="Refundesk")
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, sort_output=True, ignore_obsolete=True, include_lineno=False)


def problems() -> list[str]:
    """Strings of app/ without a Chinese translation, and translations that lose a placeholder."""
    zh = merged(ZH)
    out = []
    for msg in extract():
        if not msg.id:
            continue
        mine = zh.get(msg.id, context=msg.context)
        msgid = msg.id if isinstance(msg.id, str) else msg.id[0]
        if mine is None or not mine.string or mine.fuzzy:
            out.append(f"untranslated: {msgid!r} ({', '.join(f'{f}:{n}' for f, n in msg.locations[:2])})")
            continue
        string = mine.string if isinstance(mine.string, str) else mine.string[0]
        if set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(string)):
            out.append(f"placeholders differ: {msgid!r} → {string!r}")
    return out


def main(argv: list[str]) -> int:
    cmd = argv[1] if len(argv) > 1 else "compile"
    if cmd == "compile":
        compile_catalogs()
    elif cmd == "update":
        update()
    elif cmd == "check":
        found = problems()
        print("\n".join(found) or "every string is translated")
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
