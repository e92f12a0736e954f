"""The predict endpoints' contract, run both through functions-framework's app and through the local server.

A test module imports these tests and defines the fixture `call(endpoint, method="POST", body=None, json=None,
headers=None) -> Reply` for its way of reaching the functions.
"""

import base64
import io
from dataclasses import dataclass

import pytest
from PIL import Image

from tests.support import images

ENDPOINTS = ["predict_api", "predict_upload_api", "predict_img_only_api"]
DEFAULT_MODEL = "inception-resnet"
# The error bodies clients match: the texts are the contract, the codes are what the pages key on.
PARSE_ERROR = {"error": "failed to parse json, invalid format", "code": "invalid_json"}
IMAGE_ERROR = {"error": "failed to process image, try another image", "code": "invalid_image"}
# A request's `model` value -> the model that must run: unknown names and non-strings get the default.
MODEL_CHOICES = [
    ("inception-resnet", "inception-resnet"),
    ("mobilenetv2", "mobilenetv2"),
    ("yolo3", "yolo3"),
    ("incpetion-resnet", "inception-resnet"),
    ("Inception-ResNet", "inception-resnet"),
    ("no-such-model", "inception-resnet"),
    ("", "inception-resnet"),
    (None, "inception-resnet"),
    (7, "inception-resnet"),
    (["mobilenetv2"], "inception-resnet"),
]
TOO_LARGE = {"error": "failed to process image, try another image", "code": "too_large"}
EMOTIONS = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}


@dataclass
class Reply:
    status: int
    headers: dict
    json: object


def check_found(reply: Reply, endpoint: str, size: tuple[int, int], faces: int) -> dict:
    """The contract's answer for a photo with faces; returns the body for further checks."""
    assert reply.status == 200, reply.json
    body = reply.json
    assert body["found"] is True
    assert body["model"] == DEFAULT_MODEL
    with Image.open(io.BytesIO(base64.b64decode(body["image"]))) as annotated:
        assert annotated.format == "JPEG" and annotated.size == size
    assert len(body["faces"]) == faces
    for face in body["faces"]:
        ranking = face["prediction"]
        assert {entry["emotion"] for entry in ranking} == EMOTIONS and len(ranking) == 7
        probabilities = [entry["probability"] for entry in ranking]
        assert all(0 <= p <= 1 for p in probabilities)
        assert sum(probabilities) == pytest.approx(1, abs=1e-6)
        assert probabilities == sorted(probabilities, reverse=True)
        x, y, w, h = face["box"]
        assert x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= size[0] and y + h <= size[1]
        if endpoint == "predict_img_only_api":
            assert "face" not in face
        else:
            with Image.open(io.BytesIO(base64.b64decode(face["face"]))) as crop:
                assert crop.format == "JPEG"
    return body


def check_not_found(reply: Reply) -> None:
    assert reply.status == 200, reply.json
    assert reply.json["found"] is False
    assert not {"image", "faces"} & set(reply.json)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_photo_with_faces(call, photos_dir, endpoint):
    photo = (photos_dir / images.FACES_PHOTO).read_bytes()
    check_found(call(endpoint, json={"image": images.b64(photo)}), endpoint, (500, 375), 3)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_photo_without_face(call, photos_dir, endpoint):
    photo = images.encode(images.no_face_photo(photos_dir), "JPEG")
    check_not_found(call(endpoint, json={"image": images.b64(photo)}))


def test_16x16_image(call, photos_dir):
    tiny = images.open_photo(photos_dir).resize((16, 16))
    check_not_found(call("predict_api", json={"image": images.b64(images.encode(tiny))}))


def test_grayscale_png(call, photos_dir):
    grey = images.open_photo(photos_dir).convert("L")
    check_found(call("predict_api", json={"image": images.b64(images.encode(grey))}), "predict_api", (500, 375), 3)


def test_png_with_alpha(call, photos_dir):
    rgba = images.with_alpha(images.open_photo(photos_dir))
    check_found(call("predict_api", json={"image": images.b64(images.encode(rgba))}), "predict_api", (500, 375), 3)


