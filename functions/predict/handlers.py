"""The predict endpoints' HTTP side: JSON request in, pipeline, JSON answer out."""

import base64

import flask

from history import api as history_api
from http_utils import IMAGE_ERROR, PARSE_ERROR, ApiError, http_endpoint, read_json_object
from predict import image_io, models, pipeline


@http_endpoint("POST")
def predict_api(request: flask.Request) -> dict:
    _, prediction = _predict(request, with_crops=True)
    return answer(prediction, with_crops=True)


@http_endpoint("POST")
def predict_upload_api(request: flask.Request) -> dict:
    return _predict_and_save(request, with_crops=True)


@http_endpoint("POST")
def predict_img_only_api(request: flask.Request) -> dict:
    # The realtime camera page sends frames continuously: no per-face crops, a smaller answer.
    return _predict_and_save(request, with_crops=False)


@http_endpoint("GET")
def models_api(request: flask.Request) -> dict:
    """The models the pages offer, read from their cards at each call (cards change when a model is retrained)."""
    cards = models.available_cards().values()
    return {"default": models.DEFAULT_MODEL, "models": [_model_summary(card) for card in cards]}


def _model_summary(card: models.ModelCard) -> dict:
    metrics = card.raw.get("metrics", {})
    # The yolo3 card measures its emotion accuracy on faces found in scenes, under that name.
    accuracy = metrics.get("accuracy", metrics.get("emotion_accuracy_val_scenes"))
    return {"name": card.name, "kind": card.kind, "description": card.raw.get("description", ""), "accuracy": accuracy}


def save_prediction(uid: str, payload: dict, prediction: pipeline.Prediction) -> dict:
    """Saves the prediction for a signed-in caller (history.api.save_upload); returns fields to add to the answer."""
    faces = [_face_answer(prediction, face, with_crops=False) for face in prediction.faces]
    return history_api.save_upload(uid, payload.get("img_name"), prediction.model, faces, prediction.source,
                                   prediction.annotated_jpeg)


def _predict_and_save(request: flask.Request, with_crops: bool) -> dict:
    # The token is checked before the pipeline runs: a caller with a bad token gets its 401 without the wait.
    uid = history_api.signed_in_user(request)
    payload, prediction = _predict(request, with_crops)
    saved = save_prediction(uid, payload, prediction) if uid is not None else {}
    return {**answer(prediction, with_crops), **saved}


def _predict(request: flask.Request, with_crops: bool) -> tuple[dict, pipeline.Prediction]:
    payload = read_json_object(request)
    image = payload.get("image")
    if not isinstance(image, str):
        raise ApiError(PARSE_ERROR)
    try:
        return payload, pipeline.run(image_io.base64_payload(image), payload.get("model"), with_crops)
    except image_io.ImageRejected:
        raise ApiError(IMAGE_ERROR) from None
    except models.ModelUnavailable:
        raise ApiError("model unavailable, try again later", 503) from None


def answer(prediction: pipeline.Prediction, with_crops: bool) -> dict:
    """The JSON answer: the contract's fields, plus the model that ran, boxes, confidences and timings."""
    result = {"found": bool(prediction.faces), "model": prediction.model}
    if prediction.faces:
        result["image"] = base64.b64encode(prediction.annotated_jpeg).decode("ascii")
        result["faces"] = [_face_answer(prediction, face, with_crops) for face in prediction.faces]
    result["timings_ms"] = prediction.timings_ms
    return result


def _face_answer(prediction: pipeline.Prediction, face, with_crops: bool) -> dict:
    entry = {"face": image_io.jpeg_base64(face.crop)} if with_crops else {}
    entry.update(prediction=prediction.ranking(face), box=list(face.box), confidence=round(face.confidence, 4))
    return entry
