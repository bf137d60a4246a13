"""The catalog checks the suite runs (the same extraction as `make translations-update`)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import CommandLineInterface, parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
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


def _stale() -> bool:
    """A compiled catalog is missing or older than its .po. Catalogs whose header is fuzzy (English:
    the msgids are the text) are never compiled by pybabel, so they are not waited for."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        with po.open(encoding="utf-8") as fh:
            header = "".join(fh.readline() for _ in range(30))
        if "#, fuzzy" in header:
            continue
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            return True
    return False


def ensure_compiled() -> None:
    """`pybabel compile` when a catalog is stale (as `make translations` does). Several test workers
    may call it at once while others read the catalogs: one compiles at a time (a lock file), into a
    temporary folder, and each .mo is moved into place atomically — a reader never sees half a file."""
    import fcntl
    import hashlib
    import os
    import shutil
    import tempfile

    if not _stale():
        return
    lock = Path(tempfile.gettempdir()) / f"refundesk-i18n-{hashlib.sha1(str(TRANSLATIONS).encode()).hexdigest()[:12]}"
    with lock.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        if not _stale():  # another worker compiled while this one waited
            return
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / "translations"
            shutil.copytree(TRANSLATIONS, work, ignore=shutil.ignore_patterns("*.mo"))
            CommandLineInterface().run(["pybabel", "-q", "compile", "-d", str(work)])
            for mo in work.glob("*/LC_MESSAGES/messages.mo"):
                target = TRANSLATIONS / mo.relative_to(work)
                staged = target.with_suffix(".mo.tmp")
                shutil.copyfile(mo, staged)
                os.replace(staged, target)


def problems() -> list[str]:
    """Strings of app/ without a Chinese translation, and translations that lose a placeholder."""
    with (TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        zh = read_po(fh, locale="zh_Hans_CN")
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    out = []
    for filename, lineno, msgid, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        key = msgid if isinstance(msgid, str) else msgid[0]
        mine = zh.get(msgid, context=context)
        if mine is None or not mine.string or mine.fuzzy:
            out.append(f"untranslated: {key!r} ({filename}:{lineno})")
            continue
        string = mine.string if isinstance(mine.string, str) else mine.string[0]
        if set(PLACEHOLDER.findall(key)) != set(PLACEHOLDER.findall(string)):
            out.append(f"placeholders differ: {key!r} → {string!r}")
    return out
