"""Entry points, one per endpoint, as Cloud Functions and functions-framework expect them.

Serve one: `functions-framework --source=functions/main.py --target=predict_api`.
functions/server.py serves every name in __all__ at /<name> in one process.
"""

import functions_framework

from history import api as history
from predict import handlers

__all__ = [
    "predict_api", "predict_upload_api", "predict_img_only_api", "models_api",
    "history_api", "auth_config_api", "auth_signup_api", "auth_signin_api",
]


@functions_framework.http
def predict_api(request):
    return handlers.predict_api(request)


@functions_framework.http
def predict_upload_api(request):
    return handlers.predict_upload_api(request)


@functions_framework.http
def predict_img_only_api(request):
    return handlers.predict_img_only_api(request)


@functions_framework.http
def models_api(request):
    return handlers.models_api(request)


@functions_framework.http
def history_api(request):
    return history.history_api(request)


@functions_framework.http
def auth_config_api(request):
    return history.auth_config_api(request)


@functions_framework.http
def auth_signup_api(request):
    return history.auth_signup_api(request)


@functions_framework.http
def auth_signin_api(request):
    return history.auth_signin_api(request)
