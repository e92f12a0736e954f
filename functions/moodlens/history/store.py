"""The storage interface behind the history, and the operations built on it once for every implementation."""

import base64
import io
import logging

from PIL import Image, ImageOps

from moodlens.history import records

log = logging.getLogger(__name__)


class SaveFailed(Exception):
    """A prediction could not be stored; whatever had been written was removed."""


class HistoryStore:
    """Records and their images, always addressed by owner: no method reaches another owner's data.

    Implementations raise their own errors when the backend fails; the functions below decide what a failure means.
    """

    def put_image(self, owner, record_id, kind, data, content_type):
        """Stores one image and returns its reference (a path inside the store)."""
        raise NotImplementedError

    def get_image(self, owner, record_id, kind):
        """Returns the image's bytes, or None when there is none."""
        raise NotImplementedError

    def delete_images(self, owner, record_id):
        """Removes every image of the record; missing ones are not an error."""
        raise NotImplementedError

    def insert_record(self, record):
        raise NotImplementedError

    def get_record(self, owner, record_id):
        raise NotImplementedError

    def list_records(self, owner, limit, after=None):
        """Newest first; after is (created, id) of the last record already seen."""
        raise NotImplementedError

    def delete_record(self, owner, record_id):
        """Returns whether a record was there."""
        raise NotImplementedError

    def list_ids(self, owner):
        raise NotImplementedError


def save_prediction(store, owner, img_name, model, faces, original, annotated):
    """Images first, then the record, so a visible record always has its images. Returns the record's id."""
    record = records.build_record(owner, img_name, model, faces, records.make_thumbnail(annotated))
    try:
        record["images"] = {
            kind: {"path": store.put_image(owner, record["id"], kind, data, content_type), "content_type": content_type}
            for kind, data, content_type in (
                ("original", original, records.sniff_content_type(original)),
                ("annotated", annotated, records.sniff_content_type(annotated)),
            )
        }
        store.insert_record(record)
    except Exception as exc:  # any backend failure must end in cleanup and a clean 503, never a half-saved record
        log.warning("saving prediction %s failed: %r", record["id"], exc)
        _remove_quietly(store, owner, record["id"])
        raise SaveFailed(str(exc)) from exc
    return record["id"]


def _remove_quietly(store, owner, record_id):
    # The record may have been committed even if the call reported an error (a timeout after the write).
    for step in (store.delete_record, store.delete_images):
        try:
            step(owner, record_id)
        except Exception as exc:  # cleanup is best effort; the original failure is what gets reported
            log.warning("cleanup of %s after a failed save: %r", record_id, exc)


def list_history(store, owner, limit, cursor=None):
    """Returns (public records, next cursor or None)."""
    rows = store.list_records(owner, limit + 1, records.decode_cursor(cursor) if cursor else None)
    page = rows[:limit]
    next_cursor = records.encode_cursor(page[-1]) if len(rows) > limit else None
    return [records.public_record(r) for r in page], next_cursor


def get_history(store, owner, record_id):
    """The record with both images and a crop of each face, all base64; None when the owner has no such record."""
    record = store.get_record(owner, record_id) if records.is_record_id(record_id) else None
    if record is None:
        return None
    out = records.public_record(record)
    out.pop("thumbnail", None)
    images = {kind: store.get_image(owner, record_id, kind) for kind in records.IMAGE_KINDS}
    out["image"] = _b64(images["annotated"])
    out["original"] = _b64(images["original"])
    if images["original"] is not None:
        out["faces"] = [dict(face, face=_crop(images["original"], face.get("box"))) for face in out["faces"]]
    return out


def delete_history(store, owner, record_id):
    """Images before the record: a failure in between leaves a record that can be deleted again, never an orphan."""
    if not records.is_record_id(record_id) or store.get_record(owner, record_id) is None:
        return False
    store.delete_images(owner, record_id)
    return store.delete_record(owner, record_id)


def delete_all_history(store, owner):
    return sum(delete_history(store, owner, record_id) for record_id in store.list_ids(owner))


def _b64(data):
    return None if data is None else base64.b64encode(data).decode()


def _crop(original, box):
    """Box as the pipeline reports it, {x, y, width, height} or [x, y, w, h], in the EXIF-upright photo's pixels."""
    if isinstance(box, dict):
        box = [box.get(k) for k in ("x", "y", "width", "height")]
    if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)):
        return None
    x, y, w, h = box
    with Image.open(io.BytesIO(original)) as img:
        face = ImageOps.exif_transpose(img).convert("RGB").crop((int(x), int(y), int(x + w), int(y + h)))
        out = io.BytesIO()
        face.save(out, format="JPEG", quality=85)
        return _b64(out.getvalue())
