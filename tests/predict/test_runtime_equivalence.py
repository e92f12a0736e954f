"""Serving's runtime (LiteRT files, MTCNN's stages in numpy) against the references it replaced: the `mtcnn` package
and the Keras models, both run through TensorFlow here (a development requirement; serving has none of it).

Bounds from the performance issue: the same faces as the package (same count, every box and eye within 2 px),
probabilities within 0.01 of the Keras models, and FER2013 val accuracy as on the card within 0.2 points.
"""

import json

import numpy as np
import pytest
from PIL import Image, ImageOps

from moodlens.predict import catalog, mtcnn
from moodlens.predict.classifier import Classifier
from moodlens.predict.image_io import fit_within
from moodlens.predict.yolo import YoloFaceReader
from moodlens.settings import Settings
from training.data import fer_dir, load_split

pytestmark = pytest.mark.unit

SETTINGS = Settings()
CLASSIFIERS = ("inception-resnet", "mobilenetv2")


@pytest.fixture(scope="module")
def package_detector():
    from mtcnn import MTCNN

    return MTCNN()


@pytest.fixture(scope="module")
def photos(photos_dir):
    """Every shared photo as serving's detector sees it: orientation applied, no larger than detect_max_side."""
    found = {}
    for path in sorted(photos_dir.glob("*.jp*g")):
        with Image.open(path) as image:
            rgb = ImageOps.exif_transpose(image).convert("RGB")
            found[path.name] = np.asarray(fit_within(rgb, SETTINGS.detect_max_side))
    assert len(found) >= 10
    return found


@pytest.fixture(scope="module")
def val():
    return load_split(fer_dir() / "val.npz")


def keras_network(card):
    import keras

    return keras.saving.load_model(card.weights, compile=False).predict_on_batch


def test_mtcnn_finds_the_packages_faces_on_every_shared_photo(photos, package_detector):
    ours = mtcnn.detector(SETTINGS.models_dir)
    faces = 0
    for name, rgb in photos.items():
        expected = package_detector.detect_faces(rgb)
        found = ours.detect(rgb)
        assert len(found) == len(expected), name
        for row, face in zip(found, expected):
            box = np.round([row[0], row[1], row[2] - row[0], row[3] - row[1]])
            assert np.abs(box - face["box"]).max() <= 2, name
            eyes = np.round(row[[5, 10, 6, 11]])
            assert np.abs(eyes - [*face["keypoints"]["left_eye"], *face["keypoints"]["right_eye"]]).max() <= 2, name
            assert row[4] == pytest.approx(face["confidence"], abs=1e-3), name
        faces += len(found)
    assert faces >= 50  # the group photos are in: the comparison covers crowds, not only portraits


def test_mtcnn_finds_nothing_on_a_blank_or_tiny_image():
    ours = mtcnn.detector(SETTINGS.models_dir)
    assert len(ours.detect(np.full((240, 320, 3), 128, np.uint8))) == 0
    assert len(ours.detect(np.zeros((8, 8, 3), np.uint8))) == 0


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_matches_keras_on_val_faces(name, val):
    card = catalog.resolve(name, SETTINGS.models_dir)
    faces = val.images[::7, ..., None]  # 513 faces, every class
    converted = Classifier(card).probabilities(faces)
    reference = Classifier(card, network=keras_network(card)).probabilities(faces)
    assert np.abs(converted - reference).max() < 0.01


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_keeps_the_cards_val_accuracy(name, val):
    card = catalog.resolve(name, SETTINGS.models_dir)
    accuracy = float((Classifier(card).probabilities(val.images[..., None]).argmax(axis=1) == val.labels).mean())
    assert accuracy == pytest.approx(card.accuracy, abs=0.002)


def test_yolo3_reads_the_same_faces_as_keras(photos):
    card = catalog.resolve("yolo3", SETTINGS.models_dir)
    converted, reference = YoloFaceReader(card), YoloFaceReader(card, network=keras_network(card))
    faces = 0
    for name, rgb in photos.items():
        found, expected = converted.read(rgb), reference.read(rgb)
        assert len(found) == len(expected), name
        for face, other in zip(found, expected):
            assert face["box"] == pytest.approx(other["box"], abs=2), name
            assert face["probabilities"] == pytest.approx(other["probabilities"], abs=0.01), name
        faces += len(found)
    assert faces >= 50


def test_cards_name_runtime_files_that_exist_beside_them():
    for card in catalog.available_cards(SETTINGS.models_dir).values():
        assert card.runtime_weights.is_file()
        assert card.runtime_weights.suffix == ".tflite"
        assert card.runtime_weights.stat().st_size == card.raw["runtime"]["file_bytes"]
    source = json.loads((SETTINGS.models_dir / "mtcnn" / "SOURCE.json").read_text())
    for net in ("pnet", "rnet", "onet"):
        assert (SETTINGS.models_dir / "mtcnn" / f"{net}.tflite").stat().st_size == source["networks"][net]["file_bytes"]


@pytest.mark.parametrize("height, width", [(577, 801), (1000, 260), (200, 1280)])
def test_pnet_in_stripes_gives_the_whole_levels_maps(height, width):
    """Levels too large for one kept interpreter run in stripes: the maps must be those of the whole level."""
    ours = mtcnn.detector(SETTINGS.models_dir)
    level = np.random.default_rng(height).uniform(-1, 1, (height, width, 3)).astype(np.float32)
    assert level.size > mtcnn.PNET_STRIPE_VALUES
    whole = [out[0] for out in ours.pnet(level[None])]
    striped = ours.pnet_maps(level)
    for expected, found in zip(whole, striped):
        assert found.shape == expected.shape
        assert np.abs(found - expected).max() < 1e-5
