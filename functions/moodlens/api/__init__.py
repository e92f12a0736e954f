"""The HTTP edge: each endpoint parses its request, calls the pipeline or storage, and answers JSON."""

from moodlens.api import accounts, history, predict

# Every endpoint by the name it is served under: functions/main.py's entry points, the local server's paths, and
# (for those deployed to Cloud Functions, see deploy/functions.toml) firebase.json's rewrites.
ENDPOINTS = {
    "predict_api": predict.predict_api,
    "predict_upload_api": predict.predict_upload_api,
    "predict_img_only_api": predict.predict_img_only_api,
    "models_api": predict.models_api,
    "history_api": history.history_api,
    "auth_config_api": accounts.auth_config_api,
    "auth_signup_api": accounts.auth_signup_api,
    "auth_signin_api": accounts.auth_signin_api,
    "auth_signout_api": accounts.auth_signout_api,
    "account_api": accounts.account_api,
}
