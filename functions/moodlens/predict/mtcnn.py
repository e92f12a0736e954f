"""MTCNN (Zhang et al. 2016), the face detector in front of the classifiers, run the one way serving and evaluation
both use.

The algorithm is the `mtcnn` package's (1.0.0: its image pyramid, thresholds, suppression, box regression and
landmarks, step for step, so that the faces are the same), written in numpy around its three networks converted to
LiteRT (`python -m training.convert mtcnn`). tests/predict/test_mtcnn_equivalence.py holds the two side by side.
"""

import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from moodlens.predict.catalog import load_once
from moodlens.predict.faces import Face
from moodlens.predict.image_io import fit_within
from moodlens.predict.runtime import MTCNN_NETS, Network, batches, spread
from moodlens.settings import Settings

# The package's defaults, which serving has always used.
MIN_FACE_SIZE = 20
CELL_SIZE = 12  # PNet's window: a pyramid level is scaled so that a MIN_FACE_SIZE face spans one window
PNET_STRIDE = 2
SCALE_FACTOR = 0.709
PNET_THRESHOLD, RNET_THRESHOLD, ONET_THRESHOLD = 0.6, 0.7, 0.8
PNET_NMS_PER_SCALE, PNET_NMS, RNET_NMS, ONET_NMS = 0.5, 0.7, 0.7, 0.7
# Candidates per RNet and ONet call: a crowd's thousand candidates in one batch would keep an interpreter's working
# memory at that size. Calls run two at a time on two cores, each on its own kept interpreter: half of what one call
# once took, so the memory kept stays the same.
RNET_BATCH, ONET_BATCH = 128, 32
# Largest PNet input run at once (in values: rows x columns x 3); larger pyramid levels run in stripes.
PNET_STRIPE_VALUES = 3 * 384 * 288
# Interpreters kept by each network (runtime.Network): how many, the largest input each is kept for, and the input
# they hold in all. PNet: one per pyramid level of a 640x480 photo or camera frame (levels 384x288, 272x204, ...;
# about 0.7 M values, 45 MB of working memory); RNet and ONet: one per thread (Detector's `threads`) for their largest
# batch.
NETS_KEPT = (
    (12, PNET_STRIPE_VALUES, 700_000),
    (1, 3 * 24 * 24 * RNET_BATCH, math.inf),
    (1, 3 * 48 * 48 * ONET_BATCH, math.inf),
)
# Column-wise suppression compares every candidate with every earlier one: blocks bound the memory.
NMS_BLOCK = 1024

# Candidate rows: x1, y1, x2, y2, score, then (after ONet) five landmark x and five landmark y.
X1, Y1, X2, Y2, SCORE = range(5)


def pyramid_scales(height: int, width: int) -> np.ndarray:
    """The package's build_scale_pyramid, its level count formula included."""
    levels = round(-((np.log(min(height, width) / CELL_SIZE) / np.log(SCALE_FACTOR)) + 1))
    return CELL_SIZE / MIN_FACE_SIZE * SCALE_FACTOR ** np.arange(levels)


