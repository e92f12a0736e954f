"""MTCNN, the face detector in front of the classifiers, run the one way serving and evaluation both use."""

import numpy as np
from PIL import Image

from moodlens.predict.catalog import load_once
from moodlens.predict.faces import Face
from moodlens.predict.image_io import fit_within


def detector():
    def load():
        import tensorflow as tf
        from mtcnn import MTCNN

        found = MTCNN()
        # mtcnn 1.0.0 calls its three Keras networks eagerly; as graphs they run 2-3 times faster on a CPU.
        # reduce_retracing: the image pyramid's many input sizes share a few traces instead of one each.
        for stage in found.stages:
            stage._model = tf.function(stage.model, reduce_retracing=True)
        return found

    return load_once("mtcnn", load)


def detect_faces(rgb: np.ndarray, max_side: int, min_confidence: float) -> list[Face]:
    """MTCNN on a copy no larger than max_side (its time grows with pixels, and mtcnn 1.0.0 loses large faces
    when min_face_size is raised instead), boxes and eyes mapped back to `rgb` pixels."""
    height, width = rgb.shape[:2]
    small = fit_within(Image.fromarray(rgb), max_side)
    scale = small.width / width
    faces = []
    for found in detector().detect_faces(np.asarray(small)):
        if found["confidence"] < min_confidence:
            continue
        x, y, w, h = (value / scale for value in found["box"])
        left, top = max(0, round(x)), max(0, round(y))
        box = (left, top, min(width, round(x + w)) - left, min(height, round(y + h)) - top)
        if box[2] < 1 or box[3] < 1:
            continue
        points = found["keypoints"]
        left_eye, right_eye = ((points[eye][0] / scale, points[eye][1] / scale) for eye in ("left_eye", "right_eye"))
        faces.append(Face(box=box, confidence=float(found["confidence"]), eyes=(left_eye, right_eye)))
    return faces
