"""yolo3's training commands: a smoke run (train, resume, export, continue, average), the backbone pretraining, and the
synthetic scenes they draw."""

import json
import shlex
import zipfile
from argparse import Namespace

import numpy as np
import pytest

from moodlens.modelcard import EMOTIONS, read_card
from moodlens.predict import yolo

pytestmark = pytest.mark.training


def test_smoke_training_run_resumes_and_exports_a_loadable_model(tmp_path):
    import keras

    from training.data import fer_dir
    from training.yolo3 import __main__ as cli
    from training.yolo3 import train

    args = cli.parse(
        shlex.split(
            f"train --epochs 1 --scenes 24 --val-scenes 8 --size 128 --max-face 90 --batch 8 --width "
            f"0.5 --seed 3 --serve-size 128 --confidence 0.3 --photo-backgrounds 0.5 --bald-heads 0.3 "
            f"--fer-dir {fer_dir()} --out {tmp_path / 'out'} --checkpoint-dir "
            f"{tmp_path / 'ckpt'} --workers 1"
        )
    )
    train.train(args)
    args.epochs = 2
    card = train.train(args)
    state = json.loads((tmp_path / "ckpt" / "state.json").read_text())
    assert state["epoch"] == 2 and [h["epoch"] for h in state["history"]] == [1, 2]
    assert card["training"]["epochs"] == 2

    weights = tmp_path / "out" / "yolo3.keras"
    with zipfile.ZipFile(weights) as archive:
        assert "YoloLoss" not in archive.read("config.json").decode()
    model = keras.saving.load_model(weights, compile=False)
    assert [tuple(o.shape[1:]) for o in model.outputs] == [(None, None, 36)] * 3
    # The card it wrote is one serving reads: its reader runs the exported network at the card's side (128 here).
    exported = yolo.YoloFaceReader(read_card(tmp_path / "out" / "yolo3.json"))
    assert [h.shape for h in exported.heads(np.zeros((1, 128, 128), np.float32))] == [
        (1, 16, 16, 36),
        (1, 8, 8, 36),
        (1, 4, 4, 36),
    ]
    assert "--photo-backgrounds 0.5 --bald-heads 0.3" in card["training"]["command"]

    # A further cycle from the exported detector keeps its anchors, its earlier training record and the reads it is
    # served with (its int8 calibration letterboxes at the second read's side too).
    second_read = {"side": 160, "min_confidence": 0.05, "min_iou": 0.5, "rule": "as shipped"}
    served = json.loads((tmp_path / "out" / "yolo3.json").read_text()) | {"second_emotion_read": second_read}
    (tmp_path / "out" / "yolo3.json").write_text(json.dumps(served))
    again = cli.parse(
        shlex.split(
            f"train --epochs 1 --scenes 16 --val-scenes 4 --size 128 --batch 8 --init-from "
            f"{weights} --fer-dir {fer_dir()} --out {tmp_path / 'again'} "
            f"--checkpoint-dir {tmp_path / 'ckpt-again'} --workers 1"
        )
    )
    continued = train.train(again)
    assert continued["anchors"] == card["anchors"]
    assert continued["second_emotion_read"] == second_read and "face_reread" not in continued
    assert continued["training"]["continued_from"]["epochs"] == 2
    assert continued["training"]["total_wall_time_s"] > card["training"]["wall_time_s"]
    assert f"--init-from {weights}" in continued["training"]["command"]

    # The two cycles averaged: every weight the mean of theirs, a file serving reads, a card recording both cycles.
    from training.yolo3 import average

    later = tmp_path / "again" / "yolo3.keras"
    mean = average.run(cli.parse(["average", str(weights), str(later), "--out", str(tmp_path / "mean")]))
    cycles = [keras.saving.load_model(path, compile=False).get_weights() for path in (weights, later)]
    averaged = keras.saving.load_model(tmp_path / "mean" / "yolo3.keras", compile=False).get_weights()
    assert all(np.allclose(w, (a + b) / 2, atol=1e-6) for w, a, b in zip(averaged, *cycles))
    assert not np.allclose(averaged[0], cycles[1][0])
    assert mean["training"]["cycles"] == [card["training"]["command"], continued["training"]["command"]]
    assert mean["training"]["continued_from"] == continued["training"] and mean["anchors"] == continued["anchors"]
    assert yolo.YoloFaceReader(read_card(tmp_path / "mean" / "yolo3.json")).heads(np.zeros((1, 128, 128), np.float32))
    # Given newest first, or cycles that do not continue one another, it refuses.
    with pytest.raises(SystemExit, match="does not continue it"):
        average.run(cli.parse(["average", str(later), str(weights), "--out", str(tmp_path / "wrong")]))


