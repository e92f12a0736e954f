"""Each predict function through functions-framework's own app, as Cloud Functions would run it."""

import functions_framework
import pytest

from tests.support.predict_contract import *  # noqa: F403  (the contract's tests, run here through the function apps)
from tests.support.predict_contract import ENDPOINTS, Reply

pytestmark = pytest.mark.function


@pytest.fixture(scope="module")
def clients(repo_root):
    source = str(repo_root / "functions" / "main.py")
    return {name: functions_framework.create_app(target=name, source=source).test_client() for name in ENDPOINTS}


@pytest.fixture
def call(clients):
    def call(endpoint, method="POST", body=None, json=None, headers=None, query=None):
        response = clients[endpoint].open("/", method=method, query_string=query, data=body, json=json, headers=headers)
        return Reply(response.status_code, response.headers, response.get_json(silent=True))

    return call
