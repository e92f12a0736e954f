"""Builds the active history store and accounts from the settings, once per process.

The one place that knows which implementations exist; the endpoints only see `Services`.
"""

import json
import threading
import uuid
from dataclasses import dataclass
from typing import Protocol

from moodlens import sqlite
from moodlens.history.store import HistoryStore
from moodlens.settings import Settings


class Verifier(Protocol):
    mode: str

    def verify(self, token: str) -> str:
        """The caller's uid; raises accounts.errors.InvalidToken or AuthUnavailable."""
        ...

    def delete_account(self, uid: str) -> None: ...


@dataclass
class Services:
    store: HistoryStore
    auth: Verifier  # LocalAccounts or FirebaseAuth
    # What the pages need to sign in: {"mode": "local"} or the Firebase web config.
    client_config: dict


_lock = threading.Lock()
_active: Services | None = None


def get(settings: Settings) -> Services:
    global _active
    with _lock:
        if _active is None:
            _active = build(settings)
        return _active


def use(services: Services | None) -> None:
    """Makes `services` the active ones (None: build from the settings on next use): for embedding, and for tests
    that run one app on several backends."""
    global _active
    with _lock:
        _active = services


def build(settings: Settings) -> Services:
    if settings.history_backend == "firebase":
        return build_firebase(settings)
    return build_local(settings)


def build_local(settings: Settings) -> Services:
    from moodlens.accounts.local import LocalAccounts
    from moodlens.accounts.tokens import TokenSigner, load_or_create_secret
    from moodlens.history.local_store import LocalStore

    store = LocalStore(settings.data_dir)
    secret = settings.auth_secret or load_or_create_secret(settings.data_dir)
    accounts = LocalAccounts(sqlite.database_path(settings.data_dir), TokenSigner(secret, settings.token_ttl_s))
    return Services(store, accounts, {"mode": "local"})


def build_firebase(settings: Settings) -> Services:
    import firebase_admin
    from firebase_admin import credentials
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore, storage  # type: ignore[attr-defined]

    from moodlens.accounts.firebase import FirebaseAuth
    from moodlens.history.firebase_store import FirebaseStore

    project = settings.firebase_project or None
    emulated = bool(settings.firestore_emulator_host or settings.storage_emulator_host)
    # The emulators ignore credentials, but the clients would still go looking for default ones and fail.
    google_cred = AnonymousCredentials() if emulated else None
    cred = google_cred or credentials.ApplicationDefault()
    # A named app: several backends (tests, embedders) can live in one process beside the default app.
    app = firebase_admin.initialize_app(cred, {"projectId": project}, name=f"moodlens-{uuid.uuid4().hex}")
    project = app.project_id
    options = {"api_endpoint": settings.storage_emulator_host} if settings.storage_emulator_host else None
    bucket = storage.Client(project=project, credentials=google_cred, client_options=options).bucket(
        settings.storage_bucket or f"{project}.appspot.com"
    )
    store = FirebaseStore(firestore.Client(project=project, credentials=google_cred), bucket)
    web = json.loads(settings.firebase_web_config) if settings.firebase_web_config else {"projectId": project}
    client = {"mode": "firebase", "firebase": web}
    if settings.auth_emulator_url:
        client["auth_emulator"] = settings.auth_emulator_url
    return Services(store, FirebaseAuth(app), client)
