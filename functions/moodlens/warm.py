"""Loads every model once and runs it on a generated photo, so that no request pays the loading (LiteRT maps each
file and prepares its kernels: well under a second for all three models).

Called by gunicorn's post_worker_init (deploy/gunicorn.conf.py) in each worker before it takes requests; also runs
alone: `python -m moodlens.warm` prints each model's seconds.
"""

import io
import logging
import threading
import time
from collections.abc import Callable

from PIL import Image

from moodlens.predict import catalog, pipeline
from moodlens.settings import SettingsError, get_settings

log = logging.getLogger("moodlens.warm")


def blank_photo(width: int = 320, height: int = 240) -> bytes:
    """A plain grey PNG: no face, but every model's detector (and its classifier's tracing) runs on it."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (128, 128, 128)).save(buffer, format="PNG")
    return buffer.getvalue()


def warm_models(heartbeat: Callable[[], None] | None = None) -> dict[str, float]:
    """Runs the pipeline once per model card; returns the seconds each took. `heartbeat` is called every few
    seconds meanwhile (gunicorn's worker.notify: the master kills a worker silent for longer than its timeout).

    Never raises: a model that fails here fails again, with its proper error, on the request that asks for it."""
    done = threading.Event()
    if heartbeat is not None:

        def beat():
            while not done.wait(5):
                heartbeat()

        threading.Thread(target=beat, name="warm-heartbeat", daemon=True).start()
    seconds: dict[str, float] = {}
    try:
        try:
            settings = get_settings()
        except SettingsError as error:
            # Every endpoint answers 503 naming the setting; nothing to warm.
            log.error("not warming the models: invalid setting %s", error)
            return seconds
        photo = blank_photo()
        for name, card in catalog.available_cards(settings.models_dir).items():
            start = time.perf_counter()
            try:
                pipeline.run(photo, card, settings)
            except Exception:
                log.exception("warming model %s failed", name)
                continue
            seconds[name] = round(time.perf_counter() - start, 1)
            log.info("model %s ready in %.1f s", name, seconds[name])
    finally:
        done.set()
    return seconds


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(warm_models())
