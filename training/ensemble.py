"""Join classifiers trained from different starts into one: `python -m training.ensemble <name> MEMBER.keras
MEMBER.keras [...] [--out DIR]`.

Networks trained from different random starts err on different faces, so the mean of their logits reads more faces
right than any one of them. The members become one Keras network over one input, a layer averaging their logits:
serving runs one LiteRT file as for any classifier, and the card's contract is unchanged. Each member's card (the
.json beside its .keras file) must read faces the same way (input, normalisation, crop, flip). The joined card records
every member's training and accuracy, and is measured through serving's Classifier on val with its temperature
refitted, as training.train measures a trained network; then the network is converted.

With --undo-class-weights the card also carries logit offsets (class_prior_correction) that take the members' training
class weights back out: a network trained with class c's faces weighted w_c learns p(c | face) * w_c, which favours the
rare classes over how often they occur; minus the members' mean log w_c restores the classes' own frequencies. Serving
adds the offsets to the logits before the temperature, so the card's figures are measured with them.
"""

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np

from moodlens.modelcard import EMOTIONS, ModelCard, parse_card, read_card
from moodlens.predict.classifier import Classifier
from training import data
from training.convert import publish_classifier
from training.evaluate import MODELS_DIR, card_metrics, measured_fields

# What a member's card must share with the others': how serving turns a face into the network's input and reads it.
READING = ("kind", "classes", "input", "output", "test_time_flip", "crop")
MEMBER_PREFIX = "member_"
COMMAND = "python -m training.ensemble"


def member_names(network) -> list[str]:
    """The members of a joined network, in order; none for a single network."""
    return [layer.name for layer in network.layers if layer.name.startswith(MEMBER_PREFIX)]


def join(networks: list, name: str, alternate_mirror: bool = False):
    """One network: the mean of the members' logits over one shared input; with `alternate_mirror`, the even-numbered
    members read the input mirrored (faces are (N, H, W, C): axis 2 is left to right)."""
    import keras

    pixels = keras.Input(networks[0].inputs[0].shape[1:], name="pixels")
    mirrored = keras.ops.flip(pixels, axis=2) if alternate_mirror else pixels
    for number, network in enumerate(networks, 1):
        network.name = f"{MEMBER_PREFIX}{number}"  # each member's own layer names stay inside it
    logits = [network(mirrored if number % 2 == 0 else pixels) for number, network in enumerate(networks, 1)]
    return keras.Model(pixels, keras.layers.Average(name="mean_logits")(logits), name=name)


def member_cards(paths: list[Path]) -> list[ModelCard]:
    cards = [read_card(path.with_suffix(".json")) for path in paths]
    for path, card in zip(paths[1:], cards[1:]):
        differs = [key for key in READING if card.raw.get(key) != cards[0].raw.get(key)]
        if differs:
            raise SystemExit(f"{path} reads faces unlike {paths[0]} ({', '.join(differs)}): members must agree")
    return cards


def prior_correction(cards: list[ModelCard]) -> dict:
    """The card's class_prior_correction: minus the mean over the members of the log of their training class weights
    (each member card's training.class_weights)."""
    missing = [card.path for card in cards if "class_weights" not in card.raw["training"]]
    if missing:
        raise SystemExit(
            f"{', '.join(map(str, missing))}: no training.class_weights on the card (trained before they "
            "were recorded): train the member again or join without --undo-class-weights"
        )
    log_weights = np.mean(
        [[np.log(card.raw["training"]["class_weights"][name]) for name in EMOTIONS] for card in cards], 0
    )
    # Shifting every logit alike changes no probability: centred, so the offsets read as more or less likely.
    offsets = -(log_weights - log_weights.mean())
    return {
        "logit_offsets": {name: round(float(offset), 4) for name, offset in zip(EMOTIONS, offsets)},
        "rule": "added to the logits before the temperature: minus the mean over the members of the log of the class "
        "weights each was trained with (training.class_weights), centred; training.ensemble --undo-class-weights",
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="the joined model's name: <out>/<name>.keras and its card")
    parser.add_argument("members", type=Path, nargs="+", help=".keras files, each with its card beside it")
    parser.add_argument("--out", type=Path, default=MODELS_DIR)
    parser.add_argument(
        "--alternate-mirror",
        action="store_true",
        help="the members take turns: every second one reads the face's mirror image inside the network, in place "
        "of serving's test-time flip (each member runs once a face instead of twice)",
    )
    parser.add_argument(
        "--undo-class-weights",
        action="store_true",
        help="logit offsets on the card that take the members' training class weights back out "
        "(class_prior_correction)",
    )
    args = parser.parse_args(argv)
    if len(args.members) < 2:
        parser.error("join at least two members")

    import keras

    cards = member_cards(args.members)
    correction = prior_correction(cards) if args.undo_class_weights else None
    networks = [keras.saving.load_model(path, compile=False) for path in args.members]
    if any(member_names(network) for network in networks):
        raise SystemExit("a member is itself joined: name its members instead")
    joined = join(networks, args.name, args.alternate_mirror)
    args.out.mkdir(parents=True, exist_ok=True)
    weights_path, card_path = args.out / f"{args.name}.keras", args.out / f"{args.name}.json"
    card = {key: cards[0].raw[key] for key in READING} | {
        "name": args.name,
        "file": weights_path.name,
        "description": cards[0].description
        + f" Served as {len(networks)} such networks trained from different starts, their logits averaged"
        + (", every second one reading the mirror image." if args.alternate_mirror else "."),
    }
    if args.alternate_mirror:
        card["test_time_flip"] = False
    if correction:
        card["class_prior_correction"] = correction
    temperature, measured = card_metrics(
        Classifier(parse_card(card, card_path), network=joined.predict_on_batch), data.load("val")
    )
    joined.save(weights_path)
    card |= measured_fields(joined, weights_path, temperature, measured) | {
        "training": {
            "ensemble": f"the mean of the logits of {len(networks)} networks (training/ensemble.py), each trained "
            "as its record in members says",
            "command": " ".join(
                [COMMAND, shlex.quote(args.name), *map(shlex.quote, map(str, args.members))]
                + (["--alternate-mirror"] if args.alternate_mirror else [])
                + (["--undo-class-weights"] if args.undo_class_weights else [])
            ),
            "member_accuracy": [member.accuracy for member in cards],
            "members": [member.raw["training"] for member in cards],
        },
    }
    return publish_classifier(card_path, card)


if __name__ == "__main__":
    sys.exit(main() and 0)
