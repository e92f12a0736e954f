"""The pipeline gives the shared photos the same faces and probabilities as the code before the serving redesign.

data/answers-06cfc40.json was made at commit 06cfc40 (before functions/ became the moodlens package) by running
every shared photo through every model and rounding to 6 decimals; the redesign must not change a single answer.
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
        assert [list(face.box) for face in prediction.faces] == [face["box"] for face in stored], model
        for face, expected in zip(prediction.faces, stored):
            assert face.confidence == pytest.approx(expected["confidence"], abs=1e-5), model
            assert face.probabilities.tolist() == pytest.approx(expected["probabilities"], abs=1e-5), model
