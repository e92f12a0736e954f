"""Signing out revokes the token on the server (local accounts); deleting an account removes it and everything it
saved, on both backends."""

import base64

import pytest

from tests.support.history import bearer, photo_jpeg

pytestmark = pytest.mark.function


def sign_up(client, email="leaver@example.com", password="long enough password"):
    return client.post("/auth_signup_api", json={"email": email, "password": password}).get_json()


def test_a_signed_out_token_is_refused_at_once(local, client):
    session = sign_up(client)
    headers = {"Authorization": f"Bearer {session['token']}"}
    assert client.get("/history_api", headers=headers).status_code == 200
    assert client.post("/auth_signout_api", headers=headers).get_json() == {"signed_out": True}
    reply = client.get("/history_api", headers=headers)
    assert reply.status_code == 401 and reply.get_json()["code"] == "invalid_token"
    # Other sessions of the same account live on.
    again = client.post("/auth_signin_api", json={"email": "leaver@example.com", "password": "long enough password"})
    assert (
        client.get("/history_api", headers={"Authorization": f"Bearer {again.get_json()['token']}"}).status_code == 200
    )


def test_signing_out_needs_a_valid_token(local, client):
    assert client.post("/auth_signout_api").status_code == 401
    assert client.post("/auth_signout_api", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_deleting_an_account_removes_its_predictions_images_and_sign_in(active, client, new_user):
    user, other = new_user(), new_user()
    photo = base64.b64encode(photo_jpeg()).decode()
    saved = [
        client.post("/predict_upload_api", json={"image": photo}, headers=bearer(u)).get_json()["id"]
        for u in (user, user, other)
    ]
    reply = client.delete("/account_api", headers=bearer(user))
    assert reply.status_code == 200 and reply.get_json() == {"deleted": 2, "account_deleted": True}
    for record_id in saved[:2]:
        assert active.store.get_record(user.uid, record_id) is None
        assert active.store.get_image(user.uid, record_id, "original") is None
    # The token of a deleted account no longer works, and the other user's history is untouched.
    assert client.get("/history_api", headers=bearer(user)).status_code == 401
    listed = client.get("/history_api", headers=bearer(other)).get_json()["items"]
    assert [item["id"] for item in listed] == [saved[2]]
    if active.name == "local":
        refused = client.post("/auth_signin_api", json={"email": user.email, "password": "correct horse battery"})
        assert refused.status_code == 401


def test_deleting_needs_a_signed_in_caller(active, client):
    assert client.delete("/account_api").status_code == 401
    assert client.get("/account_api").status_code == 405