def test_pretrained_backbone_is_what_the_detector_starts_from(tmp_path):
    import keras

    from training.data import fer_dir
    from training.yolo3 import __main__ as cli
    from training.yolo3 import model as net
    from training.yolo3 import pretrain

    # Where `train --pretrain-epochs` puts (and then finds) the first stage.
    stage1 = tmp_path / "ckpt" / "backbone"
    args = Namespace(
        epochs=1,
        time_budget=None,
        batch=32,
        lr=1e-3,
        weight_decay=0.05,
        width=0.5,
        seed=3,
        limit=64,
        fer_dir=str(fer_dir()),
        checkpoint_dir=str(stage1),
    )
    record = pretrain.pretrain(args)
    assert record["epochs"] == 1 and 0.0 <= record["val_accuracy"] <= 1.0
    assert set(record["val_per_class_recall"]) == set(EMOTIONS)

    detector = net.build(0.5)
    fresh = [w.copy() for w in detector.get_layer(net.BACKBONE).get_weights()]
    net.load_backbone(detector, stage1 / pretrain.WEIGHTS)
    loaded = detector.get_layer(net.BACKBONE).get_weights()
    pretrained = keras.saving.load_model(stage1 / pretrain.WEIGHTS, compile=False).get_layer(net.BACKBONE).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(loaded, pretrained))
    assert not all(np.array_equal(a, b) for a, b in zip(loaded, fresh))

    # The one-command form finds the finished first stage, trains from it and records both stages.
    cli.main(
        shlex.split(
            f"train --pretrain-epochs 1 --epochs 2 --redraw-scenes --scenes 16 --val-scenes 4 --size "
            f"96 --max-face 60 --batch 8 --width 0.5 --workers 1 --fer-dir {fer_dir()} --out "
            f"{tmp_path / 'out'} --checkpoint-dir {tmp_path / 'ckpt'}"
        )
    )
    card = json.loads((tmp_path / "out" / "yolo3.json").read_text())
    assert card["training"]["backbone_pretraining"]["val_accuracy"] == record["val_accuracy"]
    assert "--pretrain-epochs 1" in card["training"]["command"] and "--backbone" not in card["training"]["command"]
    assert card["training"]["command"].endswith(" --redraw-scenes")


def test_redrawn_scenes_replace_the_first_set_after_the_first_epoch():
    from training.yolo3 import scenes
    from training.yolo3.train import SceneBatches

    def scene_set(value):
        return scenes.SceneSet(
            np.full((4, 32, 32), value, np.uint8), [np.zeros((0, 4), np.float32)] * 4, [np.zeros(0, np.int64)] * 4
        )

    first = scene_set(0)
    batches = SceneBatches(first, np.ones((9, 2), np.float32) * 8, 2, seed=1, redraw=lambda epoch: scene_set(epoch))
    batches.set_epoch(3)
    assert batches[0][0].min() == 3
    batches.set_epoch(0)
    assert batches.data is first


def test_photo_backgrounds_come_from_the_face_free_photographs():
    from training.yolo3 import scenes

    photos = scenes.face_free_photos()
    assert len(photos) == len(scenes.FACE_FREE_PHOTOS) and all(p.ndim == 2 and min(p.shape) >= 64 for p in photos)
    crop = scenes.photo_crop(np.random.default_rng(0), 50, 30)
    assert crop.shape == (30, 50) and crop.std() > 0

    faces = np.full((4, 48, 48), 100, np.uint8)
    labels = np.arange(4)

    def scene(photo_fraction):
        recipe = scenes.Recipe(size=96, photo_fraction=photo_fraction)
        return scenes.make_scene(np.random.default_rng(5), faces, labels, recipe, np.arange(2))

    plain, on_photo = scene(0.0), scene(1.0)
    assert plain[0].shape == on_photo[0].shape == (96, 96)
    assert not np.array_equal(plain[0], on_photo[0])