def test_exif_orientation_6(call, photos_dir):
    rotated = images.exif_rotated_jpeg(images.open_photo(photos_dir, images.SIDEWAYS_BLIND_PHOTO))
    check_found(call("predict_api", json={"image": images.b64(rotated)}), "predict_api", (400, 500), 2)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_data_url(call, photos_dir, endpoint):
    photo = (photos_dir / images.FACES_PHOTO).read_bytes()
    reply = call(endpoint, json={"image": "data:image/jpeg;base64," + images.b64(photo)})
    check_found(reply, endpoint, (500, 375), 3)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_photo_as_the_body(call, photos_dir, endpoint):
    """The camera page's way: the JPEG itself as the body, the options in the query string; the same answer as JSON."""
    photo = (photos_dir / images.FACES_PHOTO).read_bytes()
    as_json = call(endpoint, json={"image": images.b64(photo), "model": "mobilenetv2"})
    raw = call(endpoint, body=photo, headers={"Content-Type": "image/jpeg"}, query={"model": "mobilenetv2"})
    assert raw.status == 200 and raw.json["model"] == "mobilenetv2" and len(raw.json["faces"]) == 3
    assert [face["box"] for face in raw.json["faces"]] == [face["box"] for face in as_json.json["faces"]]
    assert [face["prediction"] for face in raw.json["faces"]] == [face["prediction"] for face in as_json.json["faces"]]


@pytest.mark.parametrize("body", [b"", b"not a photo at all", b"\xff\xd8\xff\xe0 broken jpeg"])
def test_a_body_that_is_not_a_photo(call, body):
    assert call("predict_img_only_api", body=body, headers={"Content-Type": "image/jpeg"}).json == IMAGE_ERROR


@pytest.mark.parametrize("requested, ran", MODEL_CHOICES)
def test_model_names(call, photos_dir, requested, ran):
    photo = (photos_dir / images.FACES_PHOTO).read_bytes()
    body = {"image": images.b64(photo)} | ({} if requested is None else {"model": requested})
    reply = call("predict_api", json=body)
    assert reply.status == 200 and reply.json["model"] == ran
    assert reply.json["found"] is True and len(reply.json["faces"]) >= 2


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b"[1, 2]",
        b'"text"',
        b"{}",
        b'{"image": 5}',
        b'{"image": null}',
        b'{"img": "abc"}',
        b"\xff\xfe\x00garbage",
        b"[" * 100_000,
    ],
    ids=[
        "not-json",
        "empty",
        "array",
        "string",
        "no-image",
        "image-number",
        "image-null",
        "wrong-key",
        "bad-utf8",
        "deep-nesting",
    ],
)
def test_parse_errors(call, endpoint, body):
    reply = call(endpoint, body=body, headers={"Content-Type": "application/json"})
    assert (reply.status, reply.json) == (400, PARSE_ERROR)


def _image_errors():
    tiff = images.encode(Image.new("RGB", (64, 64)), "TIFF")
    jpeg = images.encode(Image.new("RGB", (64, 64), (200, 100, 50)), "JPEG")
    return {
        "not-base64": "this is not base64 !!",
        "base64-of-text": images.b64(b"hello, I am not a photo"),
        "empty": "",
        "tiff-not-taken": images.b64(tiff),
        "truncated-jpeg": images.b64(jpeg[: len(jpeg) // 2]),
        "bomb-20000x20000": images.b64(images.png_bomb(20000, 20000)),
        "over-pixel-limit-8000x8000": images.b64(images.png_bomb(8000, 8000)),
    }


IMAGE_ERRORS = _image_errors()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", IMAGE_ERRORS)
def test_image_errors(call, endpoint, case):
    reply = call(endpoint, json={"image": IMAGE_ERRORS[case]})
    assert (reply.status, reply.json) == (400, IMAGE_ERROR)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_oversized_body(call, endpoint):
    reply = call(
        endpoint, body=b'{"image": "' + b"A" * (16 * 1024 * 1024) + b'"}', headers={"Content-Type": "application/json"}
    )
    assert (reply.status, reply.json) == (413, TOO_LARGE)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_405(call, endpoint, method):
    reply = call(endpoint, method=method)
    assert (reply.status, reply.json) == (405, {"error": "method not allowed", "code": "method_not_allowed"})


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_cors_preflight(call, endpoint):
    reply = call(
        endpoint,
        method="OPTIONS",
        headers={
            "Origin": "http://localhost:5000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )
    assert reply.status in (200, 204)
    assert reply.headers["Access-Control-Allow-Origin"] in ("*", "http://localhost:5000")
    assert "POST" in reply.headers["Access-Control-Allow-Methods"]
    allowed = reply.headers["Access-Control-Allow-Headers"].lower()
    assert "content-type" in allowed and "authorization" in allowed


def test_answers_carry_cors_header(call):
    reply = call("predict_api", body=b"not json", headers={"Origin": "http://localhost:5000"})
    assert reply.headers["Access-Control-Allow-Origin"] in ("*", "http://localhost:5000")
