"""docker-compose.postgres.yml and deploy/kubernetes/, checked without containers: parsed,
their probes, ports, secrets and config consistent with one another, and their config
passing `ingestd check-config` with the environment they give it."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from ingestd.config import load_config
from tests.support import ROOT
from tests.support.processes import INGESTD, clean_env

COMPOSE = ROOT / "docker-compose.postgres.yml"
KUBERNETES = ROOT / "deploy" / "kubernetes"
CONFIG = ROOT / "config" / "postgres.toml"
# what a user's shell gives the compose file's ${…} variables
SHELL = {"POSTGRES_PASSWORD": "pw-from-shell", "INGESTD_API_TOKEN": "token-from-shell"}


def _interpolated(value: str) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?message}, from SHELL."""
    return re.sub(r"\$\{(\w+)(?::[-?][^}]*)?\}", lambda m: SHELL[m.group(1)], value)


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _replicas(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: s for name, s in compose["services"].items() if "INGESTD_CONFIG" in s.get("environment", {})
    }


def _kubernetes() -> dict[str, dict[str, Any]]:
    """{kind: document} of every file the kustomization lists."""
    listed = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())["resources"]
    documents = [yaml.safe_load((KUBERNETES / name).read_text()) for name in listed]
    assert {p.name for p in KUBERNETES.glob("*.yaml")} == {*listed, "kustomization.yaml"}
    return {doc["kind"]: doc for doc in documents}


def _check_config(path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*INGESTD, "check-config", str(path)],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _listen_port() -> int:
    return int(tomllib.loads(CONFIG.read_text(encoding="utf-8"))["http"]["listen"].rsplit(":", 1)[1])


# ── docker compose ───────────────────────────────────────────────────────────


def test_compose_runs_two_replicas_of_one_config_on_the_postgres_service() -> None:
    compose = _compose()
    replicas = _replicas(compose)
    assert len(replicas) == 2
    postgres = compose["services"]["postgres"]
    for name, service in replicas.items():
        env = {k: _interpolated(str(v)) for k, v in service["environment"].items()}
        assert env["INGESTD_CONFIG"] == f"/app/config/{CONFIG.name}", name  # COPY config ./config
        url = urlsplit(env["INGESTD_STORAGE_URL"])
        assert url.scheme == "postgresql" and url.hostname == "postgres", name
        assert url.username == postgres["environment"]["POSTGRES_USER"]
        assert url.password == _interpolated(postgres["environment"]["POSTGRES_PASSWORD"])
        assert url.path == "/" + postgres["environment"]["POSTGRES_DB"]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["healthcheck"]["test"] == ["CMD", "ingestd", "healthcheck"]  # GET /healthz
        [published] = service["ports"]
        assert int(published.rsplit(":", 1)[1]) == _listen_port(), name
    published = [s["ports"][0].split(":")[0] for s in replicas.values()]
    assert len(set(published)) == len(published)  # each replica on a host port of its own
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_compose_config_passes_check_config_with_the_environment_compose_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [service, *_] = _replicas(_compose()).values()
    env = {k: _interpolated(str(v)) for k, v in service["environment"].items() if k != "INGESTD_CONFIG"}
    run = _check_config(CONFIG, env)
    assert run.returncode == 0, run.stderr
    assert "ok (0 feeds)" in run.stdout
    for name, value in env.items():  # what `env:NAME` reads
        monkeypatch.setenv(name, value)
    config = load_config(CONFIG, env=env)
    assert config.storage.url.startswith("postgresql://") and config.storage.path == ""
    assert config.http.token == SHELL["INGESTD_API_TOKEN"]


def test_the_config_without_its_secrets_is_refused_naming_them() -> None:
    run = _check_config(CONFIG, {})
    assert run.returncode != 0
    assert "INGESTD_STORAGE_URL is not set" in run.stderr  # never a SQLite file of its own
    assert "INGESTD_API_TOKEN is not set" in run.stderr


# ── Kubernetes ───────────────────────────────────────────────────────────────


def test_the_deployment_runs_two_replicas_with_probes_on_healthz_and_readyz() -> None:
    deployment = _kubernetes()["Deployment"]
    assert deployment["spec"]["replicas"] == 2
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    [port] = container["ports"]
    assert port["containerPort"] == _listen_port()
    readiness, liveness = container["readinessProbe"]["httpGet"], container["livenessProbe"]["httpGet"]
    assert (readiness["path"], liveness["path"]) == ("/readyz", "/healthz")
    assert readiness["port"] == liveness["port"] == port["name"]
    # SIGTERM's shutdown takes at most 5 s
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 5


def test_the_deployments_secrets_and_config_are_the_ones_defined() -> None:
    docs = _kubernetes()
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    secret = docs["Secret"]
    for name in ("INGESTD_STORAGE_URL", "INGESTD_API_TOKEN"):
        ref = env[name]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"], name
    [mount] = container["volumeMounts"]
    [volume] = pod["volumes"]
    assert (
        volume["name"] == mount["name"]
        and volume["configMap"]["name"] == docs["ConfigMap"]["metadata"]["name"]
    )
    config_path = Path(env["INGESTD_CONFIG"]["value"])
    assert config_path.parent == Path(mount["mountPath"])
    assert config_path.name in docs["ConfigMap"]["data"]
    labels = pod.get("metadata", docs["Deployment"]["spec"]["template"]["metadata"])["labels"]
    service = docs["Service"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == container["ports"][0]["name"]


def test_the_configmap_is_config_postgres_toml_and_passes_check_config(tmp_path: Path) -> None:
    docs = _kubernetes()
    [text] = docs["ConfigMap"]["data"].values()
    assert text == CONFIG.read_text(encoding="utf-8")  # one config for compose and Kubernetes
    mounted = tmp_path / "ingestd.toml"
    mounted.write_text(text, encoding="utf-8")
    secret = docs["Secret"]["stringData"]
    run = _check_config(
        mounted, {"INGESTD_STORAGE_URL": secret["storage-url"], "INGESTD_API_TOKEN": secret["api-token"]}
    )
    assert run.returncode == 0, run.stderr
    assert urlsplit(secret["storage-url"]).scheme == "postgresql"
