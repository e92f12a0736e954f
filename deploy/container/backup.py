"""Backup and restore of the local backend's data folder (the container's /data volume), as one .tar.gz stream.

  python3 backup.py create  > moodlens-backup.tar.gz    online: the app may keep serving meanwhile
  python3 backup.py restore < moodlens-backup.tar.gz    offline: stop the app first (scripts/container restore does)
  python3 backup.py check   < moodlens-backup.tar.gz    lists it and checks its database, changes nothing

`create` copies the SQLite database (history and accounts) with SQLite's online backup API, which gives a
consistent snapshot even while the app writes (a plain file copy of a WAL database does not), checks it, then adds
the images folder and the token secret (auth-secret: without it every signed-in user must sign in again).
Images saved after the snapshot come along without their record (harmless); a record deleted during the backup
may come back without its images. The data folder is $MOODLENS_DATA_DIR (default /data).
Standard library only.
"""

import argparse
import io
import os
import shutil
import sqlite3
import sys
import tarfile
import tempfile
import time
from pathlib import Path

DATABASE = "moodlens.sqlite3"
SECRET = "auth-secret"
IMAGES = "images"


def data_dir() -> Path:
    return Path(os.environ.get("MOODLENS_DATA_DIR", "/data"))


def snapshot(database: Path, target: Path) -> None:
    source = sqlite3.connect(database, timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            # Copies 256 pages per step, letting the app's writers in between.
            source.backup(copy, pages=256, sleep=0.005)
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        source.close()
    check_database(target)


def check_database(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    if result != "ok":
        raise SystemExit(f"backup: database check failed: {result}")


def create(folder: Path, out) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="moodlens-backup-") as tmp,
        tarfile.open(fileobj=out, mode="w|gz") as tar,
    ):
        if (folder / DATABASE).exists():
            copy = Path(tmp) / DATABASE
            snapshot(folder / DATABASE, copy)
            tar.add(copy, arcname=DATABASE)
        if (folder / SECRET).exists():
            tar.add(folder / SECRET, arcname=SECRET)
        if (folder / IMAGES).is_dir():
            tar.add(folder / IMAGES, arcname=IMAGES)
        stamp = f"moodlens backup of {folder} at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n".encode()
        info = tarfile.TarInfo("BACKUP")
        info.size, info.mtime, info.mode = len(stamp), int(time.time()), 0o644
        tar.addfile(info, io.BytesIO(stamp))


def _safe_members(tar: tarfile.TarFile):
    for member in tar:
        name = Path(member.name)
        top = name.parts[0] if name.parts else ""
        if name.is_absolute() or ".." in name.parts or top not in (DATABASE, SECRET, IMAGES, "BACKUP"):
            raise SystemExit(f"backup: unexpected entry {member.name!r}: not a Moodlens backup")
        if not (member.isfile() or member.isdir()):
            raise SystemExit(f"backup: unexpected entry type for {member.name!r}")
        yield member


def unpack(source, target: Path) -> None:
    with tarfile.open(fileobj=source, mode="r|gz") as tar:
        for member in _safe_members(tar):
            tar.extract(member, target, set_attrs=False)
    if not (target / "BACKUP").exists():
        raise SystemExit("backup: no BACKUP entry: not a Moodlens backup")
    if (target / DATABASE).exists():
        check_database(target / DATABASE)


def restore(folder: Path, source) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    # Unpacked and checked beside the data first: a bad archive changes nothing.
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=folder))
    try:
        unpack(source, staging)
        for name in (DATABASE + "-wal", DATABASE + "-shm"):
            (folder / name).unlink(missing_ok=True)
        for name in (DATABASE, SECRET, IMAGES):
            current = folder / name
            if current.is_dir():
                shutil.rmtree(current)
            else:
                current.unlink(missing_ok=True)
            if (staging / name).exists():
                os.replace(staging / name, current)
        if (folder / SECRET).exists():
            os.chmod(folder / SECRET, 0o600)
        print((staging / "BACKUP").read_text().strip(), "-> restored into", folder, file=sys.stderr)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check(source) -> None:
    with tempfile.TemporaryDirectory(prefix="moodlens-check-") as tmp:
        unpack(source, Path(tmp))
        print((Path(tmp) / "BACKUP").read_text().strip())
        images = sum(1 for path in (Path(tmp) / IMAGES).rglob("*") if path.is_file())
        if (Path(tmp) / DATABASE).exists():
            conn = sqlite3.connect(Path(tmp) / DATABASE)
            try:
                tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
                for table in tables:
                    count = conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
                    print(f"{table}: {count} rows")
            finally:
                conn.close()
        print(f"images: {images} files; secret: {'yes' if (Path(tmp) / SECRET).exists() else 'no'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["create", "restore", "check"])
    parser.add_argument("--data", type=Path, default=None, help="the data folder (default $MOODLENS_DATA_DIR or /data)")
    args = parser.parse_args()
    folder = args.data or data_dir()
    if args.action == "create":
        if sys.stdout.isatty():
            raise SystemExit("backup: redirect the output to a file")
        create(folder, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    elif args.action == "restore":
        restore(folder, sys.stdin.buffer)
    else:
        check(sys.stdin.buffer)


if __name__ == "__main__":
    main()
