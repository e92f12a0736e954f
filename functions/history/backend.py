"""Builds the active storage and auth from the settings, once per process."""
import json
import threading
import uuid
from dataclasses import dataclass

from history.auth import FirebaseAuth, LocalAuth, load_or_create_secret
from history.store import HistoryStore


@dataclass
class Backend:
    store: HistoryStore
    auth: object  # LocalAuth or FirebaseAuth: verify(token) -> uid
    # What the pages need to sign in: {"mode": "local"} or the Firebase web config.
    client_config: dict


_lock = threading.Lock()
_active = None


def get():
    global _active
    with _lock:
        if _active is None:
            from config import settings

            _active = build(settings)
        return _active


def use(backend):
    """Makes `backend` the active one: for embedding and for tests that run one app on several backends."""
    global _active
    with _lock:
        _active = backend


def build(settings):
    if settings.history_backend == "local":
        return build_local(settings)
    if settings.history_backend == "firebase":
        return build_firebase(settings)
    raise ValueError(f"unknown history backend {settings.history_backend!r}: use 'local' or 'firebase'")


def build_local(settings):
    from history.local_store import LocalStore

    store = LocalStore(settings.data_dir)
    secret = settings.auth_secret or load_or_create_secret(settings.data_dir)
    return Backend(store, LocalAuth(store, secret, settings.token_ttl_s), {"mode": "local"})


def build_firebase(settings):
    import firebase_admin
    from firebase_admin import credentials
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore, storage

    from history.firebase_store import FirebaseStore

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
        settings.storage_bucket or f"{project}.appspot.com")
    store = FirebaseStore(firestore.Client(project=project, credentials=google_cred), bucket)
    web = json.loads(settings.firebase_web_config) if settings.firebase_web_config else {"projectId": project}
    client = {"mode": "firebase", "firebase": web}
    if settings.auth_emulator_host:
        client["auth_emulator"] = f"http://{settings.auth_emulator_host}"
    return Backend(store, FirebaseAuth(app), client)

