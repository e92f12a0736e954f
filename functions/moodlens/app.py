"""One process serving every endpoint at /<name>, and the pages at / when they exist.

For development, the tests and the container, where Cloud Functions' one-function-per-URL routing is absent.
gunicorn-ready through the factory: `gunicorn --chdir functions 'moodlens.app:create_app()'`. Keep one worker per
1 GB of memory: each worker loads its own models.
"""

from pathlib import Path

import flask
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Rule

from moodlens.api import ENDPOINTS
from moodlens.api.http import SECURITY_HEADERS, error_body
from moodlens.settings import Settings, SettingsError, get_settings

# The API's description (OpenAPI 3.0), kept inside functions/ so a deployed folder carries it; JSON rather than YAML
# so serving it needs no parser beyond the standard library's.
OPENAPI_PATH = Path(__file__).resolve().parent / "api" / "openapi.json"
# The page Firebase Hosting answers unknown paths with; served the same way here.
NOT_FOUND_PAGE = "404.html"


def create_app(hosting_dir: Path | None = None) -> flask.Flask:
    settings = _settings_or_defaults()
    app = flask.Flask(__name__, static_folder=None)
    for name, endpoint in ENDPOINTS.items():
        # Rules without a method list: every method (TRACE, made-up ones) reaches the endpoint, which answers its
        # own 405 with its Allow and security headers, as Cloud Functions passes every method to the function too.
        # Like Cloud Functions, a function also receives the sub-paths of its URL.
        app.view_functions[name] = _function_view(endpoint)
        app.url_map.add(Rule(f"/{name}", endpoint=name, defaults={"path": ""}))
        app.url_map.add(Rule(f"/{name}/<path:path>", endpoint=name))
    # A fixed path outranks the pages' catch-all route below, so a page can never shadow it.
    app.add_url_rule("/openapi.json", "openapi", _openapi_view(), methods=["GET"])
    hosting_dir = hosting_dir or settings.hosting_dir
    if hosting_dir.is_dir():

        def hosting_file(path: str):
            try:
                # The page sources and source maps stay on the developer's machine: only what the pages run is served.
                if path.startswith("src/") or path.endswith(".map"):
                    raise NotFound()
                # /docs is docs.html, as firebase.json's redirect makes it on Firebase Hosting.
                if path == "docs":
                    path = "docs.html"
                response = flask.send_from_directory(hosting_dir, path)
            except NotFound:
                # Like Firebase Hosting: a mistyped address gets the pages' 404.html, not the API's JSON error.
                if not (hosting_dir / NOT_FOUND_PAGE).is_file():
                    raise
                response = flask.send_from_directory(hosting_dir, NOT_FOUND_PAGE)
                response.status_code = 404
            response.headers.update(page_headers(path, settings.auth_emulator_url))
            return response

        app.add_url_rule("/", "hosting", hosting_file, defaults={"path": "index.html"})
        app.add_url_rule("/<path:path>", "hosting", hosting_file)
    app.register_error_handler(HTTPException, _json_error)
    if hops := settings.trusted_proxy_hops:
        # The client's address (rate limits, logs) and scheme as the trusted proxies saw them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app


def _settings_or_defaults() -> Settings:
    try:
        return get_settings()
    except SettingsError:
        # The endpoints answer 503 naming the bad setting; the pages still load, with the defaults, and show that.
        return Settings()


# Firebase Auth's endpoints, which the pages call in firebase mode; nothing else comes from elsewhere.
FIREBASE_AUTH_ORIGINS = ("https://identitytoolkit.googleapis.com", "https://securetoken.googleapis.com")


def page_headers(path: str, auth_emulator: str | None = None) -> dict[str, str]:
    """Security headers of a page or asset; firebase.json sends the same ones from Firebase Hosting (a test holds
    them together). The camera page alone may use the camera."""
    connect = " ".join(("'self'", *FIREBASE_AUTH_ORIGINS, *([auth_emulator] if auth_emulator else [])))
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
        f"connect-src {connect}; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        **SECURITY_HEADERS,
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": f"camera=({'self' if path == 'camera.html' else ''}), microphone=(), geolocation=()",
    }


def _openapi_view():
    # Read once per app, not per request: the file only changes with the code. Served byte for byte as stored.
    spec = OPENAPI_PATH.read_bytes()

    def openapi():
        response = flask.Response(spec, mimetype="application/json")
        # Like the endpoints' answers, and readable by API tools on other origins.
        response.headers.update({**SECURITY_HEADERS, "Access-Control-Allow-Origin": "*"})
        return response

    return openapi


def _function_view(function):
    def view(path):
        return function(flask.request)

    return view


def _json_error(error: HTTPException):
    name = error.name.lower()
    return error_body(error.code or 500, name.replace(" ", "_"), name)
