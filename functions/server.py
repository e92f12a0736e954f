"""One process serving every function of main.py at /<name>, and hosting/ at / when it exists.

For development, the tests and the container, where Cloud Functions' one-function-per-URL routing is absent.
gunicorn-ready through the factory: `gunicorn --chdir functions 'server:create_app()'`. Keep one worker per
1 GB of memory: each worker loads its own models.
"""

from pathlib import Path

import flask
from werkzeug.exceptions import HTTPException

import main
from config import settings
from http_utils import json_response

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(hosting_dir: Path | None = None) -> flask.Flask:
    app = flask.Flask(__name__, static_folder=None)
    for name in main.__all__:
        view = _function_view(getattr(main, name))
        # Like Cloud Functions, a function also receives the sub-paths of its URL.
        app.add_url_rule(f"/{name}", name, view, methods=METHODS, defaults={"path": ""})
        app.add_url_rule(f"/{name}/<path:path>", name, view, methods=METHODS)
    hosting_dir = hosting_dir or settings.hosting_dir
    if hosting_dir.is_dir():
        def hosting_file(path: str):
            return flask.send_from_directory(hosting_dir, path)

        app.add_url_rule("/", "hosting", hosting_file, defaults={"path": "index.html"})
        app.add_url_rule("/<path:path>", "hosting", hosting_file)
    app.register_error_handler(HTTPException, _json_error)
    return app


def _function_view(function):
    def view(path):
        return function(flask.request)

    return view


def _json_error(error: HTTPException):
    return json_response({"error": error.name.lower()}, error.code or 500)
