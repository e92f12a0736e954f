"""Deploys Moodlens to Firebase: each endpoint as a 2nd gen Cloud Function from functions/, then Hosting and the
Firestore and Storage rules. Run through scripts/deploy; `scripts/deploy --help` lists the options.

Standard library only (any Python >= 3.11, no virtual environment): it checks the source folder without importing
it, and calls gcloud and firebase. The per-function sizes come from deploy/functions.toml; docs/deploy.md is the
walk-through.
"""

import argparse
import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python < 3.11
    sys.exit("scripts/deploy needs Python 3.11 or newer: set PYTHON=/path/to/python3.11")

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "functions"
TABLE = ROOT / "deploy" / "functions.toml"
FIREBASE_JSON = ROOT / "firebase.json"
# The firebase.json variant of --cloud-run or another --region: written for the deploy, removed after it.
VARIANT = ROOT / "firebase.deploy.json"
FIREBASE_ONLY = "hosting,firestore:rules,firestore:indexes,storage"
# Shipped inside the folder, or the functions cannot start (checked before anything is uploaded).
REQUIRED_FILES = ("main.py", "requirements.txt", "moodlens/__init__.py", "moodlens/settings.py")
# Separators for gcloud's alternate list delimiter (`gcloud topic escaping`): the values hold commas.
DELIMITERS = "|@~;#%"


class DeployError(Exception):
    pass


# --- the table ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    memory_mib: int
    cpu: float
    concurrency: int
    timeout_s: int
    min_instances: int
    max_instances: int


@dataclass(frozen=True)
class Function:
    entry_point: str
    size: Size | None  # None: local_only, never deployed

    @property
    def service(self) -> str:
        """The Cloud Run service (and function) name: firebase.json's serviceId."""
        return self.entry_point.replace("_", "-")

    @property
    def deployed(self) -> bool:
        return self.size is not None


@dataclass(frozen=True)
class Table:
    runtime: str
    region: str
    functions: tuple[Function, ...]
    cloud_run_service: str
    cloud_run: Size

    @property
    def deployed(self) -> list[Function]:
        return [f for f in self.functions if f.deployed]


SIZE_KEYS = {"memory_mib", "cpu", "concurrency", "timeout_s", "min_instances", "max_instances"}


def _size(where: str, row: dict) -> Size:
    missing = SIZE_KEYS - row.keys()
    if missing:
        raise DeployError(f"{TABLE.name} [{where}]: missing {', '.join(sorted(missing))}")
    size = Size(
        int(row["memory_mib"]),
        float(row["cpu"]),
        int(row["concurrency"]),
        int(row["timeout_s"]),
        int(row["min_instances"]),
        int(row["max_instances"]),
    )
    # The limits of Cloud Run, which runs every 2nd gen function.
    problems = []
    if size.concurrency > 1 and size.cpu < 1:
        problems.append("concurrency above 1 needs cpu >= 1")
    if size.cpu < 0.5 and size.memory_mib > 512 or size.cpu < 1 and size.memory_mib > 1024:
        problems.append(f"{size.memory_mib} MiB needs more than {size.cpu} vCPU")
    if size.memory_mib > 4096 and size.cpu < 2:
        problems.append("more than 4 GiB needs cpu >= 2")
    if not 1 <= size.timeout_s <= 3600:
        problems.append("timeout_s must be 1-3600")
    if not 0 <= size.min_instances <= size.max_instances or size.concurrency < 1:
        problems.append("need 0 <= min_instances <= max_instances and concurrency >= 1")
    if problems:
        raise DeployError(f"{TABLE.name} [{where}]: " + "; ".join(problems))
    return size


