"""Pack FER2013 train/val into .carry/fer2013/*.npz.xz (raw uint8, lzma) for a GPU machine.

The lent GPU machine sees only the checkout (64 MiB at most), not ../shared: this copy (55 MB) travels as an
ignored, carried folder and `python -m training.pack_fer --unpack DIR` restores plain .npz files there.
"""

import argparse
import io
import lzma
from pathlib import Path

import numpy as np

from training.data import REPO_ROOT, fer_dir

KEYS = ("images", "labels", "classes", "ferplus_label7")
PACKED = REPO_ROOT / ".carry" / "fer2013"


def pack() -> None:
    PACKED.mkdir(parents=True, exist_ok=True)
    for split in ("train", "val"):
        with np.load(fer_dir() / f"{split}.npz") as arrays:
            buffer = io.BytesIO()
            np.savez(buffer, **{k: arrays[k] for k in KEYS})
        (PACKED / f"{split}.npz.xz").write_bytes(lzma.compress(buffer.getvalue(), preset=9 | lzma.PRESET_EXTREME))


def unpack(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for packed in PACKED.glob("*.npz.xz"):
        (target / packed.name[:-3]).write_bytes(lzma.decompress(packed.read_bytes()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--unpack", type=Path, help="write plain .npz files into this folder")
    args = parser.parse_args()
    unpack(args.unpack) if args.unpack else pack()
