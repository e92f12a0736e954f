"""The embedded default: SQLite for records and accounts, image files on disk, all in one data folder."""

import json
import os
import tempfile
from pathlib import Path

from moodlens import sqlite
from moodlens.history.records import check_owner
from moodlens.history.store import HistoryStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    created INTEGER NOT NULL,
    img_name TEXT NOT NULL,
    model TEXT NOT NULL,
    faces TEXT NOT NULL,
    thumbnail BLOB,
    images TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS predictions_by_owner ON predictions (owner, created DESC, id DESC);
"""


class LocalStore(HistoryStore):
    def __init__(self, data_dir):
        self.data_dir = Path(data_dir)
        self.images_dir = self.data_dir / "images"
        self.images_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = sqlite.database_path(self.data_dir)
        sqlite.create(self.db_path, _SCHEMA)

    def connect(self):
        return sqlite.connect(self.db_path)

    def _image_dir(self, owner, record_id):
        return self.images_dir / check_owner(owner) / record_id

    def put_image(self, owner, record_id, kind, data, content_type):
        folder = self._image_dir(owner, record_id)
        folder.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader or a crash never sees half a file under the final name.
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{kind}.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, folder / kind)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return str((folder / kind).relative_to(self.data_dir))

    def get_image(self, owner, record_id, kind):
        try:
            return (self._image_dir(owner, record_id) / kind).read_bytes()
        except FileNotFoundError:
            return None

    def delete_images(self, owner, record_id):
        folder = self._image_dir(owner, record_id)
        if not folder.exists():
            return
        for path in folder.iterdir():
            path.unlink(missing_ok=True)
        folder.rmdir()

    def insert_record(self, record):
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO predictions (id, owner, created, img_name, model, faces, thumbnail, images)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record["id"],
                    check_owner(record["owner"]),
                    record["created"],
                    record["img_name"],
                    record["model"],
                    json.dumps(record["faces"]),
                    record["thumbnail"],
                    json.dumps(record["images"]),
                ),
            )

    def get_record(self, owner, record_id):
        with self.connect() as conn:
            row = conn.execute("SELECT * FROM predictions WHERE owner = ? AND id = ?", (owner, record_id)).fetchone()
        return None if row is None else _record(row)

    def list_records(self, owner, limit, after=None):
        query, args = "SELECT * FROM predictions WHERE owner = ?", [owner]
        if after is not None:
            query += " AND (created < ? OR (created = ? AND id < ?))"
            args += [after[0], after[0], after[1]]
        query += " ORDER BY created DESC, id DESC LIMIT ?"
        with self.connect() as conn:
            return [_record(row) for row in conn.execute(query, args + [limit])]

    def delete_record(self, owner, record_id):
        with self.connect() as conn:
            return conn.execute("DELETE FROM predictions WHERE owner = ? AND id = ?", (owner, record_id)).rowcount > 0

    def list_ids(self, owner):
        with self.connect() as conn:
            return [row["id"] for row in conn.execute("SELECT id FROM predictions WHERE owner = ?", (owner,))]


def _record(row):
    record = dict(row)
    record["faces"] = json.loads(record["faces"])
    record["images"] = json.loads(record["images"])
    return record
