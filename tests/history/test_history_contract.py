"""One contract, both implementations: each test runs on local (SQLite + files) and firebase (the emulators)."""

import base64
import io
import time

import jwt
import pytest
from PIL import Image

from moodlens.history import records, store
from tests.support.history import FACES, bearer, photo_jpeg

pytestmark = pytest.mark.function


def save(active, user, name="photo", annotated=None):
    return store.save_prediction(
        active.store, user.uid, name, "inception-resnet", FACES, photo_jpeg(), annotated or photo_jpeg(color="navy")
    )


def listing(client, user, **params):
    response = client.get("/history_api", query_string=params, headers=bearer(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_list_is_newest_first_and_pages_by_cursor(active, client, new_user):
    user = new_user()
    ids = [save(active, user, f"photo {i}") for i in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        page = listing(client, user, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert [item["id"] for item in seen] == ids[::-1]
    assert [item["img_name"] for item in seen] == [f"photo {i}" for i in range(4, -1, -1)]
    created = [item["created"] for item in seen]
    assert created == sorted(created, reverse=True)
    first = seen[0]
    assert first["model"] == "inception-resnet" and first["faces"] == FACES
    assert "owner" not in first and first["created_at"].startswith("20")
    assert Image.open(io.BytesIO(base64.b64decode(first["thumbnail"]))).size[0] <= records.THUMBNAIL_SIDE


def test_records_saved_in_the_same_millisecond_page_without_loss(active, client, new_user):
    user = new_user()
    created = records.now_ms()
    for i in range(4):
        record = records.build_record(user.uid, f"same {i}", "mobilenetv2", FACES, b"", created=created)
        record["images"] = {}
        active.store.insert_record(record)
    names = []
    page = listing(client, user, limit=3)
    names += [item["img_name"] for item in page["items"]]
    names += [item["img_name"] for item in listing(client, user, limit=3, cursor=page["next_cursor"])["items"]]
    assert sorted(names) == [f"same {i}" for i in range(4)]


def test_get_one_returns_images_and_face_crops(active, client, new_user):
    user = new_user()
    annotated = photo_jpeg(color="maroon")
    record_id = save(active, user, annotated=annotated)
    response = client.get("/history_api", query_string={"id": record_id}, headers=bearer(user))
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == record_id
    assert base64.b64decode(body["image"]) == annotated
    assert Image.open(io.BytesIO(base64.b64decode(body["original"]))).size == (320, 240)
    crop = Image.open(io.BytesIO(base64.b64decode(body["faces"][0]["face"])))
    assert crop.size == (160, 120)
    assert len(body["faces"][0]["prediction"]) == 7


def test_delete_one_removes_record_and_images(active, client, new_user):
    user = new_user()
    keep, gone = save(active, user, "keep"), save(active, user, "gone")
    response = client.delete("/history_api", query_string={"id": gone}, headers=bearer(user))
    assert response.status_code == 200 and response.get_json() == {"deleted": 1}
    assert [item["id"] for item in listing(client, user)["items"]] == [keep]
    assert active.store.get_image(user.uid, gone, "original") is None
    assert active.store.get_image(user.uid, gone, "annotated") is None
    assert active.store.get_image(user.uid, keep, "original") is not None
    again = client.delete("/history_api", query_string={"id": gone}, headers=bearer(user))
    assert again.status_code == 404
    assert client.get("/history_api", query_string={"id": gone}, headers=bearer(user)).status_code == 404


def test_delete_all_removes_only_mine(active, client, new_user):
    alice, bob = new_user(), new_user()
    mine = [save(active, alice) for _ in range(3)]
    bobs = save(active, bob)
    response = client.delete("/history_api", query_string={"all": "true"}, headers=bearer(alice))
    assert response.get_json() == {"deleted": 3}
    assert listing(client, alice)["items"] == []
    assert all(active.store.get_image(alice.uid, i, kind) is None for i in mine for kind in records.IMAGE_KINDS)
    assert [item["id"] for item in listing(client, bob)["items"]] == [bobs]


@pytest.mark.parametrize("spelling", ["1", "yes", "True", ""])
def test_delete_all_has_one_spelling(active, client, new_user, spelling):
    user = new_user()
    kept = save(active, user)
    response = client.delete("/history_api", query_string={"all": spelling}, headers=bearer(user))
    assert response.status_code == 400
    assert response.get_json() == {"error": "to delete every prediction, send all=true", "code": "invalid_query"}
    assert [item["id"] for item in listing(client, user)["items"]] == [kept]


def test_owner_isolation(active, client, new_user):
    alice, bob = new_user(), new_user()
    secret = save(active, alice, "alice only")
    assert listing(client, bob)["items"] == []
    assert client.get("/history_api", query_string={"id": secret}, headers=bearer(bob)).status_code == 404
    assert client.delete("/history_api", query_string={"id": secret}, headers=bearer(bob)).status_code == 404
    assert client.delete("/history_api", query_string={"all": "true"}, headers=bearer(bob)).get_json() == {"deleted": 0}
    # Path-shaped ids never reach a file or document path.
    for forged in (
        f"../{alice.uid}/{secret}",
        f"{alice.uid}/predictions/{secret}",
        f"../../{secret}",
        secret.upper(),
        secret + "/original",
        "%2e%2e%2f" + secret,
    ):
        assert client.get("/history_api", query_string={"id": forged}, headers=bearer(bob)).status_code == 404
        assert client.delete("/history_api", query_string={"id": forged}, headers=bearer(bob)).status_code == 404
    assert active.store.get_image(bob.uid, secret, "original") is None
    assert [item["id"] for item in listing(client, alice)["items"]] == [secret]


@pytest.mark.parametrize(
    "name",
    [
        "'; DROP TABLE predictions; --",
        "x' OR '1'='1",
        "../../../../etc/passwd",
        "/etc/passwd",
        "..\\..\\boot.ini",
        "users/other/predictions/x",
        "名前 😀 <script>alert(1)</script>",
    ],
)
def test_img_name_is_data(active, client, new_user, name):
    user = new_user()
    record_id = save(active, user, name)
    items = listing(client, user)["items"]
    assert [(item["id"], item["img_name"]) for item in items] == [(record_id, name)]
    assert active.store.get_record(user.uid, record_id)["images"]["original"]["path"].endswith(f"{record_id}/original")


def test_img_name_is_cut_and_cleaned(active, client, new_user):
    user = new_user()
    save(active, user, "a\x00b\nc" + "z" * 5000)
    name = listing(client, user)["items"][0]["img_name"]
    assert name.startswith("abc") and len(name) == records.IMG_NAME_MAX


def test_history_needs_a_valid_token(active, client, new_user):
    user = new_user()
    save(active, user)
    assert client.get("/history_api").status_code == 401
    for header in (
        "Bearer ",
        "Bearer not-a-token",
        "Bearer a.b.c",
        f"Bearer {user.token}x",
        f"Bearer {user.token[:-4]}",
    ):
        response = client.get("/history_api", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert "error" in response.get_json()


def test_expired_token_is_refused(active, client, new_user):
    user = new_user()
    claims = jwt.decode(user.token, options={"verify_signature": False})
    claims.update(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    if active.name == "local":
        token = jwt.encode(claims, active.backend.auth.signer.secret, algorithm="HS256")
    else:
        # Emulator tokens are unsigned, exactly as the Auth emulator issues them.
        token = jwt.encode(claims, None, algorithm="none")
    response = client.get("/history_api", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_token_for_another_project_is_refused(active, client, new_user):
    user = new_user()
    claims = jwt.decode(user.token, options={"verify_signature": False})
    if active.name == "local":
        # Another installation: same claims, signed with a key that is not ours.
        token = jwt.encode(claims, "another installation's secret, 32+ chars long", algorithm="HS256")
    else:
        claims.update(aud="other-project", iss="https://securetoken.google.com/other-project")
        token = jwt.encode(claims, None, algorithm="none")
    assert client.get("/history_api", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_bad_paging_arguments(active, client, new_user):
    user = new_user()
    for params in ({"limit": "ten"}, {"cursor": "garbage"}, {"cursor": "WzEsIjIiXQ"}):
        response = client.get("/history_api", query_string=params, headers=bearer(user))
        assert response.status_code == 400, params
    assert client.delete("/history_api", headers=bearer(user)).status_code == 404
    assert client.post("/history_api", headers=bearer(user)).status_code == 405


def test_auth_config_names_the_mode(active, client):
    body = client.get("/auth_config_api").get_json()
    assert body["mode"] == active.name
    if active.name == "firebase":
        assert body["firebase"]["projectId"] == "demo-moodlens"
        assert body["auth_emulator"] == f"http://{active.hosts.auth.host}"


def test_entry_points_serve_through_functions_framework(active, new_user, repo_root):
    """As Cloud Functions runs them: one function per app, reached at its root."""
    import functions_framework

    user = new_user()
    source = str(repo_root / "functions" / "main.py")
    history = functions_framework.create_app(target="history_api", source=source).test_client()
    assert history.get("/", headers=bearer(user)).get_json() == {"items": [], "next_cursor": None}
    assert history.get("/").status_code == 401
    config = functions_framework.create_app(target="auth_config_api", source=source).test_client()
    assert config.get("/").get_json()["mode"] == active.name
    preflight = history.options(
        "/", headers={"Origin": "http://localhost:5000", "Access-Control-Request-Method": "DELETE"}
    )
    assert preflight.status_code == 204 and "DELETE" in preflight.headers["Access-Control-Allow-Methods"]
