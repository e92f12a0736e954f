"""Local account tokens: HS256 JWTs signed with a secret that is never a built-in constant."""

import os
import secrets
import time
from pathlib import Path
from typing import NamedTuple

import jwt

from moodlens.accounts.errors import InvalidToken
from moodlens.settings import MIN_SECRET_LENGTH

_ISSUER = "moodlens-local"
_SECRET_FILE = "auth-secret"


def load_or_create_secret(data_dir: Path) -> str:
    """The signing key: made once per data folder, readable by its owner only."""
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


class Claims(NamedTuple):
    uid: str
    token_id: str  # the jti claim
    expires: int  # Unix seconds


class TokenSigner:
    def __init__(self, secret: str, ttl_s: int):
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the token secret must be at least {MIN_SECRET_LENGTH} characters")
        self.secret = secret
        self.ttl_s = ttl_s

    def issue(self, uid: str, email: str) -> dict:
        """The session the sign-in endpoints answer: {"token", "uid", "email", "expires_at"}."""
        now = int(time.time())
        # jti names this one token, so signing out can revoke it alone.
        claims = {
            "sub": uid,
            "email": email,
            "iss": _ISSUER,
            "iat": now,
            "exp": now + self.ttl_s,
            "jti": secrets.token_hex(16),
        }
        return {
            "token": jwt.encode(claims, self.secret, algorithm="HS256"),
            "uid": uid,
            "email": email,
            "expires_at": claims["exp"],
        }

    def verify(self, token: str) -> Claims:
        """The token's claims; InvalidToken when it is forged, expired or not ours."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                issuer=_ISSUER,
                options={"require": ["sub", "iat", "exp", "iss", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        return Claims(str(claims["sub"]), str(claims["jti"]), int(claims["exp"]))
