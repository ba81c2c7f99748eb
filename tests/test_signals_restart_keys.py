"""Which changed settings a reload cannot take up (pure: two loaded configs)."""

from __future__ import annotations

from pathlib import Path

from ingestd.config import Config, load_config
from ingestd.reload import needs_restart
from tests.support import write_config


def _config(folder: Path, body: str) -> Config:
    return load_config(write_config(folder, '[storage]\npath = "x.db"\n' + body), env={})


def test_only_settings_held_by_objects_made_at_start_need_a_restart(tmp_path: Path) -> None:
    running = _config(tmp_path, '[http]\nlisten = "127.0.0.1:8080"\n')
    live = _config(
        tmp_path,
        '[http]\nlisten = "127.0.0.1:8080"\n[log]\nlevel = "debug"\n[scheduler]\nworkers = 3\n'
        '[fetch]\nmax_entries = 7\n[[feeds]]\nid = "a"\nurl = "https://example.org/a.xml"\n',
    )
    assert needs_restart(running, live) == ()
    held = _config(
        tmp_path,
        '[http]\nlisten = "127.0.0.1:9090"\ntoken = "t0ken-long-enough-1234"\n'
        '[fetch]\nmax_body = "1MB"\n[webhooks]\nconcurrency = 2\n',
    )
    assert needs_restart(running, held) == (
        "[fetch] max_body",
        "[webhooks] concurrency",
        "[http] listen",
        "[http] token",
    )
    moved = load_config(
        write_config(tmp_path, '[storage]\npath = "y.db"\n[http]\nlisten = "127.0.0.1:8080"\n'), env={}
    )
    # `path` is shorthand for a sqlite:/// `url`: the database moved, and both say so
    assert needs_restart(running, moved) == ("[storage] path", "[storage] url")
