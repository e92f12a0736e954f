"""The photo with each face boxed and labelled with its top emotion and that emotion's probability."""

import json
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from moodlens.predict.faces import Face
from moodlens.predict.image_io import fit_within

# The pages read the same file, so a face's colour on the photo matches its card.
PALETTE_FILE = Path(__file__).resolve().parent.parent / "palette.json"
COLOURS: dict[str, str] = json.loads(PALETTE_FILE.read_text())


def top_emotion(face: Face, classes: tuple[str, ...]) -> tuple[str, float]:
    assert face.probabilities is not None
    best = int(face.probabilities.argmax())
    return classes[best], float(face.probabilities[best])


def draw(image: Image.Image, faces: list[Face], classes: tuple[str, ...], max_side: int) -> Image.Image:
    canvas = fit_within(image, max_side).copy()
    scale = canvas.width / image.width
    # Line and text sizes follow the photo, so labels stay legible on large photos and fit on small ones.
    line = max(1, round(max(canvas.size) / 300))
    font = ImageFont.load_default(size=max(10, round(max(canvas.size) / 40)))
    pen = ImageDraw.Draw(canvas)
    for face in faces:
        emotion, probability = top_emotion(face, classes)
        colour = COLOURS.get(emotion, "#ffffff")
        x, y, w, h = (value * scale for value in face.box)
        pen.rectangle((x, y, x + w, y + h), outline=colour, width=line)
        label = f"{emotion} {probability:.2f}"
        left, top, right, bottom = pen.textbbox((0, 0), label, font=font)
        text_w, text_h = right - left + 2 * line, bottom - top + 2 * line
        # Above the box when there is room, else inside its top edge.
        label_y = y - text_h if y - text_h >= 0 else y
        pen.rectangle((x, label_y, x + text_w, label_y + text_h), fill=colour)
        pen.text((x + line - left, label_y + line - top), label, fill=(0, 0, 0), font=font)
    return canvas
