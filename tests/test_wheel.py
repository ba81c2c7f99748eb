"""The wheel built from the checkout installs as a user installs it: into a fresh venv,
with its dependencies, by the pip that venv bundles (Python 3.11.7's is pip 23.2.1, which
does not match `lxml[html_clean]` to lxml's `html-clean` extra), and then works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT, SEED, write_config


def _run(
    *args: str | Path, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INGESTD_", "PYTHON", "VIRTUAL_ENV"))}
    env["INGESTD_LOG_FORMAT"] = "json"
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout
    )


@pytest.mark.slow
def test_wheel_installed_with_its_dependencies_by_the_bundled_pip_works(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        dist,
        ROOT,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = dist.glob("ingestd-*.whl")

    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    pip = [venv / "bin" / "python", "-m", "pip"]
    version = _run(*pip, "--version").stdout
    installed = _run(*pip, "install", "-q", wheel, timeout=900)
    assert installed.returncode == 0, f"{version}{installed.stderr}"
    check = _run(*pip, "check")
    assert check.returncode == 0, f"{version}{check.stdout}"

    work = tmp_path / "elsewhere"
    work.mkdir()
    ingestd = venv / "bin" / "ingestd"
    where = _run(venv / "bin" / "python", "-c", "import ingestd; print(ingestd.__file__)", cwd=work)
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr

    helped = _run(ingestd, "--help", cwd=work)
    assert helped.returncode == 0 and "replay" in helped.stdout, helped.stderr

    (work / "inbox").mkdir()
    story = work / "inbox" / "story.txt"
    story.write_bytes(SEED.read_bytes())
    config = write_config(work, '[storage]\npath = "ingestd.db"\n[[feeds]]\nid = "inbox"\nurl = "inbox"\n')
    checked = _run(ingestd, "check-config", config, cwd=work)
    assert checked.returncode == 0 and "ok (1 feeds)" in checked.stdout, checked.stderr

    replayed = _run(ingestd, "replay", "--now", "2020-01-09T00:31:02Z", story, cwd=work)
    assert replayed.returncode == 0, replayed.stderr
    [event] = [json.loads(line) for line in replayed.stdout.splitlines()]
    assert event["data"]["ingest"]["source"] == "yonhap"
    assert event["data"]["story"]["headlines"][0]["value"].startswith("U.S. cites progress")
