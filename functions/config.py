"""Every setting of the functions, read from the environment once, here and nowhere else.

Each setting has a default that works on a developer machine with no cloud account; deployments override
them with environment variables of the same name in upper case, prefixed with MOODLENS_.
"""

import os
from dataclasses import dataclass, fields
from pathlib import Path

FUNCTIONS_DIR = Path(__file__).resolve().parent
REPO_ROOT = FUNCTIONS_DIR.parent


def _default_models_dir() -> Path:
    # A Cloud Functions deploy uploads functions/ alone, so models copied into it win over the repo's folder.
    bundled = FUNCTIONS_DIR / "models"
    return bundled if bundled.is_dir() else REPO_ROOT / "models"


# Settings whose variables the Google libraries also read: one export configures both them and us.
_UNPREFIXED = {
    "firestore_emulator_host": "FIRESTORE_EMULATOR_HOST",
    "auth_emulator_host": "FIREBASE_AUTH_EMULATOR_HOST",
    "storage_emulator_host": "STORAGE_EMULATOR_HOST",
}


@dataclass(frozen=True)
class Settings:
    models_dir: Path = _default_models_dir()
    hosting_dir: Path = REPO_ROOT / "hosting"
    # Tests and benchmarks only: the photos and FER2013 copy live beside the repo, never in it.
    shared_data: Path = REPO_ROOT.parent / "shared" / "data"
    # base64 inflates by 4/3, so a 15 MiB body carries an image of about 11 MiB.
    max_body_bytes: int = 15 * 1024 * 1024
    max_image_bytes: int = 10 * 1024 * 1024
    # 50 Mpx covers every phone and most DSLR photos; one RGB copy of that is 150 MB.
    max_image_pixels: int = 50_000_000
    # MTCNN time grows with pixel count; faces under ~40 px on such a copy are rarely worth labelling.
    detect_max_side: int = 1280
    min_face_confidence: float = 0.9
    # The annotated photo goes back inside JSON: larger photos come back downscaled.
    annotated_max_side: int = 1920
    face_crop_side: int = 160
    jpeg_quality: int = 88
    # Comma-separated origins allowed by CORS; "*" lets any page call the API (it uses no cookies).
    cors_origins: str = "*"

    # --- history and accounts (functions/history) ---
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

    @classmethod
    def from_env(cls, environ=os.environ) -> "Settings":
        values = {}
        for field in fields(cls):
            raw = environ.get(_UNPREFIXED.get(field.name, "MOODLENS_" + field.name.upper()))
            if raw is not None:
                values[field.name] = field.type(raw) if field.type is not str else raw
        return cls(**values)

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        return tuple(origin.strip() for origin in self.cors_origins.split(",") if origin.strip())


settings = Settings.from_env()
