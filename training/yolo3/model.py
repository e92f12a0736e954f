"""Tiny-YOLOv3-style face detector + emotion classifier, in backend-agnostic Keras 3.

The saved network holds only built-in layers and returns the raw head tensors, one per scale,
(N, H/stride, W/stride, anchors * (5 + classes)); decoding and NMS live in moodlens.predict.yolo.
Per anchor the channels are: objectness logit, x and y offset logits, log width and height
relative to the anchor, class logits.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from moodlens.modelcard import EMOTIONS
from training.data import smoothed_targets

STRIDES = (8, 16, 32)
ANCHORS_PER_SCALE = 3
NUM_CLASSES = len(EMOTIONS)
BACKBONE = "backbone"
CHANNELS = 5 + NUM_CLASSES
# x = pixel / 127.5 - 1, done inside the model so serving feeds plain 0..255 gray values.
INPUT_SCALE, INPUT_OFFSET = 1 / 127.5, -1.0


def _conv(x, filters, kernel=3, strides=1, name=None):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(momentum=0.97, epsilon=1e-3)(x)
    return layers.LeakyReLU(negative_slope=0.1)(x)


def _residual(x, filters):
    y = _conv(x, filters // 2, 1)
    y = _conv(y, filters, 3)
    return layers.Add()([x, y])


def _route_head(deep, skip, route, hidden, name):
    """Upsampled deeper features joined to a finer map, then the 1x1 head conv of that scale.
    Returns the joined features (the route for the next finer scale) and the raw head."""
    u = _conv(deep, route, 1)
    u = layers.UpSampling2D(2)(u)
    joined = _conv(layers.Concatenate()([u, skip]), route, 1)
    out = _conv(joined, hidden, 3)
    return joined, layers.Conv2D(ANCHORS_PER_SCALE * CHANNELS, 1, name=name)(out)


def _channels(width: float):
    return lambda n: max(8, int(round(n * width / 8)) * 8)


def backbone(width: float = 1.0) -> keras.Model:
    """Darknet-style residual stages to stride 32, returning the stride 8, 16 and 32 maps. A model of its
    own, so that the emotion pretraining (emotion_classifier) and the detector share it by name."""
    c = _channels(width)
    inp = keras.Input((None, None, 1), name="gray")
    x = layers.Rescaling(INPUT_SCALE, offset=INPUT_OFFSET)(inp)
    x = _conv(x, c(16), 3, 2)  # /2
    x = _conv(x, c(32), 3, 2)  # /4
    x = _residual(x, c(32))
    x = _conv(x, c(64), 3, 2)  # /8
    x = _residual(x, c(64))
    p8 = _residual(x, c(64))
    x = _conv(p8, c(128), 3, 2)  # /16
    x = _residual(x, c(128))
    p16 = _residual(x, c(128))
    x = _conv(p16, c(256), 3, 2)  # /32
    x = _residual(x, c(256))
    p32 = _residual(x, c(256))
    return keras.Model(inp, [p8, p16, p32], name=BACKBONE)


def emotion_classifier(width: float = 1.0, dropout: float = 0.3) -> keras.Model:
    """The backbone with a pooled 7-way head, for pretraining on whole FER faces: a face is ~25x cheaper
    to learn from as a 48 px crop than inside a scene, and the detector starts from features that
    already tell expressions apart."""
    inp = keras.Input((48, 48, 1), name="face")
    p32 = backbone(width)(inp)[-1]
    x = layers.GlobalAveragePooling2D()(p32)
    x = layers.Dropout(dropout)(x)
    return keras.Model(inp, layers.Dense(NUM_CLASSES, name="logits")(x), name="yolo3_backbone_classifier")


def build(width: float = 1.0) -> keras.Model:
    """Backbone plus three heads (YOLOv3): stride 32 for large faces, then each finer head sees the
    coarser one's features through an upsampling route, so small faces get fine cells and every face
    gets enough surrounding context to read its expression."""
    c = _channels(width)
    inp = keras.Input((None, None, 1), name="gray")
    p8, p16, p32 = backbone(width)(inp)
    h32 = _conv(p32, c(128), 1)
    out32 = layers.Conv2D(ANCHORS_PER_SCALE * CHANNELS, 1, name="head32")(_conv(h32, c(256), 3))
    h16, out16 = _route_head(h32, p16, c(128), c(160), "head16")
    _, out8 = _route_head(h16, p8, c(64), c(80), "head8")
    model = keras.Model(inp, [out8, out16, out32], name="yolo3_faces")
    # Start objectness at a 1 % prior (as RetinaNet does): with thousands of empty anchors per image,
    # a 50 % start makes the first steps all about silencing the background.
    bias = np.zeros(ANCHORS_PER_SCALE * CHANNELS, np.float32)
    bias[::CHANNELS] = np.log(0.01 / 0.99)
    for name in ("head8", "head16", "head32"):
        model.get_layer(name).bias.assign(bias)
    return model


def load_backbone(model: keras.Model, classifier_path) -> None:
    """Start the detector's backbone from a pretrained emotion_classifier file."""
    pretrained = keras.saving.load_model(classifier_path, compile=False)
    model.get_layer(BACKBONE).set_weights(pretrained.get_layer(BACKBONE).get_weights())


