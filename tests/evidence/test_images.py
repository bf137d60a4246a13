import io

import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from app.errors import EvidenceRejected
from app.evidence import images
from tests.evidence import helpers

GPS_IFD = ExifTags.IFD.GPSInfo


def jpeg_with_gps(path, size=(60, 40), orientation=1):
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyPhone"
    exif[ExifTags.Base.Model] = "X1"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 2.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (121.0, 28.0, 7.5)
    im = Image.new("RGB", size, "blue")
    im.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))  # left half red: lets us see the rotation
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:xmp="http://ns.adobe.com/xap/1.0/"/></x:xmpmeta>'
    im.save(path, "JPEG", exif=exif, icc_profile=srgb, xmp=xmp, comment=b"SpyPhone comment")
    with Image.open(path) as check:  # the fixture really carries GPS, XMP and ICC
        assert check.getexif().get_ifd(GPS_IFD)
        assert {"xmp", "icc_profile", "comment"} <= set(check.info)
    return path


def assert_no_metadata(path):
    with open(path, "rb") as f:
        data = f.read()
    assert b"Exif" not in data and b"SpyPhone" not in data and b"http://ns.adobe.com/xap" not in data
    with Image.open(path) as im:
        assert len(im.getexif()) == 0
        assert not im.getexif().get_ifd(GPS_IFD)
        assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"} & set(im.info)


def test_sanitized_copy_strips_gps_and_exif(tmp_path):
    src = jpeg_with_gps(tmp_path / "photo.jpg")
    dst = tmp_path / "clean.jpg"
    assert images.sanitized_copy(src, dst) == "JPEG"
    assert_no_metadata(dst)
    with Image.open(dst) as im:
        assert im.format == "JPEG" and im.size == (60, 40)


def test_sanitized_copy_applies_orientation(tmp_path):
    src = jpeg_with_gps(tmp_path / "rotated.jpg", size=(60, 40), orientation=6)  # "rotate 90° CW to view"
    dst = tmp_path / "clean.jpg"
    images.sanitized_copy(src, dst)
    assert_no_metadata(dst)
    with Image.open(dst) as im:
        assert im.size == (40, 60)
        top = im.getpixel((20, 5))
        assert top[0] > 200 and top[2] < 60  # the red left half is now on top


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    src, dst = tmp_path / "cmyk.jpg", tmp_path / "rgb.jpg"
    Image.new("CMYK", (20, 20), (0, 255, 255, 0)).save(src, "JPEG")
    images.sanitized_copy(src, dst)
    with Image.open(dst) as im:
        assert im.mode == "RGB" and im.getpixel((5, 5))[0] > 200


def test_sanitized_png_drops_text_chunks_and_keeps_alpha(tmp_path):
    src, dst = tmp_path / "a.png", tmp_path / "b.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret location")
    info.add_text("XML:com.adobe.xmp", "<x:xmpmeta>gps</x:xmpmeta>")
    Image.new("RGBA", (30, 20), (0, 255, 0, 128)).save(src, "PNG", pnginfo=info)
    assert images.sanitized_copy(src, dst) == "PNG"
    assert b"secret location" not in dst.read_bytes() and b"xmpmeta" not in dst.read_bytes()
    with Image.open(dst) as im:
        assert im.mode == "RGBA" and im.getpixel((0, 0)) == (0, 255, 0, 128)
        assert "Comment" not in im.info


def test_sanitized_gif_becomes_png_first_frame(tmp_path):
    src, dst = tmp_path / "a.gif", tmp_path / "b.png"
    frames = [Image.new("RGB", (20, 20), c) for c in ("red", "blue")]
    frames[0].save(src, "GIF", save_all=True, append_images=frames[1:], comment=b"hidden")
    assert images.sanitized_copy(src, dst) == "PNG"
    with Image.open(dst) as im:
        assert im.format == "PNG" and im.getpixel((5, 5))[:3] == (255, 0, 0)
    assert b"hidden" not in dst.read_bytes()


