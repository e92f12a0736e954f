"""Which model a request gets, and the classifiers the shipped cards describe (the real files in functions/models)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from moodlens.predict import catalog
from moodlens.predict.classifier import Classifier
from moodlens.predict.finders import finder_for
from moodlens.settings import Settings
from tests.support import images
from tests.support.predict_contract import MODEL_CHOICES

pytestmark = pytest.mark.unit

MODELS_DIR = Settings().models_dir


def test_the_shipped_models_are_all_there():
    assert set(catalog.available_cards(MODELS_DIR)) == {"inception-resnet", "mobilenetv2", "yolo3"}


@pytest.mark.parametrize("requested, ran", MODEL_CHOICES)
def test_resolve_falls_back_to_the_default(requested, ran):
    assert catalog.resolve(requested, MODELS_DIR).name == ran


def test_a_broken_card_does_not_hide_the_others(tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "partial.json").write_text(json.dumps({"name": "partial"}))
    (tmp_path / "good.json").write_text((MODELS_DIR / "inception-resnet.json").read_text())
    assert set(catalog.available_cards(tmp_path)) == {"inception-resnet"}


def test_no_default_card_means_unavailable(tmp_path):
    (tmp_path / "mobilenetv2.json").write_text((MODELS_DIR / "mobilenetv2.json").read_text())
    assert catalog.resolve("mobilenetv2", tmp_path).name == "mobilenetv2"
    with pytest.raises(catalog.ModelUnavailable):
        catalog.resolve("yolo3", tmp_path)


@pytest.mark.parametrize("name", ["inception-resnet", "mobilenetv2"])
def test_classifier_gives_probabilities_in_card_order(name):
    card = catalog.resolve(name, MODELS_DIR)
    classifier = Classifier(card)
    height, width, channels = classifier.pixel_shape
    assert (height, width, channels) == (48, 48, 1)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (5, height, width, channels), dtype=np.uint8)
    probabilities = classifier.probabilities(pixels)
    assert probabilities.shape == (5, 7)
    assert np.allclose(probabilities.sum(axis=1), 1) and (probabilities >= 0).all()
    # Both cards ask for serving's flip averaging, which makes a face and its mirror read the same.
    assert card.classifier_input.test_time_flip
    mirrored = classifier.probabilities(pixels[:, :, ::-1])
    assert np.allclose(mirrored, probabilities, atol=1e-5)


def test_finders_load_once_per_process():
    settings = Settings()
    card = catalog.resolve("mobilenetv2", MODELS_DIR)
    first = finder_for(card, settings)
    assert finder_for(card, settings) is first


FIRST_REQUEST_YOLO3 = """
import sys
from moodlens.predict import catalog, pipeline
from moodlens.settings import Settings
settings = Settings()
card = catalog.resolve("yolo3", settings.models_dir)
with open(sys.argv[1], "rb") as photo:
    print(len(pipeline.run(photo.read(), card, settings).faces))
"""


def test_a_fresh_process_can_read_with_yolo3_first(repo_root, photos_dir):
    """In a process of its own (networks load once per process), yolo3 asked for before any other model finds the
    faces of a photo. Its finder loads MTCNN's ONet (the face check) through load_once while its own load holds the
    lock: with a plain lock that waited forever, so a fresh instance whose first request asked for yolo3 never
    answered."""
    done = subprocess.run(
        [sys.executable, "-c", FIRST_REQUEST_YOLO3, str(photos_dir / images.FACES_PHOTO)],
        cwd=repo_root,
        env={**os.environ, "PYTHONPATH": str(repo_root / "functions")},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert int(done.stdout.split()[-1]) == 3
