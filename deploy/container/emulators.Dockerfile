# The Firebase emulators the app's firebase mode runs against in compose.yaml's `firebase` profile: Auth
# (firebase-tools, Node.js), Firestore (Google's emulator jar, Java) and Cloud Storage (gcp-storage-emulator, Python;
# firebase-tools' own Storage emulator downloads a rules runtime at start, which fails offline).
# Ports: Auth 9099, Firestore 8085, Storage 9023; project demo-moodlens (FIREBASE_PROJECT), bucket
# <project>.appspot.com (STORAGE_BUCKET). Data lives in memory: it goes with the container.
#
# Build from the repository root: `scripts/container build-emulators`, or
#   docker build -f deploy/container/emulators.Dockerfile -t moodlens-emulators .
# The Firestore emulator comes from Google's apt repository (FIRESTORE_FROM=apt, needs the internet) or, where a
# machine already has Debian's package google-cloud-cli-firestore-emulator, from the build context
# (FIRESTORE_FROM=context: scripts/container copies its jar into var/container/firestore-emulator/ first).
ARG BASE=debian:trixie-slim
ARG FIRESTORE_FROM=apt

FROM ${BASE} AS firestore-apt
# Only the emulator's own package, unpacked (its dependencies would bring the whole Google Cloud CLI).
RUN --mount=type=secret,id=pip_cert \
    cafile=/etc/ssl/certs/ca-certificates.crt; \
    if [ -s /run/secrets/pip_cert ]; then cafile=/run/secrets/pip_cert; fi \
    && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates curl gpg \
    && curl -fsSL --cacert "$cafile" https://packages.cloud.google.com/apt/doc/apt-key.gpg \
        | gpg --dearmor -o /usr/share/keyrings/cloud.google.gpg \
    && echo "deb [signed-by=/usr/share/keyrings/cloud.google.gpg] https://packages.cloud.google.com/apt cloud-sdk main" \
        > /etc/apt/sources.list.d/google-cloud-sdk.list \
    && apt-get -o Acquire::https::CAInfo="$cafile" update \
    && cd /tmp && apt-get -o Acquire::https::CAInfo="$cafile" download google-cloud-cli-firestore-emulator \
    && dpkg-deb -x google-cloud-cli-firestore-emulator_*.deb /tmp/pkg \
    && mkdir -p /opt/firestore \
    && cp /tmp/pkg/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar /opt/firestore/

FROM scratch AS firestore-context
COPY var/container/firestore-emulator/cloud-firestore-emulator.jar /opt/firestore/

FROM firestore-${FIRESTORE_FROM} AS firestore

FROM ${BASE}
# Java for Firestore, Node.js 20 for firebase-tools (15 wants >= 20: trixie has it), Python for the Storage emulator.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        openjdk-21-jre-headless nodejs npm python3 python3-venv ca-certificates tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10002 emulators \
    && useradd --uid 10002 --gid 10002 --home-dir /home/emulators --create-home emulators
# firebase-tools at the version (and with the dependencies) package-lock.json pins.
WORKDIR /opt/firebase-tools
COPY package.json package-lock.json ./
COPY deploy/container/npm-only.js /usr/local/lib/npm-only.js
RUN --mount=type=secret,id=pip_cert --mount=type=cache,target=/root/.npm \
    if [ -s /run/secrets/pip_cert ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/pip_cert; fi \
    && node /usr/local/lib/npm-only.js firebase-tools \
    && npm install --no-audit --no-fund --loglevel=error \
    && ln -s /opt/firebase-tools/node_modules/.bin/firebase /usr/local/bin/firebase
# gcp-storage-emulator at the version requirements-dev.txt pins (the tests' Storage emulator).
COPY requirements-dev.txt /tmp/requirements-dev.txt
RUN --mount=type=secret,id=pip_cert --mount=type=cache,target=/root/.cache/pip \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi \
    && python3 -m venv /opt/storage-emulator \
    && /opt/storage-emulator/bin/pip install --disable-pip-version-check --quiet \
        "$(grep -E '^gcp-storage-emulator==' /tmp/requirements-dev.txt)" \
    && ln -s /opt/storage-emulator/bin/gcp-storage-emulator /usr/local/bin/gcp-storage-emulator
COPY --from=firestore /opt/firestore/ /opt/firestore/
COPY firestore.rules /etc/moodlens/firestore.rules
COPY deploy/container/emulators-entry.sh deploy/container/emulators-health.py /usr/local/bin/

ENV FIREBASE_PROJECT=demo-moodlens \
    NO_UPDATE_NOTIFIER=1 \
    HOME=/home/emulators
USER 10002:10002
# firebase-tools writes into its working folder.
WORKDIR /home/emulators
EXPOSE 9099 8085 9023
HEALTHCHECK --interval=10s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python3", "/usr/local/bin/emulators-health.py"]
# tini -g: a stop signal reaches all three emulators.
ENTRYPOINT ["tini", "-g", "--"]
CMD ["emulators-entry.sh"]
