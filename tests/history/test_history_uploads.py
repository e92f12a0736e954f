"""Saving through the real upload endpoints (real pipeline and models) on both backends, and the faults."""

import base64
import io
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
from PIL import Image

from moodlens import services
from moodlens.app import create_app
from moodlens.history import records
from tests.support import emulators, images
from tests.support.history import bearer, firebase_settings, firebase_user

pytestmark = pytest.mark.function

PHOTO = "dlib_2009_004587.jpg"  # 400x500, two faces: small enough to run twenty times
SAVE_ERROR = {"error": "failed to save prediction, try again", "code": "save_failed"}


@pytest.fixture(scope="module")
def photo(photos_dir):
    return (photos_dir / PHOTO).read_bytes()


def upload(client, photo, user=None, endpoint="predict_upload_api", **extra):
    body = {"image": base64.b64encode(photo).decode(), "img_name": "two people.jpg", **extra}
    return client.post(f"/{endpoint}", json=body, headers=bearer(user) if user else {})


def saved_ids(client, user):
    return [
        item["id"]
        for item in client.get("/history_api", query_string={"limit": 100}, headers=bearer(user)).get_json()["items"]
    ]


@pytest.mark.parametrize("endpoint", ["predict_upload_api", "predict_img_only_api"])
def test_signed_in_upload_is_saved(active, client, new_user, photo, endpoint):
    user = new_user()
    response = upload(client, photo, user, endpoint)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["found"] and records.is_record_id(answer["id"])
    assert saved_ids(client, user) == [answer["id"]]
    record = client.get("/history_api", query_string={"id": answer["id"]}, headers=bearer(user)).get_json()
    assert record["img_name"] == "two people.jpg" and record["model"] == answer["model"]
    with Image.open(io.BytesIO(base64.b64decode(record["original"]))) as original:
        assert original.format == "JPEG" and original.size == Image.open(io.BytesIO(photo)).size
    assert record["image"] == answer["image"]
    assert [face["box"] for face in record["faces"]] == [face["box"] for face in answer["faces"]]
    for face, answered in zip(record["faces"], answer["faces"]):
        assert face["prediction"] == answered["prediction"] and len(face["prediction"]) == 7
        assert face["quality"] == answered["quality"]
        assert face["face"]  # the crop, cut again from the stored original


def test_yolo3_predictions_are_saved(active, client, new_user, photo):
    user = new_user()
    answer = upload(client, photo, user, model="yolo3").get_json()
    assert saved_ids(client, user) == [answer["id"]]
    record = client.get("/history_api", query_string={"id": answer["id"]}, headers=bearer(user)).get_json()
    assert record["model"] == answer["model"]


def test_anonymous_upload_answers_like_predict_api_and_saves_nothing(active, client, new_user, photo):
    user = new_user()
    plain = client.post("/predict_api", json={"image": base64.b64encode(photo).decode()}).get_json()
    anonymous = upload(client, photo).get_json()
    assert "id" not in anonymous
    assert set(anonymous) == set(plain)
    assert anonymous["faces"][0]["prediction"] == plain["faces"][0]["prediction"]
    assert saved_ids(client, user) == []


def test_bad_token_is_401_and_saves_nothing(active, client, new_user, photo):
    user = new_user()
    claims = jwt.decode(user.token, options={"verify_signature": False})
    local = active.name == "local"
    expired = jwt.encode(
        dict(claims, exp=claims["iat"] - 60),
        active.backend.auth.signer.secret if local else None,
        algorithm="HS256" if local else "none",
    )
    for token in ("garbage", user.token + "x", expired):
        response = client.post(
            "/predict_upload_api",
            json={"image": base64.b64encode(photo).decode()},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 401 and "error" in response.get_json()
    assert saved_ids(client, user) == []


def test_twenty_parallel_uploads_give_twenty_records(active, client, new_user, photo):
    user = new_user()

    def one(i):
        return upload(create_app().test_client(), photo, user, img_name=f"parallel {i}")

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(one, range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    ids = {r.get_json()["id"] for r in responses}
    assert len(ids) == 20
    assert sorted(saved_ids(client, user)) == sorted(ids)


@pytest.fixture
def own_storage(emulator_hosts):
    """A storage emulator of the test's own, to stop and start again under a running app."""
    emulator = emulators.storage().start()
    built = services.build(firebase_settings(emulator_hosts, storage_host=emulator.host))
    services.use(built)
    yield emulator, built
    services.use(None)
    emulator.stop()


def test_storage_down_gives_503_then_recovers(emulator_hosts, own_storage, client, photo):
    emulator, built = own_storage
    user = firebase_user(emulator_hosts.auth.host)
    first = upload(client, photo, user).get_json()["id"]
    emulator.stop()
    response = upload(client, photo, user)
    assert (response.status_code, response.get_json()) == (503, SAVE_ERROR)
    assert saved_ids(client, user) == [first]
    emulator.start()  # same port; the app and its clients are not restarted
    again = upload(client, photo, user)
    assert again.status_code == 200, again.get_json()
    assert saved_ids(client, user) == [again.get_json()["id"], first]
    assert built.store.get_image(user.uid, again.get_json()["id"], "annotated") is not None


def test_record_write_failure_removes_written_images(emulator_hosts, client, photo, monkeypatch):
    """Images are written, then the record write fails (Firestore down): the images must be gone afterwards."""
    firestore = emulators.firestore().start()
    # The Firestore client reads its emulator address once, when it is made: point this backend at its own.
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore.host)
    built = services.build(firebase_settings(emulator_hosts, firestore_host=firestore.host))
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator_hosts.firestore.host)
    services.use(built)
    try:
        user = firebase_user(emulator_hosts.auth.host)
        firestore.stop()
        response = upload(client, photo, user)
        assert (response.status_code, response.get_json()) == (503, SAVE_ERROR)
        assert list(built.store.bucket.list_blobs(prefix=f"users/{user.uid}/")) == []
    finally:
        services.use(None)
        firestore.stop()


def test_the_stored_original_keeps_no_metadata_and_nothing_appended(active, client, new_user, photos_dir):
    """OWASP's file upload rule: EXIF GPS and a script appended after the image data never reach storage."""
    user = new_user()
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the stored copy must come back upright instead
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 24.0)  # GPS latitude
    with Image.open(photos_dir / PHOTO) as source:
        tagged = images.encode(source.transpose(Image.Transpose.ROTATE_90), "JPEG", exif=exif, quality=92)
    smuggled = tagged + b"<?php system($_GET['c']); ?>"
    saved = upload(client, smuggled, user).get_json()
    record = client.get("/history_api", query_string={"id": saved["id"]}, headers=bearer(user)).get_json()
    original = base64.b64decode(record["original"])
    assert b"<?php" not in original and b"GPS" not in original
    with Image.open(io.BytesIO(original)) as stored:
        assert stored.size == (400, 500) and not stored.getexif()
