"""firestore.rules on the real Firestore emulator, called as browsers would: signed-in (Auth emulator ID tokens)
and anonymous clients over the REST API. The functions write through the Admin SDK, which the rules do not bind."""

import json
import urllib.error
import urllib.request

import pytest

from moodlens.history import store
from tests.support.emulators import PROJECT
from tests.support.history import FACES, photo_jpeg

pytestmark = pytest.mark.function

DOCS = f"/v1/projects/{PROJECT}/databases/(default)/documents"


@pytest.fixture
def owner_and_record(active, new_user):
    owner = new_user()
    record_id = store.save_prediction(active.store, owner.uid, "mine", "yolo3", FACES, photo_jpeg(), photo_jpeg())
    return owner, record_id


def call(active, method, path, user=None, body=None):
    headers = {"Content-Type": "application/json"}
    if user is not None:
        headers["Authorization"] = f"Bearer {user.token}"
    request = urllib.request.Request(
        f"http://{active.hosts.firestore.host}{DOCS}{path}",
        method=method,
        headers=headers,
        data=None if body is None else json.dumps(body).encode(),
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def query():
    return {
        "structuredQuery": {
            "from": [{"collectionId": "predictions"}],
            "orderBy": [{"field": {"fieldPath": "created"}, "direction": "DESCENDING"}],
        }
    }


@pytest.mark.parametrize("active", ["firebase"], indirect=True)
def test_owner_reads_own_record_and_list(active, owner_and_record):
    owner, record_id = owner_and_record
    status, body = call(active, "GET", f"/users/{owner.uid}/predictions/{record_id}", owner)
    assert status == 200 and body["fields"]["img_name"]["stringValue"] == "mine"
    status, body = call(active, "POST", f"/users/{owner.uid}:runQuery", owner, query())
    assert status == 200 and [row["document"]["name"].rsplit("/", 1)[1] for row in body] == [record_id]


@pytest.mark.parametrize("active", ["firebase"], indirect=True)
def test_other_user_and_anonymous_read_nothing(active, owner_and_record, new_user):
    owner, record_id = owner_and_record
    other = new_user()
    for user in (other, None):
        assert call(active, "GET", f"/users/{owner.uid}/predictions/{record_id}", user)[0] == 403
        assert call(active, "GET", f"/users/{owner.uid}/predictions", user)[0] == 403
        assert call(active, "POST", f"/users/{owner.uid}:runQuery", user, query())[0] == 403
    # Outside users/{uid}/predictions nothing is readable, not even one's own user document.
    assert call(active, "GET", f"/users/{owner.uid}", owner)[0] == 403


@pytest.mark.parametrize("active", ["firebase"], indirect=True)
def test_no_client_writes_even_the_owner(active, owner_and_record):
    owner, record_id = owner_and_record
    path = f"/users/{owner.uid}/predictions/{record_id}"
    fields = {"fields": {"img_name": {"stringValue": "changed"}}}
    assert call(active, "PATCH", path, owner, fields)[0] == 403
    assert call(active, "DELETE", path, owner)[0] == 403
    assert call(active, "POST", f"/users/{owner.uid}/predictions?documentId=new1", owner, fields)[0] == 403
    assert call(active, "POST", f"/users/{owner.uid}/predictions?documentId=new2", None, fields)[0] == 403
    assert active.store.get_record(owner.uid, record_id)["img_name"] == "mine"
