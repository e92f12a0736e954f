"""Synthetic grayscale scenes for the yolo3 detector: FER2013 faces pasted onto face-free backgrounds.

Real photos are never used here: they are validation only. Every scene is a pure function of
(seed, index), so a dataset is reproducible whatever the number of worker processes.
"""

from __future__ import annotations

import functools
import importlib.util
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from moodlens.modelcard import EMOTIONS

FACE = 48
FERPLUS_NOT_A_FACE = 9
# Where MTCNN puts its box on a FER crop, as fractions of the crop (x0, y0, w, h), median over FER train
# faces (`python -m training.yolo3 calibrate`). Scene labels use it instead of the crop's edges, so the
# detector answers in the box convention of MTCNN (the other models' detector and the photos' reference),
# not the FER crop's looser framing.
CROP_TO_FACE = (0.094, -0.021, 0.802, 1.052)


@dataclass(frozen=True)
class Recipe:
    """What a scene may contain. Sizes are face box sides in canvas pixels."""

    size: int = 320
    min_face: float = 14.0
    max_face: float = 180.0
    max_faces: int = 12
    empty_fraction: float = 0.08
    portrait_fraction: float = 0.2
    people_fraction: float = 0.7
    decoy_rate: float = 0.6
    # Scenes whose background is a real face-free photograph (FACE_FREE_PHOTOS), with some of its
    # objects pasted as decoys. 0 keeps the procedural scenes the evaluation has always used.
    photo_fraction: float = 0.0
    # People drawn with a bald or shaved head (skin from crown to neck) instead of hair; 0, as in the
    # evaluation scenes, draws every person as before.
    bald_fraction: float = 0.0
    # Faces drawn near the side the served face reread scales every face to (FaceReread.face_sides, 40-56 px
    # face boxes; these are pasted crop sides, the box about 0.8 x 1.05 of one), so that the emotion head learns
    # most where three of a face's four reads happen; 0 draws every side log-uniformly.
    reread_fraction: float = 0.0
    reread_sides: tuple[float, float] = (32.0, 60.0)

    @property
    def largest_face(self) -> float:
        # A face needs some background around it to be learnt as a face rather than as the scene.
        return min(self.max_face, 0.85 * self.size)


def load_faces(fer_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """FER faces and labels of one split, without the rows FER+ annotators call 'not a face' where the
    file has the FER+ votes (the packed copy for GPU machines does not)."""
    with np.load(Path(fer_dir) / f"{split}.npz") as data:
        images = data["images"]
        labels = data["labels"].astype(np.int64)
        keep = np.ones(len(labels), bool)
        if "ferplus_votes" in data.files:
            votes = data["ferplus_votes"]
            keep = ~((votes[:, FERPLUS_NOT_A_FACE] >= 5) & (votes[:, 0] >= 0))
    return images[keep], labels[keep]


def gray_image(values: np.ndarray) -> Image.Image:
    """Float pixel values to an 8-bit PIL image (clipped to 0..255, as a camera would)."""
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), mode="L")


# ---------------------------------------------------------------- backgrounds


def _upsampled_noise(rng: np.random.Generator, size: int) -> np.ndarray:
    """Multi-octave value noise: smooth blobs at several scales, like out-of-focus scenery."""
    out = np.zeros((size, size), np.float32)
    amp = 1.0
    for cells in sorted(rng.choice([2, 3, 4, 6, 8, 12, 16, 32, 64], size=rng.integers(2, 5), replace=False)):
        small = Image.fromarray(rng.random((cells, cells), dtype=np.float32), mode="F")
        out += amp * np.asarray(small.resize((size, size), Image.BICUBIC))
        amp *= rng.uniform(0.3, 0.8)
    return out


