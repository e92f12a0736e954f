"""Local accounts: e-mail and password, kept in the embedded database beside the history, with signed tokens."""

import secrets
import sqlite3
import time
import uuid
from pathlib import Path

from moodlens import sqlite
from moodlens.accounts import passwords
from moodlens.accounts.errors import AccountError, InvalidToken
from moodlens.accounts.limits import RateLimiter
from moodlens.accounts.tokens import TokenSigner
from moodlens.accounts.uid import checked_uid

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    uid TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS revoked_tokens (
    token_id TEXT PRIMARY KEY,
    expires INTEGER NOT NULL
);
"""


def _wrong_credentials() -> AccountError:
    return AccountError(401, "wrong_credentials", "wrong email or password")


class LocalAccounts:
    mode = "local"

    def __init__(self, db_path: Path, signer: TokenSigner):
        self.db_path = db_path
        self.signer = signer
        # Per client address: guessing across many accounts, or making accounts in bulk.
        self.sign_ins_per_address = RateLimiter(30, 300)
        self.sign_ups_per_address = RateLimiter(10, 600)
        # Per account: wrong passwords for one e-mail, from however many addresses.
        self.failures_per_account = RateLimiter(10, 900)
        sqlite.create(db_path, _SCHEMA)
        # Unknown e-mails still cost one verification, so timing does not tell which accounts exist.
        self._dummy_hash = passwords.hash_password(secrets.token_hex(16))

    def sign_up(self, email: object, password: object, client: str) -> dict:
        """Raises AccountError, or limits.RateLimited past the sign-ups one address may make."""
        email = passwords.checked_email(email)
        passwords.check_password(password, email)
        assert isinstance(password, str)
        self.sign_ups_per_address.hit(client)
        uid = uuid.uuid4().hex
        with sqlite.connect(self.db_path) as conn:
            inserted = conn.execute(
                "INSERT OR IGNORE INTO users (uid, email, password_hash, created) VALUES (?, ?, ?, ?)",
                (uid, email, passwords.hash_password(password), int(time.time())),
            ).rowcount
        if not inserted:
            raise AccountError(409, "email_taken", "an account with this email already exists")
        return self.signer.issue(uid, email)

    def sign_in(self, email: object, password: object, client: str) -> dict:
        """Raises AccountError, or limits.RateLimited past the attempts of one address or the failures of one
        account."""
        if not isinstance(email, str) or not isinstance(password, str) or len(password) > passwords.PASSWORD_MAX:
            raise _wrong_credentials()
        account = email.strip().lower()
        self.failures_per_account.check(account)
        self.sign_ins_per_address.hit(client)
        with sqlite.connect(self.db_path) as conn:
            row: sqlite3.Row | None = conn.execute(
                "SELECT uid, email, password_hash FROM users WHERE email = ?", (email.strip(),)
            ).fetchone()
        matches = passwords.password_matches(row["password_hash"] if row else self._dummy_hash, password)
        if row is None or not matches:
            self.failures_per_account.record(account)
            raise _wrong_credentials()
        return self.signer.issue(row["uid"], row["email"])

    def verify(self, token: str) -> str:
        claims = self.signer.verify(token)
        uid = checked_uid(claims.uid)
        # A signature is not enough: the token must not be signed out, and its account must still exist.
        with sqlite.connect(self.db_path) as conn:
            (live,) = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM users WHERE uid = ?)"
                " AND NOT EXISTS (SELECT 1 FROM revoked_tokens WHERE token_id = ?)",
                (uid, claims.token_id),
            ).fetchone()
        if not live:
            raise InvalidToken("signed out or account deleted")
        return uid

    def sign_out(self, token: str) -> None:
        """Revokes the token until it would have expired anyway (then its row is dropped)."""
        claims = self.signer.verify(token)
        now = int(time.time())
        with sqlite.connect(self.db_path) as conn:
            conn.execute("DELETE FROM revoked_tokens WHERE expires < ?", (now,))
            conn.execute(
                "INSERT OR IGNORE INTO revoked_tokens (token_id, expires) VALUES (?, ?)",
                (claims.token_id, claims.expires),
            )

    def delete_account(self, uid: str) -> None:
        """Removes the account; its tokens stop verifying with it (verify looks the account up)."""
        with sqlite.connect(self.db_path) as conn:
            conn.execute("DELETE FROM users WHERE uid = ?", (uid,))
