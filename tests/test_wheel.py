"""The wheel built from the checkout works outside it: package data shipped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.support import ROOT, SEED


@pytest.mark.slow
def test_wheel_installed_in_a_fresh_venv_replays_the_seed(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    [wheel] = dist.glob("ingestd-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bin_dir = venv / "bin"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(bin_dir / "python"),
            "install",
            "--no-deps",
            "--quiet",
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    site = subprocess.run(
        [bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # the dependencies come from the test environment; ingestd itself only from the wheel
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    story = work / "story.txt"
    story.write_bytes(SEED.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INGESTD_", "PYTHON"))} | {
        "INGESTD_LOG_FORMAT": "json"
    }
    where = subprocess.run(
        [bin_dir / "python", "-c", "import ingestd; print(ingestd.__file__)"],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
        check=True,
    )
    assert where.stdout.startswith(site), where.stdout
    run = subprocess.run(
        [bin_dir / "ingestd", "replay", "--now", "2020-01-09T00:31:02Z", str(story)],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    [event] = [json.loads(line) for line in run.stdout.splitlines()]
    assert event["data"]["ingest"]["source"] == "yonhap"
    assert event["data"]["story"]["headlines"][0]["value"].startswith("U.S. cites progress")
