"""Entry points, one per endpoint, as Cloud Functions and functions-framework expect them.

Serve one: `functions-framework --source=functions/main.py --target=predict_api`. The endpoints themselves live
in moodlens.api; moodlens.app serves them all in one process.
"""

import logging

import functions_framework

from moodlens.api import ENDPOINTS
from moodlens.settings import SettingsError, get_settings

try:
    get_settings()
except SettingsError as error:
    # Said once at start, in the log; every call then answers a JSON 503 naming the same setting.
    logging.getLogger(__name__).error("invalid setting %s: every endpoint will answer 503 until it is fixed", error)

predict_api = functions_framework.http(ENDPOINTS["predict_api"])
predict_upload_api = functions_framework.http(ENDPOINTS["predict_upload_api"])
predict_img_only_api = functions_framework.http(ENDPOINTS["predict_img_only_api"])
models_api = functions_framework.http(ENDPOINTS["models_api"])
history_api = functions_framework.http(ENDPOINTS["history_api"])
auth_config_api = functions_framework.http(ENDPOINTS["auth_config_api"])
auth_signup_api = functions_framework.http(ENDPOINTS["auth_signup_api"])
auth_signin_api = functions_framework.http(ENDPOINTS["auth_signin_api"])
auth_signout_api = functions_framework.http(ENDPOINTS["auth_signout_api"])
account_api = functions_framework.http(ENDPOINTS["account_api"])