def load_table(path: Path = TABLE) -> Table:
    raw = tomllib.loads(path.read_text())
    functions = []
    for name, row in raw["functions"].items():
        unknown = row.keys() - SIZE_KEYS - {"local_only"}
        if unknown:
            raise DeployError(f"{path.name} [functions.{name}]: unknown keys {', '.join(sorted(unknown))}")
        size = None if row.get("local_only") else _size(f"functions.{name}", row)
        functions.append(Function(name, size))
    cloud_run = dict(raw["cloud_run"])
    service = cloud_run.pop("service")
    return Table(
        raw["defaults"]["runtime"], raw["defaults"]["region"], tuple(functions), service, _size("cloud_run", cloud_run)
    )


# --- the source folder: what gcloud uploads, and whether it can start -------------------------------------------


def _pattern_regex(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


class IgnoreRules:
    """The .gcloudignore rules of a folder: gitignore syntax (last match wins, `!` re-includes, a trailing `/`
    matches folders only, a `/` elsewhere anchors to the folder), plus gcloud's `#!include:FILE`."""

    def __init__(self, folder: Path, name: str = ".gcloudignore"):
        self.rules: list[tuple[re.Pattern, bool, bool]] = []  # (regex on the relative path, negated, dirs only)
        path = folder / name
        if path.is_file():
            self._read(folder, path)

    def _read(self, folder: Path, path: Path) -> None:
        for line in path.read_text().splitlines():
            if line.startswith("#!include:"):
                self._read(folder, folder / line.split(":", 1)[1].strip())
                continue
            line = line.rstrip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            line = line[1:] if negated else line
            dirs_only = line.endswith("/")
            line = line.rstrip("/")
            anchored = "/" in line
            regex = _pattern_regex(line.lstrip("/"))
            regex = ("^" if anchored else "^(?:.*/)?") + regex + "$"
            self.rules.append((re.compile(regex), negated, dirs_only))

    def ignored(self, relative: str, is_dir: bool) -> bool:
        verdict = False
        for regex, negated, dirs_only in self.rules:
            if dirs_only and not is_dir:
                continue
            if regex.match(relative):
                verdict = not negated
        return verdict


def upload_set(folder: Path = SOURCE) -> list[Path]:
    """The files gcloud uploads from `folder`, relative to it: all but what .gcloudignore leaves out (a folder left
    out takes everything under it)."""
    rules = IgnoreRules(folder)
    files = []
    for current, dirs, names in os.walk(folder):
        base = Path(current).relative_to(folder)
        dirs[:] = sorted(d for d in dirs if not rules.ignored((base / d).as_posix(), True))
        for name in sorted(names):
            relative = base / name
            if not rules.ignored(relative.as_posix(), False) and not (folder / relative).is_symlink():
                files.append(relative)
    return files


def entry_points(main_py: Path) -> set[str]:
    """The names main.py binds to functions_framework.http(...) (or defines under @functions_framework.http)."""
    names = set()
    for node in ast.parse(main_py.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            if ast.unparse(node.value.func).endswith("functions_framework.http"):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.FunctionDef) and any(
            ast.unparse(d).startswith("functions_framework.http") for d in node.decorator_list
        ):
            names.add(node.name)
    return names


def check_source(table: Table, folder: Path = SOURCE) -> tuple[list[Path], list[str]]:
    """(the files that would be uploaded, the problems that would break the deployed functions)."""
    problems = []
    if not (folder / ".gcloudignore").is_file():
        problems.append(f"{folder.name}/.gcloudignore is missing: gcloud would upload everything in the folder")
    files = upload_set(folder)
    shipped = {f.as_posix() for f in files}
    for required in REQUIRED_FILES:
        if required not in shipped:
            problems.append(f"{folder.name}/{required} is missing or left out by .gcloudignore")
    stray = sorted(f for f in shipped if "__pycache__" in f or f.endswith((".pyc", ".pyo")))
    if stray:
        problems.append(f"compiled leftovers would be uploaded: {', '.join(stray[:3])}")
    if "main.py" in shipped:
        found = entry_points(folder / "main.py")
        wanted = {f.entry_point for f in table.functions}
        if wanted - found:
            problems.append(f"main.py lacks entry points {', '.join(sorted(wanted - found))}")
        if found - wanted:
            problems.append(f"main.py entry points missing from {TABLE.name}: {', '.join(sorted(found - wanted))}")
    if "requirements.txt" in shipped:
        requirements = (folder / "requirements.txt").read_text().lower()
        if not re.search(r"^functions[-_]framework\b", requirements, re.M):
            problems.append("requirements.txt does not install functions-framework")
    problems += _check_models(folder, shipped)
    return files, problems


def _check_models(folder: Path, shipped: set[str]) -> list[str]:
    """Each card's runtime file, and MTCNN's three networks, are in the upload and are LiteRT files whole."""
    cards = sorted(f for f in shipped if f.startswith("models/") and f.endswith(".json") and f.count("/") == 1)
    if not cards:
        return [f"{folder.name}/models holds no model card (*.json)"]
    problems = []
    needed = {f"models/mtcnn/{net}.tflite": None for net in ("pnet", "rnet", "onet")}
    for card_name in cards:
        try:
            runtime = json.loads((folder / card_name).read_text())["runtime"]
            needed["models/" + runtime["file"]] = runtime.get("file_bytes")
        except (ValueError, KeyError, TypeError):
            problems.append(f"{card_name}: not a model card with a runtime file (run python -m training.convert)")
    for weights, expected in needed.items():
        if weights not in shipped:
            problems.append(f"{weights} is missing or left out by .gcloudignore")
            continue
        path = folder / weights
        with path.open("rb") as handle:
            head = handle.read(8)
        if head[4:8] != b"TFL3":
            problems.append(f"{weights} is not a LiteRT file (a Git LFS pointer? run `git lfs pull`)")
        if isinstance(expected, int) and path.stat().st_size != expected:
            problems.append(f"{weights} has {path.stat().st_size} bytes, its card says {expected}")
    return problems


def stage(files: list[Path], destination: Path, folder: Path = SOURCE) -> None:
    """Copies the upload set into `destination`, which must not exist or be empty."""
    if destination.exists() and any(destination.iterdir()):
        raise DeployError(f"{destination} is not empty")
    for relative in files:
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / relative, target)


