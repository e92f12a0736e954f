#!/usr/bin/env bash
# What the browser tests (tests/e2e/pages) need beyond requirements.txt: Debian's Chromium, which Playwright
# drives (its own `playwright install` download does not work offline), and ffmpeg, which turns a photo into the
# fake camera's video. Does nothing when both are there.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium chromium-driver)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
