"""Decoding untrusted bytes: formats, limits, orientation, colour modes."""

import base64
import resource
import struct

import pytest
from PIL import Image

from moodlens.predict import image_io
from tests.support import images

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000

pytestmark = pytest.mark.unit


def test_base64_and_data_url_give_the_same_bytes():
    data = b"\x89PNG any bytes"
    encoded = base64.b64encode(data).decode()
    assert image_io.base64_payload(encoded, MAX_BYTES) == data
    assert image_io.base64_payload("data:image/png;base64," + encoded, MAX_BYTES) == data
    assert image_io.base64_payload("data:image/jpeg;charset=utf-8;base64," + encoded, MAX_BYTES) == data
    # Line-wrapped (MIME style) and unpadded base64, as some clients send it.
    assert image_io.base64_payload(encoded[:8] + "\n" + encoded[8:].rstrip("="), MAX_BYTES) == data


@pytest.mark.parametrize("text", ["not base64 at all!", "data:image/png;base64,@@@@", "abc$"])
def test_invalid_base64_is_rejected(text):
    with pytest.raises(image_io.ImageRejected):
        image_io.base64_payload(text, MAX_BYTES)


def test_base64_over_the_byte_limit_is_rejected_before_decoding():
    with pytest.raises(image_io.ImageRejected):
        image_io.base64_payload("A" * (MAX_BYTES * 4 // 3 + 8), MAX_BYTES)


def test_grayscale_png_becomes_rgb(photos_dir):
    grey = images.open_photo(photos_dir).convert("L")
    decoded = image_io.decode(images.encode(grey), MAX_PIXELS)
    assert decoded.mode == "RGB" and decoded.size == grey.size
    assert decoded.getpixel((100, 100)) == (grey.getpixel((100, 100)),) * 3


def test_sixteen_bit_greyscale_keeps_its_tones():
    ramp = Image.linear_gradient("L").resize((64, 64)).point(lambda v: v * 257, mode="I").convert("I;16")
    decoded = image_io.decode(images.encode(ramp), MAX_PIXELS)
    low, high = decoded.convert("L").getextrema()
    assert low < 10 and high > 245


def test_transparent_areas_become_white(photos_dir):
    decoded = image_io.decode(images.encode(images.with_alpha(images.open_photo(photos_dir))), MAX_PIXELS)
    assert decoded.mode == "RGB"
    assert decoded.getpixel((5, 5)) == (255, 255, 255)
    assert decoded.getpixel((250, 200)) != (255, 255, 255)


def test_exif_orientation_6_is_applied(photos_dir):
    upright = images.open_photo(photos_dir)
    stored = images.exif_rotated_jpeg(upright)
    with Image.open(images.io.BytesIO(stored)) as raw:
        assert raw.size == (375, 500)
    decoded = image_io.decode(stored, MAX_PIXELS)
    assert decoded.size == (500, 375)
    # Same picture as the upright original, up to JPEG noise.
    assert abs(decoded.convert("L").getpixel((140, 190)) - upright.convert("L").getpixel((140, 190))) < 20


@pytest.mark.parametrize("fmt", ["TIFF", "ICO", "PDF"])
def test_formats_we_do_not_take_are_rejected(fmt):
    with pytest.raises(image_io.ImageRejected):
        image_io.decode(images.encode(Image.new("RGB", (32, 32)), fmt), MAX_PIXELS)


def test_truncated_jpeg_is_rejected(photos_dir):
    jpeg = (photos_dir / images.FACES_PHOTO).read_bytes()
    with pytest.raises(image_io.ImageRejected):
        image_io.decode(jpeg[: len(jpeg) // 3], MAX_PIXELS)


@pytest.mark.parametrize("side", [20000, 8000])
def test_decompression_bomb_is_refused_before_decoding(side):
    """20000x20000 trips Pillow's own bomb guard, 8000x8000 our pixel limit; neither is ever decoded."""
    bomb = images.png_bomb(side, side)
    assert len(bomb) < 100_000 and side * side > MAX_PIXELS
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(image_io.ImageRejected):
        image_io.decode(bomb, MAX_PIXELS)
    # Decoding would take side*side bytes at least (400 MB or 64 MB); ru_maxrss is in KiB.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 32 * 1024


def _gif_with_a_huge_screen() -> bytes:
    """A 29-byte GIF whose logical screen is 7000x7000 (49 Mpx, under the pixel limit) around a 1x1 image."""
    screen = b"GIF89a" + struct.pack("<HH", 7000, 7000) + b"\x00\x00\x00"
    return screen + b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00\x02\x02\x44\x01\x00\x3b"


def _jpeg_claiming_7000x7000() -> bytes:
    """An 8x8 JPEG whose frame header says 7000x7000."""
    jpeg = bytearray(images.encode(Image.new("RGB", (8, 8), (200, 100, 50)), "JPEG"))
    frame = jpeg.find(b"\xff\xc0")
    jpeg[frame + 5 : frame + 9] = struct.pack(">HH", 7000, 7000)
    return bytes(jpeg)


@pytest.mark.parametrize("flood", [_gif_with_a_huge_screen, _jpeg_claiming_7000x7000], ids=["gif", "jpeg"])
def test_pixel_floods_under_the_pixel_limit_are_refused_before_decoding(flood):
    data = flood()
    assert len(data) < 1000
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(image_io.ImageRejected, match="pixel flood"):
        image_io.decode(data, MAX_PIXELS)
    # Decoding 7000x7000 would allocate 49 MB at least (147 MB as RGB); ru_maxrss is in KiB.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 32 * 1024


def test_a_large_photo_with_plausible_bytes_still_decodes():
    noisy = Image.effect_noise((1200, 1000), 40).convert("RGB")
    data = images.encode(noisy, "JPEG")
    assert image_io.decode(data, MAX_PIXELS).size == (1200, 1000)


def test_fit_within_keeps_small_and_shrinks_large():
    small = Image.new("RGB", (300, 200))
    assert image_io.fit_within(small, 1000) is small
    assert image_io.fit_within(Image.new("RGB", (4000, 1000)), 1000).size == (1000, 250)
