# Moodlens in one image: every function and the pages, served by gunicorn (moodlens.app), data in the volume /data.
# Build: `docker build -t moodlens .` (or `scripts/container build`, which also works with Podman and without a
# registry); run and operate it: docs/self-host.md. Reads PORT (Cloud Run sets it; default 8080).
#
# BASE must be a Debian bookworm with Python 3.11 (python:3.11-slim, or a debootstrap'd bookworm with python3 and
# python3-venv); NODE_BASE anything Debian with Node.js >= 18 or with apt (the pages' bundle is built there).
# Behind a TLS-intercepting proxy, give its CA bundle to pip and npm as a build secret:
#   --secret id=pip_cert,src=/etc/ssl/certs/ca-certificates.crt   (never stored in a layer; optional elsewhere)
ARG BASE=python:3.11-slim
ARG NODE_BASE=node:20-bookworm-slim

# --- the pages: hosting/ with its esbuild bundle in hosting/build (what scripts/build_hosting.sh does) ---
FROM ${NODE_BASE} AS pages
RUN if ! command -v npm >/dev/null; then \
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \
        && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /src
COPY package.json package-lock.json ./
COPY deploy/container/npm-only.js /usr/local/lib/npm-only.js
# Only what the bundle needs (esbuild, the Firebase JS SDK) at the lock's versions; not firebase-tools.
RUN --mount=type=secret,id=pip_cert --mount=type=cache,target=/root/.npm \
    if [ -s /run/secrets/pip_cert ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/pip_cert; fi \
    && node /usr/local/lib/npm-only.js esbuild firebase \
    && npm install --no-audit --no-fund --loglevel=error
COPY hosting/ hosting/
# The pages draw faces in the colours the server uses, and /docs renders the API description.
COPY functions/moodlens/palette.json functions/moodlens/palette.json
COPY functions/moodlens/api/openapi.json functions/moodlens/api/openapi.json
# Served as Firebase Hosting serves them (firebase.json ignores src/ and source maps).
RUN rm -rf hosting/build && npm run build:hosting \
    && rm -rf hosting/src && find hosting -name '*.map' -delete

# --- the app ---
FROM ${BASE}
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH
# Python's venv (python:3.11-slim has it; a bare Debian gets Debian's Python 3.11).
RUN if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then \
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            python3 python3-venv ca-certificates \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --gid 10001 moodlens \
    && useradd --uid 10001 --gid 10001 --home-dir /home/moodlens --create-home --shell /usr/sbin/nologin moodlens \
    && install -d -o 10001 -g 10001 -m 0750 /data
# nginx in front of gunicorn (deploy/container/start): it buffers whole requests, so slow clients cannot hold
# gunicorn's threads.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light \
    && rm -rf /var/lib/apt/lists/*
# The serving packages only (functions/requirements.txt, as Cloud Functions installs them).
COPY functions/requirements.txt /app/functions/requirements.txt
RUN --mount=type=secret,id=pip_cert --mount=type=cache,target=/root/.cache/pip \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --disable-pip-version-check --quiet -r /app/functions/requirements.txt
COPY functions/ /app/functions/
COPY --from=pages /src/hosting/ /app/hosting/
COPY deploy/gunicorn.conf.py /app/deploy/
COPY deploy/container/healthcheck.py deploy/container/backup.py deploy/container/start \
     deploy/container/nginx-in-image.conf /app/deploy/container/

# HOME stays out of the data volume: Keras and friends may write their caches there.
# MALLOC_ARENA_MAX: glibc's per-thread arenas keep freed memory of large decodes; two bound that ratchet.
# MOODLENS_TRUSTED_PROXY_HOPS: the image's own nginx is one proxy; the app takes the client's address from it.
ENV HOME=/home/moodlens \
    MALLOC_ARENA_MAX=2 \
    MOODLENS_TRUSTED_PROXY_HOPS=1 \
    PORT=8080 \
    MOODLENS_DATA_DIR=/data \
    MOODLENS_HOSTING_DIR=/app/hosting
USER 10001:10001
WORKDIR /app/functions
VOLUME ["/data"]
EXPOSE 8080
# Healthy only once the models answer through nginx: gunicorn's worker warms them before it takes requests.
HEALTHCHECK --interval=30s --timeout=30s --start-period=300s --retries=3 \
    CMD ["python3", "/app/deploy/container/healthcheck.py"]
CMD ["/app/deploy/container/start"]
