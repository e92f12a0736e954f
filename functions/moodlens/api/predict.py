"""The predict endpoints: JSON request in, the pipeline, JSON answer out; and for signed-in callers of the upload
endpoints, predict then save (the pipeline itself knows nothing of storage)."""

import base64

import flask

from moodlens import memory
from moodlens.api.history import save_prediction, signed_in_user
from moodlens.api.http import ApiError, http_endpoint, image_error, parse_error, read_body, read_json_object
from moodlens.modelcard import ModelCard
from moodlens.predict import catalog, image_io, pipeline, quality
from moodlens.settings import Settings

# The stored original is re-encoded once; a high quality keeps it close to what was uploaded.
ORIGINAL_QUALITY = 92


@http_endpoint("POST")
def predict_api(request: flask.Request, settings: Settings) -> dict:
    _, prediction = _predict(request, settings)
    return answer(prediction, settings.face_crop_side)


@http_endpoint("POST")
def predict_upload_api(request: flask.Request, settings: Settings) -> dict:
    return _predict_and_save(request, settings, with_crops=True)


@http_endpoint("POST")
def predict_img_only_api(request: flask.Request, settings: Settings) -> dict:
    # The realtime camera page sends frames continuously: no per-face crops, a smaller answer.
    return _predict_and_save(request, settings, with_crops=False)


@http_endpoint("GET")
def models_api(request: flask.Request, settings: Settings) -> dict:
    """The models the pages offer, read from their cards at each call (cards change when a model is retrained)."""
    cards = catalog.available_cards(settings.models_dir).values()
    return {"default": catalog.DEFAULT_MODEL, "models": [_model_summary(card) for card in cards]}


def _model_summary(card: ModelCard) -> dict:
    return {"name": card.name, "kind": card.kind, "description": card.description, "accuracy": card.accuracy}


def _predict_and_save(request: flask.Request, settings: Settings, with_crops: bool) -> dict:
    # The token is checked before the pipeline runs: a caller with a bad token gets its 401 without the wait.
    uid = signed_in_user(request, settings)
    payload, prediction = _predict(request, settings)
    result = answer(prediction, settings.face_crop_side if with_crops else None)
    if uid is not None:
        # The record keeps each answered face's box, confidence, ranking and quality (records drops the crop).
        result["id"] = save_prediction(
            settings,
            uid,
            payload.get("img_name"),
            prediction.model,
            result.get("faces", []),
            stored_original(prediction),
            prediction.annotated_jpeg,
        )
    return result


def stored_original(prediction: pipeline.Prediction) -> bytes:
    """The photo as history keeps it: re-encoded from the decoded pixels, upright, so no metadata (EXIF GPS, camera
    serials) and nothing smuggled after the image data (OWASP's file upload rule) is stored or served back."""
    return image_io.jpeg_bytes(prediction.image, ORIGINAL_QUALITY)


def _predict(request: flask.Request, settings: Settings) -> tuple[dict, pipeline.Prediction]:
    """The request's photo and options, then the pipeline. The photo comes as the JSON contract's base64 `image`, or
    as the body itself (Content-Type image/*, options in the query string): the camera page sends its frames so,
    a third smaller and with no base64 to encode or decode on either side."""
    try:
        if request.mimetype.startswith("image/"):
            payload = {key: request.args[key] for key in ("model", "img_name") if key in request.args}
            photo = read_body(request, settings.max_image_bytes)
        else:
            payload = read_json_object(request, settings)
            image = payload.get("image")
            if not isinstance(image, str):
                raise parse_error()
            photo = image_io.base64_payload(image, settings.max_image_bytes)
        card = catalog.resolve(payload.get("model"), settings.models_dir)
        prediction = pipeline.run(photo, card, settings)
        if prediction.image.width * prediction.image.height >= memory.LARGE_PHOTO_PIXELS:
            _after_the_answer(memory.release_freed_memory)
        return payload, prediction
    except image_io.ImageRejected:
        raise image_error() from None
    except catalog.ModelUnavailable:
        raise ApiError(503, "model_unavailable", "model unavailable, try again later") from None


def _after_the_answer(task) -> None:
    """Runs `task` once the answer has been sent (when the server closes the response), off the caller's wait."""

    @flask.after_this_request
    def schedule(response: flask.Response) -> flask.Response:
        response.call_on_close(task)
        return response


def answer(prediction: pipeline.Prediction, crop_side: int | None) -> dict:
    """The JSON answer: the contract's fields, plus the model that ran, boxes, confidences, each face's quality
    (moodlens.predict.quality) and timings; each face's crop at crop_side x crop_side, or none when crop_side is
    None."""
    result: dict = {"found": bool(prediction.faces), "model": prediction.model}
    if prediction.faces:
        assert prediction.annotated_jpeg is not None
        result["image"] = base64.b64encode(prediction.annotated_jpeg).decode("ascii")
        result["faces"] = [_face_answer(prediction, face, crop_side) for face in prediction.faces]
        result["faces_truncated"] = prediction.faces_truncated
    result["timings_ms"] = prediction.timings_ms
    return result


def _face_answer(prediction: pipeline.Prediction, face, crop_side: int | None) -> dict:
    entry: dict[str, object] = {}
    if crop_side is not None:
        entry["face"] = image_io.jpeg_base64(prediction.face_image(face, crop_side), prediction.jpeg_quality)
    entry.update(
        prediction=prediction.ranking(face),
        box=list(face.box),
        confidence=round(face.confidence, 4),
        quality=quality.assess(face).answer(),
    )
    return entry
