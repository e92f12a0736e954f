"""The embedded database both local stores share (history records and local accounts): one SQLite file."""

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

DATABASE_FILE = "moodlens.sqlite3"


def database_path(data_dir: Path) -> Path:
    return Path(data_dir) / DATABASE_FILE


def create(db_path: Path, schema: str) -> None:
    """Creates the file and the tables of `schema` when missing (each store brings its own tables)."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with connect(db_path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(schema)


@contextmanager
def connect(db_path: Path) -> Iterator[sqlite3.Connection]:
    """One short connection per operation, committed at the end: safe under threads, and WAL lets readers run
    beside a writer."""
    with closing(sqlite3.connect(db_path, timeout=30)) as conn:
        conn.row_factory = sqlite3.Row
        with conn:
            yield conn
