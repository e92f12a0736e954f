"""The local server (scripts/serve: gunicorn + functions/server.py), started once on a free port."""

import pytest

from local_server import running_server


@pytest.fixture(scope="session")
def server_url(tmp_path_factory, repo_root):
    with running_server(repo_root, tmp_path_factory.mktemp("server") / "server.log") as url:
        yield url
