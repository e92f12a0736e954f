"""Test images made on the fly from the shared photos: each variant the API must take or refuse."""

import base64
import io
import struct
import zlib

from PIL import Image

# Three upright faces, all with manifest boxes; two people smile.
FACES_PHOTO = "dlib_2008_001322.jpg"
# Two upright faces, neither of which MTCNN finds once the photo lies on its side.
SIDEWAYS_BLIND_PHOTO = "dlib_2009_004587.jpg"


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def open_photo(photos_dir, name: str = FACES_PHOTO) -> Image.Image:
    with Image.open(photos_dir / name) as image:
        return image.convert("RGB")


def no_face_photo(photos_dir) -> Image.Image:
    """The suits and shirts below the faces of FACES_PHOTO: real photo texture, no face."""
    return open_photo(photos_dir).crop((0, 290, 500, 375)).resize((640, 109))


def with_alpha(image: Image.Image) -> Image.Image:
    """RGBA, fully transparent on a 40 px border and half transparent on the rest."""
    rgba = image.convert("RGBA")
    alpha = Image.new("L", image.size, 0)
    alpha.paste(255, (40, 40, image.width - 40, image.height - 40))
    rgba.putalpha(alpha)
    return rgba


def exif_rotated_jpeg(image: Image.Image) -> bytes:
    """Pixels stored turned 90 degrees counter-clockwise, with EXIF orientation 6 saying how to turn them back."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(image.transpose(Image.Transpose.ROTATE_90), "JPEG", exif=exif, quality=92)


def png_bomb(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG of width x height: a few hundred KB that decode to width*height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
