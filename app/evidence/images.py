"""Image safety: decompression-bomb guard, metadata-free re-encoding, thumbnails.

Importing this module sets Pillow's global ``Image.MAX_IMAGE_PIXELS`` to
DEFAULT_MAX_PIXELS; call ``set_max_pixels()`` (e.g. from create_app, with a config value)
to change it. Images above the limit are refused with EvidenceRejected: Pillow itself
raises above twice the limit, and ``open_image`` checks the limit exactly.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from app.errors import EvidenceRejected

DEFAULT_MAX_PIXELS = 40_000_000
register_heif_opener()  # HEIC/HEIF photos (iPhones) open as Pillow's "HEIF" format, decoded by libheif
_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "HEIF")
_SAVE_OPTIONS = {"JPEG": {"quality": 90}, "WEBP": {"quality": 90}, "PNG": {}}
_max_pixels = DEFAULT_MAX_PIXELS
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS


def set_max_pixels(max_pixels: int) -> None:
    """Configure the decompression-bomb limit (process-wide: also Pillow's own guard)."""
    global _max_pixels
    _max_pixels = int(max_pixels)
    Image.MAX_IMAGE_PIXELS = _max_pixels


def max_pixels() -> int:
    return _max_pixels


def _bomb() -> EvidenceRejected:
    return EvidenceRejected(_l("The image is too large (more than %(mp)s megapixels).", mp=_max_pixels // 1_000_000))


def _damaged() -> EvidenceRejected:
    return EvidenceRejected(_l("The image file is damaged or its content does not match its type."))


@contextlib.contextmanager
def open_image(path: str | os.PathLike, formats: tuple[str, ...] = _FORMATS) -> Iterator[Image.Image]:
    """Image.open restricted to *formats* (Pillow names) with the pixel limit enforced.

    Pillow errors (unidentified, truncated, bomb) become EvidenceRejected.
    """
    try:
        im = Image.open(path, formats=list(formats))
    except Image.DecompressionBombError:
        raise _bomb() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _damaged() from exc
    with im:
        width, height = im.size
        if width <= 0 or height <= 0 or width * height > _max_pixels:
            raise _bomb()
        try:
            yield im
        except Image.DecompressionBombError:
            raise _bomb() from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise _damaged() from exc


def verify_image(path: str | os.PathLike, pillow_format: str) -> tuple[int, int]:
    """Check the file opens as *pillow_format* (e.g. "PNG"), passes Pillow's verify(),
    is within the pixel limit and (JPEG) decodes at reduced scale. Return (width, height)."""
    with open_image(path, (pillow_format,)) as im:
        size = im.size
        im.verify()  # chunk CRCs for PNG; structure for the others
    if pillow_format == "JPEG":  # verify() is shallow for JPEG: decode at 1/8 scale, cheaply
        with open_image(path, ("JPEG",)) as im:
            im.draft("RGB", (max(1, size[0] // 8), max(1, size[1] // 8)))
            im.load()
    elif pillow_format == "HEIF":  # verify() reads the header only: decode it (within the pixel limit)
        with open_image(path, ("HEIF",)) as im:
            im.load()
    return size


def _without_metadata(im: Image.Image, target_format: str) -> Image.Image:
    """A fresh image holding only pixels: sRGB, orientation applied, no info/EXIF/XMP/ICC/text."""
    im.load()  # an image fresh from Image.open is at frame 0: animations keep their first frame only
    icc = im.info.get("icc_profile")
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    mode = "RGBA" if has_alpha and target_format != "JPEG" else ("L" if im.mode == "L" else "RGB")
    im = ImageOps.exif_transpose(im) or im  # before anything that would drop the EXIF orientation
    if icc and im.mode in ("RGB", "RGBA", "CMYK"):
        with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError):
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
            im = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode=out_mode) or im
    if im.mode != mode:
        if mode == "RGB" and has_alpha:  # flatten transparency onto white for JPEG
            rgba = im.convert("RGBA")
            clean = Image.new("RGB", rgba.size, "white")
            clean.paste(rgba, mask=rgba.getchannel("A"))
        else:
            clean = im.convert(mode)
    else:
        clean = im.copy()
    clean.info = {}
    return clean


def _save(clean: Image.Image, dst_path: str | os.PathLike, fmt: str) -> None:
    try:
        clean.save(dst_path, format=fmt, **_SAVE_OPTIONS[fmt])
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(dst_path)
        raise


def sanitized_copy(src_path: str | os.PathLike, dst_path: str | os.PathLike, format: str | None = None) -> str:
    """Re-encode the image at *src_path* into *dst_path* with no metadata; return the format written.

    Orientation from EXIF is applied to the pixels, colour converted to sRGB when an ICC
    profile is present, then every metadata block (EXIF incl. GPS, XMP, ICC, PNG text) is
    dropped. JPEG, PNG and WebP keep their format; GIF (and animations) become a PNG of
    the first frame; HEIC/HEIF become a JPEG (what every browser shows). *format* ("PNG", "JPEG",
    "WEBP") overrides the choice.
    """
    if format is not None and format.upper() not in _SAVE_OPTIONS:
        raise ValueError(f"unsupported output format {format!r}")
    with open_image(src_path) as im:
        found = im.format or "PNG"
        fmt = (format or {"GIF": "PNG", "HEIF": "JPEG"}.get(found, found)).upper()
        clean = _without_metadata(im, fmt)
    _save(clean, dst_path, fmt)
    return fmt


def make_thumbnail(
    src_path: str | os.PathLike, dst_path: str | os.PathLike, size: tuple[int, int] = (320, 320), format: str = "WEBP"
) -> tuple[int, int]:
    """Write a metadata-free thumbnail fitting in *size* (aspect kept) as PNG, JPEG or WEBP.

    Return the thumbnail's (width, height).
    """
    fmt = format.upper()
    if fmt not in _SAVE_OPTIONS:
        raise ValueError(f"unsupported thumbnail format {fmt!r}")
    with open_image(src_path) as im:
        box = size
        if im.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # rotated 90°: thumbnail box before transpose
            box = (size[1], size[0])
        im.thumbnail(box)  # uses JPEG draft mode: never decodes the full image needlessly
        clean = _without_metadata(im, fmt)
    _save(clean, dst_path, fmt)
    return clean.size
