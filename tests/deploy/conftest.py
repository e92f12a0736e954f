"""Shared by the deploy tests: running scripts/deploy the way a user does (a plain Python, no virtual environment,
no gcloud or firebase on PATH), and the measurements the deploy-folder test reports at the end of the run."""

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Filled by test_deploy_folder.py; printed in the terminal summary and written to deploy-measurements.json.
MEASURED: dict = {}


def base_python() -> str:
    """The interpreter this test run's virtual environment was made from: Python with none of its packages."""
    return getattr(sys, "_base_executable", sys.executable)


def bare_path(tmp_path: Path, tools: dict[str, str] | None = None) -> str:
    """A PATH with python3 (no virtual environment), dirname, and the given tools (name -> script text) only."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    links = {"python3": base_python(), "dirname": shutil.which("dirname") or "/usr/bin/dirname"}
    for name, target in links.items():
        if not (bin_dir / name).exists():
            (bin_dir / name).symlink_to(target)
    for name, text in (tools or {}).items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return str(bin_dir)


def run_deploy(args: list[str], path: str, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    """scripts/deploy ARGS with only `path` on PATH and no MOODLENS_* variable."""
    environ = {"PATH": path, "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8", **(env or {})}
    return subprocess.run(
        ["/bin/bash", str(REPO_ROOT / "scripts" / "deploy"), *args],
        env=environ,
        text=True,
        capture_output=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )


def commands(stdout: str) -> list[list[str]]:
    return [shlex.split(line) for line in stdout.splitlines() if line.strip()]


def env_vars(command: list[str]) -> dict[str, str]:
    """The variables of a gcloud command's --set-env-vars, including gcloud's `^DELIM^` form."""
    (flag,) = [arg for arg in command if arg.startswith("--set-env-vars=")]
    value = flag.split("=", 1)[1]
    delimiter = ","
    if value.startswith("^"):
        delimiter, value = value[1:].split("^", 1)
    return dict(item.split("=", 1) for item in value.split(delimiter))


def flags(command: list[str]) -> dict[str, str]:
    return dict(arg[2:].split("=", 1) for arg in command if arg.startswith("--") and "=" in arg)


def pytest_terminal_summary(terminalreporter):
    if not MEASURED:
        return
    write = terminalreporter.write_line
    terminalreporter.section("deploy folder: sizes and cold starts (2nd gen functions served alone)")
    folder, venv = MEASURED.get("folder", {}), MEASURED.get("venv", {})
    if folder:
        write(f"deploy folder: {folder['files']} files, {folder['mib']} MiB")
    if venv:
        write(
            f"venv from its requirements.txt: {venv['mib']} MiB, installed in {venv['install_s']} s ({venv['python']})"
        )
    for name, row in MEASURED.get("functions", {}).items():
        write(
            f"{name:22s} up {row['up_s']:6.2f} s   cold start (start -> first answer) {row['cold_start_s']:6.2f} s"
            f"   peak RSS {row.get('peak_rss_mib', '?')} MiB   first call: {row['first_call']}"
        )
    if MEASURED.get("written_to"):
        write(f"written to {MEASURED['written_to']}")


@pytest.fixture(scope="session")
def measurements(tmp_path_factory):
    yield MEASURED
    if MEASURED:
        path = Path(
            os.environ.get("MOODLENS_DEPLOY_MEASUREMENTS")
            or tmp_path_factory.getbasetemp() / "deploy-measurements.json"
        )
        MEASURED["written_to"] = str(path)
        path.write_text(json.dumps(MEASURED, indent=2) + "\n")
