"""The pipeline gives the shared photos the same faces and probabilities as the code before the serving redesign.

data/answers-06cfc40.json was made at commit 06cfc40 (before functions/ became the moodlens package) by running
every shared photo through every model and rounding to 6 decimals; the redesign must not change a single answer.
Faces are matched by their box: the answer now lists them in reading order (issue 18), which the stored file, made
before, does not; the boxes, confidences and probabilities themselves must not move.
"""

import json
from pathlib import Path

import pytest

from moodlens.predict import catalog, pipeline
from moodlens.settings import Settings

pytestmark = pytest.mark.unit

STORED = json.loads((Path(__file__).parent / "data" / "answers-06cfc40.json").read_text())
SETTINGS = Settings()


@pytest.mark.parametrize("photo", sorted(STORED))
def test_answers_are_unchanged(photos_dir, photo):
    data = (photos_dir / photo).read_bytes()
    for model, stored in STORED[photo].items():
        prediction = pipeline.run(data, catalog.resolve(model, SETTINGS.models_dir), SETTINGS)
        by_box = {tuple(face["box"]): face for face in stored}
        assert sorted(face.box for face in prediction.faces) == sorted(by_box), model
        for face in prediction.faces:
            expected = by_box[face.box]
            assert face.confidence == pytest.approx(expected["confidence"], abs=1e-5), model
            assert face.probabilities.tolist() == pytest.approx(expected["probabilities"], abs=1e-5), model
