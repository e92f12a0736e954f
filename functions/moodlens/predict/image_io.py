"""Untrusted bytes in, an upright RGB photo out; and photos back to base64 JPEG."""

import base64
import binascii
import io
import re
import threading
import warnings

from PIL import Image, ImageOps

# Formats a browser or phone produces (Pillow's JPEG opener also takes the multi-picture JPEGs of many cameras);
# everything else is refused before any decoder runs.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
_DATA_URL = re.compile(r"^data:[\w.+/-]*(;[\w.+=-]*)*;base64,", re.IGNORECASE)

# decode() refuses photos past its own pixel limit from the header; Pillow's warning on large ones would only repeat
# that, and its DecompressionBombError (far larger photos) ends in the same refusal.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


# Photos compress to well under a byte per 1,000 pixels only when they are flat colour: a 37-byte GIF or an 8x8 JPEG
# whose header says 7000x7000 would otherwise make the decoder allocate gigabytes for nothing. Small images are
# exempt: a tiny flat PNG costs nothing to decode.
FREE_PIXELS = 1_000_000
MAX_PIXELS_PER_BYTE = 1000
# Decoding a large photo holds hundreds of MB for a moment: at most two at once per process, so a burst of large
# uploads queues instead of multiplying the peak.
HEAVY_PIXELS = 12_000_000
_heavy_decodes = threading.BoundedSemaphore(2)


class ImageRejected(Exception):
    pass


def base64_payload(text: str, max_bytes: int) -> bytes:
    """The bytes of a base64 string or a data URL, refused past max_bytes."""
    text = _DATA_URL.sub("", text.strip(), count=1)
    compact = "".join(text.split())
    if len(compact) * 3 // 4 > max_bytes:
        raise ImageRejected("image larger than the byte limit")
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ImageRejected("not base64") from error


def decode(data: bytes, max_pixels: int) -> Image.Image:
    """An RGB image, rotated as its EXIF orientation says; refused before decoding past max_pixels, or when its
    header promises far more pixels than its bytes can plausibly hold (a pixel flood)."""
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        # Only the header has been read so far: refuse bombs before the pixels are decoded.
        width, height = image.size
        if width * height > max_pixels or width < 1 or height < 1:
            raise ImageRejected(f"{width}x{height} exceeds the pixel limit")
        if width * height > FREE_PIXELS and width * height > len(data) * MAX_PIXELS_PER_BYTE:
            raise ImageRejected(f"{width}x{height} from {len(data)} bytes is a pixel flood, not a photo")
        if width * height > HEAVY_PIXELS:
            with _heavy_decodes:
                image.load()
        else:
            image.load()
    except ImageRejected:
        raise
    except Image.DecompressionBombError as error:
        raise ImageRejected(f"decompression bomb: {error}") from error
    except Exception as error:
        # Decoders of untrusted data fail in many ways (OSError, SyntaxError, struct.error, ...): all mean "bad image".
        raise ImageRejected(f"cannot decode: {error}") from error
    return _to_rgb(_upright(image))


def _upright(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception:
        # A photo with broken EXIF is still a photo: keep it as stored.
        return image


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale would clip to white when converted directly.
        image = image.point(lambda value: value / 256).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Transparent areas become white, as a browser shows them, not whatever colour hides under alpha 0.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def jpeg_base64(image: Image.Image, quality: int) -> str:
    return base64.b64encode(jpeg_bytes(image, quality)).decode("ascii")


def jpeg_bytes(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def fit_within(image: Image.Image, max_side: int) -> Image.Image:
    """The image, downscaled if needed so that its longer side is at most max_side."""
    scale = max_side / max(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
