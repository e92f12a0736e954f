"""Make the files serving runs: `python -m training.convert [name ...]`.

Serving runs every network through LiteRT (TensorFlow Lite's interpreter: 0.1 s to import against 4 s for
TensorFlow). This converts each model's `.keras` file to `<name>.tflite` beside it, and the three networks of the
`mtcnn` package (its shipped weights) to `mtcnn/{pnet,rnet,onet}.tflite`; then it checks each converted network
against the Keras one on the same inputs and records the largest difference on the card (`runtime`). Training calls
`convert_after_training` after it saves a model, so a trained model is servable at once (where TensorFlow is
installed: a GPU machine's Keras on JAX has no converter, and its models are converted here afterwards). With no
names, converts everything.

MTCNN's networks and mobilenetv2 keep float32 weights: MTCNN's ran slower and moved boxes by up to 22 px when
quantized, and mobilenetv2 read 0.6 point fewer val faces right as int8 (its depthwise convolutions quantize badly),
for a face that already costs 1 ms (measured). yolo3 is quantized to int8 (weights and activations; float32 in and
out), which runs it 3.5x faster: it reads every photo twice with the largest network. Its calibration data are
synthetic scenes of FER2013's training faces, never the val faces or photos it is scored on. inception-resnet keeps
int8 weights with float32 activations ("dynamic range": 2.9 ms a face with its mirror image against 2.3 ms fully int8
and ~8 ms in float32): it reads as many val faces right as in float32, where fully int8 lost 0.14-0.25 point. A
quantized classifier's card is then measured again through its runtime file (its temperature refitted on val, as
training does) and its runtime block keeps the float32 network's figures beside it (`accuracy_cost`); `python -m
training.yolo3 evaluate` does the same for yolo3 (metrics.runtime_cost).
"""

import argparse
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from moodlens.modelcard import (
    CLASSIFIER,
    FLOAT32,
    INT8,
    INT8_WEIGHTS,
    ONE_PASS,
    ModelCard,
    parse_card,
    read_card,
    write_card,
)
from moodlens.predict.classifier import Classifier
from moodlens.predict.runtime import MTCNN_NETS, output_name
from training.data import fer_dir, load
from training.evaluate import MODELS_DIR, card_metrics, headline

COMMAND = "python -m training.convert"
QUANTIZED_KINDS = (ONE_PASS,)
WEIGHT_QUANTIZED_CLASSIFIERS = ("inception-resnet",)
CALIBRATION_SCENES = 64
# Calibrations drawn with other seeds read val scenes a few tenths of a point apart: --calibration-seed draws another.
CALIBRATION_SEED = 7
# yolo3's int8 file calibrated on scenes at 416 and 512 read the val scenes 0.2-0.4 point better (two calibrations,
# seven scene sets) than calibrated at every side its network runs at, rereads' 128-192 included (three), or at 416
# and 256 (one): the enlarged scenes' larger activations keep the rereads' faces from clipping, it seems.
CALIBRATION_ENLARGED_SIDE = 512


def converter_available() -> bool:
    """Whether TensorFlow (the converter) is installed: a GPU machine trains with Keras on JAX or PyTorch without it,
    and its models are converted afterwards where TensorFlow is."""
    return importlib.util.find_spec("tensorflow") is not None


def convert_after_training(card_path: Path) -> dict:
    """The card after converting its model, or as it is (with a note on stderr) where TensorFlow is missing."""
    if converter_available():
        return dict(convert_model(card_path).raw)
    name = Path(card_path).stem
    print(f"no TensorFlow here: convert {name} where it is installed: {COMMAND} {name}", file=sys.stderr)
    return dict(read_card(card_path).raw)


def publish_classifier(card_path: Path, card: dict) -> dict:
    """Writes a trained classifier's card, converts its model and prints the headline of the card as served (a
    quantized file is measured again once converted): how train and ensemble end."""
    write_card(card_path, card)
    card = convert_after_training(card_path)
    print(json.dumps(headline(card["metrics"], card["name"], card["temperature"])))
    return card


