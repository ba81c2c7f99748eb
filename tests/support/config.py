"""Config files for tests: written to the test's folder, loaded with no environment."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterable
from pathlib import Path

from ingestd.config import Config, load_config


def write_config(folder: Path, body: str) -> Path:
    """`body` (dedented) as `folder/ingestd.toml`; relative paths in it are relative to `folder`."""
    path = folder / "ingestd.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def daemon_config(
    folder: Path,
    *,
    feeds: Iterable[tuple[str, str]] = (),
    subscriptions: Iterable[str] = (),
    allow_private: bool = True,
    extra: str = "",
) -> Config:
    """A daemon's config in `folder`: its database there, 127.0.0.1 reachable (local feed
    servers and receivers), `feeds` as (id, url) polled every 5 minutes, `subscriptions` as
    TOML bodies of [[subscriptions]] tables, `extra` TOML (whole sections) appended."""
    text = f"[storage]\npath = {json.dumps(str(folder / 'db.sqlite'))}\n"
    if allow_private:
        text += '[fetch]\nallow_private = ["127.0.0.1"]\n'
    text += extra
    for feed_id, url in feeds:
        text += f'[[feeds]]\nid = "{feed_id}"\nurl = "{url}"\ninterval = "5m"\n'
    for body in subscriptions:
        text += f"[[subscriptions]]\n{body}\n"
    return load_config(write_config(folder, text), env={})