def test_sanitized_copy_format_override(tmp_path):
    src, dst = tmp_path / "a.png", tmp_path / "b.jpg"
    Image.new("RGBA", (10, 10), (255, 0, 0, 0)).save(src)
    assert images.sanitized_copy(src, dst, format="JPEG") == "JPEG"
    with Image.open(dst) as im:
        assert im.mode == "RGB" and im.getpixel((1, 1))[0] > 240  # transparency flattened on white
    with pytest.raises(ValueError):
        images.sanitized_copy(src, dst, format="TIFF")


@pytest.mark.parametrize("fmt", ["WEBP", "PNG", "JPEG"])
def test_thumbnail_size_and_format(tmp_path, fmt):
    src, dst = tmp_path / "big.png", tmp_path / "thumb"
    Image.new("RGB", (1000, 500), "white").save(src)
    assert images.make_thumbnail(src, dst, format=fmt) == (320, 160)
    with Image.open(dst) as im:
        assert im.format == fmt and im.size == (320, 160)


def test_thumbnail_of_rotated_photo_fits_box_and_has_no_gps(tmp_path):
    src, dst = jpeg_with_gps(tmp_path / "p.jpg", size=(600, 300), orientation=6), tmp_path / "t.jpg"
    assert images.make_thumbnail(src, dst, size=(320, 200), format="JPEG") == (100, 200)
    assert_no_metadata(dst)


def test_small_image_thumbnail_is_not_enlarged(tmp_path):
    src, dst = tmp_path / "s.png", tmp_path / "t.png"
    Image.new("RGB", (50, 30)).save(src)
    assert images.make_thumbnail(src, dst, format="PNG") == (50, 30)


def test_image_bomb_refused_everywhere(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(helpers.png_claiming(60_000, 60_000))
    for call in (
        lambda: images.sanitized_copy(bomb, tmp_path / "x.png"),
        lambda: images.make_thumbnail(bomb, tmp_path / "t.webp"),
        lambda: images.verify_image(bomb, "PNG"),
    ):
        with pytest.raises(EvidenceRejected, match="megapixels"):
            call()
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "t.webp").exists()


@pytest.fixture
def small_pixel_limit():
    images.set_max_pixels(10_000)
    yield
    images.set_max_pixels(images.DEFAULT_MAX_PIXELS)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_pixel_limit_is_configurable(tmp_path, small_pixel_limit):
    assert Image.MAX_IMAGE_PIXELS == images.max_pixels() == 10_000
    path = tmp_path / "a.png"
    Image.new("RGB", (101, 100)).save(path)  # 10,100 px: over the limit, under Pillow's 2x error
    with pytest.raises(EvidenceRejected):
        images.verify_image(path, "PNG")
    Image.new("RGB", (100, 100)).save(path)
    assert images.verify_image(path, "PNG") == (100, 100)


def test_default_pixel_limit():
    assert images.DEFAULT_MAX_PIXELS == 40_000_000 == Image.MAX_IMAGE_PIXELS


def test_verify_image_checks_the_format(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(helpers.image_bytes("JPEG"))
    with pytest.raises(EvidenceRejected):
        images.verify_image(path, "PNG")
    assert images.verify_image(path, "JPEG") == (64, 48)


def test_truncated_jpeg_refused(tmp_path):
    data = helpers.image_bytes("JPEG", size=(400, 400), color="green")
    path = tmp_path / "t.jpg"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(EvidenceRejected):
        images.verify_image(path, "JPEG")
    with pytest.raises(EvidenceRejected):
        images.sanitized_copy(path, tmp_path / "out.jpg")
    assert not (tmp_path / "out.jpg").exists()


def test_non_image_refused(tmp_path):
    path = tmp_path / "x.png"
    path.write_bytes(b"not an image at all")
    with pytest.raises(EvidenceRejected):
        images.sanitized_copy(path, tmp_path / "y.png")
    with pytest.raises(EvidenceRejected):
        images.make_thumbnail(io.BytesIO(b"\x89PNG\r\n\x1a\n junk"), tmp_path / "t.png")
