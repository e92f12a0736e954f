"""training.ensemble: networks trained from different starts joined into one served file."""

import json
import math
import shutil

import numpy as np
import pytest

from moodlens.modelcard import EMOTIONS, read_card
from moodlens.predict.classifier import Classifier
from training import data, ensemble
from training.train import main as train_main

pytestmark = pytest.mark.training

SMOKE = ["mobilenetv2", "--epochs", "1", "--limit", "256", "--batch-size", "64"]


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    """Two one-epoch networks from different seeds, each in its own folder with its card."""
    paths = []
    for seed in ("1", "2"):
        folder = tmp_path_factory.mktemp(f"seed{seed}")
        train_main([*SMOKE, "--seed", seed, "--out", str(folder / "out"), "--checkpoint-dir", str(folder / "ckpt")])
        paths.append(folder / "out" / "mobilenetv2.keras")
    return paths


@pytest.fixture(scope="module")
def joined(members, tmp_path_factory):
    out = tmp_path_factory.mktemp("joined")
    ensemble.main(["mobilenetv2", *map(str, members), "--out", str(out)])
    return out / "mobilenetv2.json"


def test_the_joined_network_gives_the_mean_of_its_members_logits(members, joined):
    import keras

    faces = data.load("val").subset(slice(0, 16))
    card = read_card(joined)
    x = card.classifier_input.network_input(faces.images[..., None])
    each = [keras.saving.load_model(path, compile=False).predict_on_batch(x) for path in members]
    together = keras.saving.load_model(card.weights, compile=False).predict_on_batch(x)
    np.testing.assert_allclose(together, (each[0] + each[1]) / 2, atol=1e-5)
    assert not np.allclose(each[0], each[1], atol=1e-3)  # the seeds made two different networks
    # Serving runs the converted file as any classifier's: it must give the same logits.
    assert card.raw["runtime"]["max_abs_output_difference"] < 1e-4
    served, _ = Classifier(card).logits(faces.images[..., None])
    np.testing.assert_allclose(served, together, atol=1e-4)


def test_alternating_members_read_the_face_and_its_mirror_image_in_place_of_servings_flip(members, tmp_path):
    import keras

    card = ensemble.main(["mobilenetv2", *map(str, members), "--alternate-mirror", "--out", str(tmp_path)])
    assert card["test_time_flip"] is False and card["training"]["command"].endswith(" --alternate-mirror")
    faces = data.load("val").subset(slice(0, 16)).images[..., None]
    x = read_card(tmp_path / "mobilenetv2.json").classifier_input.network_input(faces)
    first, second = (keras.saving.load_model(path, compile=False) for path in members)
    expected = (first.predict_on_batch(x) + second.predict_on_batch(x[:, :, ::-1])) / 2
    served, mirrored = Classifier(read_card(tmp_path / "mobilenetv2.json")).logits(faces)
    assert mirrored is None  # one network run a face
    np.testing.assert_allclose(served, expected, atol=1e-4)


def test_the_joined_card_records_each_members_training_and_is_measured_on_val(members, joined):
    card = read_card(joined).raw
    member_cards = [json.loads(path.with_suffix(".json").read_text()) for path in members]
    assert card["training"]["members"] == [member["training"] for member in member_cards]
    assert card["training"]["member_accuracy"] == [member["metrics"]["accuracy"] for member in member_cards]
    assert card["training"]["command"].startswith("python -m training.ensemble mobilenetv2 ")
    assert card["metrics"]["n"] == 3589
    assert card["input"] == member_cards[0]["input"]
    assert card["parameters"] == 2 * member_cards[0]["parameters"]


def test_a_joined_file_is_neither_continued_nor_joined_again(members, joined, tmp_path):
    with pytest.raises(SystemExit, match="joins 2 networks"):
        train_main(
            [*SMOKE, "--init-from", str(joined.with_suffix(".keras"))]
            + ["--out", str(tmp_path / "out"), "--checkpoint-dir", str(tmp_path / "ckpt")]
        )
    with pytest.raises(SystemExit, match="is itself joined"):
        ensemble.main(["mobilenetv2", str(joined.with_suffix(".keras")), str(members[0]), "--out", str(tmp_path)])


def test_undoing_class_weights_offsets_the_logits_by_the_members_mean_log_weight(members, tmp_path):
    import keras

    # The second member as if trained with fear weighted 1.3x more (training.train --class-boost fear=1.3).
    boosted = tmp_path / "boosted" / "mobilenetv2.keras"
    boosted.parent.mkdir()
    shutil.copyfile(members[1], boosted)
    raw = json.loads(members[1].with_suffix(".json").read_text())
    raw["training"]["class_weights"]["fear"] *= 1.3
    boosted.with_suffix(".json").write_text(json.dumps(raw))
    card = ensemble.main(["mobilenetv2", str(members[0]), str(boosted), "--out", str(tmp_path), "--undo-class-weights"])
    assert card["training"]["command"].endswith(" --undo-class-weights")
    offsets = card["class_prior_correction"]["logit_offsets"]
    first, second = (json.loads(path.with_suffix(".json").read_text())["training"]["class_weights"] for path in members)
    # Relative to angry: minus the members' mean log weight; fear loses half of log 1.3 more.
    for name in EMOTIONS:
        expected = -(math.log(first[name] / first["angry"]) + math.log(second[name] / second["angry"])) / 2
        expected -= math.log(1.3) / 2 if name == "fear" else 0
        assert offsets[name] - offsets["angry"] == pytest.approx(expected, abs=2e-4)
    assert offsets["disgust"] < offsets["happy"]  # the rare class was weighted up, so it is taken down
    # Serving adds them to the network's logits, and the card's figures are measured so.
    faces = data.load("val").subset(slice(0, 16)).images[..., None]
    joined = read_card(tmp_path / "mobilenetv2.json")
    network = keras.saving.load_model(joined.weights, compile=False)
    served, _ = Classifier(joined).logits(faces)
    expected = network.predict_on_batch(joined.classifier_input.network_input(faces)) + [offsets[n] for n in EMOTIONS]
    np.testing.assert_allclose(served, expected, atol=1e-4)


def test_members_without_recorded_class_weights_cannot_be_undone(members, tmp_path):
    old = tmp_path / "old" / "mobilenetv2.keras"
    old.parent.mkdir()
    shutil.copyfile(members[1], old)
    raw = json.loads(members[1].with_suffix(".json").read_text())
    del raw["training"]["class_weights"]
    old.with_suffix(".json").write_text(json.dumps(raw))
    with pytest.raises(SystemExit, match="no training.class_weights"):
        ensemble.main(["mobilenetv2", str(members[0]), str(old), "--out", str(tmp_path / "j"), "--undo-class-weights"])
    assert not (tmp_path / "j").exists()


def test_members_that_read_faces_differently_are_refused(members, tmp_path):
    other = tmp_path / "mobilenetv2.keras"
    shutil.copyfile(members[1], other)
    card = json.loads(members[1].with_suffix(".json").read_text())
    card["input"]["contrast_floor"] = 30.0
    other.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(SystemExit, match="reads faces unlike .* \\(input\\)"):
        ensemble.main(["mobilenetv2", str(members[0]), str(other), "--out", str(tmp_path / "joined")])
    assert not (tmp_path / "joined").exists()
