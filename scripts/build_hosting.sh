#!/usr/bin/env bash
# Bundles the pages' JavaScript (hosting/src -> hosting/build, with the Firebase JS SDK from npm) so the pages load
# nothing from a CDN. hosting/build is a build output, ignored by git; scripts/start, scripts/test and
# `firebase deploy` (predeploy in firebase.json) run this first.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if ! command -v npm >/dev/null; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq nodejs npm
fi
# npm writes node_modules/.package-lock.json on install: older than the lock file means the lock changed since.
if [ ! -x node_modules/.bin/esbuild ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
rm -rf hosting/build
npm run --silent build:hosting
