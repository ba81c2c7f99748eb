"""The daemon on either engine, chosen by `[storage] url`: on PostgreSQL no instance lock and
no lease released at start, host slots shared with other replicas, retention on one replica
at a time, the dispatcher woken by NOTIFY; on both, a poll whose lease another replica took
meanwhile writes no feed state and says so (fencing)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from structlog.testing import capture_logs

from ingestd.config import Config, load_config
from ingestd.daemon import Daemon
from ingestd.replicas import Replica, SingleNode
from ingestd.store import Store
from ingestd.store.engine import is_shared, open_store, sqlite_path, to_url
from ingestd.webhooks import Dispatcher
from tests.support import rss, write_config
from tests.support.engines import ENGINES
from tests.support.postgres import postgres_schema
from tests.support.processes import INGESTD, clean_env

FEED_URL = "https://feeds.example.org/news.xml"
LEASE = timedelta(minutes=5)


@pytest.fixture(params=ENGINES)
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield to_url(tmp_path / "db.sqlite")
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


def _config(tmp_path: Path, url: str, *feeds: tuple[str, str]) -> Config:
    text = f'[storage]\nurl = {json.dumps(url)}\n[scheduler]\nmin_interval = "1s"\n'
    for feed_id, feed_url in feeds:
        text += f'[[feeds]]\nid = "{feed_id}"\nurl = "{feed_url}"\ninterval = "5m"\n'
    return load_config(write_config(tmp_path, text), env={})


def _lease_owner(store: Any, feed_id: str) -> str | None:
    if isinstance(store, Store):  # the SQLite engine has no lease_of: its one daemon needs none
        return store.db.execute("SELECT lease_owner FROM feeds WHERE id = ?", [feed_id]).fetchone()[0]  # type: ignore[no-any-return]
    owner, _ = store.lease_of(feed_id)
    return owner  # type: ignore[no-any-return]


def test_the_url_names_the_engine(tmp_path: Path) -> None:
    url = to_url(tmp_path / "x.db")
    assert url == f"sqlite:///{(tmp_path / 'x.db').resolve()}" and sqlite_path(url).endswith("/x.db")
    assert not is_shared(url)
    assert is_shared("postgresql://h/d") and is_shared("postgres://h/d")
    assert to_url("postgresql://h/d") == "postgresql://h/d"
    with pytest.raises(ValueError, match="not a sqlite:/// URL"):
        sqlite_path("postgresql://h/d")


def test_the_daemon_opens_the_engine_its_url_names(tmp_path: Path, storage_url: str) -> None:
    async def scenario() -> None:
        async with Daemon(_config(tmp_path, storage_url, ("news", FEED_URL))).open() as daemon:
            shared = storage_url.startswith("postgresql")
            assert daemon.shared is shared
            assert isinstance(daemon.node, Replica if shared else SingleNode)
            assert (type(daemon.writer.store).__name__ == "PgStore") is shared
            assert daemon.writer.store.get_feed("news") is not None  # config synced
        assert (tmp_path / "db.sqlite.lock").exists() is not shared  # the instance lock: SQLite only

    asyncio.run(scenario())


def test_on_postgresql_a_start_keeps_other_replicas_leases_and_takes_no_lock(
    tmp_path: Path, pg_url: str
) -> None:
    config = _config(tmp_path, pg_url, ("news", FEED_URL))

    async def scenario() -> None:
        async with Daemon(config).open() as first:
            store = first.writer.store
            await first.writer.run(store.claim_due, datetime.now(UTC), 10, owner="elsewhere", lease=LEASE)
            async with Daemon(config).open() as second:  # a second replica, same database
                assert _lease_owner(second.writer.store, "news") == "elsewhere"
                assert second.owner != first.owner

    asyncio.run(scenario())


def test_a_poll_whose_lease_another_replica_took_writes_no_feed_state_and_says_so(
    tmp_path: Path, storage_url: str
) -> None:
    async def scenario() -> None:
        async with Daemon(_config(tmp_path, storage_url, ("news", FEED_URL))).open() as daemon:
            store = daemon.writer.store
            now = datetime.now(UTC)
            [feed] = await daemon.writer.run(store.claim_due, now, 10, owner=daemon.owner, lease=LEASE)
            # this replica's poll outlives its lease, and another replica claims the feed
            await daemon.writer.run(store.claim_due, now + LEASE, 10, owner="other", lease=LEASE)
            with respx.mock, capture_logs() as logs:
                respx.get(FEED_URL).mock(
                    return_value=httpx.Response(200, content=rss(("a", "Alpha")), headers={"ETag": '"v2"'})
                )
                daemon._start(feed, daemon.poll_feed(feed))
                while daemon._in_flight:
                    await asyncio.sleep(0.01)
            [fenced] = [line for line in logs if line["event"].startswith("feed state not written")]
            assert fenced["feed_id"] == "news" and fenced["owner"] == daemon.owner
            assert store.get_feed("news").etag is None  # the other replica's poll writes it
            assert _lease_owner(store, "news") == "other"
            assert store.count("stories") == 1  # what the poll brought is kept

    asyncio.run(scenario())


def test_a_host_busy_on_another_replica_leaves_its_feed_due(tmp_path: Path, pg_url: str) -> None:
    async def scenario() -> None:
        async with Daemon(_config(tmp_path, pg_url, ("news", FEED_URL))).open() as daemon:
            store = daemon.writer.store
            now = datetime.now(UTC)
            limit = daemon.fetcher.per_host_limit
            held = [
                store.take_host_slot("feeds.example.org", "other", limit, now, LEASE) for _ in range(limit)
            ]
            assert None not in held
            await daemon._tick()
            assert daemon._in_flight == {} and _lease_owner(store, "news") is None  # released, still due
            for slot in held:
                store.give_host_slot("feeds.example.org", slot, "other", now, timedelta(0))
            with respx.mock:
                respx.get(FEED_URL).mock(return_value=httpx.Response(200, content=rss(("a", "Alpha"))))
                await daemon._tick()
                assert set(daemon._in_flight) == {"news"}
                while daemon._in_flight:
                    await asyncio.sleep(0.01)
            # the slot went back once the fetch was done
            again = store.take_host_slot("feeds.example.org", "other", 1, datetime.now(UTC), LEASE)
            assert again == 0

    asyncio.run(scenario())


def test_retention_runs_on_one_replica_at_a_time(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        async with Daemon(_config(tmp_path, pg_url)).open() as daemon:
            purged: list[datetime] = []
            monkeypatch.setattr(
                daemon.writer.store, "purge_stories", lambda cutoff, now: purged.append(cutoff) or 0
            )
            other = open_store(pg_url)
            with other.periodic("retention") as mine:  # type: ignore[attr-defined]
                assert mine
                await daemon.retention()
                assert purged == []  # the other replica is at it
            await daemon.retention()
            assert len(purged) == 1
            async with daemon.node.exclusive("retention") as held:  # and while this one is at it…
                assert held
                with other.periodic("retention") as theirs:  # type: ignore[attr-defined]
                    assert not theirs  # …no other is
            other.close()

    asyncio.run(scenario())


def test_the_dispatcher_passes_as_soon_as_a_wait_says_deliveries_are_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path, to_url(tmp_path / "db.sqlite"))
    wakes = iter([set(), {"desk"}, set()])
    passes: list[int] = []

    def wait(timeout: float) -> set[str]:
        return next(wakes, set())

    async def scenario() -> None:
        store = Store(config.storage.path)

        class Writer:
            def __init__(self) -> None:
                self.store = store

            async def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
                return fn(*args, **kwargs)

        dispatcher = Dispatcher(Writer(), config)

        async def dispatch_due() -> int:
            passes.append(1)
            return 0

        monkeypatch.setattr(dispatcher, "dispatch_due", dispatch_due)
        following = asyncio.create_task(dispatcher.follow(wait))
        while not passes:
            await asyncio.sleep(0.01)
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        store.close()

    asyncio.run(scenario())
    assert passes == [1]  # once: the one wait that named a subscription


def test_a_lost_listening_connection_is_logged_and_waited_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingestd.webhooks import _dispatcher

    monkeypatch.setattr(_dispatcher, "WAKE_WAIT_S", 0.01)
    config = _config(tmp_path, to_url(tmp_path / "db.sqlite"))
    calls: list[float] = []

    def wait(timeout: float) -> set[str]:
        calls.append(timeout)
        raise OSError("connection lost")

    async def scenario() -> None:
        dispatcher = Dispatcher(None, config)  # type: ignore[arg-type]
        with capture_logs() as logs:
            following = asyncio.create_task(dispatcher.follow(wait))
            while len(calls) < 2:
                await asyncio.sleep(0.01)
            following.cancel()
            await asyncio.gather(following, return_exceptions=True)
        assert logs[0]["event"] == "outbox wake-ups lost" and "connection lost" in logs[0]["error"]

    asyncio.run(scenario())


def test_a_command_on_a_database_it_cannot_use_says_so_in_one_line(tmp_path: Path) -> None:
    from tests.support.postgres import URL

    missing = f"{URL}{'&' if '?' in URL else '?'}options=-csearch_path%3Dno_such_schema"
    with postgres_schema():  # skips, or fails under .ci/run, without a server
        run = subprocess.run(
            [*INGESTD, "migrate", "--config", str(write_config(tmp_path, ""))],
            env=clean_env(INGESTD_STORAGE_URL=missing),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 1
    assert (
        run.stderr.startswith("storage error: no schema has been selected") and "Traceback" not in run.stderr
    )


def test_the_api_and_the_cli_read_what_a_poll_stored_on_either_engine(
    tmp_path: Path, storage_url: str
) -> None:
    from ingestd.api import build_app

    config_path = write_config(
        tmp_path, f'[storage]\nurl = {json.dumps(storage_url)}\n[[feeds]]\nid = "news"\nurl = "{FEED_URL}"\n'
    )
    config = load_config(config_path, env={})

    async def scenario() -> tuple[Any, Any, Any, Any]:
        async with Daemon(config).open() as daemon:
            with respx.mock:
                respx.get(FEED_URL).mock(return_value=httpx.Response(200, content=rss(("a", "Alpha"))))
                await daemon.poll_feed(daemon.writer.store.get_feed("news"))
            app = build_app(storage_url, state=daemon.service, metrics=daemon.metrics, token="t")
            async with app.router.lifespan_context(app):  # its readers, and a writer of its own
                transport = httpx.ASGITransport(app=app)
                auth = {"Authorization": "Bearer t"}
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://t", headers=auth
                ) as client:
                    ready = (await client.get("/readyz")).json()
                    stories = (await client.get("/stories")).json()
                    feeds = (await client.get("/feeds")).json()
                    story = (await client.get(f"/stories/{stories['stories'][0]['id']}")).json()
        return ready, stories, feeds, story

    ready, stories, feeds, story = asyncio.run(scenario())
    assert ready["checks"]["database"] == "ok"  # the port's own check (the scheduler is not running here)
    assert [s["headline"] for s in stories["stories"]] == ["Alpha"]
    assert [f["id"] for f in feeds["feeds"]] == ["news"]
    assert story["story"]["headlines"][0]["value"] == "Alpha" and [
        v["version"] for v in story["versions"]
    ] == [1]
    listed = subprocess.run(
        [*INGESTD, "stories", "list", "--config", str(config_path)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert "Alpha" in listed.stdout