def _shapes(rng: np.random.Generator, size: int) -> np.ndarray:
    """Gradient plus random rectangles, ellipses, polygons and lines: man-made clutter and edges."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    angle = rng.uniform(0, 2 * np.pi)
    base = rng.uniform(40, 200) + rng.uniform(-80, 80) * (np.cos(angle) * xx + np.sin(angle) * yy)
    img = gray_image(base)
    draw = ImageDraw.Draw(img)
    for _ in range(rng.integers(3, 25)):
        kind = rng.integers(0, 4)
        x0, y0 = rng.uniform(-0.2, 1.0, 2) * size
        w, h = np.exp(rng.uniform(np.log(4), np.log(size), 2))
        fill = int(rng.integers(0, 256))
        if kind == 0:
            draw.rectangle([x0, y0, x0 + w, y0 + h], fill=fill)
        elif kind == 1:
            draw.ellipse([x0, y0, x0 + w, y0 + h], fill=fill)
        elif kind == 2:
            pts = [tuple(p) for p in rng.uniform(0, size, (rng.integers(3, 7), 2))]
            draw.polygon(pts, fill=fill)
        else:
            draw.line([x0, y0, x0 + w, y0 + h], fill=fill, width=int(rng.integers(1, 8)))
    if rng.random() < 0.4:
        _text(rng, draw, size)
    radius = float(rng.choice([0, 0, 0.8, 1.5, 3, 6]))
    if radius:
        img = img.filter(ImageFilter.GaussianBlur(radius))
    return np.asarray(img, np.float32)


GLYPHS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789&@#%"))


def _text(rng: np.random.Generator, draw: ImageDraw.ImageDraw, size: int) -> None:
    """Lettering (signs, logos, T-shirts): round glyphs like O, D and 0 were taken for faces."""
    for _ in range(rng.integers(1, 5)):
        height = int(np.exp(rng.uniform(np.log(8), np.log(size / 3))))
        try:
            font = ImageFont.load_default(size=height)
        except (TypeError, OSError):  # Pillow without FreeType: the small bitmap font
            font = ImageFont.load_default()
        word = "".join(rng.choice(GLYPHS, rng.integers(1, 8)))
        x, y = rng.uniform(-0.1, 0.9, 2) * size
        draw.text((x, y), word, fill=int(rng.integers(0, 256)), font=font)


def _waves(rng: np.random.Generator, size: int) -> np.ndarray:
    """Oriented periodic textures (fabric, blinds, brick-like stripes)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    out = np.zeros((size, size), np.float32)
    for _ in range(rng.integers(1, 4)):
        theta = rng.uniform(0, np.pi)
        freq = 2 * np.pi / rng.uniform(3, 60)
        wave = np.sin(freq * (np.cos(theta) * xx + np.sin(theta) * yy) + rng.uniform(0, 6.3))
        out += np.sign(wave) if rng.random() < 0.3 else wave
    return out


