"""The account tests' backend: local accounts in a fresh data folder, serving the endpoints for the test."""

import pytest

from moodlens import services


@pytest.fixture
def local(local_backend):
    services.use(local_backend)
    yield local_backend
    services.use(None)
