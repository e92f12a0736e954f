"""One process serving every endpoint at /<name>, and the pages at / when they exist.

For development, the tests and the container, where Cloud Functions' one-function-per-URL routing is absent.
gunicorn-ready through the factory: `gunicorn --chdir functions 'moodlens.app:create_app()'`. Keep one worker per
1 GB of memory: each worker loads its own models.
"""

from pathlib import Path

import flask
from werkzeug.exceptions import HTTPException

from moodlens.api import ENDPOINTS
from moodlens.api.http import error_body
from moodlens.settings import Settings, SettingsError, get_settings

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(hosting_dir: Path | None = None) -> flask.Flask:
    app = flask.Flask(__name__, static_folder=None)
    for name, endpoint in ENDPOINTS.items():
        view = _function_view(endpoint)
        # Like Cloud Functions, a function also receives the sub-paths of its URL.
        app.add_url_rule(f"/{name}", name, view, methods=METHODS, defaults={"path": ""})
        app.add_url_rule(f"/{name}/<path:path>", name, view, methods=METHODS)
    hosting_dir = hosting_dir or _hosting_dir()
    if hosting_dir.is_dir():

        def hosting_file(path: str):
            return flask.send_from_directory(hosting_dir, path)

        app.add_url_rule("/", "hosting", hosting_file, defaults={"path": "index.html"})
        app.add_url_rule("/<path:path>", "hosting", hosting_file)
    app.register_error_handler(HTTPException, _json_error)
    return app


def _hosting_dir() -> Path:
    try:
        return get_settings().hosting_dir
    except SettingsError:
        # The endpoints answer 503 naming the bad setting; the pages still load and show that answer.
        return Settings.hosting_dir


def _function_view(function):
    def view(path):
        return function(flask.request)

    return view


def _json_error(error: HTTPException):
    name = error.name.lower()
    return error_body(error.code or 500, name.replace(" ", "_"), name)
