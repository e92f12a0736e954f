"""Health check of the emulators image: exit 0 when Auth, Firestore and Storage all answer."""

import os
import sys
import urllib.error
import urllib.request

PROJECT = os.environ.get("FIREBASE_PROJECT", "demo-moodlens")
CHECKS = {
    "auth": f"http://127.0.0.1:9099/emulator/v1/projects/{PROJECT}/config",
    "firestore": "http://127.0.0.1:8085/",
    "storage": "http://127.0.0.1:9023/storage/v1/b",
}


def main() -> int:
    down = []
    for name, url in CHECKS.items():
        try:
            with urllib.request.urlopen(url, timeout=5):
                pass
        except urllib.error.HTTPError:
            pass  # it answered
        except OSError as error:
            down.append(f"{name} ({error})")
    if down:
        print("not answering:", ", ".join(down))
        return 1
    print("auth, firestore and storage answer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
