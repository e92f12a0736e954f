#!/usr/bin/env bash
# The emulators the firebase history backend is tested on. The tests start and stop them by themselves.
#   scripts/emulators.sh install   firebase-tools (Auth emulator) into node_modules, Debian's Firestore emulator,
#                                  Java for it; gcp-storage-emulator comes with requirements.txt (scripts/setup)
#   scripts/emulators.sh start     all three on fixed ports for trying the firebase backend by hand
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
firestore_dir=/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"

apt_install() {
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "$@"
}

install() {
    command -v npm >/dev/null || apt_install nodejs npm
    # The lock file's hash marks a finished install, so an interrupted one is redone.
    stamp=node_modules/.package-lock.sha256
    wanted="$(sha256sum package-lock.json | cut -d' ' -f1)"
    if [ ! -x node_modules/.bin/firebase ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
        npm ci --no-audit --no-fund --loglevel=error
        echo "$wanted" > "$stamp"
    fi
    # firebase-tools cannot download its Firestore emulator offline; Debian's package is the same emulator.
    if ! command -v cloud_firestore_emulator >/dev/null && [ ! -x "$firestore_dir/cloud_firestore_emulator" ]; then
        apt_install google-cloud-cli-firestore-emulator
    fi
    command -v java >/dev/null || apt_install default-jre-headless
}

start() {
    [ -x .venv/bin/gcp-storage-emulator ] || scripts/setup
    install
    trap 'kill 0' EXIT
    "$(command -v cloud_firestore_emulator || echo "$firestore_dir/cloud_firestore_emulator")" start \
        --host=127.0.0.1 --port=8085 --project_id=demo-moodlens --rules=firestore.rules &
    .venv/bin/gcp-storage-emulator start --host=127.0.0.1 --port=9023 \
        --default-bucket=demo-moodlens.appspot.com --in-memory &
    node_modules/.bin/firebase emulators:start --only auth --project demo-moodlens &
    cat <<'VARS'
Serve the app on the emulators from another shell with:
  export MOODLENS_HISTORY_BACKEND=firebase MOODLENS_FIREBASE_PROJECT=demo-moodlens \
         FIRESTORE_EMULATOR_HOST=127.0.0.1:8085 FIREBASE_AUTH_EMULATOR_HOST=127.0.0.1:9099 \
         STORAGE_EMULATOR_HOST=http://127.0.0.1:9023
  scripts/start
VARS
    wait
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    *) echo "usage: $0 install|start" >&2; exit 2 ;;
esac
