"""Which models exist (their cards in the models folder), which one a request gets, and loading each once.

Networks are imported and loaded only on first use: importing this module stays cheap, so a functions-framework
process can fork or start before any model exists.
"""

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from moodlens.modelcard import CardError, ModelCard, read_card

log = logging.getLogger(__name__)

DEFAULT_MODEL = "inception-resnet"
# Old clients send this misspelling; it must keep meaning the default model.
ALIASES = {"incpetion-resnet": DEFAULT_MODEL}


class ModelUnavailable(Exception):
    pass


def available_cards(models_dir: Path) -> dict[str, ModelCard]:
    cards = {}
    for path in sorted(Path(models_dir).glob("*.json")):
        # One broken card must not take the other models down with it.
        try:
            card = read_card(path)
        except (OSError, CardError):
            log.exception("skipping model card %s", path)
            continue
        cards[card.name] = card
    return cards


def resolve(requested: object, models_dir: Path) -> ModelCard:
    """The card of the model that will actually run for a request's `model` value.

    Cards are re-read at each call (a few small files): a model added later runs without a restart."""
    cards = available_cards(models_dir)
    # Anything but a string (a number, a list from a confused client) asks for nothing in particular.
    name = ALIASES.get(requested, requested) if isinstance(requested, str) else DEFAULT_MODEL
    if name in cards:
        return cards[name]
    if DEFAULT_MODEL in cards:
        return cards[DEFAULT_MODEL]
    raise ModelUnavailable(f"no model card for {DEFAULT_MODEL} in {models_dir}")


T = TypeVar("T")
_loaded: dict[str, object] = {}
# Reentrant: a loader may itself load_once (yolo3's finder loads MTCNN's ONet for its face check).
_lock = threading.RLock()


def load_once(key: str, load: Callable[[], T]) -> T:
    """load() the first time `key` is asked for in this process; the same object after that."""
    # Double-checked: the common path takes no lock; concurrent first requests load once.
    if key not in _loaded:
        with _lock:
            if key not in _loaded:
                _loaded[key] = load()
    return _loaded[key]  # type: ignore[return-value]
