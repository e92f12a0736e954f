"""Train-time augmentation in NumPy + Pillow, fed to Keras as a PyDataset.

In-graph Keras augmentation layers cost more than the whole forward and backward pass of our small networks on a
CPU (0.55 s of a 0.86 s MobileNetV2 step, measured), so faces are augmented on the host instead; it runs the same
on every backend.
"""

import math

import keras
import numpy as np
from PIL import Image

from moodlens.modelcard import Normalization

PAD = 12  # edge-replicated border, so shifts, turns and zooms never show empty corners


def _affine(face: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Random rotation (+-15 deg), zoom (+-15 %), shift (+-10 %), each times strength, and mirror of one face."""
    size = face.shape[0]
    padded = Image.fromarray(np.pad(face, PAD, mode="edge"))
    angle = math.radians(rng.uniform(-15, 15) * strength)
    scale = 1 + rng.uniform(-0.15, 0.15) * strength
    shift_x, shift_y = rng.uniform(-0.1, 0.1, size=2) * size * strength
    flip = -1.0 if rng.random() < 0.5 else 1.0
    # Inverse map: output pixel (u, v) around the output centre -> input pixel around the padded centre.
    cos, sin = math.cos(angle) / scale, math.sin(angle) / scale
    centre_out, centre_in = size / 2, size / 2 + PAD
    a, b = cos * flip, -sin
    d, e = sin * flip, cos
    c = centre_in + shift_x - a * centre_out - b * centre_out
    f = centre_in + shift_y - d * centre_out - e * centre_out
    out = padded.transform((size, size), Image.AFFINE, (a, b, c, d, e, f), resample=Image.BILINEAR)
    return np.asarray(out)


def augment(faces: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """uint8 (B, 48, 48) -> float32 (B, 48, 48) on the 0..255 scale, each face transformed independently.

    strength scales every range and the erasing rate: a last, short cycle at lower strength fits the plain faces
    that serving sees.
    """
    out = np.stack([_affine(face, rng, strength) for face in faces]).astype(np.float32)
    batch = len(out)
    contrast = 1 + rng.uniform(-0.3, 0.3, size=(batch, 1, 1)) * strength
    brightness = rng.uniform(-0.2, 0.2, size=(batch, 1, 1)) * 255 * strength
    mean = out.mean(axis=(1, 2), keepdims=True)
    out = np.clip((out - mean) * contrast + mean + brightness, 0, 255)
    # Random erasing (Zhong et al. 2017): hide a patch of 2-15 % of the face in half of the faces.
    size = out.shape[1]
    for i in np.flatnonzero(rng.random(batch) < 0.5 * strength):
        area = rng.uniform(0.02, 0.15) * size * size
        aspect = math.exp(rng.uniform(math.log(0.3), math.log(3.3)))
        h = min(size, int(round(math.sqrt(area * aspect))))
        w = min(size, int(round(math.sqrt(area / aspect))))
        top, left = rng.integers(0, size - h + 1), rng.integers(0, size - w + 1)
        out[i, top : top + h, left : left + w] = rng.uniform(0, 255, size=(h, w))
    return out.astype(np.float32)


class AugmentedFaces(keras.utils.PyDataset):
    """Shuffled, augmented batches, normalised as the card says serving will; batch k of epoch e depends only on
    (seed, e, k), so resumes repeat."""

    def __init__(
        self, images, targets, weights, batch_size, seed, normalization: Normalization, strength=1.0, **kwargs
    ):
        super().__init__(**kwargs)
        self.strength = strength
        self.images, self.targets, self.weights = images, targets, weights
        self.batch_size, self.seed = batch_size, seed
        self.normalization = normalization
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.order = np.random.default_rng([self.seed, epoch]).permutation(len(self.images))

    def __len__(self):
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        faces = augment(self.images[rows], np.random.default_rng([self.seed, self.epoch, index]), self.strength)
        return self.normalization.apply(faces)[..., None], self.targets[rows], self.weights[rows]
