"""The mean of the weights of yolo3 cycles that continue one another: `python -m training.yolo3 average
CYCLE/yolo3.keras CYCLE/yolo3.keras [...] --out DIR`.

A cycle started from the previous cycle's file ends in a minimum near that one; the network whose every weight
(BatchNorm statistics included) is the mean of theirs often reads better than either ("model soups", Wortsman et al.
2022), and it costs what one network costs to serve. The files are given oldest first, and each cycle's card (the
.json beside its .keras file) must be continued, directly or further back, by the next one's, so that the last card's
training record holds every cycle averaged. The averaged card is the last cycle's, its training record the
average's command over that cycle's record, its metrics empty until `python -m training.yolo3 evaluate --write-card`
measures it; then the network is converted, as training ends.
"""

import json
import shlex
import sys
from pathlib import Path

import numpy as np

from moodlens.modelcard import write_card
from training.convert import convert_after_training
from training.yolo3.train import CARD_NAME

# What every averaged cycle must share with the last: what its network's outputs mean. How serving reads it (the
# photo's side, the extra reads) is the last cycle's.
SHARED = ("kind", "classes", "output", "strides", "anchors_per_scale", "anchors")


def lineage(training: dict) -> list[dict]:
    """A cycle's training record and those of the cycles it continued, newest first."""
    chain = []
    while training:
        chain.append(training)
        training = training.get("continued_from")
    return chain


def check_cycles(cards: list[dict], paths: list[Path]) -> None:
    last = cards[-1]
    for card, path in zip(cards, paths):
        differ = [key for key in SHARED if card.get(key) != last.get(key)]
        if differ:
            raise ValueError(f"{path}: its card's {', '.join(differ)} differ from the last cycle's")
    for earlier, later, path in zip(cards, cards[1:], paths):
        if earlier["training"] not in lineage(later["training"])[1:]:
            raise ValueError(f"{path}: the next cycle given does not continue it (files go oldest first)")


def mean_weights(networks: list) -> list[list[np.ndarray]]:
    """Per layer of the first network, the mean of the networks' weights of that layer."""
    layers = [network.layers for network in networks]
    if len({len(of_one) for of_one in layers}) != 1:
        raise ValueError("the networks have different layers")
    means = []
    for same_layer in zip(*layers):
        weights = [layer.get_weights() for layer in same_layer]
        if len({tuple(w.shape for w in of_one) for of_one in weights}) != 1:
            raise ValueError(f"layer {same_layer[0].name}: the networks' weights differ in shape")
        means.append([np.mean(arrays, axis=0).astype(arrays[0].dtype) for arrays in zip(*weights)])
    return means


def average(paths: list[Path], out: Path, command: str) -> dict:
    import keras

    if len(paths) < 2:
        raise ValueError("give two or more cycles' files")
    cards = [json.loads(path.with_suffix(".json").read_text()) for path in paths]
    check_cycles(cards, paths)
    networks = [keras.saving.load_model(path, compile=False) for path in paths]
    averaged = networks[-1]
    for layer, weights in zip(averaged.layers, mean_weights(networks)):
        layer.set_weights(weights)
    out.mkdir(parents=True, exist_ok=True)
    weights_path = out / f"{CARD_NAME}.keras"
    averaged.save(weights_path)
    last = cards[-1]["training"]
    card = {
        **cards[-1],
        "metrics": {},
        "training": {
            "command": command,
            "weight_average": f"every weight (BatchNorm statistics included) the mean of those of the {len(paths)} "
            "cycles in `cycles`, oldest first; the last one's record is `continued_from`, which holds the others'",
            "cycles": [card["training"]["command"] for card in cards],
            "continued_from": last,
            "total_wall_time_s": last.get("total_wall_time_s"),
        },
    }
    card_path = out / f"{CARD_NAME}.json"
    write_card(card_path, card)
    card = convert_after_training(card_path)
    print(f"wrote {weights_path} ({weights_path.stat().st_size / 1e6:.2f} MB), the mean of {len(paths)} cycles")
    return card


def run(args) -> dict:
    paths = [Path(path) for path in args.cycles]
    command = "python -m training.yolo3 average " + shlex.join([*args.cycles, "--out", args.out])
    try:
        return average(paths, Path(args.out), command)
    except ValueError as error:
        sys.exit(f"average: {error}")