def _tflite(network, input_spec, path: Path, precision: str = FLOAT32, calibration=None) -> None:
    """Writes `network` (a Keras model: tensor -> tensor or list of tensors) as a TFLite flatbuffer whose one
    signature takes `pixels` and names its outputs in order (runtime.output_name), so serving reads them in the order
    the network returns them. INT8_WEIGHTS: int8 weights, float32 activations; INT8: weights and activations int8, their
    ranges taken from `calibration` (a callable yielding [input] lists)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    @tf.function(input_signature=[input_spec])
    def serve(pixels):
        # Inference mode said outright: with `training` left open, a network holding a Resizing layer runs BatchNorm
        # on the batch's statistics and updates them.
        outputs = network(pixels, training=False)
        outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
        return {output_name(i): tf.cast(out, tf.float32) for i, out in enumerate(outputs)}

    # Frozen first: otherwise the converter keeps the weights as variables that the interpreter never initialises.
    frozen = convert_variables_to_constants_v2(serve.get_concrete_function())
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], network)
    if precision != FLOAT32:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if precision == INT8:
        converter.representative_dataset = calibration
    path.write_bytes(converter.convert())


def _one_pass_calibration(card: ModelCard, count: int = CALIBRATION_SCENES, seed: int = CALIBRATION_SEED):
    """Photos as the reader reads them: synthetic scenes of FER2013 training faces (half on face-free photographs),
    cut to random aspect ratios and letterboxed at the first read's side and enlarged to CALIBRATION_ENLARGED_SIDE,
    in turn."""
    from moodlens.predict.yolo import letterbox
    from training.yolo3 import scenes

    spec = card.one_pass_input
    assert spec is not None
    sides = (spec.side, CALIBRATION_ENLARGED_SIDE)
    made = scenes.generate(fer_dir(), count, seed, scenes.Recipe(size=spec.side, photo_fraction=0.5), split="train")
    rng = np.random.default_rng(seed)

    def samples():
        for index, scene in enumerate(made.images):
            height, width = (max(32, int(side * rng.uniform(0.5, 1.0))) for side in scene.shape)
            pixels, _ = letterbox(scene[:height, :width], sides[index % len(sides)], spec.pad_value)
            yield [pixels[None, ..., None]]

    return samples


def _with_known_channels(network):
    """The same network, with each UpSampling2D (nearest, x2) done as an image resize: Keras' UpSampling2D loses the
    channel count when height and width are open, and the converter then cannot turn the next convolution into a
    TFLite op. Nearest-neighbour resize by 2 picks the same pixels, so the outputs are unchanged."""
    import keras
    import tensorflow as tf

    if not any(isinstance(layer, keras.layers.UpSampling2D) for layer in network._flatten_layers()):
        return network

    def double(x):
        return tf.image.resize(x, tf.shape(x)[1:3] * 2, method="nearest")

    def rebuilt(layer):
        if isinstance(layer, keras.layers.UpSampling2D):
            return keras.layers.Lambda(double, name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    clone = keras.models.clone_model(network, clone_function=rebuilt)
    clone.set_weights(network.get_weights())
    return clone


def _largest_difference(network, path: Path, batch: np.ndarray) -> float:
    """The largest difference between the Keras network's outputs (in inference mode, as in _tflite) and the
    converted file's on `batch`."""
    from moodlens.predict.runtime import Network

    keras_outputs = network(batch, training=False)
    converted = Network(path)(batch)
    keras_outputs = keras_outputs if isinstance(keras_outputs, list | tuple) else [keras_outputs]
    return max(float(np.max(np.abs(np.asarray(k) - c))) for k, c in zip(keras_outputs, converted))


def conversion_precision(card: ModelCard) -> str:
    """The precision `convert_model` gives a model's runtime file (what the card's runtime.precision then says)."""
    if card.kind in QUANTIZED_KINDS:
        return INT8
    return INT8_WEIGHTS if card.kind == CLASSIFIER and card.name in WEIGHT_QUANTIZED_CLASSIFIERS else FLOAT32


def convert_model(card_path: Path, calibration_seed: int = CALIBRATION_SEED) -> ModelCard:
    """<name>.keras -> <name>.tflite, checked on random inputs; the card records the file and the difference.
    calibration_seed draws an int8 file's calibration scenes."""
    import keras
    import tensorflow as tf

    raw = json.loads(Path(card_path).read_text())
    card = read_card(card_path)
    network = keras.saving.load_model(card.path.parent / raw["file"], compile=False)
    if card.kind == CLASSIFIER:
        spec = card.classifier_input
        assert spec is not None
        shape = [None, spec.height, spec.width, spec.channels]
        sample = card.classifier_input.normalization.apply(np.random.default_rng(0).integers(0, 256, (4, *shape[1:])))
    else:
        # The one-pass reader reads the photo at more than one side: height and width stay open.
        shape = [1, None, None, 1]
        sample = np.random.default_rng(0).uniform(0, 255, (1, 416, 320, 1)).astype(np.float32)
    target = card.path.parent / f"{card.name}.tflite"
    precision = conversion_precision(card)
    calibration = _one_pass_calibration(card, seed=calibration_seed) if precision == INT8 else None
    _tflite(_with_known_channels(network), tf.TensorSpec(shape, tf.float32), target, precision, calibration)
    raw["runtime"] = {
        "file": target.name,
        "format": "LiteRT (TensorFlow Lite) flatbuffer, "
        + {
            INT8: "int8 weights and activations, float32 input and outputs",
            INT8_WEIGHTS: "int8 weights, float32 activations, input and outputs",
            FLOAT32: "float32 weights",
        }[precision],
        "precision": precision,
        "converted_from": raw["file"],
        "converted_by": f"{COMMAND} {card.name}",
        "file_bytes": target.stat().st_size,
        "max_abs_output_difference": float(f"{_largest_difference(network, target, sample):.3g}"),
        "checked_on": "random inputs, in the network's input range",
    }
    if precision == INT8_WEIGHTS:
        raw |= _measured_as_served(parse_card(raw, Path(card_path)), network)
    elif precision == INT8:
        raw["runtime"]["calibrated_on"] = (
            f"{CALIBRATION_SCENES} synthetic scenes of FER2013 training faces (seed {calibration_seed}), letterboxed "
            "as served; the accuracy cost is measured by python -m training.yolo3 evaluate (metrics.runtime_cost)"
        )
    return write_card(card_path, raw)


