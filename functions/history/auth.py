"""Who is calling: local accounts with signed tokens, or Firebase Auth ID tokens.

Both answer verify(token) -> uid or raise InvalidToken; the endpoints never see which one is active.
"""
import os
import re
import secrets
import time
import uuid
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from history.local_store import check_owner

_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$")
PASSWORD_MIN = 8
# argon2 hashes the whole password; a cap stops a megabyte password from being a cheap way to burn CPU.
PASSWORD_MAX = 1024
_ISSUER = "moodlens-local"
_SECRET_FILE = "auth-secret"


class InvalidToken(Exception):
    pass


class AuthUnavailable(Exception):
    """The token could not be checked at all (Google's keys unreachable): a server-side failure, not the caller's."""


class AccountError(Exception):
    def __init__(self, message, status):
        super().__init__(message)
        self.message = message
        self.status = status


def _verified_uid(uid):
    # The uid becomes a Firestore document id and a folder name: anything but a plain id is refused here.
    try:
        return check_owner(uid)
    except ValueError:
        raise InvalidToken("unsupported account id") from None


def load_or_create_secret(data_dir):
    """The signing key: made once per data folder, readable by its owner only, never a built-in constant."""
    path = Path(data_dir) / _SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{_SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
        try:
            # link() refuses to replace: when two processes start at once, both end up with the first one's key.
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


class LocalAuth:
    mode = "local"

    def __init__(self, store, secret, ttl_s):
        if len(secret) < 32:
            raise ValueError("the token secret must be at least 32 characters")
        self.store = store
        self.secret = secret
        self.ttl_s = ttl_s
        self.hasher = PasswordHasher()
        # Unknown e-mails still cost one verification, so timing does not tell which accounts exist.
        self._dummy_hash = self.hasher.hash(secrets.token_hex(16))

    def sign_up(self, email, password):
        email = _check_email(email)
        _check_password(password)
        uid = uuid.uuid4().hex
        with self.store.connect() as conn:
            inserted = conn.execute(
                "INSERT OR IGNORE INTO users (uid, email, password_hash, created) VALUES (?, ?, ?, ?)",
                (uid, email, self.hasher.hash(password), int(time.time()))).rowcount
        if not inserted:
            raise AccountError("an account with this email already exists", 409)
        return self._session(uid, email)

    def sign_in(self, email, password):
        if not isinstance(email, str) or not isinstance(password, str) or len(password) > PASSWORD_MAX:
            raise AccountError("wrong email or password", 401)
        with self.store.connect() as conn:
            row = conn.execute("SELECT uid, email, password_hash FROM users WHERE email = ?",
                               (email.strip(),)).fetchone()
        try:
            self.hasher.verify(row["password_hash"] if row else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            raise AccountError("wrong email or password", 401) from None
        if row is None:
            raise AccountError("wrong email or password", 401)
        return self._session(row["uid"], row["email"])

    def _session(self, uid, email):
        now = int(time.time())
        claims = {"sub": uid, "email": email, "iss": _ISSUER, "iat": now, "exp": now + self.ttl_s}
        return {"token": jwt.encode(claims, self.secret, algorithm="HS256"), "uid": uid, "email": email,
                "expires_at": claims["exp"]}

    def verify(self, token):
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], issuer=_ISSUER,
                                options={"require": ["sub", "iat", "exp", "iss"]})
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        return _verified_uid(claims["sub"])


class FirebaseAuth:
    mode = "firebase"

    def __init__(self, app):
        self.app = app

    def verify(self, token):
        from firebase_admin import auth

        try:
            claims = auth.verify_id_token(token, app=self.app)
        except (ValueError, auth.InvalidIdTokenError, auth.ExpiredIdTokenError) as exc:
            raise InvalidToken(str(exc)) from None
        except auth.CertificateFetchError as exc:
            raise AuthUnavailable(str(exc)) from exc
        # Against the Auth emulator firebase-admin skips the signature and expiry checks; expiry costs nothing to
        # check again, and in production it has already passed.
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < time.time():
            raise InvalidToken("token expired")
        return _verified_uid(claims["uid"])


def _check_email(email):
    if not isinstance(email, str) or not _EMAIL_RE.match(email.strip()):
        raise AccountError("enter a valid email address", 400)
    return email.strip()


def _check_password(password):
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise AccountError(f"the password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters", 400)
