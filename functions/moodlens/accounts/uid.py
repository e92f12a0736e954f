"""Account ids: the one format every uid has once an account module hands it out."""

import re

# A uid becomes a Firestore document id and a folder name: only plain ids, so none can name a path elsewhere.
_UID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def is_valid_uid(uid: object) -> bool:
    return isinstance(uid, str) and bool(_UID_RE.match(uid))
