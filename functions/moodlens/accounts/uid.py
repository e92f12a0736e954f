"""Account ids: the one format every uid has once an account module hands it out."""

import re

from moodlens.accounts.errors import InvalidToken

# A uid becomes a Firestore document id and a folder name: only plain ids, so none can name a path elsewhere.
_UID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def is_valid_uid(uid: object) -> bool:
    return isinstance(uid, str) and bool(_UID_RE.match(uid))


def checked_uid(uid: object) -> str:
    """The uid a verified token names, refused (InvalidToken) unless it has that format."""
    if not isinstance(uid, str) or not is_valid_uid(uid):
        raise InvalidToken("unsupported account id")
    return uid
