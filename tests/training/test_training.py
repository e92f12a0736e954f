"""The training code (pure pieces), the shipped classifiers, and a smoke run of the training command."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from moodlens.modelcard import EMOTIONS, Normalization, parse_card, read_card
from moodlens.predict.classifier import Classifier
from training import convert, data, distill, recipe
from training.augment import AugmentedFaces, augment
from training.data import REPO_ROOT
from training.evaluate import MODELS_DIR, expected_calibration_error, fit_temperature, load_card
from training.evaluate import main as evaluate_main
from training.train import WARMUP_EPOCHS, CosineWithWarmup, parse_args
from training.train import main as train_main

pytestmark = pytest.mark.training

CLASSIFIERS = ("inception-resnet", "mobilenetv2")
VAL_FACES = 3589  # FER2013 PublicTest


@pytest.fixture(scope="module")
def val():
    return data.load("val")


def test_smoothed_targets_keep_the_label_on_top_and_sum_to_one():
    targets = data.smoothed_targets(np.array([0, 6, 3]), 0.1)
    assert targets.argmax(axis=1).tolist() == [0, 6, 3]
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
    assert targets[0, 0] == pytest.approx(0.9 + 0.1 / 7)


def test_balancing_weights_favour_rare_classes_with_mean_one():
    labels = np.array([1] * 10 + [3] * 1000)
    weights = data.balancing_weights(labels)
    assert weights.mean() == pytest.approx(1.0, rel=1e-5)
    assert weights[0] > weights[-1]


def test_a_class_boost_multiplies_that_class_weight_alone(val):
    plain = data.balancing_weights(val.labels)
    boosted = data.balancing_weights(val.labels, boost={"fear": 1.5})
    fear = val.labels == EMOTIONS.index("fear")
    ratio = boosted / plain
    np.testing.assert_allclose(ratio[fear] / ratio[~fear].mean(), 1.5, rtol=1e-5)
    np.testing.assert_allclose(ratio[~fear], ratio[~fear][0], rtol=1e-5)
    assert parse_args(["mobilenetv2", "--class-boost", "fear=1.5"]).class_boost == [("fear", 1.5)]
    with pytest.raises(SystemExit):
        parse_args(["mobilenetv2", "--class-boost", "fearful=1.5"])


def test_learning_rate_warms_up_then_decays_to_zero():
    schedule = CosineWithWarmup(1.0, total_epochs=10)
    rates = [schedule(epoch) for epoch in range(10)]
    assert rates[0] < rates[WARMUP_EPOCHS] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(rates[WARMUP_EPOCHS:], rates[WARMUP_EPOCHS + 1 :]))
    assert schedule(10) == pytest.approx(0.0, abs=1e-12)


def test_augmentation_changes_faces_but_keeps_shape_and_range(val):
    faces = val.images[:16]
    out = augment(faces, np.random.default_rng(0))
    assert out.shape == faces.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 255
    assert np.abs(out - faces).mean() > 5


def test_augmented_batches_repeat_for_the_same_seed_and_epoch(val):
    subset = val.subset(slice(0, 64))
    norm = Normalization(scale=1 / 255, mean=0.5, std=0.25)

    def make():
        return AugmentedFaces(
            subset.images, data.smoothed_targets(subset.labels, 0.1), data.balancing_weights(subset.labels), 32, 7, norm
        )

    first, second = make(), make()
    np.testing.assert_array_equal(first[1][0], second[1][0])
    second.set_epoch(1)
    assert not np.array_equal(first[1][0], second[1][0])


def test_calibration_error_is_zero_when_confidence_matches_accuracy():
    probabilities = np.tile([[0.5, 0.5, 0, 0, 0, 0, 0]], (4, 1))
    assert expected_calibration_error(probabilities, np.array([0, 1, 0, 1])) == pytest.approx(0.0)
    assert expected_calibration_error(probabilities, np.array([0, 0, 0, 0])) == pytest.approx(0.5)


def test_fitted_temperature_cools_overconfident_logits():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 7, 2000)
    logits = rng.normal(size=(2000, 7)) * 4  # confident and unrelated to the labels
    logits[np.arange(1000), labels[:1000]] += 6  # right half the time
    assert fit_temperature(logits, logits, labels) > 1.0
    assert fit_temperature(logits, None, labels) > 1.0


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_shipped_card_describes_its_weights(name):
    card = load_card(name)
    assert card.classes == EMOTIONS
    assert card.weights.parent == MODELS_DIR
    assert card.weights.stat().st_size == card.raw["file_bytes"]
    for key in ("input", "crop", "temperature", "metrics", "training"):
        assert key in card.raw
    assert set(card.raw["metrics"]["per_class_recall"]) == set(EMOTIONS)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_shipped_model_reads_val_faces_well_above_chance(name, capsys):
    # 600 faces spread over the split; chance is 1/7 and always answering 'happy' scores 25 %.
    summary = evaluate_main([name, "--data", "val", "--sample", "600"])
    assert summary["n"] == 600
    assert summary["accuracy"] > 0.45
    # A model that never says a class is not done (issue 19): every class, the rare disgust included (12 faces of
    # the 600), is read right at times.
    never_recalled = [c for c, r in summary["per_class_recall"].items() if r == 0]
    assert never_recalled == []
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == summary


def flattened(faces: np.ndarray, factor: float) -> np.ndarray:
    pixels = faces.astype(np.float32)
    mean = pixels.mean(axis=(1, 2), keepdims=True)
    return np.clip((pixels - mean) * factor + mean, 0, 255).round().astype(np.uint8)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_the_cards_contrast_floor_reads_flat_faces_better_and_the_others_as_well(name, val):
    """Faces with their contrast cut to 0.4 times (a flat, hazy photo) read better stretched, as the card says;
    faces as they are read as well either way."""
    card = load_card(name)
    assert card.classifier_input is not None and card.classifier_input.contrast_floor == 45.0
    without = replace(card, classifier_input=replace(card.classifier_input, contrast_floor=None))
    faces = val.subset(np.linspace(0, VAL_FACES - 1, 900).astype(int))

    def accuracy(which, images):
        return (Classifier(which).probabilities(images[..., None]).argmax(axis=1) == faces.labels).mean()

    flat = flattened(faces.images, 0.4)
    assert accuracy(card, flat) >= accuracy(without, flat) + 0.015
    assert accuracy(card, faces.images) >= accuracy(without, faces.images) - 0.01


@pytest.mark.parametrize(("name", "accuracy"), [("inception-resnet", 0.7116), ("mobilenetv2", 0.6868)])
def test_evaluation_on_val_reproduces_the_cards_headline(name, accuracy):
    # Evaluation reads faces through serving's Classifier, so the card's headline is what serving delivers.
    summary = evaluate_main([name, "--data", "val"])
    assert summary["n"] == VAL_FACES
    assert summary["accuracy"] == load_card(name).accuracy == accuracy
    # No class is never said: on the whole split every class, the rare disgust included, is recalled at times.
    assert min(summary["per_class_recall"].values()) > 0


def test_where_tensorflow_is_missing_training_keeps_the_card_and_evaluation_reads_the_keras_file(
    tmp_path, monkeypatch, capsys
):
    """A GPU machine trains with Keras on JAX and has no converter: the card is kept unconverted (with a note), and
    evaluation reads the Keras file instead of a runtime file that is not there."""
    raw = json.loads((MODELS_DIR / "mobilenetv2.json").read_text())
    raw.pop("runtime")
    (tmp_path / "mobilenetv2.json").write_text(json.dumps(raw))
    shutil.copyfile(MODELS_DIR / raw["file"], tmp_path / raw["file"])
    monkeypatch.setattr(convert, "converter_available", lambda: False)
    card = convert.convert_after_training(tmp_path / "mobilenetv2.json")
    assert "runtime" not in card and not (tmp_path / "mobilenetv2.tflite").exists()
    assert "python -m training.convert mobilenetv2" in capsys.readouterr().err
    through_keras = evaluate_main(["mobilenetv2", "--models-dir", str(tmp_path), "--sample", "300"])
    through_runtime = evaluate_main(["mobilenetv2", "--sample", "300"])
    assert through_keras["accuracy"] == pytest.approx(through_runtime["accuracy"], abs=0.004)


def test_blended_targets_mix_label_and_teacher_and_sum_to_one():
    hard = data.smoothed_targets(np.array([0, 3]), 0.1)
    teacher = np.array([[0.2, 0, 0, 0, 0.8, 0, 0], [0, 0, 0, 1.0, 0, 0, 0]], np.float32)
    blended = distill.blended_targets(hard, teacher, 0.5)
    np.testing.assert_allclose(blended.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(blended[0, [0, 4]], [0.5 * (0.9 + 0.1 / 7) + 0.1, 0.5 * 0.1 / 7 + 0.4], atol=1e-6)
    np.testing.assert_array_equal(distill.blended_targets(hard, teacher, 0.0), hard)


def test_teacher_probabilities_read_faces_as_served_and_are_computed_once(val, tmp_path, monkeypatch):
    monkeypatch.setattr(distill, "CACHE_DIR", tmp_path)
    faces = val.subset(slice(0, 200))
    teacher = distill.teacher_probabilities(load_card("inception-resnet"), faces.images)
    assert teacher.shape == (200, 7) and teacher.dtype == np.float32
    np.testing.assert_allclose(teacher.sum(axis=1), 1.0, atol=1e-5)
    assert (teacher.argmax(axis=1) == faces.labels).mean() > 0.55  # the teacher reads val at ~70 %
    assert len(list(tmp_path.glob("inception-resnet-*.npy"))) == 1

    def no_second_reading(*args, **kwargs):
        raise AssertionError("the cached probabilities should have been read")

    monkeypatch.setattr(distill, "served_classifier", no_second_reading)
    np.testing.assert_array_equal(distill.teacher_probabilities(load_card("inception-resnet"), faces.images), teacher)


def test_a_teacher_whose_prior_correction_changed_does_not_reuse_cached_answers(val):
    card = load_card("inception-resnet")
    correction = card.raw["class_prior_correction"]
    offsets = dict(correction["logit_offsets"], disgust=0.0)
    corrected_otherwise = parse_card(
        {**card.raw, "class_prior_correction": {**correction, "logit_offsets": offsets}}, card.path
    )
    uncorrected = parse_card({k: v for k, v in card.raw.items() if k != "class_prior_correction"}, card.path)
    faces = val.images[:10]
    paths = {distill.cache_path(c, faces) for c in (card, corrected_otherwise, uncorrected)}
    assert len(paths) == 3


# One epoch on 256 faces: enough to prove the command trains, exports and continues.
SMOKE = ["--epochs", "1", "--limit", "256", "--batch-size", "64"]


def test_training_smoke_run_produces_a_model_that_loads_and_can_be_continued(tmp_path):
    import keras

    models = tmp_path / "models"
    first = train_main(["mobilenetv2", *SMOKE, "--out", str(models), "--checkpoint-dir", str(tmp_path / "checkpoints")])
    model = keras.saving.load_model(models / "mobilenetv2.keras")
    assert model.predict(np.zeros((2, 48, 48, 1), np.float32), verbose=0).shape == (2, 7)
    assert read_card(models / "mobilenetv2.json").raw["training"]["epochs"] == 1
    assert first["metrics"]["n"] == VAL_FACES

    # A warm restart from the shipped file, in mixed precision, still ships float32 and keeps the first record.
    second = train_main(
        ["mobilenetv2", *SMOKE, "--init-from", str(models / "mobilenetv2.keras"), "--dtype-policy", "mixed_bfloat16"]
        + ["--out", str(models), "--checkpoint-dir", str(tmp_path / "continued")]
    )
    assert second["training"]["continued_from"] == first["training"]
    assert second["training"]["wall_seconds"] > first["training"]["wall_seconds"]
    assert "--init-from" in second["training"]["command"]
    reloaded = keras.saving.load_model(models / "mobilenetv2.keras")
    assert {weight.dtype for weight in reloaded.weights} == {"float32"}
    assert reloaded.compute_dtype == "float32"


def test_training_with_a_teacher_and_a_class_boost_records_both(tmp_path, monkeypatch):
    monkeypatch.setattr(distill, "CACHE_DIR", tmp_path / "teachers")
    card = train_main(
        ["mobilenetv2", *SMOKE, "--teacher", "inception-resnet", "--teacher-weight", "0.7", "--class-boost", "fear=1.5"]
        + ["--out", str(tmp_path / "models"), "--checkpoint-dir", str(tmp_path / "checkpoints")]
    )
    assert "--teacher inception-resnet --teacher-weight 0.7 --class-boost fear=1.5" in card["training"]["command"]
    assert "fear weighted 1.5x more" in card["training"]["data"]
    assert "blended 0.3:0.7 with the served probabilities of inception-resnet" in card["training"]["data"]
    assert len(list((tmp_path / "teachers").glob("inception-resnet-*.npy"))) == 1
    # The class weights it trained with, on the card for training.ensemble --undo-class-weights: the square root of
    # how much rarer a class is, fear's times 1.5.
    counts = np.bincount(data.load("train").labels[:256], minlength=len(EMOTIONS))
    weights = card["training"]["class_weights"]
    assert list(weights) == list(EMOTIONS)
    angry, fear, happy = (EMOTIONS.index(name) for name in ("angry", "fear", "happy"))
    assert weights["fear"] / weights["angry"] == pytest.approx(1.5 * (counts[angry] / counts[fear]) ** 0.5, rel=1e-3)
    assert weights["happy"] / weights["angry"] == pytest.approx((counts[angry] / counts[happy]) ** 0.5, rel=1e-3)


def test_an_upsampling_inception_resnet_keeps_its_48px_input_converts_exactly_and_continues_only_at_its_side(tmp_path):
    import keras
    import tensorflow as tf

    models = tmp_path / "models"
    card = train_main(
        ["inception-resnet", *SMOKE, "--upsample-to", "56", "--out", str(models)]
        + ["--checkpoint-dir", str(tmp_path / "checkpoints")]
    )
    network = keras.saving.load_model(models / "inception-resnet.keras", compile=False)
    assert network.input_shape == (None, 48, 48, 1)
    assert tuple(network.get_layer("upsample").output.shape[1:3]) == (56, 56)
    assert "--upsample-to 56" in card["training"]["command"]
    assert "56 px" in card["description"]
    # Served with int8 weights, measured again through that file; converted as float32 it gives the Keras network's
    # logits exactly, BatchNorm in inference mode.
    assert card["runtime"]["precision"] == "int8-weights"
    assert card["runtime"]["accuracy_cost"]["measured_on"].startswith("FER")
    exact = tmp_path / "float32.tflite"
    convert._tflite(network, tf.TensorSpec([None, 48, 48, 1], tf.float32), exact)
    faces = np.random.default_rng(0).uniform(-2, 2, (4, 48, 48, 1)).astype(np.float32)
    assert convert._largest_difference(network, exact, faces) < 1e-4
    with pytest.raises(SystemExit, match="upsamples faces to 56 px, this run to None"):
        train_main(
            ["inception-resnet", *SMOKE, "--init-from", str(models / "inception-resnet.keras")]
            + ["--out", str(tmp_path / "continued"), "--checkpoint-dir", str(tmp_path / "continued-checkpoints")]
        )


def test_only_inception_resnet_takes_an_upsampling_side(capsys):
    with pytest.raises(SystemExit):
        parse_args(["mobilenetv2", "--upsample-to", "64"])
    assert "--upsample-to applies to inception-resnet only" in capsys.readouterr().err


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_recipe_cycles_chain_within_each_member(name):
    steps = iter(recipe.commands(name))
    for member in recipe.MEMBERS[name]:
        outs = set()
        for index in range(len(member.cycles)):
            folder, step = next(steps)
            parsed = parse_args(step)
            assert parsed.name == name and parsed.checkpoint_dir == folder
            outs.add(parsed.out)
            # From scratch, then warm restarts from the member's own last file.
            assert parsed.init_from == (parsed.out / f"{name}.keras" if index else None)
        assert len(outs) == 1  # one folder a member
    assert next(steps, None) is None
    # Every cycle has its own checkpoint folder, so one cycle's resume never picks up another's state.
    folders = [folder for folder, _ in recipe.commands(name)]
    assert len(set(folders)) == len(folders)


def test_the_recipe_joins_inception_resnets_two_members_into_the_shipped_file_and_trains_mobilenetv2_there():
    members = [recipe.CHECKPOINTS / f"inception-resnet-member{n}-out" / "inception-resnet.keras" for n in (1, 2)]
    expected = ["inception-resnet", *map(str, members), "--out", str(MODELS_DIR), "--undo-class-weights"]
    assert recipe.join_arguments("inception-resnet") == expected
    assert load_card("inception-resnet").raw["training"]["command"].endswith(" --undo-class-weights")
    assert recipe.join_arguments("mobilenetv2") is None
    assert {parse_args(step).out for _, step in recipe.commands("mobilenetv2")} == {MODELS_DIR}


def test_the_benchmark_times_each_shipped_classifier_as_served():
    # Its own process: the benchmark pins itself to one core.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "functions"), str(REPO_ROOT)])}
    run = subprocess.run(
        [sys.executable, "-m", "training.bench", "--repeats", "2"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    rows = json.loads(run.stdout.strip().splitlines()[-1])
    assert [row["model"] for row in rows] == sorted(CLASSIFIERS)
    for row in rows:
        card = load_card(row["model"])
        assert 0 < row["ms_per_network_call"] < row["ms_per_face"]
        assert row["runtime_file_mb"] == round(card.runtime_weights.stat().st_size / 1e6, 2)


def test_recipe_skips_only_finished_cycles(tmp_path):
    (tmp_path / "clock_only").mkdir()
    (tmp_path / "clock_only" / "wall_seconds.json").write_text('{"seconds": 1, "epochs_done": 3, "total_epochs": 3}')
    (tmp_path / "interrupted").mkdir()
    (tmp_path / "interrupted" / "wall_seconds.json").write_text('{"seconds": 1, "epochs_done": 1, "total_epochs": 3}')
    (tmp_path / "interrupted" / "backup").mkdir()
    assert recipe.finished(tmp_path / "clock_only")
    assert not recipe.finished(tmp_path / "interrupted")
    assert not recipe.finished(tmp_path / "never_started")


def test_yolo3_calibration_scenes_alternate_the_first_read_side_and_the_enlarged_side_and_follow_their_seed():
    card = read_card(MODELS_DIR / "yolo3.json")
    spec = card.one_pass_input
    assert spec is not None

    def scenes(seed: int) -> list[np.ndarray]:
        return [sample[0] for sample in convert._one_pass_calibration(card, count=4, seed=seed)()]

    first, again, other = scenes(7), scenes(7), scenes(8)
    assert [x.shape[1] for x in first] == [spec.side, 512, spec.side, 512]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not any(np.array_equal(a, b) for a, b in zip(first, other))