def _measured_as_served(card: ModelCard, network) -> dict:
    """A quantized classifier's temperature and metrics measured on val through its runtime file, as training measures
    a network; the runtime block keeps the float32 network's accuracy beside the served one."""
    val = load("val")
    _, reference = card_metrics(Classifier(card, network=network.predict_on_batch), val)
    temperature, served = card_metrics(Classifier(card), val)
    cost = {
        "float32_keras_accuracy": reference["accuracy"],
        "served_accuracy": served["accuracy"],
        "accuracy_points_lost": round(100 * (reference["accuracy"] - served["accuracy"]), 2),
        "measured_on": "FER2013 val, 3,589 faces, through serving's Classifier",
    }
    return {"temperature": temperature, "metrics": served, "runtime": {**card.raw["runtime"], "accuracy_cost": cost}}


def convert_mtcnn(models_dir: Path) -> dict:
    """The mtcnn package's P, R and O networks with its shipped weights, and its licence beside them."""
    import mtcnn
    import tensorflow as tf
    from mtcnn.network.onet import ONet
    from mtcnn.network.pnet import PNet
    from mtcnn.network.rnet import RNet
    from mtcnn.utils.tensorflow import load_weights

    target = models_dir / "mtcnn"
    target.mkdir(exist_ok=True)
    # PNet is fully convolutional and runs on every level of the image pyramid: height and width stay open.
    shapes = {"pnet": [1, None, None, 3], "rnet": [None, 24, 24, 3], "onet": [None, 48, 48, 3]}
    report = {}
    rng = np.random.default_rng(0)
    for name, architecture in zip(MTCNN_NETS, (PNet, RNet, ONet)):
        network = architecture()
        network.build()
        network.set_weights(load_weights(f"{name}.lz4"))
        path = target / f"{name}.tflite"
        _tflite(network, tf.TensorSpec(shapes[name], tf.float32), path)
        sample_shape = [3 if size is None else size for size in shapes[name]]
        sample_shape[1:3] = [57, 83] if name == "pnet" else sample_shape[1:3]
        sample = rng.uniform(-1, 1, sample_shape).astype(np.float32)
        report[name] = {
            "file_bytes": path.stat().st_size,
            "max_abs_output_difference": float(f"{_largest_difference(network, path, sample):.3g}"),
        }
    licence = Path(mtcnn.__file__).resolve().parent.parent / f"mtcnn-{_version('mtcnn')}.dist-info" / "LICENSE"
    if licence.exists():
        shutil.copyfile(licence, target / "LICENSE")
    (target / "SOURCE.json").write_text(
        json.dumps(
            {
                "what": "MTCNN's three networks (Zhang et al. 2016), the weights shipped by the mtcnn package",
                "package": f"mtcnn=={_version('mtcnn')} (MIT licence, LICENSE here)",
                "converted_by": f"{COMMAND} mtcnn",
                "input": "RGB normalised as (pixels - 127.5) / 128; outputs in the Keras networks' order",
                "networks": report,
            },
            indent=1,
        )
        + "\n"
    )
    return report


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="model names, or mtcnn; all when none")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR)
    parser.add_argument(
        "--calibration-seed",
        type=int,
        default=CALIBRATION_SEED,
        help="draw an int8 file's calibration scenes with this seed (default %(default)s)",
    )
    args = parser.parse_args(argv)
    cards = {path.stem: path for path in sorted(args.models_dir.glob("*.json"))}
    names = args.names or ["mtcnn", *cards]
    for name in names:
        if name == "mtcnn":
            print(json.dumps({"mtcnn": convert_mtcnn(args.models_dir)}))
        else:
            card = convert_model(cards[name], args.calibration_seed)
            print(json.dumps({name: card.raw["runtime"]}))


if __name__ == "__main__":
    main()
