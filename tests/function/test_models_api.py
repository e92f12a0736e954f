"""models_api: the pages' model picker, read from the model cards in models/ (never hard-coded)."""

import json

import functions_framework
import pytest

from config import settings


@pytest.fixture(scope="module")
def client(repo_root):
    return functions_framework.create_app(target="models_api", source=str(repo_root / "functions" / "main.py"))


def test_models_api_lists_every_card(client):
    reply = client.test_client().get("/")
    assert reply.status_code == 200
    listed = {entry["name"]: entry for entry in reply.get_json()["models"]}
    cards = [json.loads(path.read_text()) for path in sorted(settings.models_dir.glob("*.json"))]
    assert set(listed) == {card["name"] for card in cards}
    for card in cards:
        entry = listed[card["name"]]
        assert entry["description"] == card["description"] and entry["kind"] == card["kind"]
        assert 0 < entry["accuracy"] < 1
    assert reply.get_json()["default"] == "inception-resnet"


def test_models_api_refuses_post(client):
    reply = client.test_client().post("/", data=b"{}")
    assert (reply.status_code, reply.get_json()) == (405, {"error": "method not allowed"})
