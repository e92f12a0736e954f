"""Firebase Auth: the pages sign in with Google's SDK; the functions check the ID tokens they send."""

import time

from moodlens.accounts.errors import AuthUnavailable, InvalidToken
from moodlens.accounts.uid import is_valid_uid


class FirebaseAuth:
    mode = "firebase"

    def __init__(self, app):
        self.app = app

    def verify(self, token: str) -> str:
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
        if not is_valid_uid(claims["uid"]):
            raise InvalidToken("unsupported account id")
        return claims["uid"]
