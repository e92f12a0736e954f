"""A trained yolo3 network made deeper, computing what it computed: `python -m training.yolo3 grow
TRAINED/yolo3.keras --blocks N --out DIR`, then `train --init-from DIR/yolo3.keras`.

Further cycles of the same network had flattened (the card's record holds them); a network with more residual
blocks where faces at the reread's scale are read starts from what the trained one knows, instead of from scratch,
which on CPU would cost days. The grown card is the trained one's, its metrics empty (the network's outputs are
the same until it is trained), its training record the grow command over the trained network's record.
"""

import json
import shlex
import sys
from pathlib import Path

from moodlens.modelcard import write_card
from training.yolo3 import model as net
from training.yolo3.train import CARD_NAME


def grow(trained_path: Path, width: float, blocks: int, out: Path, command: str) -> dict:
    import keras

    if blocks < 1:
        raise ValueError("give --blocks 1 or more")
    trained_card = json.loads(trained_path.with_suffix(".json").read_text())
    grown = net.grow(keras.saving.load_model(trained_path, compile=False), width, blocks)
    out.mkdir(parents=True, exist_ok=True)
    weights_path = out / f"{CARD_NAME}.keras"
    grown.save(weights_path)
    card = {
        **trained_card,
        "metrics": {},
        "training": {
            "command": command,
            "grown_blocks": blocks,
            "growth": f"{blocks} residual blocks added at strides 16 and 32, each starting as the identity",
            "continued_from": trained_card["training"],
        },
    }
    write_card(out / f"{CARD_NAME}.json", card)
    print(f"wrote {weights_path}: {grown.count_params():,} weights, {blocks} blocks more at strides 16 and 32")
    return card


def run(args) -> dict:
    command = "python -m training.yolo3 grow " + shlex.join(
        [args.trained, "--blocks", str(args.blocks), "--width", str(args.width), "--out", args.out]
    )
    try:
        return grow(Path(args.trained), args.width, args.blocks, Path(args.out), command)
    except ValueError as error:
        sys.exit(f"grow: {error}")