def _normalise(field: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    lo, hi = np.percentile(field, [1, 99])
    field = (field - lo) / max(hi - lo, 1e-3)
    mean, spread = rng.uniform(30, 220), rng.uniform(20, 140)
    return mean + (field - 0.5) * spread


# scikit-image's sample photographs without a human face (its astronaut, camera, lfw_subset and gif have
# faces): a clock, coins, lettering, a cat, a motorbike, a rocket, cells, stone and grass. Real clutter of
# this kind (a clock, a bag, printed shirts) made most of the false faces on photos, and drawn shapes
# do not look like it.
FACE_FREE_PHOTOS = (
    "brick.png",
    "cell.png",
    "chelsea.png",
    "chessboard_GRAY.png",
    "clock_motion.png",
    "coffee.png",
    "coins.png",
    "color.png",
    "grass.png",
    "gravel.png",
    "horse.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "logo.png",
    "microaneurysms.png",
    "moon.png",
    "motorcycle_left.png",
    "page.png",
    "retina.jpg",
    "rocket.jpg",
    "text.png",
)


@functools.cache
def face_free_photos() -> tuple[np.ndarray, ...]:
    spec = importlib.util.find_spec("skimage")
    if spec is None:
        raise RuntimeError("photo backgrounds need scikit-image's sample photographs: pip install scikit-image")
    folder = Path(spec.origin).parent / "data"
    return tuple(np.asarray(Image.open(folder / name).convert("L")) for name in FACE_FREE_PHOTOS)


def photo_crop(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A random part of a face-free photo at a random zoom, turned and mirrored, as float32 (height, width)."""
    photo = face_free_photos()[rng.integers(len(FACE_FREE_PHOTOS))]
    photo = np.rot90(photo, rng.integers(0, 4))
    if rng.random() < 0.5:
        photo = photo[:, ::-1]
    zoom = float(np.exp(rng.uniform(np.log(0.3), np.log(2.5))))
    crop_w = int(np.clip(width / zoom, 8, photo.shape[1]))
    crop_h = int(np.clip(height / zoom, 8, photo.shape[0]))
    x = int(rng.integers(0, photo.shape[1] - crop_w + 1))
    y = int(rng.integers(0, photo.shape[0] - crop_h + 1))
    crop = Image.fromarray(np.ascontiguousarray(photo[y : y + crop_h, x : x + crop_w]), mode="L")
    return np.asarray(crop.resize((width, height), Image.BILINEAR), np.float32)


def background(rng: np.random.Generator, size: int, photo: bool = False) -> np.ndarray:
    """Procedural clutter, or (photo) a crop of a face-free photograph, sometimes with drawn shapes over it."""
    if photo:
        bg = photo_crop(rng, size, size)
        if rng.random() < 0.3:
            bg = 0.75 * bg + 0.25 * _shapes(rng, size)
        return (bg + rng.normal(0, rng.uniform(0, 6), bg.shape)).astype(np.float32)
    layers = [_normalise(_upsampled_noise(rng, size), rng), _shapes(rng, size)]
    if rng.random() < 0.35:
        layers.append(_normalise(_waves(rng, size), rng))
    weights = rng.dirichlet(np.ones(len(layers)) * 0.7)
    bg = sum(w * layer for w, layer in zip(weights, layers))
    bg += rng.normal(0, rng.uniform(0, 10), bg.shape)
    return bg.astype(np.float32)


# ---------------------------------------------------------------- faces


def _feather_mask(rng: np.random.Generator) -> np.ndarray:
    """Soft 48x48 alpha: a rounded rectangle or ellipse whose edge fades over a random width,
    so the net cannot key on the crop's square border."""
    c = (np.arange(FACE, dtype=np.float32) + 0.5) / FACE * 2 - 1
    yy, xx = np.meshgrid(c, c, indexing="ij")
    power = rng.choice([2.0, 4.0, 8.0])
    dist = (np.abs(xx) ** power + np.abs(yy) ** power) ** (1 / power)
    inner = rng.uniform(0.55, 0.9)
    return np.clip((1.05 - dist) / (1.05 - inner), 0, 1).astype(np.float32)


def _face_patch(rng: np.random.Generator, face: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Photometrically jittered face resized to w x h, with its feathered alpha."""
    f = face.astype(np.float32)
    if rng.random() < 0.5:
        f = f[:, ::-1]
    gamma = np.exp(rng.uniform(-0.4, 0.4))
    f = 255.0 * (f / 255.0) ** gamma
    f = (f - f.mean()) * rng.uniform(0.6, 1.4) + f.mean() + rng.uniform(-40, 40)
    alpha = _feather_mask(rng)
    angle = rng.uniform(-12, 12)
    img = gray_image(f)
    msk = gray_image(alpha * 255)
    if abs(angle) > 2:
        img = img.rotate(angle, Image.BILINEAR)
        msk = msk.rotate(angle, Image.BILINEAR)
    if min(w, h) < 30 and rng.random() < 0.5:
        # Small faces in photos are usually soft: blur before the downscale mimics optics, not just pixels.
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))
    img = img.resize((w, h), Image.BICUBIC)
    if min(w, h) > 64 and rng.random() < 0.7:
        # A 48 px crop blown up is smooth, while a large face in a photo is the sharpest thing in it:
        # restore edges and grain so that blur does not become the mark of a large face.
        img = img.filter(ImageFilter.UnsharpMask(radius=min(w, h) / 48, percent=int(rng.integers(80, 250))))
    img = np.asarray(img, np.float32)
    if min(w, h) > 64 and rng.random() < 0.5:
        img = img + rng.normal(0, rng.uniform(2, 7), img.shape)
    msk = np.asarray(msk.resize((w, h), Image.BILINEAR), np.float32) / 255.0
    return img, msk


def _person(draw: ImageDraw.ImageDraw, rng: np.random.Generator, x: int, y: int, w: int, h: int) -> None:
    """Head, hair and shoulders around a face box: faces in photos sit on people, so the network sees a
    face in the context it will meet, and learns that hair, necks and torsos are not faces."""
    cx = x + w / 2
    hair = int(rng.integers(0, 256))
    if rng.random() < 0.8:
        hw, hh = w * rng.uniform(0.55, 0.8), h * rng.uniform(0.6, 0.85)
        top = y + h * rng.uniform(-0.35, 0.0)
        draw.ellipse([cx - hw, top, cx + hw, top + 2 * hh], fill=hair)
    if rng.random() < 0.8:
        neck = int(np.clip(hair + rng.normal(0, 60), 0, 255))
        draw.rectangle([cx - w * 0.22, y + h * 0.8, cx + w * 0.22, y + h * 1.25], fill=neck)
        shoulders = w * rng.uniform(1.0, 1.8)
        draw.ellipse(
            [cx - shoulders, y + h * rng.uniform(1.05, 1.3), cx + shoulders, y + h * 3.5],
            fill=int(rng.integers(0, 256)),
        )


def _bald_person(
    draw: ImageDraw.ImageDraw, rng: np.random.Generator, x: int, y: int, w: int, h: int, skin: float
) -> None:
    """A bald or shaved head: skin, not hair, from the crown to the neck, with a highlight and ears. With
    hair always drawn in another grey, the detector boxed real bald heads whole, crown to neck."""
    cx = x + w / 2
    tone = float(np.clip(skin + rng.normal(0, 12), 0, 255))
    shoulders = w * rng.uniform(1.0, 1.8)
    bare = rng.random() < 0.25  # bare shoulders: skin below the face is not a face either
    draw.ellipse(
        [cx - shoulders, y + h * rng.uniform(1.05, 1.3), cx + shoulders, y + h * 3.5],
        fill=int(tone * rng.uniform(0.85, 1.05)) if bare else int(rng.integers(0, 256)),
    )
    draw.rectangle([cx - w * 0.24, y + h * 0.75, cx + w * 0.24, y + h * 1.25], fill=int(tone * rng.uniform(0.75, 0.95)))
    hw, hh = w * rng.uniform(0.5, 0.62), h * rng.uniform(0.6, 0.75)
    top = y - h * rng.uniform(0.15, 0.45)
    for side in (-1, 1):
        ear = cx + side * w * rng.uniform(0.45, 0.52)
        draw.ellipse(
            [ear - w * 0.09, y + h * 0.3, ear + w * 0.09, y + h * 0.65], fill=int(tone * rng.uniform(0.8, 1.0))
        )
    draw.ellipse([cx - hw, top, cx + hw, top + 2 * hh], fill=int(tone))
    shine = float(np.clip(tone + rng.uniform(5, 35), 0, 255))
    draw.ellipse([cx - hw * 0.45, top + hh * 0.08, cx + hw * 0.45, top + hh * 0.6], fill=int(shine))


def _decoy(rng: np.random.Generator, face: np.ndarray) -> np.ndarray:
    """Face-coloured texture that is not a face: a FER face with its quadrants shuffled and
    turned, so skin-like statistics alone do not make a detection."""
    q = [face[:24, :24], face[:24, 24:], face[24:, :24], face[24:, 24:]]
    order = rng.permutation(4)
    while (order == np.arange(4)).all():
        order = rng.permutation(4)
    top = np.concatenate([q[order[0]], q[order[1]]], 1)
    bottom = np.concatenate([q[order[2]], q[order[3]]], 1)
    return np.ascontiguousarray(np.rot90(np.concatenate([top, bottom], 0), rng.integers(0, 4)))


def _paste(canvas: np.ndarray, patch: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    h, w = patch.shape
    size_y, size_x = canvas.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, size_x), min(y + h, size_y)
    if x1 <= x0 or y1 <= y0:
        return
    p = patch[y0 - y : y1 - y, x0 - x : x1 - x]
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x]
    region = canvas[y0:y1, x0:x1]
    canvas[y0:y1, x0:x1] = region * (1 - a) + p * a


def _overlap(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection of one (x, y, w, h) box with each of many, over the smaller of the two areas:
    unlike IoU it also catches a small face pasted inside a large one."""
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[0] + box[2], boxes[:, 0] + boxes[:, 2])
    y1 = np.minimum(box[1] + box[3], boxes[:, 1] + boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    return inter / np.minimum(box[2] * box[3], boxes[:, 2] * boxes[:, 3])


def face_count(rng: np.random.Generator, recipe: Recipe) -> int:
    if rng.random() < recipe.empty_fraction:
        return 0
    if rng.random() < recipe.portrait_fraction:
        return 1  # one face that may fill most of the frame, as in portraits and selfies
    return int(min(recipe.max_faces, rng.geometric(0.3) + rng.integers(0, 3)))


def make_scene(
    rng: np.random.Generator, faces: np.ndarray, labels: np.ndarray, recipe: Recipe, face_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One scene holding the faces face_ids (a face that finds no free place is left out):
    uint8 (S, S) image, float32 (K, 4) boxes (x, y, w, h, clipped to the canvas), and the kept faces' rows of
    `labels` (int64 (K,) labels, or (K, C) class targets where `labels` holds a row per face)."""
    size = recipe.size
    photo_scene = recipe.photo_fraction > 0 and rng.random() < recipe.photo_fraction
    canvas = background(rng, size, photo_scene)
    max_side = recipe.largest_face
    # Crowded scenes hold smaller faces, as group photos do.
    crowd = max(len(face_ids), 1)
    upper = np.log(max(recipe.min_face + 1, max_side / np.sqrt(min(crowd, 4))))
    boxes, kept = [], []
    people = rng.random() < recipe.people_fraction
    for fid in face_ids:
        for _ in range(12):
            # Without reread faces no extra number is drawn, so the val scenes (and every recipe before) stay the same.
            if recipe.reread_fraction and rng.random() < recipe.reread_fraction:
                side = float(rng.uniform(*recipe.reread_sides))
            else:
                side = float(np.exp(rng.uniform(np.log(recipe.min_face), upper)))
            w = int(round(side * rng.uniform(0.9, 1.1)))
            h = int(round(side * rng.uniform(0.95, 1.15)))
            x = int(rng.integers(-w // 6, size - w + w // 6 + 1))
            y = int(rng.integers(-h // 6, size - h + h // 6 + 1))
            cand = np.array([x, y, w, h], np.float32)
            if len(boxes) == 0 or _overlap(cand, np.array(boxes)).max() < 0.2:
                break
        else:
            continue
        boxes.append(cand)
        kept.append(fid)
    if people and boxes:
        # Bodies first, back to front, so no body covers a face pasted later.
        img = gray_image(canvas)
        draw = ImageDraw.Draw(img)
        for (bx, by, bw, bh), fid in sorted(zip(boxes, kept), key=lambda pair: pair[0][3]):
            if recipe.bald_fraction and rng.random() < recipe.bald_fraction:
                _bald_person(draw, rng, int(bx), int(by), int(bw), int(bh), float(faces[fid][12:36, 12:36].mean()))
            else:
                _person(draw, rng, int(bx), int(by), int(bw), int(bh))
        canvas = np.asarray(img, np.float32)
    if rng.random() < 0.3:
        # Depth of field: portraits have sharp faces in front of a soft background.
        canvas = np.asarray(gray_image(canvas).filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 4.0))), np.float32)
    for (bx, by, bw, bh), fid in zip(boxes, kept):
        patch, alpha = _face_patch(rng, faces[fid], int(bw), int(bh))
        _paste(canvas, patch, alpha, int(bx), int(by))
    for _ in range(rng.poisson(recipe.decoy_rate)):
        place = _decoy_place(rng, recipe, max_side, boxes)
        if place is None:
            continue
        x, y, side = place
        decoy = _decoy(rng, faces[rng.integers(0, len(faces))])
        patch, alpha = _face_patch(rng, decoy, side, side)
        _paste(canvas, patch, alpha, x, y)
    for _ in range(rng.poisson(1.5) if photo_scene else 0):
        # Real objects at face sizes (a clock face, a coin, a letter), on a soft edge like the faces'.
        place = _decoy_place(rng, recipe, max_side, boxes)
        if place is None:
            continue
        x, y, side = place
        alpha = (
            np.asarray(gray_image(_feather_mask(rng) * 255).resize((side, side), Image.BILINEAR), np.float32) / 255.0
        )
        _paste(canvas, photo_crop(rng, side, side), alpha, x, y)
    canvas = _global_augment(rng, canvas)
    return canvas, _clip_boxes(face_boxes(np.array(boxes, np.float32).reshape(-1, 4)), size), labels[kept]


def _decoy_place(rng: np.random.Generator, recipe: Recipe, max_side: float, faces: list) -> tuple[int, int, int] | None:
    """A square (x, y, side) at a face's size for a decoy, or None where it would touch a face."""
    side = int(np.exp(rng.uniform(np.log(recipe.min_face), np.log(max_side))))
    x, y = (int(v) for v in rng.integers(-side // 4, recipe.size - side // 2, 2))
    if len(faces) and _overlap(np.array([x, y, side, side], np.float32), np.array(faces)).max() > 0.0:
        return None
    return x, y, side


def face_boxes(pasted: np.ndarray) -> np.ndarray:
    """Label boxes (x, y, w, h) of faces pasted over the given extents."""
    fx, fy, fw, fh = CROP_TO_FACE
    return np.stack(
        [pasted[:, 0] + fx * pasted[:, 2], pasted[:, 1] + fy * pasted[:, 3], fw * pasted[:, 2], fh * pasted[:, 3]], 1
    ).astype(np.float32)


def pasted_extents(label_boxes: np.ndarray) -> np.ndarray:
    """The pasted crop (x, y, w, h) each label box was made from: face_boxes inverted."""
    fx, fy, fw, fh = CROP_TO_FACE
    w, h = label_boxes[:, 2] / fw, label_boxes[:, 3] / fh
    return np.stack([label_boxes[:, 0] - fx * w, label_boxes[:, 1] - fy * h, w, h], 1).astype(np.float32)


def _clip_boxes(boxes: np.ndarray, size: int) -> np.ndarray:
    x0 = np.clip(boxes[:, 0], 0, size)
    y0 = np.clip(boxes[:, 1], 0, size)
    x1 = np.clip(boxes[:, 0] + boxes[:, 2], 0, size)
    y1 = np.clip(boxes[:, 1] + boxes[:, 3], 0, size)
    return np.stack([x0, y0, x1 - x0, y1 - y0], 1).astype(np.float32)


def _global_augment(rng: np.random.Generator, canvas: np.ndarray) -> np.ndarray:
    """Whole-image camera effects: exposure, contrast, blur, sensor noise."""
    canvas = (canvas - canvas.mean()) * rng.uniform(0.7, 1.3) + canvas.mean() + rng.uniform(-25, 25)
    img = gray_image(canvas)
    if rng.random() < 0.25:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.2)))
    out = np.asarray(img, np.float32)
    if rng.random() < 0.5:
        out = out + rng.normal(0, rng.uniform(1, 8), out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- datasets


@dataclass
class SceneSet:
    images: np.ndarray  # uint8 (N, S, S)
    boxes: list[np.ndarray]  # per scene float32 (K, 4) x, y, w, h
    labels: list[np.ndarray]  # per scene int64 (K,), or float32 (K, 7) class targets when generated with targets


def _chunk(args) -> tuple[np.ndarray, list, list]:
    fer_dir, split, recipe, seed, start, stop, balance, targets = args
    faces, labels = load_faces(fer_dir, split)
    probs = _sampling_probs(labels, balance)
    imgs, boxes, labs = [], [], []
    for i in range(start, stop):
        rng = np.random.default_rng([seed, i])
        ids = rng.choice(len(faces), face_count(rng, recipe), p=probs)
        img, b, lab = make_scene(rng, faces, labels if targets is None else targets, recipe, face_ids=ids)
        imgs.append(img)
        boxes.append(b)
        labs.append(lab)
    return np.stack(imgs), boxes, labs


def _sampling_probs(labels: np.ndarray, balance: float) -> np.ndarray:
    """Per-face sampling probability: class frequency raised to (1 - balance), so rare classes
    (disgust) are seen more often without being repeated so much that they are memorised."""
    counts = np.bincount(labels, minlength=len(EMOTIONS)).astype(np.float64)
    per_class = counts ** (1.0 - balance)
    p = per_class[labels] / counts[labels]
    return p / p.sum()


def generate(
    fer_dir: Path,
    count: int,
    seed: int,
    recipe: Recipe,
    split: str = "train",
    workers: int = 1,
    balance: float = 0.3,
    targets: np.ndarray | None = None,
) -> SceneSet:
    """count scenes, identical for any number of workers. `targets`: a class-target row per face of the split (in
    load_faces' order), which the scenes then carry instead of the labels; the faces are drawn the same either way."""
    step = max(1, min(256, -(-count // max(workers, 1))))
    jobs = [
        (str(fer_dir), split, recipe, seed, s, min(s + step, count), balance, targets) for s in range(0, count, step)
    ]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_chunk, jobs))
    else:
        parts = [_chunk(j) for j in jobs]
    return SceneSet(
        np.concatenate([p[0] for p in parts]), [b for p in parts for b in p[1]], [lab for p in parts for lab in p[2]]
    )


def evaluation_scenes(
    fer_dir: Path, seed: int, recipe: Recipe, per_scene: int = 4, limit: int | None = None
) -> SceneSet:
    """Every FER val face placed exactly once, per_scene to a scene, in training-style scenes."""
    faces, labels = load_faces(fer_dir, "val")
    order = np.random.default_rng(seed).permutation(len(faces))
    if limit is not None:
        order = order[:limit]
    imgs, boxes, labs = [], [], []
    for i, start in enumerate(range(0, len(order), per_scene)):
        rng = np.random.default_rng([seed, 1_000_003, i])
        img, b, lab = make_scene(rng, faces, labels, recipe, face_ids=order[start : start + per_scene])
        imgs.append(img)
        boxes.append(b)
        labs.append(lab)
    return SceneSet(np.stack(imgs), boxes, labs)