# --- settings the functions get ------------------------------------------------------------------------------


def parse_web_config(text: str, project: str) -> dict:
    """The Firebase web app config: the JSON `firebase apps:sdkconfig WEB --out FILE` writes, or the
    `const firebaseConfig = {...}` snippet the console shows."""
    try:
        config = json.loads(text)
    except ValueError:
        match = re.search(r"\{.*\}", text, re.S)
        snippet = match.group(0) if match else ""
        snippet = re.sub(r"//[^\n]*", "", snippet)
        snippet = re.sub(r"([{,]\s*)([A-Za-z_$][\w$]*)\s*:", r'\1"\2":', snippet).replace("'", '"')
        snippet = re.sub(r",\s*}", "}", snippet)
        try:
            config = json.loads(snippet)
        except ValueError:
            raise DeployError("the web config is neither JSON nor a `firebaseConfig = {...}` snippet") from None
    if not isinstance(config, dict):
        raise DeployError("the web config must be a JSON object")
    missing = [key for key in ("apiKey", "authDomain", "projectId") if not isinstance(config.get(key), str)]
    if missing:
        raise DeployError(
            f"the web config lacks {', '.join(missing)} (Firebase console > Project settings > "
            "Your apps > Web app > SDK setup and configuration > Config)"
        )
    if config["projectId"] != project:
        raise DeployError(f"the web config is for project {config['projectId']!r}, not {project!r}")
    return config


def hosting_origins(project: str) -> list[str]:
    return [f"https://{project}.web.app", f"https://{project}.firebaseapp.com"]


