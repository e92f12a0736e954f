"""models_api: the pages' model picker, read from the model cards in functions/models (never hard-coded)."""

import functions_framework
import pytest

pytestmark = pytest.mark.function

# What the shipped cards say (functions/models/*.json), written out here so that a card the server reads wrongly
# fails the test instead of agreeing with itself.
SHIPPED = {
    "inception-resnet": ("classifier", 0.7116),
    "mobilenetv2": ("classifier", 0.6868),
    "yolo3": ("detector-classifier", 0.577),
}


@pytest.fixture(scope="module")
def client(repo_root):
    return functions_framework.create_app(target="models_api", source=str(repo_root / "functions" / "main.py"))


def test_models_api_lists_every_card(client):
    reply = client.test_client().get("/")
    assert reply.status_code == 200
    listed = {entry["name"]: entry for entry in reply.get_json()["models"]}
    assert {name: (entry["kind"], entry["accuracy"]) for name, entry in listed.items()} == SHIPPED
    assert all(entry["description"] for entry in listed.values())
    assert reply.get_json()["default"] == "inception-resnet"


def test_models_api_refuses_post(client):
    reply = client.test_client().post("/", data=b"{}")
    assert reply.status_code == 405
    assert reply.get_json() == {"error": "method not allowed", "code": "method_not_allowed"}
