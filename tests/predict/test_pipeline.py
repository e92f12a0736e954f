"""moodlens.predict.pipeline on constructed faces: the cap on faces per photo, and their reading order."""

import pytest

from moodlens.predict.faces import Face
from moodlens.predict.pipeline import largest, reading_order

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


def test_faces_come_left_to_right_then_top_to_bottom():
    # Two rows; the back row's faces sit at slightly different heights, and the list starts in no order.
    boxes = {
        "front right": (300, 210, 60, 60),
        "back left": (20, 40, 50, 50),
        "front left": (40, 200, 60, 60),
        "back right": (260, 60, 50, 50),
        "back middle": (140, 30, 50, 50),
    }
    faces = [Face(box=box, confidence=0.99) for box in boxes.values()]
    names = {box: name for name, box in boxes.items()}
    ordered = [names[face.box] for face in reading_order(faces)]
    assert ordered == ["back left", "back middle", "back right", "front left", "front right"]


def test_a_shorter_person_between_two_stays_in_their_row():
    # The shared photo dlib_2008_001322.jpg: the woman in the middle stands lower than the men on either side.
    boxes = [(344, 155, 90, 90), (232, 218, 63, 63), (104, 162, 76, 76)]
    ordered = reading_order([Face(box=box, confidence=0.99) for box in boxes])
    assert [face.box[0] for face in ordered] == [104, 232, 344]