def function_env(project: str, bucket: str, web_config: dict, origins: list[str]) -> dict[str, str]:
    """The environment of every deployed function (moodlens/settings.py reads and checks it at start); the
    commands add THREADS, functions-framework's gunicorn threads, equal to each one's concurrency."""
    return {
        "MOODLENS_HISTORY_BACKEND": "firebase",
        "MOODLENS_FIREBASE_PROJECT": project,
        "MOODLENS_STORAGE_BUCKET": bucket,
        "MOODLENS_CORS_ORIGINS": ",".join(origins),
        "MOODLENS_FIREBASE_WEB_CONFIG": json.dumps(web_config, separators=(",", ":")),
    }


def env_flag(env: dict[str, str]) -> str:
    """--set-env-vars with a delimiter no value holds (values hold commas: `gcloud topic escaping`)."""
    text = "".join(f"{k}{v}" for k, v in env.items())
    delimiter = next((d for d in DELIMITERS if d not in text), None)
    if delimiter is None:
        raise DeployError(f"every separator in {DELIMITERS!r} occurs in the settings: cannot pass them to gcloud")
    return f"--set-env-vars=^{delimiter}^" + delimiter.join(f"{k}={v}" for k, v in env.items())


# --- commands ------------------------------------------------------------------------------------------------


def _memory(mib: int) -> str:
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def _cpu(cpu: float) -> str:
    return str(int(cpu)) if cpu == int(cpu) else str(cpu)


def _size_flags(size: Size) -> list[str]:
    return [
        f"--memory={_memory(size.memory_mib)}",
        f"--cpu={_cpu(size.cpu)}",
        f"--concurrency={size.concurrency}",
        f"--timeout={size.timeout_s}s",
        f"--min-instances={size.min_instances}",
        f"--max-instances={size.max_instances}",
    ]


def _thread_settings(size: Size) -> dict[str, str]:
    """THREADS: the requests one instance serves at once (functions-framework's gunicorn threads, equal to the
    concurrency, as Python functions need). MOODLENS_INFERENCE_THREADS: the vCPUs the instance is given, since the
    container sees the host's CPUs and not its quota."""
    return {"THREADS": str(size.concurrency), "MOODLENS_INFERENCE_THREADS": str(max(1, int(size.cpu)))}


def function_command(table: Table, function: Function, project: str, region: str, env: dict[str, str]) -> list[str]:
    assert function.size is not None
    env = dict(env, **_thread_settings(function.size))
    return [
        "gcloud",
        "functions",
        "deploy",
        function.service,
        "--gen2",
        f"--runtime={table.runtime}",
        f"--project={project}",
        f"--region={region}",
        f"--source={SOURCE.relative_to(ROOT)}",
        f"--entry-point={function.entry_point}",
        "--trigger-http",
        "--allow-unauthenticated",
        *_size_flags(function.size),
        env_flag(env),
    ]


def cloud_run_command(table: Table, project: str, region: str, env: dict[str, str], image: str | None) -> list[str]:
    env = dict(env, **_thread_settings(table.cloud_run))
    source = f"--image={image}" if image else "--source=."
    return [
        "gcloud",
        "run",
        "deploy",
        table.cloud_run_service,
        source,
        f"--project={project}",
        f"--region={region}",
        "--allow-unauthenticated",
        *_size_flags(table.cloud_run),
        env_flag(env),
    ]


def firebase_binary() -> str:
    if shutil.which("firebase"):
        return "firebase"
    local = ROOT / "node_modules" / ".bin" / "firebase"
    return str(local.relative_to(ROOT)) if local.exists() else "firebase"


def firebase_command(project: str, config: Path | None) -> list[str]:
    command = [firebase_binary(), "deploy", "--only", FIREBASE_ONLY, "--project", project]
    return command + (["--config", str(config)] if config else [])


def rewrites(config: dict) -> list[dict]:
    sites = config.get("hosting", [])
    sites = sites if isinstance(sites, list) else [sites]
    return [rule for site in sites for rule in site.get("rewrites", []) if "run" in rule]


