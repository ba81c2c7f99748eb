"""Driving one Daemon in-process: a config with feeds, one poll, its log lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingestd.config import Config
from ingestd.daemon import Daemon

from .config import daemon_config

FEED_URL = "https://feeds.example.org/news.xml"


def config_for(tmp_path: Path, *feeds: tuple[str, str]) -> Config:
    return daemon_config(
        tmp_path, feeds=feeds, allow_private=False, extra='[scheduler]\nmin_interval = "1s"\n'
    )


def poll_lines(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == "poll"]


async def poll(daemon: Daemon, feed_id: str) -> None:
    await daemon.poll_feed(daemon.writer.store.get_feed(feed_id))
