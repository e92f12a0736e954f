"""E-mail and password rules for local accounts, and the password hash (argon2id)."""

import re
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from moodlens.accounts.errors import AccountError

# One @, a dot in the domain, and no spaces or control characters (a NUL would end the address in C code downstream).
_EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,190}\.[^@\s\x00-\x1f\x7f]{1,60}$")
PASSWORD_MIN = 10
# zxcvbn's guess-count score, 0 (guessed at once: "password", "12345678") to 4; 2 takes an online attacker ~10^8
# guesses, far past the sign-in rate limits.
PASSWORD_MIN_SCORE = 2
# zxcvbn refuses passwords past 72 characters (and its time grows fast with length); a longer password is scored by
# its start, which decides for such a length anyway.
SCORED_CHARACTERS = 72
# argon2 hashes the whole password; a cap stops a megabyte password from being a cheap way to burn CPU.
PASSWORD_MAX = 1024

_hasher = PasswordHasher()
# argon2id is made to be slow (about 50 ms of a core and 64 MiB each): one at a time per process, so a flood of
# sign-ins queues here instead of taking every core from the predictions.
_argon2_slot = threading.Lock()


def checked_email(email: object) -> str:
    if not isinstance(email, str) or not _EMAIL_RE.match(email.strip()):
        raise AccountError(400, "invalid_email", "enter a valid email address")
    return email.strip()


def check_password(password: object, email: str) -> None:
    """At least PASSWORD_MIN characters and not a common or guessable one (zxcvbn, which also knows the e-mail)."""
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise AccountError(
            400, "invalid_password", f"the password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters"
        )
    guessable = [email, email.split("@")[0], "moodlens"]
    if zxcvbn(password[:SCORED_CHARACTERS], user_inputs=guessable)["score"] < PASSWORD_MIN_SCORE:
        raise AccountError(400, "invalid_password", "choose a less common password: this one is easy to guess")


def hash_password(password: str) -> str:
    with _argon2_slot:
        return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        with _argon2_slot:
            return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
