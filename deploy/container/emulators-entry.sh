#!/bin/bash
# Starts the three emulators of emulators.Dockerfile on 0.0.0.0 and stays while all of them run: when one exits,
# the others are stopped and the container exits with it (its restart policy may then start it again).
set -euo pipefail
project="${FIREBASE_PROJECT:-demo-moodlens}"
bucket="${STORAGE_BUCKET:-$project.appspot.com}"
config="$HOME/firebase.json"
cat >"$config" <<JSON
{
  "emulators": {
    "auth": {"host": "0.0.0.0", "port": 9099},
    "hub": {"host": "127.0.0.1", "port": 4400},
    "logging": {"host": "127.0.0.1", "port": 4500},
    "ui": {"enabled": false},
    "singleProjectMode": true
  }
}
JSON

java -Duser.language=en -cp /opt/firestore/cloud-firestore-emulator.jar \
    com.google.cloud.datastore.emulator.firestore.CloudFirestore start \
    --host=0.0.0.0 --port=8085 --project_id="$project" --rules=/etc/moodlens/firestore.rules &
gcp-storage-emulator start --host=0.0.0.0 --port=9023 --default-bucket="$bucket" --in-memory &
firebase emulators:start --only auth --project "$project" --config "$config" &

trap 'kill $(jobs -p) 2>/dev/null; wait' TERM INT
status=0
wait -n || status=$?
echo "emulators: one emulator exited (status $status): stopping the others" >&2
kill $(jobs -p) 2>/dev/null || true
wait || true
exit "$status"
