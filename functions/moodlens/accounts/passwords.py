"""E-mail and password rules for local accounts, and the password hash (argon2id)."""

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from moodlens.accounts.errors import AccountError

_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$")
PASSWORD_MIN = 8
# argon2 hashes the whole password; a cap stops a megabyte password from being a cheap way to burn CPU.
PASSWORD_MAX = 1024

_hasher = PasswordHasher()


def checked_email(email: object) -> str:
    if not isinstance(email, str) or not _EMAIL_RE.match(email.strip()):
        raise AccountError(400, "invalid_email", "enter a valid email address")
    return email.strip()


def check_password(password: object) -> None:
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise AccountError(
            400, "invalid_password", f"the password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters"
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
