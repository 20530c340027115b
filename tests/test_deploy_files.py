"""The deployment files under deploy/ parse and agree with each other and with the code.

Rasa's Helm chart cannot be fetched here, so the values are not rendered with `helm
template`; what is checked instead: every YAML parses, the keys Parley relies on are
there with the values the chart's templates read, every class path imports, every
secret or config key a pod reads exists in the Secret or ConfigMap, and Rasa's own
endpoint reader accepts the endpoints the chart would render and the loopback layout's.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.security import ACTIONS_SECRET_HEADER, SHARED_SECRETS
from bot.settings import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
VALUES = DEPLOY / "helm" / "values.yaml"
KUBERNETES = DEPLOY / "kubernetes"


def load_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def manifests() -> list[dict[str, Any]]:
    return [doc for path in sorted(KUBERNETES.glob("*.yaml")) for doc in load_all(path)]


def find(kind: str, name: str) -> dict[str, Any]:
    for doc in manifests():
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise AssertionError(f"no {kind} {name} under deploy/kubernetes")


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def env_names(env: list[dict[str, Any]]) -> set[str]:
    return {item["name"] for item in env}


def refs(env: list[dict[str, Any]], kind: str) -> set[str]:
    return {item["valueFrom"][kind]["key"] for item in env if kind in item.get("valueFrom", {})}


def imports(class_path: str) -> type:
    module, _, name = class_path.rpartition(".")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def test_every_yaml_under_deploy_parses() -> None:
    paths = sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))
    assert len(paths) >= 8, paths
    for path in paths:
        assert load_all(path), f"{path} holds no YAML document"


def test_kubernetes_manifests_are_complete_objects() -> None:
    kinds = set()
    for doc in manifests():
        assert {"apiVersion", "kind", "metadata"} <= set(doc), doc
        kinds.add((doc["kind"], doc["metadata"]["name"]))
    assert {
        ("Secret", "parley-secrets"),
        ("ConfigMap", "parley-config"),
        ("Deployment", "parley-actions"),
        ("Service", "parley-actions"),
        ("Deployment", "parley-console"),
        ("Service", "parley-console"),
        ("Deployment", "parley-worker"),
        ("Job", "parley-migrate"),
    } <= kinds
    for doc in manifests():
        if doc["kind"] == "Deployment":
            selector = doc["spec"]["selector"]["matchLabels"]
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert selector.items() <= labels.items(), doc["metadata"]["name"]


def test_helm_values_carry_parleys_stores_action_server_and_secrets() -> None:
    (values,) = load_all(VALUES)
    settings = values["applicationSettings"]
    endpoints = settings["endpoints"]
    # The chart's own store entries are off (they would add its PostgreSQL/Redis keys)
    # and so is its action endpoint (it cannot send the secret header): Parley's come
    # from additionalEndpoints, which the chart copies into endpoints.yml as they are.
    assert endpoints["trackerStore"]["enabled"] is False
    assert endpoints["lockStore"]["enabled"] is False
    assert values["rasa-action-server"]["install"] is False
    assert values["rasa-action-server"]["external"]["enabled"] is False
    extra = endpoints["additionalEndpoints"]
    assert imports(extra["tracker_store"]["type"]).__name__ == "ParleyTrackerStore"
    assert imports(extra["lock_store"]["type"]).__name__ == "AtomicRedisLockStore"
    assert extra["lock_store"]["url"] == "${REDIS_URL}"
    action = extra["action_endpoint"]
    assert action["headers"] == {ACTIONS_SECRET_HEADER: "${PARLEY_ACTIONS_SECRET}"}
    service = find("Service", "parley-actions")
    port = service["spec"]["ports"][0]["port"]
    assert action["url"] == f"http://{service['metadata']['name']}:{port}/webhook"
    # The channels are the ones credentials.yml declares, and they import.
    channels = settings["credentials"]["additionalChannelCredentials"]
    declared = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text())
    assert set(channels) == set(declared)
    for class_path in channels:
        imports(class_path)
    # Parley's launcher, with the model baked into the image; several replicas.
    assert values["command"] == ["python", "-m", "bot.runtime.rasa_server"]
    assert "--auth-token" not in values["args"]  # read from RASA_AUTH_TOKEN instead
    assert values["args"][values["args"].index("--endpoints") + 1] == "/app/endpoints.yml"
    assert settings["initialModel"] == "" and settings["trainInitialModel"] is False
    assert values["replicaCount"] >= 2
    assert values["postgresql"]["install"] is False and values["redis"]["install"] is False
    assert values["ingress"]["path"] == "/webhooks/twilio/"


def test_every_secret_and_setting_a_pod_reads_exists() -> None:
    secret = find("Secret", "parley-secrets")["stringData"]
    config = find("ConfigMap", "parley-config")["data"]
    (values,) = load_all(VALUES)
    envs = {"rasa": values["extraEnv"]}
    for name in ("parley-actions", "parley-console", "parley-worker"):
        envs[name] = container(find("Deployment", name))["env"]
    envs["migrate"] = container(find("Job", "parley-migrate"))["env"]
    for name, env in envs.items():
        assert refs(env, "secretKeyRef") <= set(secret), name
        assert refs(env, "configMapKeyRef") <= set(config), name
        assert "DATABASE_URL" in env_names(env), name
    shared = {variable for _, variable in SHARED_SECRETS}
    # Each process gets the shared secrets it uses, all from the one Secret.
    assert {"RASA_AUTH_TOKEN", "PARLEY_ACTIONS_SECRET", "PARLEY_REST_TOKEN", "REDIS_URL"} <= (
        env_names(envs["rasa"])
    )
    assert "PARLEY_ACTIONS_SECRET" in env_names(envs["parley-actions"])
    assert {"RASA_AUTH_TOKEN", "PARLEY_REST_TOKEN", "PARLEY_CONSOLE_SECRET"} <= env_names(
        envs["parley-console"]
    )
    assert shared <= env_names(envs["rasa"]) | env_names(envs["parley-console"])
    assert config["PARLEY_ENV"] == "production"


def test_workers_stop_gracefully_and_the_console_finds_rasa() -> None:
    worker = find("Deployment", "parley-worker")
    assert container(worker)["command"] == ["parley", "worker"]
    # SIGTERM: the send in flight (15 s timeout, up to 4 attempts) finishes first.
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 60
    assert worker["spec"]["replicas"] >= 2
    console = container(find("Deployment", "parley-console"))
    rasa_url = {e["name"]: e.get("value") for e in console["env"]}["PARLEY_RASA_URL"]
    assert rasa_url == "http://parley-rasa:5005"  # release `parley` of chart `rasa`
    migrate = container(find("Job", "parley-migrate"))
    assert migrate["command"][-1] == "parley check --processes 2 && parley db upgrade"
    shared = {variable for _, variable in SHARED_SECRETS}
    assert shared <= env_names(migrate["env"])  # what `parley check` looks at
    assert (
        "ExecStartPre=/srv/parley/.venv/bin/parley check --processes 2"
        in (DEPLOY / "systemd" / "parley-migrate.service").read_text()
    )


@pytest.fixture
def endpoint_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/1")
    monkeypatch.setenv("PARLEY_ACTIONS_SECRET", "s" * 64)


@pytest.mark.usefixtures("endpoint_env")
@pytest.mark.parametrize("source", ["helm", "loopback"])
def test_rasa_reads_the_endpoints(source: str, tmp_path: Path) -> None:
    """Rasa's own reader, with the environment filled in, as a Rasa server would."""
    from rasa.core.utils import read_endpoints_from_path

    if source == "helm":
        (values,) = load_all(VALUES)
        path = tmp_path / "endpoints.yml"
        path.write_text(
            yaml.safe_dump(values["applicationSettings"]["endpoints"]["additionalEndpoints"])
        )
    else:
        path = DEPLOY / "loopback" / "endpoints.yml"
    endpoints = read_endpoints_from_path(path)
    assert endpoints.action is not None
    assert endpoints.action.headers == {ACTIONS_SECRET_HEADER: "s" * 64}
    assert endpoints.lock_store is not None
    assert endpoints.lock_store.type == "bot.storage.lock_store.AtomicRedisLockStore"
    assert endpoints.lock_store.url == "redis://127.0.0.1:6379/1"
    assert endpoints.tracker_store is not None
    assert endpoints.tracker_store.type == "bot.storage.tracker_store.ParleyTrackerStore"


