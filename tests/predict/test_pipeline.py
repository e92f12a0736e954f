"""moodlens.predict.pipeline on constructed faces: the cap on faces per photo."""

import pytest

from moodlens.predict.faces import Face
from moodlens.predict.pipeline import largest

pytestmark = pytest.mark.unit


def _faces(sides):
    return [Face(box=(10 * i, 0, side, side), confidence=0.99) for i, side in enumerate(sides)]


def test_the_largest_faces_are_kept_in_their_order():
    faces = _faces([5, 50, 20, 40, 10])
    kept, truncated = largest(faces, 3)
    assert truncated and [face.box[2] for face in kept] == [50, 20, 40]


def test_under_the_cap_nothing_changes():
    faces = _faces([5, 50])
    assert largest(faces, 2) == (faces, False)


def test_a_crowd_is_cut_to_a_hundred():
    kept, truncated = largest(_faces(range(1, 145)), 100)
    assert truncated and len(kept) == 100 and min(face.box[2] for face in kept) == 45