def test_bald_people_have_skin_above_the_forehead():
    from training.yolo3 import scenes

    face = np.full((1, 48, 48), 150, np.uint8)

    def crown(bald_fraction):
        recipe = scenes.Recipe(
            size=128,
            min_face=60,
            max_face=61,
            people_fraction=1.0,
            portrait_fraction=0.0,
            empty_fraction=0.0,
            decoy_rate=0.0,
            bald_fraction=bald_fraction,
        )
        tones = []
        for seed in range(12):
            image, boxes, _ = scenes.make_scene(np.random.default_rng(seed), face, np.array([3]), recipe, np.array([0]))
            x, y, w, h = boxes[0]
            if y > 12:
                tones.append(np.abs(image[int(y) - 6, int(x + w / 2)].astype(float) - 150))
        return np.median(tones)

    assert crown(1.0) < 25 < crown(0.0)


def test_pasted_extents_invert_the_label_boxes():
    from training.yolo3 import scenes

    pasted = np.array([[10, 20, 48, 48], [0, 5, 100, 120]], np.float32)
    np.testing.assert_allclose(scenes.pasted_extents(scenes.face_boxes(pasted)), pasted, atol=1e-4)


def test_the_yardstick_classifier_is_also_scored_on_the_faces_the_detector_found():
    from moodlens.settings import Settings
    from training.data import fer_dir
    from training.yolo3 import evaluate

    reader = yolo.YoloFaceReader(read_card(Settings().models_dir / "yolo3.json"))
    read = evaluate.scene_metrics(reader, fer_dir(), reader.spec.side, limit=40)
    emotions = evaluate.emotion_metrics(read["found"], read["data"], reader.spec.confidence)
    found = emotions["found_mask"]
    assert len(found) == read["faces"] == 40
    assert found.sum() == emotions["matched_faces"] and 0 < found.sum() < len(found)

    yardstick = evaluate.reference_classifier_metrics(read["data"], found)
    assert yardstick["faces"] == 40 and yardstick["faces_found"] == found.sum()
    everything = evaluate.reference_classifier_metrics(read["data"], np.ones_like(found))
    assert everything["accuracy_on_faces_found"] == everything["accuracy"] == yardstick["accuracy"]
    assert evaluate.reference_classifier_metrics(read["data"], np.zeros_like(found))["accuracy_on_faces_found"] is None


def test_serving_options_are_picked_on_other_val_scenes_than_the_cards():
    """--val-scene-seed draws other scenes than the card's: each set places every val face once, in another order,
    at other places and sizes."""
    from training.data import fer_dir
    from training.yolo3 import evaluate, scenes

    recipe = scenes.Recipe(size=416)
    card_scenes = scenes.evaluation_scenes(fer_dir(), evaluate.VAL_SCENE_SEED, recipe, limit=30)
    other = scenes.evaluation_scenes(fer_dir(), 2027, recipe, limit=30)
    assert not np.array_equal(card_scenes.images, other.images)
    assert not any(np.array_equal(a, b) for a, b in zip(card_scenes.boxes, other.boxes))


def test_further_scene_draws_are_each_read_as_the_first_and_averaged():
    from moodlens.settings import Settings
    from training.data import fer_dir
    from training.yolo3 import evaluate

    reader = yolo.YoloFaceReader(read_card(Settings().models_dir / "yolo3.json"))
    side, threshold = reader.spec.side, reader.spec.confidence

    def accuracy(seed):
        read = evaluate.scene_metrics(reader, fer_dir(), side, limit=40, seed=seed)
        return evaluate.emotion_metrics(read["found"], read["data"], threshold)

    first = accuracy(evaluate.VAL_SCENE_SEED)
    draws = evaluate.scene_draws(reader, fer_dir(), side, 40, evaluate.VAL_SCENE_SEED, first, threshold, 2)
    third = accuracy(evaluate.VAL_SCENE_SEED + 2)
    assert draws["seeds"] == [2026, 2027, 2028]
    assert draws["accuracy"][0] == round(first["accuracy"], 4) and draws["accuracy"][2] == round(third["accuracy"], 4)
    assert draws["matched_faces"][2] == third["matched_faces"]
    assert draws["mean"] == pytest.approx(sum(draws["accuracy"]) / 3, abs=1e-4)