def fit_anchors(
    sizes: np.ndarray, k: int = len(STRIDES) * ANCHORS_PER_SCALE, seed: int = 0, iters: int = 100
) -> np.ndarray:
    """k-means on (w, h) with 1 - IoU as distance (YOLOv2/v3), sorted by area: each run of
    ANCHORS_PER_SCALE goes to the next stride, finest first."""
    sizes = np.asarray(sizes, np.float64)
    rng = np.random.default_rng(seed)
    # Start from quantiles of the area, which k-means++ would need many more draws to match.
    order = np.argsort(sizes.prod(1))
    centers = sizes[order[np.linspace(0, len(sizes) - 1, k + 2)[1:-1].astype(int)]].copy()
    for _ in range(iters):
        assign = np.argmax(shape_iou(sizes, centers), 1)
        new = np.array(
            [
                np.median(sizes[assign == j], 0) if (assign == j).any() else sizes[rng.integers(len(sizes))]
                for j in range(k)
            ]
        )
        if np.allclose(new, centers):
            break
        centers = new
    return centers[np.argsort(centers.prod(1))].astype(np.float32)


def shape_iou(wh: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """IoU of (N, 2) sizes with (A, 2) anchor sizes, boxes sharing a centre."""
    inter = np.minimum(wh[:, None, 0], anchors[None, :, 0]) * np.minimum(wh[:, None, 1], anchors[None, :, 1])
    return inter / (wh[:, None].prod(-1) + anchors[None].prod(-1) - inter)


# ---------------------------------------------------------------- targets and loss
# Target layout per anchor (TARGET_CHANNELS): positive, negative weight, x, y offsets in the cell,
# log w, log h relative to the anchor, box weight, class weight, class distribution.
CLASS_WEIGHT = 7
CLASSES_FROM = 8
TARGET_CHANNELS = CLASSES_FROM + NUM_CLASSES
# FER2013's labels are noisy (FER+ annotators disagree with about one in four).
LABEL_SMOOTHING = 0.1


def build_targets(
    boxes: list[np.ndarray],
    labels: list[np.ndarray],
    size: int,
    anchors: np.ndarray,
    label_smoothing: float = LABEL_SMOOTHING,
    ignore_iou: float = 0.5,
    centre_fraction: float = 0.5,
) -> list[np.ndarray]:
    """Per-scale target tensors (N, H, W, A, TARGET_CHANNELS) for a batch of scenes. `labels`: per scene, int
    labels (smoothed here) or (K, C) class-target rows, taken as they are.

    Every face is a positive for its best-matching anchor and also for any other anchor whose
    shape IoU passes 0.5, which gives more positives per face than YOLOv3's single anchor and
    trains faster. Anchors of nearby cells whose box overlaps a face by ignore_iou are neither
    positive nor negative, as YOLOv3 ignores them.

    The emotion is also taught, with no objectness or box target, at the positive anchors of the
    other cells whose centres lie in the middle centre_fraction of the face (FCOS-style centre
    sampling; their class weights add up to one per face and anchor): a large face gives many
    class examples instead of one, and a neighbouring cell that fires reads the emotion too."""
    n = len(boxes)
    a_per = ANCHORS_PER_SCALE
    out = [np.zeros((n, size // s, size // s, a_per, TARGET_CHANNELS), np.float32) for s in STRIDES]
    for t in out:
        t[..., 1] = 1.0
    for i, (bx, lab) in enumerate(zip(boxes, labels)):
        if len(bx) == 0:
            continue
        rows = lab if lab.ndim == 2 else smoothed_targets(lab, label_smoothing)
        cx = bx[:, 0] + bx[:, 2] / 2
        cy = bx[:, 1] + bx[:, 3] / 2
        wh = np.maximum(bx[:, 2:4], 1.0)
        match = shape_iou(wh, anchors)  # (K, 2A)
        best = match.argmax(1)
        for scale, stride in enumerate(STRIDES):
            t = out[scale]
            grid = size // stride
            anc = anchors[scale * a_per : (scale + 1) * a_per]
            gx = np.clip((cx / stride).astype(int), 0, grid - 1)
            gy = np.clip((cy / stride).astype(int), 0, grid - 1)
            _mark_ignored(t[i], bx, anc, stride, ignore_iou)
            for k in range(len(bx)):
                cls = rows[k]
                anchors_k = [
                    a for a in range(a_per) if scale * a_per + a == best[k] or match[k, scale * a_per + a] >= 0.5
                ]
                if not anchors_k:
                    continue
                xs = _centre_cells(cx[k], wh[k, 0] * centre_fraction, stride, grid)
                ys = _centre_cells(cy[k], wh[k, 1] * centre_fraction, stride, grid)
                extra = [(y, x) for y in ys for x in xs if (y, x) != (gy[k], gx[k])]
                for a in anchors_k:
                    for y, x in extra:
                        cell = t[i, y, x, a]
                        if cell[0] == 0.0:
                            cell[CLASS_WEIGHT] = 1.0 / len(extra)
                            cell[CLASSES_FROM:] = cls
                    cell = t[i, gy[k], gx[k], a]
                    cell[0] = 1.0
                    cell[1] = 0.0
                    cell[2] = cx[k] / stride - gx[k]
                    cell[3] = cy[k] / stride - gy[k]
                    cell[4:6] = np.log(wh[k] / anc[a])
                    cell[6] = 2.0 - wh[k].prod() / size**2
                    cell[CLASS_WEIGHT] = 1.0
                    cell[CLASSES_FROM:] = cls
    return out


def _centre_cells(centre: float, extent: float, stride: int, grid: int) -> np.ndarray:
    """Indices, along one axis, of the cells that the span of `extent` pixels around `centre` touches."""
    cells = np.arange(int(np.floor((centre - extent / 2) / stride)), int(np.floor((centre + extent / 2) / stride)) + 1)
    return cells[(cells >= 0) & (cells < grid)]


def _mark_ignored(t: np.ndarray, boxes: np.ndarray, anchors: np.ndarray, stride: int, thresh: float) -> None:
    """Zero the negative weight of anchor boxes (placed at their cell centres) that overlap a face."""
    grid = t.shape[0]
    centres = (np.arange(grid) + 0.5) * stride
    for x, y, w, h in boxes:
        lo_x, hi_x = np.searchsorted(centres, [x - w, x + 2 * w])
        lo_y, hi_y = np.searchsorted(centres, [y - h, y + 2 * h])
        if lo_x >= hi_x or lo_y >= hi_y:
            continue
        ccx = centres[lo_x:hi_x][None, :, None]
        ccy = centres[lo_y:hi_y][:, None, None]
        aw, ah = anchors[:, 0][None, None], anchors[:, 1][None, None]
        ix = np.clip(np.minimum(ccx + aw / 2, x + w) - np.maximum(ccx - aw / 2, x), 0, None)
        iy = np.clip(np.minimum(ccy + ah / 2, y + h) - np.maximum(ccy - ah / 2, y), 0, None)
        inter = ix * iy
        iou = inter / (aw * ah + w * h - inter)
        region = t[lo_y:hi_y, lo_x:hi_x, :, 1]
        region[iou > thresh] = 0.0


@keras.saving.register_keras_serializable(package="moodlens_yolo3")
class YoloLoss(keras.losses.Loss):
    """YOLOv3 loss for one scale: BCE objectness (positives and non-ignored negatives), BCE on the
    cell offsets and squared error on log sizes weighted by (2 - relative area), softmax
    cross-entropy on the class distribution where its weight is set (positives, and the centre cells
    build_targets adds). Summed over cells, averaged over images."""

    # Emotion is the harder of the two tasks and the one people read: its term counts double.
    def __init__(self, class_weight: float = 2.0, noobj_weight: float = 1.0, name="yolo_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.class_weight = class_weight
        self.noobj_weight = noobj_weight

    def call(self, y_true, y_pred):
        shape = ops.shape(y_true)
        pred = ops.reshape(y_pred, (-1, shape[1], shape[2], shape[3], CHANNELS))
        pos, neg = y_true[..., 0], y_true[..., 1]
        obj_logit = pred[..., 0]
        obj = pos * _bce(obj_logit, ops.ones_like(obj_logit)) + self.noobj_weight * neg * _bce(
            obj_logit, ops.zeros_like(obj_logit)
        )
        box_w = pos * y_true[..., 6]
        xy = ops.sum(_bce(pred[..., 1:3], y_true[..., 2:4]), -1)
        wh = 0.5 * ops.sum(ops.square(pred[..., 3:5] - y_true[..., 4:6]), -1)
        cls = -ops.sum(y_true[..., CLASSES_FROM:] * ops.log_softmax(pred[..., 5:], -1), -1)
        per_anchor = obj + box_w * (xy + wh) + self.class_weight * y_true[..., CLASS_WEIGHT] * cls
        return ops.sum(per_anchor, axis=(1, 2, 3))

    def get_config(self):
        return {**super().get_config(), "class_weight": self.class_weight, "noobj_weight": self.noobj_weight}


def _bce(logits, targets):
    """Binary cross-entropy with logits, elementwise, stable for large |logits|."""
    return ops.maximum(logits, 0) - logits * targets + ops.log1p(ops.exp(-ops.abs(logits)))
