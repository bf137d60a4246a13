"""Text out of evidence: OCR of screenshots, text of PDFs, and the facts we look for in it
(order numbers, amounts, timestamps), matched against the order a ticket is about.

Needs the tesseract binary with the chi_sim language (Debian: tesseract-ocr,
tesseract-ocr-chi-sim) for OCR; ``ocr_available()`` says whether it is there.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from PIL import ImageOps

from app.evidence.images import open_image

log = logging.getLogger(__name__)

OCR_LANG = "chi_sim+eng"


class OCRUnavailable(RuntimeError):
    """tesseract (or its chi_sim/eng data) is not installed."""


@functools.cache
def ocr_available() -> bool:
    """True when pytesseract, the tesseract binary and the chi_sim + eng languages are present.

    Cached for the process; call ``ocr_available.cache_clear()`` to look again.
    """
    try:
        import pytesseract
    except ImportError:
        return False
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        return False
    try:
        languages = set(pytesseract.get_languages(config=""))
    except Exception:  # binary present but broken
        log.warning("tesseract is installed but does not run", exc_info=True)
        return False
    return {"chi_sim", "eng"} <= languages


def ocr_image(path: str | os.PathLike, lang: str = OCR_LANG, timeout: float = 60) -> str:
    """The text tesseract reads in the image at *path* (any accepted image format).

    Raises OCRUnavailable without tesseract, EvidenceRejected for a bomb/damaged image,
    RuntimeError when tesseract runs longer than *timeout* seconds.
    """
    if not ocr_available():
        raise OCRUnavailable("tesseract with chi_sim+eng is not installed")
    import pytesseract

    with open_image(path) as im:
        im.load()
        gray = ImageOps.exif_transpose(im).convert("L")
    if max(gray.size) < 1000:  # small screenshots: tesseract reads glyphs ~30 px high best
        gray = gray.resize((gray.width * 2, gray.height * 2))
    return pytesseract.image_to_string(gray, lang=lang, timeout=timeout)


def pdf_text(path: str | os.PathLike, max_pages: int = 50, max_chars: int = 200_000) -> str:
    """The embedded text of a PDF's first *max_pages* pages ("" if none or unreadable).

    Scanned PDFs (pages that are only images) give "" — they are not OCRed here.
    """
    from pypdf import PdfReader

    parts: list[str] = []
    try:
        reader = PdfReader(os.fspath(path))
        if reader.is_encrypted and not reader.decrypt(""):
            return ""
        total = 0
        for page in reader.pages[:max_pages]:
            text = page.extract_text() or ""
            parts.append(text)
            total += len(text)
            if total >= max_chars:
                break
    except Exception:  # hostile or damaged PDFs: text extraction is best effort
        log.info("no text extracted from PDF %s", path, exc_info=True)
    return "\n".join(parts)[:max_chars]


@dataclass
class Facts:
    order_nos: list[str] = field(default_factory=list)
    amounts_cents: list[int] = field(default_factory=list)
    timestamps: list[str] = field(default_factory=list)  # "YYYY-MM-DD HH:MM:SS"


_CJK_GAP = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff])[ \t]+(?=[\u3000-\u303f\u4e00-\u9fff:])")
_ORDER_LABELED = re.compile(
    r"(?:订单编号|订单号|订单|单号|交易号|交易单号|流水号|(?<![A-Za-z])order\s*(?:no\.?|id|number|#)?)"
    r"\s*[:#]?\s*([A-Za-z0-9][A-Za-z0-9_-]{5,39})(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_ORDER_BARE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,6}[0-9]{8,32})(?![A-Za-z0-9])")
_NUM = r"([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]{1,2}))?(?![0-9])"
_AMOUNTS = [
    re.compile(r"(?:¥|RMB|CNY)\s*" + _NUM, re.IGNORECASE),
    re.compile(r"(?<![0-9.,])" + _NUM + r"\s*元"),
    re.compile(
        r"(?:金额|实付款|实付|支付金额|付款金额|订单金额|退款金额|合计|总计|总价|amount|total)"
        r"\s*[:]?\s*(?:¥|RMB|CNY)?\s*" + _NUM,
        re.IGNORECASE,
    ),
]
_TIMESTAMP = re.compile(
    r"(?<![0-9])([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?\s*T?\s*"
    r"([0-9]{1,2})\s*:\s*([0-9]{2})(?:\s*:\s*([0-9]{2}))?(?![0-9])"
)


def _normalize(text: str) -> str:
    """Full-width → ASCII (NFKC: ￥→¥, ：→:, １→1) and no OCR spaces between Chinese characters."""
    return _CJK_GAP.sub("", unicodedata.normalize("NFKC", text or ""))


def _unique(items):
    return list(dict.fromkeys(items))


def extract_facts(text: str) -> Facts:
    """Order numbers, amounts (in cents) and timestamps seen in *text* (OCR or PDF output)."""
    text = _normalize(text)
    orders = [m.group(1) for m in _ORDER_LABELED.finditer(text) if any(c.isdigit() for c in m.group(1))]
    orders += [m.group(1) for m in _ORDER_BARE.finditer(text)]
    amounts = []
    for pattern in _AMOUNTS:
        for m in pattern.finditer(text):
            whole, frac = m.group(1).replace(",", ""), (m.group(2) or "").ljust(2, "0")
            amounts.append(int(whole) * 100 + int(frac))
    stamps = []
    for m in _TIMESTAMP.finditer(text):
        try:
            y, mo, d, h, mi, sec = (int(g or 0) for g in m.groups())
            moment = datetime(y, mo, d, h, mi, sec)
        except ValueError:  # 2026-13-45 and the like
            continue
        stamps.append(moment.strftime("%Y-%m-%d %H:%M:%S"))
    return Facts(_unique(orders), _unique(amounts), _unique(stamps))


_CONFUSABLE = str.maketrans("OQDILZSB", "00011258")


def _canon(order_no: str) -> str:
    return re.sub(r"[\s_-]", "", order_no).upper()


def match_order(facts: Facts, order_no: str, amount_cents: int) -> dict:
    """Compare what the evidence shows with the ticket's order.

    ``order_no``: "exact" (same after case/separators), "fuzzy" (same once OCR look-alikes
    O/0, I/1, S/5… are folded), "mismatch" (other numbers seen) or "absent".
    ``amount``: "match", "mismatch" or "absent". ``matched``: order number found and amount matches.
    """
    wanted = _canon(order_no)
    seen = [_canon(o) for o in facts.order_nos]
    if wanted in seen:
        order_status = "exact"
    elif wanted.translate(_CONFUSABLE) in {s.translate(_CONFUSABLE) for s in seen}:
        order_status = "fuzzy"
    else:
        order_status = "mismatch" if seen else "absent"
    if not facts.amounts_cents:
        amount_status = "absent"
    else:
        amount_status = "match" if amount_cents in facts.amounts_cents else "mismatch"
    return {
        "order_no": order_status,
        "amount": amount_status,
        "matched": order_status in ("exact", "fuzzy") and amount_status == "match",
        "order_nos_seen": list(facts.order_nos),
        "amounts_cents_seen": list(facts.amounts_cents),
    }