def test_the_face_reread_option_writes_a_card_the_reader_takes(tmp_path):
    from moodlens.modelcard import parse_card
    from moodlens.settings import Settings
    from training.yolo3 import evaluate

    path = Settings().models_dir / "yolo3.json"
    raw = json.loads(path.read_text())
    assert evaluate.face_reread([0], raw["strides"]) is None
    reread = parse_card(
        dict(raw, face_reread=evaluate.face_reread([40, 56], raw["strides"])), path
    ).one_pass_input.face_reread
    assert (reread.face_sides, reread.context, reread.sides) == ((40, 56), 3.0, (128, 192))
    # A tighter cut: 40 * 2.5 = 100 and 56 * 2.5 = 140 px, letterboxed to the next multiple of the stride 32.
    tighter = parse_card(
        dict(raw, face_reread=evaluate.face_reread([40, 56], raw["strides"], 2.5)), path
    ).one_pass_input.face_reread
    assert (tighter.context, tighter.sides) == (2.5, (128, 160))


def test_a_given_threshold_is_the_one_read_at_and_written(tmp_path):
    import shutil

    from moodlens.settings import Settings
    from training.data import fer_dir
    from training.yolo3 import __main__ as cli
    from training.yolo3 import evaluate

    shipped = Settings().models_dir
    for name in ("yolo3.json", "yolo3.keras", "yolo3.tflite"):
        shutil.copy(shipped / name, tmp_path / name)
    (tmp_path / "mtcnn").symlink_to(shipped / "mtcnn")
    card = tmp_path / "yolo3.json"
    assert json.loads(card.read_text())["thresholds"]["confidence"] != 0.7

    def evaluated(*options):
        return evaluate.run(
            cli.parse(["evaluate", "--card", str(card), "--fer-dir", str(fer_dir()), "--val-limit", "24", *options])
        )

    summary = evaluated("--scenes-only", "--threshold", "0.7", "--write-card")
    written = json.loads(card.read_text())
    assert summary["confidence_threshold"] == written["thresholds"]["confidence"] == 0.7
    assert written["metrics"]["confidence_threshold_rule"] == "given (--threshold)"
    with pytest.raises(SystemExit, match="must be one of"):
        evaluated("--threshold", "0.33")
    with pytest.raises(SystemExit):
        evaluated("--threshold", "0.3", "--tune-threshold")
    with pytest.raises(SystemExit, match="goes with --face-reread-sides"):
        evaluated("--face-reread-context", "2.5")


def test_distilled_scenes_carry_the_target_rows_of_the_very_faces_they_paste():
    from training.data import fer_dir
    from training.yolo3 import model as net
    from training.yolo3 import scenes

    faces, labels = scenes.load_faces(fer_dir(), "train")
    # Each face's row names the face: its first entry is its index over the face count, its label sits at the end.
    rows = np.zeros((len(faces), len(EMOTIONS) + 1), np.float32)
    rows[:, 0] = np.arange(len(faces)) / len(faces)
    rows[:, -1] = labels
    recipe = scenes.Recipe(size=128)
    plain = scenes.generate(fer_dir(), 6, 11, recipe)
    distilled = scenes.generate(fer_dir(), 6, 11, recipe, targets=rows)

    assert np.array_equal(plain.images, distilled.images)
    assert sum(map(len, plain.labels)) >= 6
    for scene_labels, scene_rows in zip(plain.labels, distilled.labels):
        assert scene_rows.shape == (len(scene_labels), len(EMOTIONS) + 1)
        assert np.array_equal(scene_rows[:, -1], scene_labels)
        assert np.array_equal(labels[np.rint(scene_rows[:, 0] * len(faces)).astype(int)], scene_labels)

    # Target rows reach the face's cell as they are; a plain label is smoothed there.
    box = [np.array([[40.0, 40.0, 48.0, 48.0]], np.float32)]
    anchors = np.array([[12, 12], [24, 24], [32, 32], [48, 48], [64, 64], [80, 80], [96, 96], [110, 110], [120, 120]])
    teacher_row = np.array([[0.05, 0.05, 0.1, 0.5, 0.1, 0.1, 0.1]], np.float32)
    targets = net.build_targets(box, [teacher_row], 128, anchors.astype(np.float32))
    smoothed = net.build_targets(box, [np.array([3])], 128, anchors.astype(np.float32))
    positive = [t[0][t[0][..., 0] == 1.0] for t in targets]
    positive_smoothed = [t[0][t[0][..., 0] == 1.0] for t in smoothed]
    cells = np.concatenate(positive)
    assert len(cells) >= 1
    np.testing.assert_allclose(cells[:, net.CLASSES_FROM :], np.repeat(teacher_row, len(cells), 0))
    np.testing.assert_allclose(
        np.concatenate(positive_smoothed)[0, net.CLASSES_FROM :],
        np.full(len(EMOTIONS), net.LABEL_SMOOTHING / len(EMOTIONS)) + np.eye(len(EMOTIONS))[3] * 0.9,
        rtol=1e-5,
    )


