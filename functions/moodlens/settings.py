"""Every setting of the functions: read from the environment and checked here, and nowhere else.

Each setting has a default that works on a developer machine with no cloud account; deployments override them
with environment variables named MOODLENS_<SETTING>. `get_settings()` builds them once per process; a bad value
raises SettingsError naming the variable, which the endpoints answer as a JSON 503 (see moodlens.api.http).
"""

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = FUNCTIONS_DIR.parent

HISTORY_BACKENDS = ("local", "firebase")
MIN_SECRET_LENGTH = 32

# Settings whose variables the Google libraries also read: one export configures both them and us.
_UNPREFIXED = {
    "firestore_emulator_host": "FIRESTORE_EMULATOR_HOST",
    "auth_emulator_host": "FIREBASE_AUTH_EMULATOR_HOST",
    "storage_emulator_host": "STORAGE_EMULATOR_HOST",
}


class SettingsError(ValueError):
    """A setting that cannot work; `variable` is the environment variable to fix."""

    def __init__(self, variable: str, reason: str):
        super().__init__(f"{variable}: {reason}")
        self.variable = variable
        self.reason = reason


def variable_name(setting: str) -> str:
    return _UNPREFIXED.get(setting, "MOODLENS_" + setting.upper())


@dataclass(frozen=True)
class Settings:
    models_dir: Path = FUNCTIONS_DIR / "models"
    hosting_dir: Path = REPO_ROOT / "hosting"
    # base64 inflates by 4/3, so a 15 MiB body carries an image of about 11 MiB.
    max_body_bytes: int = 15 * 1024 * 1024
    max_image_bytes: int = 10 * 1024 * 1024
    # 50 Mpx covers every phone and most DSLR photos; one RGB copy of that is 150 MB.
    max_image_pixels: int = 50_000_000
    # MTCNN time grows with pixel count; faces under ~40 px on such a copy are rarely worth labelling.
    detect_max_side: int = 1280
    min_face_confidence: float = 0.9
    # Threads one photo may use: MTCNN's pyramid levels and candidate batches and the classifier's calls run this
    # many at once, one thread each (runtime.spread), and yolo3's one network call runs on this many; so a single
    # photo uses every core, and photos take turns (runtime.Network). 0: the CPUs this process may run on. Set it to
    # the vCPUs of a container whose CPU quota is below what it sees (Cloud Functions: scripts/deploy sets it from the
    # sizing table).
    inference_threads: int = 0
    # Faces per photo answered; past it the largest are kept and the answer says faces_truncated.
    max_faces: int = 100
    # The annotated photo goes back inside JSON: larger photos come back downscaled.
    annotated_max_side: int = 1920
    face_crop_side: int = 160
    jpeg_quality: int = 88
    # Comma-separated origins allowed by CORS; "*" lets any page call the API (it uses no cookies).
    cors_origins: str = "*"
    # Proxies in front of the server whose X-Forwarded-For/-Proto to believe (the self-host guide's nginx: 1); the
    # sign-in rate limits count per client address, which is the proxy's own without this.
    trusted_proxy_hops: int = 0

    # --- history and accounts ---
    # "local": SQLite and image files in data_dir, with local accounts; "firebase": Firestore, Cloud Storage and
    # Firebase Auth through the Admin SDK.
    history_backend: str = "local"
    data_dir: Path = REPO_ROOT / "var" / "data"
    # Key that signs local account tokens; empty: one is generated once into data_dir/auth-secret (mode 0600).
    auth_secret: str = ""
    token_ttl_s: int = 24 * 3600
    # Empty project: firebase-admin takes it from the environment it runs in.
    firebase_project: str = ""
    # Empty bucket: the project's default, <project>.appspot.com.
    storage_bucket: str = ""
    # The Firebase web config (JSON) the pages use to sign in; empty: just the project id.
    firebase_web_config: str = ""
    # Emulator addresses, under the names the Google libraries read themselves (see _UNPREFIXED).
    firestore_emulator_host: str = ""
    auth_emulator_host: str = ""
    storage_emulator_host: str = ""
    # The Auth emulator as the browser reaches it, when that differs from the server's address for it (compose:
    # the server says emulators:9099, the browser needs 127.0.0.1:9099). Empty: http://<auth_emulator_host>.
    auth_emulator_public_url: str = ""
    # Set by Cloud Run, hence by every 2nd gen Cloud Function: there the disk is in memory and per instance.
    cloud_run_service: str = ""

    def __post_init__(self):
        self.validate()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        values: dict[str, Any] = {}  # each converted to its field's type below
        for field in fields(cls):
            name = "K_SERVICE" if field.name == "cloud_run_service" else variable_name(field.name)
            raw = environ.get(name)
            if raw is None:
                continue
            kind: type = type(field.default)
            try:
                values[field.name] = raw if kind is str else kind(raw)
            except ValueError:
                raise SettingsError(name, f"{raw!r} is not a valid {kind.__name__}") from None
        return cls(**values)

    def validate(self) -> None:
        for name in (
            "max_body_bytes",
            "max_image_bytes",
            "max_image_pixels",
            "detect_max_side",
            "annotated_max_side",
            "face_crop_side",
            "token_ttl_s",
            "max_faces",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(variable_name(name), "must be a positive number")
        if self.inference_threads < 0:
            raise SettingsError(variable_name("inference_threads"), "must be 0 (one per CPU) or more")
        if self.trusted_proxy_hops < 0:
            raise SettingsError(variable_name("trusted_proxy_hops"), "must be 0 or more")
        if not 0 <= self.min_face_confidence <= 1:
            raise SettingsError(variable_name("min_face_confidence"), "must be between 0 and 1")
        if not 1 <= self.jpeg_quality <= 95:
            raise SettingsError(variable_name("jpeg_quality"), "must be between 1 and 95")
        if self.history_backend not in HISTORY_BACKENDS:
            raise SettingsError(
                variable_name("history_backend"),
                f"unknown backend {self.history_backend!r}: use one of {', '.join(HISTORY_BACKENDS)}",
            )
        if self.auth_secret and len(self.auth_secret) < MIN_SECRET_LENGTH:
            raise SettingsError(variable_name("auth_secret"), f"must be at least {MIN_SECRET_LENGTH} characters")
        if self.history_backend == "local" and self.cloud_run_service:
            raise SettingsError(
                variable_name("history_backend"),
                "the local backend cannot work on Cloud Functions or Cloud Run (its disk is in "
                "memory and per instance): set it to firebase",
            )
        if self.history_backend == "firebase" and self.cloud_run_service and not self.firebase_web_config:
            raise SettingsError(
                variable_name("firebase_web_config"),
                "required on Cloud Functions: the pages sign in with this web config (apiKey, "
                "authDomain, projectId) from the Firebase console",
            )
        if self.firebase_web_config:
            try:
                config = json.loads(self.firebase_web_config)
            except ValueError:
                config = None
            if not isinstance(config, dict):
                raise SettingsError(variable_name("firebase_web_config"), "must be a JSON object")

    @property
    def threads_per_call(self) -> int:
        return self.inference_threads or len(os.sched_getaffinity(0))

    @property
    def auth_emulator_url(self) -> str | None:
        """Where the pages reach the Auth emulator, if one is used."""
        if self.auth_emulator_public_url:
            return self.auth_emulator_public_url
        return f"http://{self.auth_emulator_host}" if self.auth_emulator_host else None

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        return tuple(origin.strip() for origin in self.cors_origins.split(",") if origin.strip())


@functools.cache
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use; raises SettingsError for a bad value."""
    return Settings.from_env()
