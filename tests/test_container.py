"""The container, checked without a Docker engine: the files the Dockerfile copies, the
image's config (a clean service: no feeds, no subscriptions), its exact command line run
outside Docker, and docker-compose.yml's config."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
from pathlib import Path

from ingestd.config import load_config
from tests.support import ROOT, free_port, wait_for
from tests.support.processes import INGESTD, clean_env

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")


def _imageclean_env() -> dict[str, str]:
    return dict(re.findall(r"(INGESTD_\w+)=(\S+)", DOCKERFILE))


def _image_config() -> Path:
    """The file INGESTD_CONFIG names in the image, found in the checkout (COPY config ./config)."""
    in_image = Path(_imageclean_env()["INGESTD_CONFIG"])
    assert in_image.parent == Path("/app/config"), in_image
    return ROOT / "config" / in_image.name


def _check_config(path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*INGESTD, "check-config", str(path)],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_every_file_the_dockerfile_copies_exists() -> None:
    sources = [s for line in DOCKERFILE.splitlines() if line.startswith("COPY ") for s in line.split()[1:-1]]
    assert "constraints.txt" in sources  # installs the versions the suite tested
    for source in sources:
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is missing"


def test_the_image_installs_from_the_lock_file() -> None:
    assert re.search(r"^RUN pip install -c constraints\.txt \.", DOCKERFILE, re.M)


def test_the_images_config_passes_check_config_and_has_no_inputs() -> None:
    run = _check_config(_image_config())
    assert run.returncode == 0, run.stderr
    assert "ok (0 feeds)" in run.stdout
    config = load_config(_image_config(), env={})
    assert config.feeds == [] and config.subscriptions == []
    assert config.storage.path.startswith("/data/") and config.http.listen == "0.0.0.0:8080"


def test_the_image_carries_no_demo_inputs() -> None:
    """The seeds stay in the repository (make run, replay), out of the image."""
    assert not re.search(r"^COPY seeds", DOCKERFILE, re.M)


def test_the_images_command_line_runs_outside_docker(tmp_path: Path) -> None:
    """ENTRYPOINT + CMD on the image's config (storage and port moved for the test):
    it starts, passes its own HEALTHCHECK, stores nothing, and stops on SIGTERM with 0."""
    entry = re.search(r'^ENTRYPOINT \["(.+)"\]', DOCKERFILE, re.M).group(1)
    cmd = re.search(r'^CMD \["(.+)"\]', DOCKERFILE, re.M).group(1)
    health = re.search(r'CMD \["ingestd", "(healthcheck)"\]', DOCKERFILE).group(1)
    assert entry == "ingestd"
    db = tmp_path / "data" / "ingestd.db"
    env = clean_env(
        INGESTD_CONFIG=str(_image_config()),
        INGESTD_STORAGE_PATH=str(db),
        INGESTD_HTTP_LISTEN=f"127.0.0.1:{free_port()}",
    )
    proc = subprocess.Popen(
        [*INGESTD, cmd], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:

        def healthy() -> bool:
            return (
                subprocess.run([*INGESTD, health], env=env, capture_output=True, timeout=30).returncode == 0
            )

        wait_for(healthy, "the daemon's healthcheck to pass", timeout=30, every=0.2)
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM stories").fetchone()[0] == 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.communicate()


def test_compose_example_is_consistent() -> None:
    """docker-compose.yml's config passes check-config with the compose environment,
    and every file it mounts exists."""
    for mount in re.findall(r"- \./([\w./-]+):", COMPOSE):
        assert (ROOT / mount).exists(), mount
    config_name = re.search(r"INGESTD_CONFIG: /app/config/([\w.]+)", COMPOSE).group(1)
    env = dict(re.findall(r"^\s+(INGESTD_API_TOKEN|RECEIVER_WEBHOOK_SECRET): (\S+)$", COMPOSE, re.M))
    run = _check_config(ROOT / "config" / config_name, **env)
    assert run.returncode == 0, run.stderr
    assert "./seeds:/app/seeds" in COMPOSE  # its seeds feed (../seeds from /app/config) is mounted