def check_rewrites(config: dict, table: Table) -> list[str]:
    """firebase.json must send /<entry point> to each deployed function, and nothing to a function not deployed
    (Hosting refuses a release whose rewrite names a Cloud Run service that does not exist)."""
    problems = []
    by_service: dict[str, list[str]] = {}
    for rule in rewrites(config):
        by_service.setdefault(rule["run"].get("serviceId", ""), []).append(rule.get("source", "?"))
    for function in table.functions:
        sources = by_service.pop(function.service, [])
        if function.deployed and sources != [f"/{function.entry_point}"]:
            problems.append(
                f"firebase.json: want one rewrite /{function.entry_point} -> {function.service}, "
                f"found {sources or 'none'}"
            )
        if not function.deployed and sources:
            problems.append(
                f"firebase.json: {', '.join(sources)} -> {function.service}, which is never deployed "
                "(local backend only): Hosting would refuse the release"
            )
    for service, sources in by_service.items():
        problems.append(f"firebase.json: {', '.join(sources)} -> {service!r}, which no function deploys as")
    return problems


def firebase_variant(config: dict, service: str | None, region: str) -> dict:
    """firebase.json with every Cloud Run rewrite sent to `service` (None: keep each) in `region`. It is written
    beside firebase.json (VARIANT) for the deploy: `firebase deploy --config FILE` resolves the paths in FILE
    (hosting/, the rules, $PROJECT_DIR) against the folder FILE is in."""
    variant = json.loads(json.dumps(config))
    for rule in rewrites(variant):
        if service:
            rule["run"]["serviceId"] = service
        rule["run"]["region"] = region
    return variant


# --- the command line ----------------------------------------------------------------------------------------


def note(text: str) -> None:
    print(f"# {text}", file=sys.stderr)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/deploy",
        description="Deploy Moodlens to a Firebase project: one 2nd gen Cloud Function per endpoint (sizes in "
        "deploy/functions.toml), then Hosting and the Firestore and Storage rules. docs/deploy.md walks "
        "through it.",
    )
    parser.add_argument("--project", help="Firebase / Google Cloud project ID")
    parser.add_argument("--region", help="region of the functions (default: the table's, us-central1)")
    parser.add_argument(
        "--web-config",
        type=Path,
        metavar="FILE",
        help="the Firebase web app config (`firebase apps:sdkconfig WEB --out FILE`); default: the "
        "MOODLENS_FIREBASE_WEB_CONFIG variable",
    )
    parser.add_argument(
        "--bucket",
        help="Cloud Storage bucket of the history images (default: the web config's "
        "storageBucket, else PROJECT.firebasestorage.app)",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="another origin allowed to call the functions (e.g. a custom domain); repeatable",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check the source folder and print every command, one per line, without running any",
    )
    parser.add_argument(
        "--cloud-run",
        action="store_true",
        help="instead of one function per endpoint, deploy the container image as one Cloud Run "
        "service and point every rewrite at it",
    )
    parser.add_argument(
        "--image",
        help="with --cloud-run: deploy this image instead of building the repository's "
        "Dockerfile (`gcloud run deploy --source .`)",
    )
    parser.add_argument(
        "--stage",
        type=Path,
        metavar="DIR",
        help="check the source folder, copy exactly what gcloud would upload into DIR, and stop",
    )
    args = parser.parse_args(argv)
    if args.stage is None and not args.project:
        parser.error("--project is required (or --stage DIR)")
    if args.project and not re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", args.project):
        parser.error(f"{args.project!r} is not a project ID (6-30 lowercase letters, digits, hyphens)")
    if args.region and not re.fullmatch(r"[a-z]+-[a-z]+[0-9]+", args.region):
        parser.error(f"{args.region!r} is not a region (like us-central1)")
    if args.image and not args.cloud_run:
        parser.error("--image goes with --cloud-run")
    return args


