"""The photo with each face boxed and labelled with its number (the answer's order), top emotion and probability.

Labels never overlap one another and never leave the photo: each takes the first free place among above, below,
inside and beside its box; where none is free, only the number is drawn; where even that finds no place near the
box, the nearest free spot in the box's column."""

import json
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from moodlens.predict.faces import Face
from moodlens.predict.image_io import fit_within

# The pages read the same file, so a face's colour on the photo matches its card.
PALETTE_FILE = Path(__file__).resolve().parent.parent / "palette.json"
COLOURS: dict[str, str] = json.loads(PALETTE_FILE.read_text())

Rect = tuple[float, float, float, float]  # left, top, right, bottom


def top_emotion(face: Face, classes: tuple[str, ...]) -> tuple[str, float]:
    assert face.probabilities is not None
    best = int(face.probabilities.argmax())
    return classes[best], float(face.probabilities[best])


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(x: float, y: float, w: float, h: float, width: int, height: int) -> Rect:
    """A w x h rectangle at (x, y), moved the least needed to lie within the photo."""
    x = min(max(0.0, x), max(0.0, width - w))
    y = min(max(0.0, y), max(0.0, height - h))
    return (x, y, x + w, y + h)


def place_label(box: Rect, size: tuple[float, float], taken: list[Rect], width: int, height: int) -> Rect | None:
    """Where a label of `size` goes for the face `box`: the first free candidate place, or None."""
    left, top, right, bottom = box
    w, h = size
    candidates = [(left, top - h), (left, bottom), (left, top), (right, top), (left - w, top)]
    for x, y in candidates:
        rect = _inside(x, y, w, h, width, height)
        if not any(_overlaps(rect, other) for other in taken):
            return rect
    return None


def column_spot(box: Rect, size: tuple[float, float], taken: list[Rect], width: int, height: int) -> Rect:
    """The free spot nearest the box in its column, searched in steps of the label's height (the last resort)."""
    w, h = size
    steps = int(height // max(h, 1)) + 1
    for step in sorted(range(-steps, steps + 1), key=abs):
        rect = _inside(box[0], box[3] + step * h, w, h, width, height)
        if not any(_overlaps(rect, other) for other in taken):
            return rect
    return _inside(box[0], box[1], w, h, width, height)


def layout(boxes: list[Rect], texts: list[tuple[str, str]], measure, width: int, height: int) -> list[tuple[str, Rect]]:
    """Each face's label text and place: `texts` holds the full label and the number alone; `measure(text)` gives
    a text's (width, height) with its padding."""
    taken: list[Rect] = []
    placed = []
    for box, (full, number) in zip(boxes, texts):
        for text in (full, number):
            rect = place_label(box, measure(text), taken, width, height)
            if rect is not None:
                break
        else:
            text, rect = number, column_spot(box, measure(number), taken, width, height)
        taken.append(rect)
        placed.append((text, rect))
    return placed


def draw(image: Image.Image, faces: list[Face], classes: tuple[str, ...], max_side: int) -> Image.Image:
    canvas = fit_within(image, max_side).copy()
    scale = canvas.width / image.width
    # Line and text sizes follow the photo, so labels stay legible on large photos and fit on small ones.
    line = max(1, round(max(canvas.size) / 300))
    font = ImageFont.load_default(size=max(12, round(max(canvas.size) / 50)))
    pen = ImageDraw.Draw(canvas)

    def measure(text: str) -> tuple[float, float]:
        left, top, right, bottom = pen.textbbox((0, 0), text, font=font)
        return right - left + 2 * line, bottom - top + 2 * line

    boxes: list[Rect] = []
    texts = []
    colours = []
    for number, face in enumerate(faces, start=1):
        emotion, probability = top_emotion(face, classes)
        x, y, w, h = (value * scale for value in face.box)
        boxes.append((x, y, x + w, y + h))
        texts.append((f"{number} {emotion} {probability:.2f}", str(number)))
        colours.append(COLOURS.get(emotion, "#ffffff"))
    # Every box first, then every label, so no box line is drawn across another face's label.
    for box, colour in zip(boxes, colours):
        pen.rectangle(box, outline=colour, width=line)
    for (text, rect), colour in zip(layout(boxes, texts, measure, canvas.width, canvas.height), colours):
        left, top, _, _ = pen.textbbox((0, 0), text, font=font)
        pen.rectangle(rect, fill=colour)
        pen.text((rect[0] + line - left, rect[1] + line - top), text, fill=(0, 0, 0), font=font)
    return canvas
