"""scripts/deploy's commands, checked against firebase.json and deploy/functions.toml without a Google account:
--dry-run prints them; a fake gcloud and firebase on PATH show that a real run runs exactly those."""

import json
import tomllib

import pytest

from tests.deploy.conftest import REPO_ROOT, bare_path, commands, env_vars, flags, run_deploy

pytestmark = pytest.mark.deploy

PROJECT = "demo-moodlens"
# Written out here, not read from the code under test: the endpoints deployed as functions, by service name.
DEPLOYED = {
    "predict-api": "predict_api",
    "predict-upload-api": "predict_upload_api",
    "predict-img-only-api": "predict_img_only_api",
    "models-api": "models_api",
    "history-api": "history_api",
    "auth-config-api": "auth_config_api",
    "account-api": "account_api",
}
# Local accounts cannot work on Cloud Functions (the backend there must be firebase): never deployed.
LOCAL_ONLY = {"auth_signup_api", "auth_signin_api", "auth_signout_api"}
PREDICT = {"predict-api", "predict-upload-api", "predict-img-only-api"}
FIREBASE_ONLY = "hosting,firestore:rules,firestore:indexes,storage"
WEB_CONFIG = {
    "apiKey": "AIzaFakeKeyForTests",
    "authDomain": f"{PROJECT}.firebaseapp.com",
    "projectId": PROJECT,
    "storageBucket": f"{PROJECT}.appspot.com",
    "messagingSenderId": "1234",
    "appId": "1:1234:web:abcd",
}


@pytest.fixture
def path(tmp_path):
    return bare_path(tmp_path)


@pytest.fixture
def web_config(tmp_path):
    path = tmp_path / "web-config.json"
    path.write_text(json.dumps(WEB_CONFIG, indent=2))
    return path


def dry_run(path, *extra):
    result = run_deploy(["--dry-run", "--project", PROJECT, *extra], path)
    assert result.returncode == 0, result.stderr
    return commands(result.stdout), result.stderr


def gcloud_functions(lines):
    return {line[3]: line for line in lines if line[:3] == ["gcloud", "functions", "deploy"]}


def rewrites():
    config = json.loads((REPO_ROOT / "firebase.json").read_text())
    return [rule for rule in config["hosting"]["rewrites"] if "run" in rule]


def test_dry_run_needs_no_gcloud_firebase_or_venv(path):
    lines, stderr = dry_run(path)
    assert lines, stderr
    assert "MiB to upload; checked" in stderr  # the source folder was checked and measured
    assert not (REPO_ROOT / "firebase.deploy.json").exists()


def test_every_rewrite_has_exactly_one_function_and_back(path):
    lines, _ = dry_run(path)
    deploys = [line for line in lines if line[:3] == ["gcloud", "functions", "deploy"]]
    services = [line[3] for line in deploys]
    assert sorted(services) == sorted(DEPLOYED), "one command per deployed function, no other"
    by_service = gcloud_functions(lines)
    rules = rewrites()
    assert sorted(rule["run"]["serviceId"] for rule in rules) == sorted(DEPLOYED)
    for rule in rules:
        command = by_service[rule["run"]["serviceId"]]
        assert rule["source"] == "/" + flags(command)["entry-point"]
        assert flags(command)["region"] == rule["run"]["region"]
    for entry_point in LOCAL_ONLY:
        assert not any(f"--entry-point={entry_point}" in line for line in lines)
        assert not any(rule["source"] == f"/{entry_point}" for rule in rules), "Hosting refuses a missing service"


