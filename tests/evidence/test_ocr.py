import glob
import shutil
import subprocess

import pytest
from PIL import Image, ImageDraw, ImageFont

from app.evidence import ocr
from app.evidence.ocr import Facts, extract_facts, match_order, pdf_text
from tests.evidence import helpers


@pytest.mark.parametrize(
    "text,order_nos",
    [
        ("订单号：KM202611260001", ["KM202611260001"]),
        ("订 单 号 : KM202611260001", ["KM202611260001"]),  # tesseract's spaced-out Chinese
        ("订单编号: 202611261405031234567", ["202611261405031234567"]),
        ("Order No. SO-20261126-0042 shipped", ["SO-20261126-0042"]),
        ("卡密订单 KM202611260001 已发货，补单 KM202611260002", ["KM202611260001", "KM202611260002"]),
        ("recorder 12345678 order status: paid", []),
        ("no order here, phone 13800138000", []),
    ],
)
def test_extract_order_numbers(text, order_nos):
    assert extract_facts(text).order_nos == order_nos


@pytest.mark.parametrize(
    "text,cents",
    [
        ("金额：¥128.00", [12800]),
        ("实付 ￥12", [1200]),
        ("共计 12.34元", [1234]),
        ("金额: 12.34", [1234]),
        ("金额：１２．５", [1250]),  # full-width digits
        ("合计 ¥1,234.56 退款 RMB 99.9", [123456, 9990]),
        ("订单号 KM202611260001 时间 2026-11-26 14:05:03", []),
    ],
)
def test_extract_amounts(text, cents):
    assert extract_facts(text).amounts_cents == cents


@pytest.mark.parametrize(
    "text,stamps",
    [
        ("下单时间 2026-11-26 14:05:03", ["2026-11-26 14:05:03"]),
        ("2026/11/26 14:05", ["2026-11-26 14:05:00"]),
        ("2026年11月26日 14:05", ["2026-11-26 14:05:00"]),
        ("2026年11月26日14：05：09", ["2026-11-26 14:05:09"]),
        ("2026-13-45 14:05 is not a date", []),
        ("付款 2026-11-26 14:05:03 发货 2026-11-27 09:00", ["2026-11-26 14:05:03", "2026-11-27 09:00:00"]),
    ],
)
def test_extract_timestamps(text, stamps):
    assert extract_facts(text).timestamps == stamps


def test_extract_facts_dedupes_and_handles_empty():
    facts = extract_facts("订单号：KM202611260001 ¥5.00\n订单号：KM202611260001 金额 5.00")
    assert facts == Facts(["KM202611260001"], [500], [])
    assert extract_facts("") == Facts()


@pytest.mark.parametrize(
    "seen,order_no,amount,expected",
    [
        (Facts(["KM202611260001"], [12800]), "KM202611260001", 12800, ("exact", "match", True)),
        (Facts(["km-2026-1126-0001"], [12800]), "KM202611260001", 12800, ("exact", "match", True)),
        (Facts(["KM2O2611260OO1"], [12800]), "KM202611260001", 12800, ("fuzzy", "match", True)),
        (Facts(["KM202611269999"], [12800]), "KM202611260001", 12800, ("mismatch", "match", False)),
        (Facts(["KM202611260001"], [100]), "KM202611260001", 12800, ("exact", "mismatch", False)),
        (Facts([], []), "KM202611260001", 12800, ("absent", "absent", False)),
    ],
)
def test_match_order(seen, order_no, amount, expected):
    result = match_order(seen, order_no, amount)
    assert (result["order_no"], result["amount"], result["matched"]) == expected
    assert result["order_nos_seen"] == seen.order_nos


def test_pdf_text(tmp_path):
    path = tmp_path / "receipt.pdf"
    path.write_bytes(helpers.pdf_with_text("Order No: KM202611260001 Total: 128.00"))
    text = pdf_text(path)
    assert "KM202611260001" in text
    assert extract_facts(text).amounts_cents == [12800]


def test_pdf_text_of_damaged_pdf_is_empty(tmp_path):
    path = tmp_path / "bad.pdf"
    path.write_bytes(b"%PDF-1.4\n garbage \n%%EOF\n")
    assert pdf_text(path) == ""


def test_ocr_unavailable_without_tesseract(monkeypatch, tmp_path):
    monkeypatch.setattr(ocr.shutil, "which", lambda cmd: None)
    ocr.ocr_available.cache_clear()
    try:
        assert ocr.ocr_available() is False
        with pytest.raises(ocr.OCRUnavailable):
            ocr.ocr_image(tmp_path / "whatever.png")
    finally:
        ocr.ocr_available.cache_clear()


def _cjk_font(size: int):
    """A Simplified-Chinese Noto CJK font, or None."""
    candidates = sorted(glob.glob("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.tt[cf]"))
    if not candidates and shutil.which("fc-list"):
        listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout
        candidates = sorted(line.split(":")[0] for line in listed.splitlines() if line.strip())
    for path in candidates:
        for index in range(10):
            try:
                font = ImageFont.truetype(path, size, index=index)
            except OSError:
                break
            if "SC" in font.getname()[0] or not path.endswith(".ttc"):
                return font
    return None


def test_ocr_reads_order_from_screenshot(tmp_path):
    if not ocr.ocr_available():
        pytest.skip("tesseract with chi_sim+eng is not installed (apt: tesseract-ocr tesseract-ocr-chi-sim)")
    font = _cjk_font(40)
    if font is not None:
        lines = ["订单号：KM202611260001 金额：¥128.00", "下单时间：2026-11-26 14:05:03"]
    else:  # no CJK font: still exercise OCR + extraction with Latin text
        font = ImageFont.load_default(size=40)
        lines = ["Order No: KM202611260001 Amount: 128.00", "2026-11-26 14:05:03"]
    image = Image.new("RGB", (1100, 200), "white")
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((30, 30 + 80 * row), line, font=font, fill="black")
    path = tmp_path / "screenshot.png"
    image.save(path)

    facts = extract_facts(ocr.ocr_image(path))

    assert "KM202611260001" in facts.order_nos
    assert 12800 in facts.amounts_cents
    assert "2026-11-26 14:05:03" in facts.timestamps
    assert match_order(facts, "KM202611260001", 12800)["matched"] is True
