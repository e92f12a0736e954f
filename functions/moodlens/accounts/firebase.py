"""Firebase Auth: the pages sign in with Google's SDK; the functions check the ID tokens they send."""

import contextlib
import time

from moodlens.accounts.errors import AuthUnavailable, InvalidToken
from moodlens.accounts.uid import checked_uid


class FirebaseAuth:
    mode = "firebase"

    def __init__(self, app):
        self.app = app

    def verify(self, token: str) -> str:
        from firebase_admin import auth, exceptions

        try:
            # check_revoked: a deleted, disabled or signed-out-everywhere account stops at once, not when its ID
            # token expires (up to an hour later); it costs one Auth lookup per signed-in call.
            claims = auth.verify_id_token(token, app=self.app, check_revoked=True)
        except (
            ValueError,
            auth.InvalidIdTokenError,
            auth.ExpiredIdTokenError,
            auth.RevokedIdTokenError,
            auth.UserDisabledError,
            auth.UserNotFoundError,
        ) as exc:
            raise InvalidToken(str(exc)) from None
        except (auth.CertificateFetchError, exceptions.FirebaseError) as exc:
            # Google's keys or the Auth service unreachable: the server's trouble, not the caller's.
            raise AuthUnavailable(str(exc)) from exc
        # Against the Auth emulator firebase-admin skips the signature and expiry checks; expiry costs nothing to
        # check again, and in production it has already passed.
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < time.time():
            raise InvalidToken("token expired")
        return checked_uid(claims["uid"])

    def delete_account(self, uid: str) -> None:
        from firebase_admin import auth

        # Already gone is fine: deleting twice is not an error.
        with contextlib.suppress(auth.UserNotFoundError):
            auth.delete_user(uid, app=self.app)
