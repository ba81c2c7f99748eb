"""What the cheap commands cost: process wall time and peak RSS of `ingestd healthcheck`
against a running daemon, beside `check-config`, `--help` and a bare interpreter.

    python bench/startup.py [--runs 15]

Starts `ingestd run` on a temporary config (no feeds, HTTP on a free 127.0.0.1 port),
waits for /healthz, then runs each command --runs times, one after the other, and
prints the median and the worst wall time and peak RSS of the command's own process.
Figures go in docs/operations.md; targets for healthcheck: < 150 ms, < 40 MB.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
INGESTD = [str(BIN / "ingestd")] if (BIN / "ingestd").exists() else [sys.executable, "-m", "ingestd"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one process, from wait4's rusage."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}")
    return wall, usage.ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--runs", type=int, default=15)
    options = args.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGESTD_")}
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "ingestd.toml"
        config.write_text(
            f'[storage]\npath = "ingestd.db"\n[log]\nformat = "json"\n'
            f'[http]\nlisten = "127.0.0.1:{free_port()}"\n',
            encoding="utf-8",
        )
        daemon = subprocess.Popen(
            [*INGESTD, "run", "--config", str(config)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            health = [*INGESTD, "healthcheck", "--config", str(config)]
            while subprocess.run(health, env=env, capture_output=True).returncode != 0:
                if time.monotonic() > deadline or daemon.poll() is not None:
                    raise SystemExit("the daemon did not become healthy within 60 s")
                time.sleep(0.2)
            commands = {
                "python -c pass": [sys.executable, "-c", "pass"],
                "healthcheck": health,
                "check-config": [*INGESTD, "check-config", str(config)],
                "--help": [*INGESTD, "--help"],
            }
            results = {
                name: [measure(argv, env) for _ in range(options.runs)] for name, argv in commands.items()
            }
        finally:
            daemon.terminate()
            daemon.wait(timeout=10)
    print(f"{options.runs} runs each, one after the other; the daemon idle on 127.0.0.1")
    print(f"{'command':<16} {'median ms':>10} {'max ms':>8} {'median MB':>10} {'max MB':>8}")
    for name, runs in results.items():
        walls = [w * 1000 for w, _ in runs]
        rss = [r for _, r in runs]
        print(
            f"{name:<16} {statistics.median(walls):>10.0f} {max(walls):>8.0f} "
            f"{statistics.median(rss):>10.1f} {max(rss):>8.1f}"
        )
    base = statistics.median(w for w, _ in results["python -c pass"])
    hc = statistics.median(w for w, _ in results["healthcheck"])
    print(f"healthcheck / bare interpreter wall time: {hc / base:.1f}x")


if __name__ == "__main__":
    main()