def test_a_teacher_blends_into_each_training_faces_emotion_target_and_is_recorded(monkeypatch):
    from training import distill
    from training.data import fer_dir
    from training.yolo3 import __main__ as cli
    from training.yolo3 import scenes, train

    faces, labels = scenes.load_faces(fer_dir(), "train")
    teacher = np.full((len(faces), len(EMOTIONS)), 1 / len(EMOTIONS), np.float32)
    read = []
    monkeypatch.setattr(distill, "teacher_probabilities", lambda card, images: read.append(card.name) or teacher)
    args = cli.parse(["train", "--teacher", "inception-resnet", "--teacher-weight", "0.4", "--fer-dir", str(fer_dir())])
    targets = train.emotion_targets(args)

    assert read == ["inception-resnet"] and targets.shape == (len(faces), len(EMOTIONS))
    np.testing.assert_allclose(targets.sum(1), 1.0, rtol=1e-5)
    # Label 0.9 + 0.1/7 smoothed, then 0.6 of it beside 0.4 of the uniform teacher.
    first = labels[0]
    assert targets[0, first] == pytest.approx(0.6 * (0.9 + 0.1 / 7) + 0.4 / 7, rel=1e-5)
    assert "--teacher inception-resnet" in " ".join(f"--{k} {v}" for k, v in train.state_args(args).items())
    assert train.state_args(args)["teacher_weight"] == 0.4
    assert train.emotion_targets(cli.parse(["train", "--fer-dir", str(fer_dir())])) is None


def test_reread_faces_are_pasted_at_the_reread_sides_and_recorded():
    from training.yolo3 import __main__ as cli
    from training.yolo3 import scenes, train

    faces = np.full((8, 48, 48), 120, np.uint8)
    labels = np.arange(8) % len(EMOTIONS)

    def pasted_sides(reread_fraction):
        recipe = scenes.Recipe(size=224, max_face=190, empty_fraction=0.0, reread_fraction=reread_fraction)
        sides = []
        for seed in range(30):
            _, boxes, _ = scenes.make_scene(np.random.default_rng(seed), faces, labels, recipe, np.arange(3))
            sides.extend(scenes.pasted_extents(boxes)[:, 3])
        return np.array(sides)

    everywhere, at_reread = pasted_sides(0.0), pasted_sides(1.0)
    # Heights are drawn 0.95-1.15 times the side, and a face cut by the canvas edge is shorter.
    assert np.mean((at_reread >= 0.95 * 32) & (at_reread <= 1.15 * 60 + 1)) > 0.9
    assert np.mean((everywhere >= 0.95 * 32) & (everywhere <= 1.15 * 60 + 1)) < 0.6

    args = cli.parse(["train", "--reread-faces", "0.5", "--reread-sides", "30", "56"])
    assert train.state_args(args)["reread_faces"] == 0.5 and train.state_args(args)["reread_sides"] == "30 56"
    assert "reread_faces" not in train.state_args(cli.parse(["train"]))
