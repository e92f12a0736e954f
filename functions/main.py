"""Entry points, one per endpoint, as Cloud Functions and functions-framework expect them.

Serve one: `functions-framework --source=functions/main.py --target=predict_api`.
functions/server.py serves every name in __all__ at /<name> in one process.
"""

import functions_framework

from predict import handlers

__all__ = ["predict_api", "predict_upload_api", "predict_img_only_api"]


@functions_framework.http
def predict_api(request):
    return handlers.predict_api(request)


@functions_framework.http
def predict_upload_api(request):
    return handlers.predict_upload_api(request)


@functions_framework.http
def predict_img_only_api(request):
    return handlers.predict_img_only_api(request)
