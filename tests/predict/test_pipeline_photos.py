"""The whole pipeline on the real photos of ../shared/data/photos with the real models.

Tolerance for face counts: at most 1 face off on photos of up to 10 faces, at most 10 % off above that
(crowded photos hold tiny background faces that the manifest counts by eye).
"""

import io
import json

import numpy as np
import pytest
from PIL import Image

from moodlens.predict import catalog, image_io, mtcnn, pipeline
from moodlens.settings import Settings
from tests.support import images
from training.data import shared_data_dir

pytestmark = pytest.mark.unit

SETTINGS = Settings()
MANIFEST = json.loads((shared_data_dir() / "photos" / "manifest.json").read_text())["images"]
SMILING = [entry["file"] for entry in MANIFEST if entry.get("expression_hint") in ("smile", "smiles", "several smiles")]


def run(photo: bytes, model: str) -> pipeline.Prediction:
    return pipeline.run(photo, catalog.resolve(model, SETTINGS.models_dir), SETTINGS)


def detect(rgb: np.ndarray):
    return mtcnn.detect_faces(rgb, SETTINGS)


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    inter = max(0, min(ax + aw, bx + bw) - max(ax, bx)) * max(0, min(ay + ah, by + bh) - max(ay, by))
    return inter / (aw * ah + bw * bh - inter)


@pytest.fixture(scope="module")
def predictions(photos_dir) -> dict[str, pipeline.Prediction]:
    return {entry["file"]: run((photos_dir / entry["file"]).read_bytes(), "inception-resnet") for entry in MANIFEST}


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["file"] for entry in MANIFEST])
def test_face_count_matches_manifest(predictions, entry):
    found, expected = len(predictions[entry["file"]].faces), entry["num_faces"]
    assert abs(found - expected) <= max(1, expected // 10), f"found {found}, expected {expected}"


def test_manifest_boxes_are_found(predictions):
    boxed = [entry for entry in MANIFEST if entry.get("boxes")]
    hits = [
        any(iou(box, face.box) >= 0.5 for face in predictions[entry["file"]].faces)
        for entry in boxed
        for box in entry["boxes"]
    ]
    assert len(hits) >= 20 and sum(hits) / len(hits) >= 0.9, f"{sum(hits)}/{len(hits)} boxes found"


@pytest.mark.parametrize("model", ["inception-resnet", "mobilenetv2", "yolo3"])
def test_smiling_faces_read_happy(photos_dir, model):
    """Pooled over the photos the manifest says smile ("smile", "smiles", "several smiles"): at least 70 % of
    their faces read happy. Pooled, because the manifest does not say which face of a group smiles."""
    tops = {}
    for photo in SMILING:
        prediction = run((photos_dir / photo).read_bytes(), model)
        assert prediction.model == model
        tops[photo] = [prediction.ranking(face)[0]["emotion"] for face in prediction.faces]
    faces = [top for photo_tops in tops.values() for top in photo_tops]
    assert len(faces) >= 15 and faces.count("happy") / len(faces) >= 0.7, tops


def test_large_photo_is_detected_downscaled_and_boxes_come_back_in_original_pixels(photos_dir, manifest):
    """Three times FACES_PHOTO is larger than detect_max_side: boxes must still match the manifest, times 3."""
    entry = next(entry for entry in manifest if entry["file"] == images.FACES_PHOTO)
    photo = images.open_photo(photos_dir)
    large = photo.resize((photo.width * 3, photo.height * 3), Image.Resampling.BICUBIC)
    assert max(large.size) > SETTINGS.detect_max_side
    faces = detect(np.asarray(large))
    for box in entry["boxes"]:
        assert any(iou([3 * v for v in box], face.box) >= 0.5 for face in faces)


def test_no_face_photo(photos_dir):
    prediction = run(images.encode(images.no_face_photo(photos_dir), "JPEG"), "inception-resnet")
    assert prediction.faces == [] and prediction.annotated is None and prediction.annotated_jpeg is None


def test_faces_are_found_only_once_exif_rotation_is_applied(photos_dir):
    stored = images.exif_rotated_jpeg(images.open_photo(photos_dir, images.SIDEWAYS_BLIND_PHOTO))
    with Image.open(io.BytesIO(stored)) as raw:
        assert detect(np.asarray(raw.convert("RGB"))) == []
    assert len(detect(np.asarray(image_io.decode(stored, SETTINGS.max_image_pixels)))) == 2


def test_crops_and_annotation(photos_dir):
    prediction = run((photos_dir / "faceclf_test_image.jpg").read_bytes(), "mobilenetv2")
    assert prediction.image.size == (2048, 1536)
    # The annotated photo comes back no larger than annotated_max_side, boxes drawn to scale.
    assert max(prediction.annotated.size) == 1920
    assert all(prediction.face_image(face, 160).size == (160, 160) for face in prediction.faces)
    with Image.open(io.BytesIO(prediction.annotated_jpeg)) as annotated:
        assert annotated.format == "JPEG"
    # Drawing changed the pixels on each box's top edge and left the photo's far corner alone.
    before = np.asarray(image_io.fit_within(prediction.image, 1920), dtype=int)
    after = np.asarray(prediction.annotated, dtype=int)
    scale = 1920 / 2048
    for face in prediction.faces:
        x, y, w, h = (round(v * scale) for v in face.box)
        assert np.abs(after[y, x : x + w] - before[y, x : x + w]).mean() > 20
