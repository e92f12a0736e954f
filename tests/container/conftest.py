"""The container engine and the images, made once per test session by scripts/container (layers are cached by the
engine between runs, so a run after the first rebuilds only what changed)."""

import time

import pytest

from tests.container.helpers import BUILD_TIMEOUT_S, NO_ENGINE, container


@pytest.fixture(scope="session")
def engine() -> str:
    """docker or podman; the tests skip only where scripts/container can neither find nor install one."""
    result = container("engine", check=False, timeout=900)
    if result.returncode == NO_ENGINE:
        pytest.skip(f"no container engine can be installed here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def build_log(tmp_path_factory):
    return tmp_path_factory.mktemp("container") / "build.log"


@pytest.fixture(scope="session")
def app_image(engine, build_log) -> float:
    """Builds the app image from this checkout; returns the build's seconds."""
    start = time.monotonic()
    container("build", log=build_log, timeout=BUILD_TIMEOUT_S)
    return time.monotonic() - start


@pytest.fixture(scope="session")
def emulators_image(engine, build_log) -> float:
    start = time.monotonic()
    container("build-emulators", log=build_log, timeout=BUILD_TIMEOUT_S)
    return time.monotonic() - start
