"""Production storage: Firestore records under users/{uid}/predictions/{id}, Cloud Storage images beside them.

The per-user subcollection makes the security rules a plain path match and the history query a single-field
ordering, which Firestore serves without a composite index.
"""

import contextlib

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.cloud import firestore

from moodlens.history.records import check_owner
from moodlens.history.store import HistoryStore

# Bounded waits: a backend that is down must turn into a 503 in seconds, not after the libraries' two-minute retry.
TIMEOUT_S = 10
_RETRY = Retry(initial=0.2, maximum=2.0, timeout=TIMEOUT_S)


class FirebaseStore(HistoryStore):
    def __init__(self, db, bucket):
        self.db = db
        self.bucket = bucket

    def _collection(self, owner):
        return self.db.collection("users").document(check_owner(owner)).collection("predictions")

    @staticmethod
    def _blob_name(owner, record_id, kind):
        return f"users/{check_owner(owner)}/predictions/{record_id}/{kind}"

    def put_image(self, owner, record_id, kind, data, content_type):
        name = self._blob_name(owner, record_id, kind)
        self.bucket.blob(name).upload_from_string(data, content_type=content_type, timeout=TIMEOUT_S, retry=_RETRY)
        return name

    def get_image(self, owner, record_id, kind):
        try:
            return self.bucket.blob(self._blob_name(owner, record_id, kind)).download_as_bytes(
                timeout=TIMEOUT_S, retry=_RETRY
            )
        except gexc.NotFound:
            return None

    def delete_images(self, owner, record_id):
        for kind in ("original", "annotated"):
            with contextlib.suppress(gexc.NotFound):
                self.bucket.blob(self._blob_name(owner, record_id, kind)).delete(timeout=TIMEOUT_S, retry=_RETRY)

    def insert_record(self, record):
        data = {k: v for k, v in record.items() if k != "id"}
        self._collection(record["owner"]).document(record["id"]).create(data, timeout=TIMEOUT_S, retry=_RETRY)

    def get_record(self, owner, record_id):
        snap = self._collection(owner).document(record_id).get(timeout=TIMEOUT_S, retry=_RETRY)
        return _record(snap) if snap.exists else None

    def list_records(self, owner, limit, after=None):
        query = (
            self._collection(owner)
            .order_by("created", direction=firestore.Query.DESCENDING)
            .order_by("__name__", direction=firestore.Query.DESCENDING)
        )
        if after is not None:
            query = query.start_after({"created": after[0], "__name__": after[1]})
        return [_record(snap) for snap in query.limit(limit).stream(timeout=TIMEOUT_S, retry=_RETRY)]

    def delete_record(self, owner, record_id):
        ref = self._collection(owner).document(record_id)
        if not ref.get(timeout=TIMEOUT_S, retry=_RETRY).exists:
            return False
        ref.delete(timeout=TIMEOUT_S, retry=_RETRY)
        return True

    def list_ids(self, owner):
        return [ref.id for ref in self._collection(owner).list_documents(timeout=TIMEOUT_S, retry=_RETRY)]


def _record(snap):
    return dict(snap.to_dict(), id=snap.id)
