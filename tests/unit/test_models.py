"""Model cards and the classifiers they describe (the real files in models/)."""

import json

import numpy as np
import pytest

from predict import models


def test_every_card_describes_the_seven_emotions_and_a_weights_file():
    cards = models.available_cards()
    assert {"inception-resnet", "mobilenetv2"} <= set(cards)
    for card in cards.values():
        assert sorted(card.classes) == sorted(models.EMOTIONS)
        assert card.weights.is_file()


@pytest.mark.parametrize("requested, ran", [
    ("inception-resnet", "inception-resnet"),
    ("mobilenetv2", "mobilenetv2"),
    ("incpetion-resnet", "inception-resnet"),
    ("Inception-ResNet", "inception-resnet"),
    ("", "inception-resnet"),
    (None, "inception-resnet"),
    (["inception-resnet"], "inception-resnet"),
])
def test_resolve_falls_back_to_the_default(requested, ran):
    assert models.resolve(requested).name == ran


def test_yolo3_runs_only_with_its_card():
    expected = "yolo3" if "yolo3" in models.available_cards() else "inception-resnet"
    assert models.resolve("yolo3").name == expected


def test_a_broken_card_does_not_hide_the_others(tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "partial.json").write_text(json.dumps({"name": "partial"}))
    good = models.resolve("inception-resnet")
    (tmp_path / "good.json").write_text(json.dumps(good.raw))
    assert set(models.available_cards(tmp_path)) == {"inception-resnet"}


@pytest.mark.parametrize("name", ["inception-resnet", "mobilenetv2"])
def test_classifier_gives_probabilities_in_card_order(name):
    card = models.resolve(name)
    classifier = models.classifier(card)
    assert models.classifier(card) is classifier  # loaded once per process
    width, height = classifier.input_size
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (5, height, width, classifier.channels), dtype=np.uint8)
    probabilities = classifier.probabilities(pixels)
    assert probabilities.shape == (5, 7)
    assert np.allclose(probabilities.sum(axis=1), 1) and (probabilities >= 0).all()
    # Flip averaging, when the card asks for it, makes a face and its mirror read the same.
    mirrored = classifier.probabilities(pixels[:, :, ::-1])
    assert np.allclose(mirrored, probabilities, atol=1e-5) == bool(card.raw.get("test_time_flip"))
