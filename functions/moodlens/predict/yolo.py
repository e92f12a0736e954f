"""The yolo3 network's inference: one pass over the whole photo gives face boxes and their emotions.

The saved Keras model returns raw head tensors; everything that turns them into faces (anchors, strides,
thresholds, class order, input size) comes from the model card (its one_pass_input), and decoding is plain numpy
here, around the network converted to LiteRT.
"""

from collections.abc import Callable

import cv2
import numpy as np
from PIL import Image

from moodlens.modelcard import FaceCheck, FaceReread, ModelCard
from moodlens.ops import iou, nms, sigmoid, softmax
from moodlens.predict import mtcnn
from moodlens.predict.runtime import Network


def decode(
    heads: list[np.ndarray], anchors: np.ndarray, strides: list[int], num_classes: int, min_confidence: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw heads of one image, each (H, W, A * (5 + classes)), to candidate boxes.

    Returns boxes (K, 4) as x, y, w, h in network-input pixels, objectness (K,) and class logits
    (K, classes), for the anchors whose objectness reaches min_confidence."""
    per_scale = len(anchors) // len(strides)
    channels = 5 + num_classes
    boxes, scores, logits = [], [], []
    for scale, (head, stride) in enumerate(zip(heads, strides)):
        grid_h, grid_w = head.shape[:2]
        head = head.reshape(grid_h, grid_w, per_scale, channels)
        obj = sigmoid(head[..., 0])
        gy, gx, a = np.nonzero(obj >= min_confidence)
        if len(gy) == 0:
            continue
        cell = head[gy, gx, a]
        anc = anchors[scale * per_scale + a]
        cx = (gx + sigmoid(cell[:, 1])) * stride
        cy = (gy + sigmoid(cell[:, 2])) * stride
        w = anc[:, 0] * np.exp(np.clip(cell[:, 3], -8, 8))
        h = anc[:, 1] * np.exp(np.clip(cell[:, 4], -8, 8))
        boxes.append(np.stack([cx - w / 2, cy - h / 2, w, h], 1))
        scores.append(obj[gy, gx, a])
        logits.append(cell[:, 5:])
    if not boxes:
        return np.zeros((0, 4)), np.zeros(0), np.zeros((0, num_classes))
    return np.concatenate(boxes), np.concatenate(scores), np.concatenate(logits)


def partner(face: dict, other_read: list[dict], min_iou: float) -> dict | None:
    """The face of another read of the photo that overlaps `face` most, if by at least min_iou."""
    if not other_read:
        return None
    overlap = iou(np.asarray(face["box"], np.float64), np.array([f["box"] for f in other_read], np.float64))
    best = int(np.argmax(overlap))
    return other_read[best] if overlap[best] >= min_iou else None


def geometric_mean(probabilities: list[list[float]]) -> list[float]:
    """The renormalised geometric mean of probability vectors. The geometric mean of softmaxes is the softmax of
    the mean logits, so the card's temperature keeps its meaning."""
    log_mean = np.mean([np.log(np.clip(p, 1e-12, None)) for p in probabilities], axis=0)
    blended = np.exp(log_mean - log_mean.max())
    return [float(p) for p in blended / blended.sum()]


def blend_emotions(faces: list[dict], other_read: list[dict], min_iou: float) -> None:
    """Each face's probabilities become the geometric mean of its own and those of its partner in another read of
    the photo; faces without a partner keep theirs."""
    for face in faces:
        other = partner(face, other_read, min_iou)
        if other:
            face["probabilities"] = geometric_mean([face["probabilities"], other["probabilities"]])


# A face from the large-face read overlapping a face the first read is sure of (or a more confident one) by this
# much is the same face: the first read's box, drawn at the scale the network was trained for, is kept.
SAME_FACE_IOU = 0.3


def add_large_faces(faces: list[dict], large: list[dict], sure_confidence: float) -> list[dict]:
    """The first read's faces plus the large-face read's faces that no first-read face already covers. A first-read
    face below sure_confidence gives way to a more confident large face over it, so that no face is counted twice
    at any threshold."""
    merged = list(faces)
    for face in sorted(large, key=lambda f: -f["confidence"]):
        boxes = np.asarray([other["box"] for other in merged], np.float64).reshape(-1, 4)
        same = iou(np.asarray(face["box"], np.float64), boxes) >= SAME_FACE_IOU
        keep_first = min(sure_confidence, face["confidence"])
        if any(other["confidence"] >= keep_first for other, covered in zip(merged, same) if covered):
            continue
        merged = [other for other, covered in zip(merged, same) if not covered] + [face]
    return merged


def reread_window(box: list[int], context: float, height: int, width: int) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 of the square of `context` times the face's longer side around its centre, cut to the
    photo."""
    x, y, w, h = box
    half = context * max(w, h) / 2
    centre_x, centre_y = x + w / 2, y + h / 2
    return (
        max(0, round(centre_x - half)),
        max(0, round(centre_y - half)),
        min(width, round(centre_x + half)),
        min(height, round(centre_y + half)),
    )


def to_gray(image_rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 to the luma the training data has (ITU-R 601-2): OpenCV's conversion is PIL's 'L' mode to within
    one level on at most 5 pixels in 10,000 (rounding), and 5 times faster on a 3 MP photo."""
    return cv2.cvtColor(np.ascontiguousarray(image_rgb), cv2.COLOR_RGB2GRAY)


def letterbox(
    gray: np.ndarray, side: int, pad_value: float, longer_side: int | None = None
) -> tuple[np.ndarray, float]:
    """Scales so the longer side is `longer_side` (default `side`), pads right and bottom to a side x side square
    (one input shape, so the compiled network is traced once). Returns float32 (side, side) and the scale from
    original to network pixels."""
    longer_side = longer_side or side
    resized = scaled_to(gray, longer_side)
    out = np.full((side, side), pad_value, np.float32)
    out[: resized.shape[0], : resized.shape[1]] = resized
    return out, longer_side / max(gray.shape)


def scaled_to(gray: np.ndarray, side: int) -> np.ndarray:
    """float32 copy whose longer side is `side`."""
    height, width = gray.shape
    scale = side / max(height, width)
    new_w, new_h = min(side, max(1, round(width * scale))), min(side, max(1, round(height * scale)))
    return np.asarray(Image.fromarray(gray).resize((new_w, new_h), Image.Resampling.BILINEAR), np.float32)


class YoloFaceReader:
    """Reads faces and their emotions from a photo with the network its card describes."""

    def __init__(
        self, card: ModelCard, network: Callable[[np.ndarray], list[np.ndarray]] | None = None, threads: int = 1
    ):
        """`network`: letterboxed (N, H, W, 1) float32 images to the raw heads; by default the card's runtime
        file, run on `threads` threads. Training passes its Keras model's predict_on_batch."""
        if card.one_pass_input is None:
            raise ValueError(f"{card.name} is not a one-pass reader")
        self.card = card
        self.spec = spec = card.one_pass_input
        if network is None:
            sides = spec.network_sides
            network = Network(card.runtime_weights, kept=len(sides), max_values=max(sides) ** 2, threads=threads)
        self.network = network
        # MTCNN's networks sit in the card's folder, as they do beside the classifiers' cards.
        self.face_check = (spec.face_check, mtcnn.detector(card.path.parent, threads)) if spec.face_check else None

    def heads(self, batch: np.ndarray) -> list[np.ndarray]:
        """Raw head outputs for float32 (N, H, W) gray images already letterboxed."""
        return [np.asarray(o) for o in self.network(batch[..., None])]

    def faces_from_heads(
        self, heads: list[np.ndarray], scale: float, height: int, width: int, min_confidence: float | None = None
    ) -> list[dict]:
        """Decoded, suppressed faces of one image, boxes in original-image pixels."""
        spec = self.spec
        threshold = spec.confidence if min_confidence is None else min_confidence
        boxes, scores, logits = decode(heads, spec.anchors, list(spec.strides), len(self.card.classes), threshold)
        # Faces are one class, so suppression ignores the emotion.
        keep = nms(boxes, scores, spec.nms_iou)
        probabilities = softmax(logits[keep], self.card.temperature)
        faces = []
        for box, score, probs in zip(boxes[keep] / scale, scores[keep], probabilities):
            clipped = self.box_in_photo(box[0], box[1], box[0] + box[2], box[1] + box[3], height, width)
            if clipped:
                faces.append({"box": clipped, "confidence": float(score), "probabilities": [float(p) for p in probs]})
        return faces

    def box_in_photo(self, x0: float, y0: float, x1: float, y1: float, height: int, width: int) -> list[int] | None:
        """The corners' box cut to the photo, as [x, y, w, h] in whole pixels; None where the card's min_side says
        too little of it is left."""
        x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(width), x1), min(float(height), y1)
        if x1 - x0 < self.spec.min_side or y1 - y0 < self.spec.min_side:
            return None
        return [round(x0), round(y0), round(x1 - x0), round(y1 - y0)]

    def _read_at(
        self, source: np.ndarray, side: int, min_confidence: float | None, photo_shape: tuple[int, ...]
    ) -> list[dict]:
        """The faces of a read at `side`, boxes in the photo's pixels; `source` is the photo or a smaller copy."""
        x, scale = letterbox(source, side, self.spec.pad_value)
        scale *= max(source.shape) / max(photo_shape)
        heads = [h[0] for h in self.heads(x[None])]
        return self.faces_from_heads(heads, scale, photo_shape[0], photo_shape[1], min_confidence)

    def checked(self, faces: list[dict], rgb: np.ndarray, check: FaceCheck, checker: mtcnn.Detector) -> list[dict]:
        """The faces MTCNN's ONet confirms, each with ONet's box (the card's face_check); the rest are dropped."""
        height, width = rgb.shape[:2]
        boxes = np.asarray([face["box"] for face in faces], np.float64)
        centre, sides = boxes[:, :2] + boxes[:, 2:] / 2, boxes[:, 2:] / check.box_shrink
        moved, scores = checker.check(
            rgb, np.concatenate([centre - sides / 2, centre + sides / 2], axis=1), check.passes
        )
        kept = []
        for face, (x0, y0, x1, y1), score in zip(faces, moved, scores):
            clipped = self.box_in_photo(x0, y0, x1, y1, height, width)
            if score >= check.min_score and clipped:
                kept.append({**face, "box": clipped})
        # Two found boxes can move onto the same face.
        boxes = np.asarray([face["box"] for face in kept], np.float64).reshape(-1, 4)
        return [kept[i] for i in nms(boxes, np.asarray([face["confidence"] for face in kept]), self.spec.nms_iou)]

    def read_gray(
        self, gray: np.ndarray, min_confidence: float | None = None, rgb: np.ndarray | None = None
    ) -> list[dict]:
        """The faces of a gray photo; `rgb`, the photo in colour where there is one, is what the face check reads
        (else the gray photo, as three equal channels)."""
        faces = self._read_at(gray, self.spec.side, min_confidence, gray.shape)
        # The other reads share one copy of a large photo shrunk to the larger of their sides (resizing a 3 MP photo
        # costs as much as a read): the second read's letterbox is that copy itself, the large-face read's a small
        # resize of it.
        others = self.spec.read_sides[1:]
        source = gray if not others or max(gray.shape) <= max(others) else scaled_to(gray, max(others))
        large = self.spec.large_face_read
        if large:
            smallest = large.min_face_fraction * max(gray.shape)
            read = self._read_at(source, large.side, min_confidence, gray.shape)
            faces = add_large_faces(faces, [f for f in read if max(f["box"][2:]) >= smallest], self.spec.confidence)
        second = self.spec.second_read
        if faces and second:
            # The network reads small faces' emotions better when they are enlarged, so the faces found
            # at `side` also get the read of an enlarged copy (measured in the card's metrics).
            enlarged = self._read_at(source, second.side, second.min_confidence, gray.shape)
            blend_emotions(faces, enlarged, second.min_iou)
        if faces and self.face_check:
            faces = self.checked(faces, np.dstack([gray] * 3) if rgb is None else rgb, *self.face_check)
        if self.spec.face_reread:
            for face in faces:
                self.reread(gray, face, self.spec.face_reread)
        return faces

    def reread(self, gray: np.ndarray, face: dict, reread: FaceReread) -> None:
        """The face's emotions become the geometric mean of its own and those its partners read in the photo cut
        around it, all weighing the same, at each scale the card's face_reread gives it (the faces the first read
        finds range from 8 pixels to the whole photo, and the network reads a face best near FER2013's scale)."""
        x0, y0, x1, y1 = reread_window(face["box"], reread.context, *gray.shape)
        window = gray[y0:y1, x0:x1]
        height, width = window.shape
        views = []
        for face_side, side in reread.views:
            longer_side = min(side, max(1, round(max(window.shape) * face_side / max(face["box"][2:]))))
            pixels, scale = letterbox(window, side, self.spec.pad_value, longer_side)
            heads = [h[0] for h in self.heads(pixels[None])]
            found = self.faces_from_heads(heads, scale, height, width, reread.min_confidence)
            for other in found:
                other["box"] = [other["box"][0] + x0, other["box"][1] + y0, *other["box"][2:]]
            view = partner(face, found, reread.min_iou)
            if view:
                views.append(view["probabilities"])
        if views:
            face["probabilities"] = geometric_mean([face["probabilities"], *views])

    def read(self, image_rgb: np.ndarray) -> list[dict]:
        """Faces in an RGB uint8 (H, W, 3) photo: box [x, y, w, h] in its pixels, confidence, and the
        emotion probabilities in the card's class order."""
        return self.read_gray(to_gray(image_rgb), rgb=image_rgb)