def test_each_command_deploys_a_gen2_python_function_sized_by_the_table(path):
    table = tomllib.loads((REPO_ROOT / "deploy" / "functions.toml").read_text())["functions"]
    for service, command in gcloud_functions(dry_run(path)[0]).items():
        entry_point = DEPLOYED[service]
        given = flags(command)
        assert "--gen2" in command and "--trigger-http" in command and "--allow-unauthenticated" in command
        assert given["runtime"] in ("python311", "python312")
        assert given["entry-point"] == entry_point
        assert given["source"] == "functions" and given["project"] == PROJECT
        row = table[entry_point]
        mib = row["memory_mib"]
        assert given["memory"] == (f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi")
        assert float(given["cpu"]) == row["cpu"]
        assert int(given["concurrency"]) == row["concurrency"]
        assert given["timeout"] == f"{row['timeout_s']}s"
        assert int(given["min-instances"]) == row["min_instances"]
        assert int(given["max-instances"]) == row["max_instances"]
        # Cloud Run's rule, and Python's: concurrency above 1 needs a whole vCPU and as many threads.
        assert int(given["concurrency"]) == 1 or float(given["cpu"]) >= 1
        assert env_vars(command)["THREADS"] == given["concurrency"]
        # The instance sees the host's CPUs, not its quota: the networks' threads follow the table's vCPUs.
        assert env_vars(command)["MOODLENS_INFERENCE_THREADS"] == str(max(1, int(float(given["cpu"]))))
        if service in PREDICT:
            assert given["memory"] in ("2Gi", "4Gi") and float(given["cpu"]) >= 1, "the models and a photo's arrays"
        else:
            assert given["memory"] == "512Mi", "these load no model"
    for entry_point in LOCAL_ONLY:
        assert table[entry_point] == {"local_only": True}


def test_functions_get_the_firebase_backend_settings(path, web_config):
    lines, _ = dry_run(path, "--web-config", str(web_config), "--cors-origin", "https://moodlens.example.com")
    for command in gcloud_functions(lines).values():
        env = env_vars(command)
        assert env["MOODLENS_HISTORY_BACKEND"] == "firebase"
        assert env["MOODLENS_FIREBASE_PROJECT"] == PROJECT
        assert env["MOODLENS_STORAGE_BUCKET"] == WEB_CONFIG["storageBucket"]
        assert json.loads(env["MOODLENS_FIREBASE_WEB_CONFIG"]) == WEB_CONFIG
        assert env["MOODLENS_CORS_ORIGINS"].split(",") == [
            f"https://{PROJECT}.web.app",
            f"https://{PROJECT}.firebaseapp.com",
            "https://moodlens.example.com",
        ]


def test_firebase_deploy_comes_last(path):
    lines, _ = dry_run(path)
    last = lines[-1]
    assert last[0].endswith("firebase") and last[1] == "deploy"
    assert last[last.index("--only") + 1] == FIREBASE_ONLY and last[last.index("--project") + 1] == PROJECT
    assert "--config" not in last, "the functions are where firebase.json says: no variant needed"
    assert sum(line[0].endswith("firebase") for line in lines) == 1


def test_another_region_moves_functions_and_rewrites_together(path):
    lines, stderr = dry_run(path, "--region", "europe-west1")
    assert {flags(c)["region"] for c in gcloud_functions(lines).values()} == {"europe-west1"}
    variant = variant_from(stderr)
    assert {rule["run"]["region"] for rule in variant["hosting"]["rewrites"]} == {"europe-west1"}
    assert lines[-1][-2:] == ["--config", "firebase.deploy.json"]


def variant_from(stderr):
    (line,) = [line for line in stderr.splitlines() if line.startswith("# firebase.deploy.json")]
    return json.loads(line[line.index("{") :])


def test_cloud_run_mode_is_one_service_and_every_rewrite_points_at_it(path):
    lines, stderr = dry_run(path, "--cloud-run", "--image", "us-docker.pkg.dev/demo-moodlens/app/moodlens:1")
    assert not gcloud_functions(lines)
    (run,) = [line for line in lines if line[:3] == ["gcloud", "run", "deploy"]]
    assert run[3] == "moodlens" and flags(run)["image"] == "us-docker.pkg.dev/demo-moodlens/app/moodlens:1"
    assert env_vars(run)["MOODLENS_HISTORY_BACKEND"] == "firebase"
    variant = variant_from(stderr)
    assert [rule["source"] for rule in variant["hosting"]["rewrites"]] == [rule["source"] for rule in rewrites()]
    assert {rule["run"]["serviceId"] for rule in variant["hosting"]["rewrites"]} == {"moodlens"}
    assert variant["hosting"]["public"] == "hosting", "paths stay relative: the variant sits beside firebase.json"
    assert lines[-1][-2:] == ["--config", "firebase.deploy.json"]


def test_a_real_run_refuses_to_deploy_without_a_web_config(path):
    # The functions refuse to start on Cloud Run without it, and the pages cannot sign in.
    result = run_deploy(["--project", PROJECT], path)
    assert result.returncode == 1 and "--web-config" in result.stderr


def test_a_web_config_for_another_project_is_refused(path, tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps(dict(WEB_CONFIG, projectId="someone-else")))
    result = run_deploy(["--dry-run", "--project", PROJECT, "--web-config", str(other)], path)
    assert result.returncode == 1 and "someone-else" in result.stderr


def test_the_console_snippet_is_taken_as_a_web_config(path, tmp_path):
    snippet = tmp_path / "snippet.js"
    snippet.write_text(
        "// Your web app's Firebase configuration\nconst firebaseConfig = {\n"
        + "".join(f'  {key}: "{value}",\n' for key, value in WEB_CONFIG.items())
        + "};\n"
    )
    lines, _ = dry_run(path, "--web-config", str(snippet))
    for command in gcloud_functions(lines).values():
        assert json.loads(env_vars(command)["MOODLENS_FIREBASE_WEB_CONFIG"]) == WEB_CONFIG


FAKE_TOOL = """#!/bin/bash
# Records its arguments, one per line, then an end marker; and the --config file it was given, if any (bash
# builtins only: PATH holds nothing else).
log="{log}"
for arg in "$0" "$@"; do printf '%s\\n' "$arg" >> "$log"; done
echo "--end--" >> "$log"
prev=""
for arg in "$@"; do
    if [ "$prev" = "--config" ]; then printf '%s' "$(<"$arg")" > "$log.config"; fi
    prev="$arg"
done
"""


def recorded(log):
    runs, current = [], []
    for line in log.read_text().splitlines():
        if line == "--end--":
            runs.append(current)
            current = []
        else:
            current.append(line)
    return [[run[0].rsplit("/", 1)[-1], *run[1:]] for run in runs]


@pytest.mark.parametrize(
    "mode", [[], ["--cloud-run", "--image", "example.com/moodlens:1"]], ids=["functions", "cloud-run"]
)
def test_a_real_run_runs_what_the_dry_run_prints(tmp_path, web_config, mode):
    log = tmp_path / "calls.log"
    tools = {name: FAKE_TOOL.format(log=log) for name in ("gcloud", "firebase")}
    path = bare_path(tmp_path, tools)
    args = ["--project", PROJECT, "--web-config", str(web_config), *mode]
    printed, _ = dry_run(path, *args[2:])
    result = run_deploy(args, path)
    assert result.returncode == 0, result.stderr
    assert recorded(log) == printed
    if mode:
        config = json.loads((tmp_path / "calls.log.config").read_text())
        assert {rule["run"]["serviceId"] for rule in config["hosting"]["rewrites"]} == {"moodlens"}
    assert not (REPO_ROOT / "firebase.deploy.json").exists(), "the variant is removed after the deploy"


def test_stage_copies_what_gcloud_uploads_and_nothing_else(path, tmp_path):
    staged = tmp_path / "staged"
    result = run_deploy(["--stage", str(staged)], path)
    assert result.returncode == 0, result.stderr
    files = {p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file()}
    assert {
        "main.py",
        "requirements.txt",
        "moodlens/__init__.py",
        "moodlens/settings.py",
        "moodlens/palette.json",
    } <= files
    assert {
        "models/inception-resnet.tflite",
        "models/mobilenetv2.tflite",
        "models/yolo3.tflite",
        "models/mtcnn/pnet.tflite",
        "models/mtcnn/rnet.tflite",
        "models/mtcnn/onet.tflite",
        "models/inception-resnet.json",
        "models/mobilenetv2.json",
        "models/yolo3.json",
    } <= files
    # Serving runs the LiteRT files; the Keras files they were converted from stay behind.
    assert not [f for f in files if f.endswith(".keras")]
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc") or f.startswith("tests/")]
    assert ".gcloudignore" not in files
    for name in ("main.py", "models/yolo3.tflite"):
        assert (staged / name).read_bytes() == (REPO_ROOT / "functions" / name).read_bytes()