def area_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W, C) float32 to (height, width, C) as tf.image.resize(method='area'), which the package uses: each output
    cell the mean of the input it covers, partly covered cells weighted by the part covered. OpenCV's INTER_AREA is
    the same computation (within 1e-4 of TensorFlow's); numpy needs passes over the full width for every level and
    was a third of the detector's time."""
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def _overlap(boxes: np.ndarray, others: np.ndarray, method: str) -> np.ndarray:
    """(len(boxes), len(others)) intersection over union, or over the smaller area ('min')."""
    area = (boxes[:, X2] - boxes[:, X1]) * (boxes[:, Y2] - boxes[:, Y1])
    other_area = (others[:, X2] - others[:, X1]) * (others[:, Y2] - others[:, Y1])

    def extent(low, high):
        overlap_end = np.minimum(boxes[:, None, high], others[None, :, high])
        return np.maximum(0, overlap_end - np.maximum(boxes[:, None, low], others[None, :, low]))

    inter = extent(X1, X2) * extent(Y1, Y2)
    if method == "min":
        return inter / np.minimum(area[:, None], other_area[None, :])
    return inter / (area[:, None] + other_area[None, :] - inter)


def suppress(candidates: np.ndarray, threshold: float, method: str = "union", sort: bool = True) -> np.ndarray:
    """The package's suppression: in score order, a candidate is dropped when any earlier one, kept or not, overlaps
    it by more than `threshold` (not the usual greedy rule, which only lets kept boxes suppress)."""
    if sort:
        candidates = candidates[np.argsort(candidates[:, SCORE])[::-1]]
    keep = np.ones(len(candidates), bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for start in range(0, len(candidates), NMS_BLOCK):
            block = candidates[start : start + NMS_BLOCK]
            overlap = _overlap(candidates[: start + len(block)], block, method)
            # Only earlier candidates count: row i, column j (the block's j-th) with i < start + j.
            earlier = np.arange(start + len(block))[:, None] < (start + np.arange(len(block)))[None, :]
            keep[start : start + len(block)] = ~np.any((overlap > threshold) & earlier, axis=0)
    return candidates[keep]


def to_square(candidates: np.ndarray) -> np.ndarray:
    squared = candidates.copy()
    width, height = candidates[:, X2] - candidates[:, X1], candidates[:, Y2] - candidates[:, Y1]
    side = np.maximum(width, height)
    squared[:, X1] += width * 0.5 - side * 0.5
    squared[:, Y1] += height * 0.5 - side * 0.5
    squared[:, X2] = squared[:, X1] + side
    squared[:, Y2] = squared[:, Y1] + side
    return squared


def regress(candidates: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    moved = candidates.copy()
    width = candidates[:, X2] - candidates[:, X1] + 1
    height = candidates[:, Y2] - candidates[:, Y1] + 1
    moved[:, X1:SCORE] += offsets * np.stack([width, height, width, height], axis=-1)
    return moved


def crop_and_resize(image: np.ndarray, candidates: np.ndarray, side: int) -> np.ndarray:
    """tf.image.crop_and_resize (bilinear, zero outside the image) of each candidate's box to side x side, with the
    boxes given to it as the package does (divided by the image's height and width)."""
    height, width = image.shape[:2]
    boxes = (candidates[:, X1:SCORE] / np.array([width, height, width, height])).astype(np.float32)
    steps = np.arange(side, dtype=np.float32)

    def positions(start, end, length):
        sample = start[:, None] * (length - 1) + steps[None, :] * ((end - start) * (length - 1) / (side - 1))[:, None]
        inside = (sample >= 0) & (sample <= length - 1)
        low = np.clip(np.floor(sample), 0, length - 1).astype(np.intp)
        high = np.clip(np.ceil(sample), 0, length - 1).astype(np.intp)
        return low, high, (sample - np.floor(sample))[..., None], inside

    top, bottom, down, rows_inside = positions(boxes[:, 1], boxes[:, 3], height)
    left, right, across, columns_inside = positions(boxes[:, 0], boxes[:, 2], width)
    # Gathers by flat pixel index: one take per corner, several times faster than indexing rows then columns.
    pixels = image.reshape(-1, image.shape[2])
    top, bottom = top[:, :, None] * width, bottom[:, :, None] * width
    left, right = left[:, None, :], right[:, None, :]
    across, down = across[:, None, :], down[:, :, None]
    upper_left, upper_right = np.take(pixels, top + left, axis=0), np.take(pixels, top + right, axis=0)
    lower_left, lower_right = np.take(pixels, bottom + left, axis=0), np.take(pixels, bottom + right, axis=0)
    upper = upper_left + (upper_right - upper_left) * across
    lower = lower_left + (lower_right - lower_left) * across
    patches = upper + (lower - upper) * down
    patches *= (rows_inside[:, :, None] & columns_inside[:, None, :])[..., None]
    return patches.astype(np.float32)


def in_batches(network: Network, patches: np.ndarray, size: int, threads: int = 1) -> list[np.ndarray]:
    """The network's outputs for all patches, at most `size` per call, calls spread over `threads` threads."""
    runs = spread(lambda part: network(patches[part]), batches(len(patches), size, threads), threads)
    return [np.concatenate(outputs) for outputs in zip(*runs)]


class Detector:
    """The three converted networks and the stages between them."""

    def __init__(self, nets_dir: Path, threads: int = 1):
        """`threads`: how many network calls of one photo run at once (pyramid levels, batches of candidates), each
        call on one thread."""
        self.threads = threads
        self.pnet, self.rnet, self.onet = (
            Network(Path(nets_dir) / f"{name}.tflite", kept * (1 if name == "pnet" else threads), max_values, 1, pooled)
            for name, (kept, max_values, pooled) in zip(MTCNN_NETS, NETS_KEPT)
        )

    def proposals(self, image: np.ndarray) -> np.ndarray:
        """PNet over the image pyramid: square candidate windows in image pixels, the levels run in parallel."""
        height, width = image.shape[:2]

        def windows_at(scale: float) -> np.ndarray | None:
            level = area_resize(image, int(height * scale), int(width * scale))
            offsets, classes = self.pnet_maps(level)
            score = classes[:, :, 1]
            ys, xs = np.nonzero(score > PNET_THRESHOLD)
            if not len(ys):
                return None
            reg = offsets[ys, xs].T
            x1, y1 = xs * PNET_STRIDE + 1, ys * PNET_STRIDE + 1
            x2, y2 = xs * PNET_STRIDE + CELL_SIZE, ys * PNET_STRIDE + CELL_SIZE
            side = CELL_SIZE - 1
            windows = np.stack(
                [x1 + reg[0] * side, y1 + reg[1] * side, x2 + reg[2] * side, y2 + reg[3] * side, score[ys, xs]], axis=1
            ).astype(np.float64)
            windows = windows[np.argsort(windows[:, SCORE])[::-1]]
            windows[:, X1:SCORE] /= scale
            return suppress(windows, PNET_NMS_PER_SCALE, sort=False)

        found = [w for w in spread(windows_at, list(pyramid_scales(height, width)), self.threads) if w is not None]
        if not found:
            return np.empty((0, 5))
        return to_square(suppress(np.concatenate(found), PNET_NMS))

    def pnet_maps(self, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """PNet's box offsets and face scores over one pyramid level. A level larger than PNet's kept interpreters
        take runs in horizontal stripes of equal height, so one kept interpreter serves them all. A PNet output row
        i reads input rows 2i to 2i + 11 (CELL_SIZE rows at PNET_STRIDE), so stripes that start on even rows and
        overlap by CELL_SIZE - 2 rows give each output row exactly as the whole level would: the same numbers,
        with the working memory of a stripe."""
        height, width = level.shape[:2]
        # Even, and one row short, since the last stripe may be one row taller.
        rows = (PNET_STRIPE_VALUES // (width * 3) - 1) // 2 * 2
        if height <= rows or rows < 2 * CELL_SIZE:
            offsets, scores = (out[0] for out in self.pnet(level[None]))
            return offsets, scores
        step = rows - (CELL_SIZE - 2)
        # The last stripe ends at the level's bottom edge (as the whole level does) and starts on an even row.
        last_start = (height - rows) // 2 * 2
        starts = sorted({*range(0, last_start, step), last_start})
        offsets, scores = [], []
        for start, end in zip(starts, [*starts[1:], None]):
            stripe = level[start:] if end is None else level[start : start + rows]
            stripe_offsets, stripe_scores = (out[0] for out in self.pnet(stripe[None]))
            # A stripe gives the output rows from its own first one up to the next stripe's first one.
            owned = slice(0, None if end is None else (end - start) // PNET_STRIDE)
            offsets.append(stripe_offsets[owned])
            scores.append(stripe_scores[owned])
        return np.concatenate(offsets), np.concatenate(scores)

    def refine(self, image: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """RNet keeps the windows that are faces and straightens their boxes."""
        offsets, classes = in_batches(self.rnet, crop_and_resize(image, candidates, 24), RNET_BATCH, self.threads)
        candidates = candidates.copy()
        candidates[:, SCORE] = classes[:, 1]
        candidates = regress(candidates, offsets)
        candidates = candidates[candidates[:, SCORE] > RNET_THRESHOLD]
        return to_square(suppress(candidates, RNET_NMS))

    def output(self, image: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """ONet: the final boxes, scores and five landmarks."""
        patches = crop_and_resize(image, candidates, 48)
        offsets, landmarks, classes = in_batches(self.onet, patches, ONET_BATCH, self.threads)
        left, top = candidates[:, X1, None], candidates[:, Y1, None]
        width, height = candidates[:, X2, None] - left + 1, candidates[:, Y2, None] - top + 1
        points = np.concatenate([width * landmarks[:, :5] + left - 1, height * landmarks[:, 5:] + top - 1], axis=1)
        candidates = candidates.copy()
        candidates[:, SCORE] = classes[:, 1]
        candidates = np.concatenate([regress(candidates, offsets), points], axis=1)
        candidates = candidates[candidates[:, SCORE] > ONET_THRESHOLD]
        return suppress(candidates, ONET_NMS, method="min")

    def detect(self, rgb: np.ndarray) -> np.ndarray:
        """(K, 15) rows for an RGB uint8 photo, best first: x1, y1, x2, y2 (kept inside the photo), score, five
        landmark x (left eye, right eye, nose, mouth left, mouth right) and their five y."""
        image = network_image(rgb)
        candidates = self.proposals(image)
        for stage in (self.refine, self.output):
            if not len(candidates):
                return np.empty((0, 15))
            candidates = stage(image, candidates)
        height, width = rgb.shape[:2]
        candidates[:, [X1, X2]] = np.clip(candidates[:, [X1, X2]], 0, width - 1)
        candidates[:, [Y1, Y2]] = np.clip(candidates[:, [Y1, Y2]], 0, height - 1)
        return candidates

    def check(self, rgb: np.ndarray, boxes: np.ndarray, passes: int) -> tuple[np.ndarray, np.ndarray]:
        """ONet on boxes found by another detector: (K, 4) x1, y1, x2, y2 boxes of an RGB uint8 photo to ONet's
        boxes and face scores. Each pass squares the last box, as MTCNN does between its stages, and regresses it;
        the scores are the last pass's."""
        image = network_image(rgb)
        candidates = np.concatenate([np.asarray(boxes, np.float64).reshape(-1, 4), np.zeros((len(boxes), 1))], axis=1)
        scores = np.zeros(len(candidates))
        for _ in range(passes if len(candidates) else 0):
            candidates = to_square(candidates)
            offsets, _, classes = in_batches(
                self.onet, crop_and_resize(image, candidates, 48), ONET_BATCH, self.threads
            )
            candidates, scores = regress(candidates, offsets), classes[:, 1]
        return candidates[:, X1:SCORE], scores


def network_image(rgb: np.ndarray) -> np.ndarray:
    """An RGB uint8 photo in the networks' input range."""
    return (rgb.astype(np.float32) - np.float32(127.5)) / np.float32(128)


def detector(models_dir: Path, threads: int = 1) -> Detector:
    nets_dir = Path(models_dir) / "mtcnn"
    return load_once(f"mtcnn:{nets_dir}:{threads}", lambda: Detector(nets_dir, threads))


def detect_faces(rgb: np.ndarray, settings: Settings, models_dir: Path | None = None) -> list[Face]:
    """MTCNN on a copy no larger than settings.detect_max_side (its time grows with pixels), boxes and eyes mapped
    back to `rgb` pixels, faces under settings.min_face_confidence left out. Boxes and landmarks are rounded in the
    small copy, as the package reports them. `models_dir`: where mtcnn/ is (the card's folder), else the settings'."""
    height, width = rgb.shape[:2]
    small = fit_within(Image.fromarray(rgb), settings.detect_max_side)
    scale = small.width / width
    faces = []
    found = detector(models_dir or settings.models_dir, settings.threads_per_call).detect(np.asarray(small))
    for row in found:
        if row[SCORE] < settings.min_face_confidence:
            continue
        x, y, w, h = (value / scale for value in np.round([row[X1], row[Y1], row[X2] - row[X1], row[Y2] - row[Y1]]))
        left, top = max(0, round(x)), max(0, round(y))
        box = (left, top, min(width, round(x + w)) - left, min(height, round(y + h)) - top)
        if box[2] < 1 or box[3] < 1:
            continue
        eyes = np.round(row[[5, 10, 6, 11]]) / scale
        faces.append(Face(box=box, confidence=float(row[SCORE]), eyes=((eyes[0], eyes[1]), (eyes[2], eyes[3]))))
    return faces