def test_the_loopback_layout_agrees_with_its_nginx_and_units() -> None:
    endpoints = yaml.safe_load((DEPLOY / "loopback" / "endpoints.yml").read_text())
    nginx = (DEPLOY / "loopback" / "nginx.conf").read_text()
    action_port = re.search(r":(\d+)/webhook", endpoints["action_endpoint"]["url"])
    assert action_port and f"listen 127.0.0.1:{action_port.group(1)};" in nginx
    directives = [line.split("#")[0].strip() for line in nginx.splitlines()]
    assert not [d for d in directives if re.match(r"(sticky|ip_hash|hash)\b", d)]
    units = DEPLOY / "systemd"
    rasa_unit = (units / "parley-rasa@.service").read_text()
    assert "--endpoints deploy/loopback/endpoints.yml" in rasa_unit
    assert "--port %i" in rasa_unit and "--auth-token" not in rasa_unit
    console_unit = (units / "parley-console.service").read_text()
    console_port = re.search(r"PARLEY_RASA_URL=http://127\.0\.0\.1:(\d+)", console_unit)
    assert console_port and f"listen 127.0.0.1:{console_port.group(1)};" in nginx
    env = (units / "parley.env.example").read_text()
    for _, variable in SHARED_SECRETS:
        assert re.search(rf"^{variable}=", env, re.MULTILINE), variable
