"""What a saved prediction is, independent of where it is stored."""

import base64
import binascii
import io
import json
import re
import secrets
import time
from datetime import UTC, datetime

from PIL import Image

from moodlens.accounts.uid import is_valid_uid

# The name is shown in lists; longer text is cut rather than refused so an upload never fails over a label.
IMG_NAME_MAX = 200
# Record ids are generated here, so anything else in a request is simply "not found" and never reaches a path.
_ID_RE = re.compile(r"^[0-9a-f]{24}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# A face keeps only what the history shows; the crop is cut again from the original when a record is opened.
_FACE_KEYS = ("box", "confidence", "prediction", "quality")
THUMBNAIL_SIDE = 240
IMAGE_KINDS = ("original", "annotated")


def check_owner(owner):
    """The owner's uid, refused unless it is a plain account id: every store addresses data by owner, and owners
    become folder names and document ids."""
    if not is_valid_uid(owner):
        raise ValueError("invalid owner id")
    return owner


def new_record_id():
    return secrets.token_hex(12)


def is_record_id(value):
    return isinstance(value, str) and bool(_ID_RE.match(value))


def clean_img_name(value):
    if not isinstance(value, str):
        return ""
    return _CONTROL_RE.sub("", value).strip()[:IMG_NAME_MAX]


def now_ms():
    return time.time_ns() // 1_000_000


def build_record(owner, img_name, model, faces, thumbnail, created=None):
    return {
        "id": new_record_id(),
        "owner": owner,
        "created": now_ms() if created is None else created,
        "img_name": clean_img_name(img_name),
        "model": str(model),
        "faces": [{k: face[k] for k in _FACE_KEYS if k in face} for face in faces],
        "thumbnail": thumbnail,
    }


def make_thumbnail(jpeg_bytes):
    with Image.open(io.BytesIO(jpeg_bytes)) as opened:
        img = opened.convert("RGB")
        img.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=75)
        return out.getvalue()


def sniff_content_type(data):
    """The original is kept byte for byte; its type is read from its magic bytes for serving it back."""
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def encode_cursor(record):
    raw = json.dumps([record["created"], record["id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor):
    """Returns (created, id) or None for anything that is not a cursor this module wrote."""
    if not isinstance(cursor, str) or len(cursor) > 200:
        return None
    try:
        created, record_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error):
        return None
    if not isinstance(created, int) or isinstance(created, bool) or not is_record_id(record_id):
        return None
    return created, record_id


def public_record(record):
    """The JSON form of a record: bytes as base64, time also as ISO 8601 for display."""
    out = {k: v for k, v in record.items() if k not in ("owner", "thumbnail", "images")}
    out["created_at"] = datetime.fromtimestamp(record["created"] / 1000, UTC).isoformat()
    if record.get("thumbnail"):
        out["thumbnail"] = base64.b64encode(record["thumbnail"]).decode()
    return out