def web_config_for(args: argparse.Namespace) -> dict:
    if args.web_config:
        try:
            return parse_web_config(args.web_config.read_text(), args.project)
        except OSError as error:
            raise DeployError(f"cannot read --web-config: {error}") from None
    if os.environ.get("MOODLENS_FIREBASE_WEB_CONFIG"):
        return parse_web_config(os.environ["MOODLENS_FIREBASE_WEB_CONFIG"], args.project)
    if not args.dry_run:
        raise DeployError(
            "give --web-config FILE (or MOODLENS_FIREBASE_WEB_CONFIG): the pages sign in with it and "
            "the functions refuse to start without it; see docs/deploy.md"
        )
    note("no --web-config: the commands below carry a placeholder web config (no apiKey)")
    return {"projectId": args.project, "authDomain": f"{args.project}.firebaseapp.com"}


def plan(args: argparse.Namespace, table: Table) -> tuple[list[list[str]], dict | None]:
    """The commands, in order, and the firebase.json variant their firebase deploy reads from VARIANT (None:
    firebase.json itself)."""
    region = args.region or table.region
    web_config = web_config_for(args)
    bucket = args.bucket or web_config.get("storageBucket") or f"{args.project}.firebasestorage.app"
    origins = hosting_origins(args.project) + list(args.cors_origin)
    env = function_env(args.project, bucket, web_config, origins)
    config = json.loads(FIREBASE_JSON.read_text())
    if args.cloud_run:
        if not args.image and not (ROOT / "Dockerfile").is_file():
            message = "no Dockerfile at the repository root: give --image IMAGE, or add the Dockerfile"
            if not args.dry_run:
                raise DeployError(message)
            note(message)
        commands = [cloud_run_command(table, args.project, region, env, args.image)]
        variant = firebase_variant(config, table.cloud_run_service, region)
    else:
        problems = check_rewrites(config, table)
        if problems:
            raise DeployError("\n".join(problems))
        commands = [function_command(table, f, args.project, region, env) for f in table.deployed]
        regions = {rule["run"].get("region", "us-central1") for rule in rewrites(config)}
        variant = firebase_variant(config, None, region) if regions != {region} else None
    commands.append(firebase_command(args.project, VARIANT.relative_to(ROOT) if variant else None))
    return commands, variant


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        table = load_table()
        files, problems = check_source(table)
        if problems:
            raise DeployError("the source folder cannot deploy:\n  " + "\n  ".join(problems))
        size = sum((SOURCE / f).stat().st_size for f in files)
        note(f"{SOURCE.relative_to(ROOT)}/: {len(files)} files, {size / 2**20:.1f} MiB to upload; checked")
        if args.stage:
            stage(files, args.stage)
            note(f"staged into {args.stage}")
            return 0
        commands, variant = plan(args, table)
        if variant is not None:
            where = "rewrites to " + (table.cloud_run_service if args.cloud_run else "the functions")
            note(
                f"{VARIANT.name} ({where} in {args.region or table.region}), written for the deploy: "
                + json.dumps(variant, separators=(",", ":"))
            )
        if args.dry_run:
            for command in commands:
                print(shlex.join(command))
            return 0
        missing = sorted({c[0] for c in commands if shutil.which(c[0]) is None and not (ROOT / c[0]).is_file()})
        if missing:
            raise DeployError(f"not installed: {', '.join(missing)} (see docs/deploy.md)")
        try:
            if variant is not None:
                VARIANT.write_text(json.dumps(variant, indent=2) + "\n")
            for command in commands:
                print(f"+ {shlex.join(command)}", file=sys.stderr, flush=True)
                result = subprocess.run(command, cwd=ROOT)
                if result.returncode != 0:
                    note(f"failed ({result.returncode}); the commands before it are done, rerun to retry")
                    return result.returncode
        finally:
            VARIANT.unlink(missing_ok=True)
        note(f"done: https://{args.project}.web.app")
        return 0
    except DeployError as error:
        print(f"scripts/deploy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
