"""POST, PATCH and DELETE /feeds through the ASGI app, writing through a Writer as the
daemon's does: the checks and refusals of `ingestd feeds …`, in the same words; and a
real daemon polling a feed added over HTTP at its next tick, and after a restart."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from ingestd.cli import main
from ingestd.compose import save_stories
from ingestd.models import FeedConfig, FeedUpdate
from ingestd.runtime_feeds import FeedRules
from ingestd.store import Store
from tests.support import local_feed, rss, wait_for, write_config
from tests.support.api import api_client
from tests.support.reliability import TOKEN as DAEMON_TOKEN
from tests.support.reliability import Daemon
from tests.support.store import WIRE, story

pytestmark = pytest.mark.anyio

TOKEN = "tok-feeds"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
CONFIG = Path("/etc/ingestd/ingestd.toml")  # named in refusals; never read
RULES = FeedRules(CONFIG, 420.0)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    """A database as the daemon leaves it at start: one config feed synced."""
    store = Store(tmp_path / "ingestd.db")
    store.sync_config_feeds([FeedConfig("declared", "https://d.example/f")], NOW)
    store.close()
    return str(tmp_path / "ingestd.db")


def serving(
    db_path: str, rules: FeedRules | Callable[[], FeedRules] = RULES
) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    return api_client(db_path, TOKEN, AUTH, feed_rules=rules)


async def test_post_adds_a_feed_due_at_once_and_a_taken_id_is_409(db_path: str) -> None:
    async with serving(db_path) as client:
        response = await client.post(
            "/feeds", json={"id": "wire", "url": "https://w.example/rss", "quiet_after": "6h"}
        )
        assert response.status_code == 201, response.text
        assert response.headers["location"] == "/feeds/wire"
        body = response.json()
        assert (body["origin"], body["state"], body["interval"], body["quiet_after"]) == (
            "api",
            "ok",
            420.0,
            21600.0,
        )
        assert (await client.get("/feeds/wire")).json() == body
        taken = await client.post("/feeds", json={"id": "wire", "url": "https://other.example/"})
        assert taken.status_code == 409 and taken.json() == {"error": "feed 'wire' exists already"}
    store = Store(db_path)
    [due] = [f for f in store.claim_due(datetime.now(UTC), 10) if f.id == "wire"]
    store.close()
    assert due.url == "https://w.example/rss"


@pytest.mark.parametrize(
    "body, error",
    [
        (
            {"id": "x", "url": "file:///etc/passwd"},
            "url: 'file:///etc/passwd' is not an http(s) URL (file: and folder feeds go in the config)",
        ),
        (
            {"id": "x", "url": "https://x.example/", "interval": "soon"},
            "interval: 'soon' is not a duration (use e.g. 30s, 5m, 1h)",
        ),
        ({"id": "x", "url": "https://x.example/", "headline": "no"}, "headline: unknown key"),
        ({"id": "x"}, "url: missing (required)"),
    ],
)
async def test_a_bad_feed_is_400_in_the_words_of_the_cli(
    db_path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], body: dict[str, str], error: str
) -> None:
    async with serving(db_path) as client:
        response = await client.post("/feeds", json=body)
    assert response.status_code == 400 and response.json() == {"error": error}
    if "url" in body and "headline" not in body:  # the same table through the CLI
        config = write_config(tmp_path, f'[storage]\npath = "{db_path}"\n')
        options = [body["id"]] + [arg for k, v in body.items() if k != "id" for arg in (f"--{k}", v)]
        capsys.readouterr()
        assert main(["feeds", "add", *options, "--config", str(config)]) == 2
        assert f"feeds add x: {error}" in capsys.readouterr().err


async def test_patch_merges_disables_and_a_new_url_starts_afresh(db_path: str) -> None:
    async with serving(db_path) as client:
        await client.post("/feeds", json={"id": "wire", "url": "https://w.example/rss", "source": "ap"})
        store = Store(db_path)
        with store.transaction():
            store.apply([FeedUpdate.of("wire", {"etag": '"v1"', "body_hash": "abc"})])
        store.close()
        response = await client.patch("/feeds/wire", json={"interval": "15m", "fetch_article": True})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["interval"], body["fetch_article"], body["source"]) == (900.0, True, "ap")
        response = await client.patch(
            "/feeds/wire", json={"source": None, "interval": None, "disabled": True}
        )
        body = response.json()
        assert (body["source"], body["interval"], body["disabled"]) == (None, 420.0, True)
        response = await client.patch(
            "/feeds/wire", json={"url": "https://w2.example/rss", "disabled": False}
        )
        assert (response.json()["url"], response.json()["disabled"]) == ("https://w2.example/rss", False)
        bad = await client.patch("/feeds/wire", json={"interval": "0s"})
        assert bad.status_code == 400 and bad.json() == {"error": "interval: '0s' must be longer than 0s"}
        assert (await client.patch("/feeds/wire", json={"disabled": "yes"})).status_code == 400
        assert (await client.patch("/feeds/wire", json={"id": "other"})).json() == {
            "error": "id: cannot change ('wire'); remove the feed and add it anew"
        }
        missing = await client.patch("/feeds/nope", json={"interval": "1h"})
        assert missing.status_code == 404 and missing.json() == {"error": "no feed 'nope'"}
    store = Store(db_path)
    feed = store.get_feed("wire")
    store.close()
    assert feed is not None and (feed.etag, feed.body_hash, feed.interval) == (None, None, 420.0)


async def test_a_declared_feed_is_refused_naming_its_file_but_can_be_disabled(db_path: str) -> None:
    async with serving(db_path) as client:
        changed = await client.patch("/feeds/declared", json={"interval": "1h"})
        assert changed.status_code == 409
        assert changed.json() == {"error": f"feed declared is declared in {CONFIG}; change it there"}
        removed = await client.delete("/feeds/declared")
        assert removed.status_code == 409
        assert removed.json() == {"error": f"feed declared is declared in {CONFIG}; remove it there"}
        disabled = await client.patch("/feeds/declared", json={"disabled": True})
        assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    store = Store(db_path)
    assert store.claim_due(NOW + timedelta(days=1), 10, all_feeds=True) == []
    store.close()


async def test_delete_keeps_the_stories_and_purge_deletes_them(db_path: str) -> None:
    async with serving(db_path) as client:
        await client.post("/feeds", json={"id": "wire", "url": "https://w.example/rss"})
        store = Store(db_path)
        save_stories(store, [story("g1", "https://w.example/1", "One", WIRE, feed_id="wire")], NOW)
        store.close()
        assert (await client.delete("/feeds/wire")).status_code == 204
        assert (await client.get("/feeds/wire")).json()["state"] == "removed"
        assert len((await client.get("/stories", params={"feed": "wire"})).json()["stories"]) == 1
        assert (await client.delete("/feeds/wire", params={"purge": "maybe"})).status_code == 400
        assert (await client.delete("/feeds/wire", params={"purge": "true"})).status_code == 204
        assert (await client.get("/feeds/wire")).status_code == 404
        assert (await client.get("/stories", params={"feed": "wire"})).json()["stories"] == []
        assert (await client.delete("/feeds/wire")).status_code == 404


async def test_writes_need_the_bearer_token(db_path: str) -> None:
    async with serving(db_path) as client:
        for method, path in (("POST", "/feeds"), ("PATCH", "/feeds/declared"), ("DELETE", "/feeds/declared")):
            response = await client.request(
                method, path, params={"token": TOKEN}, headers={"Authorization": ""}, json={}
            )
            assert response.status_code == 401, (method, path)


def test_a_running_daemon_polls_a_feed_posted_at_its_next_tick_and_keeps_it_after_a_restart(
    tmp_path: Path,
) -> None:
    with local_feed(rss(("a", "Alpha story"), ("b", "Beta story"))) as feed:
        daemon = Daemon(
            tmp_path, '[fetch]\nallow_private = ["127.0.0.1"]\n[scheduler]\ntick = "1s"\n'
        ).start()
        post: Callable[..., httpx.Response] = lambda path, body: httpx.post(  # noqa: E731
            daemon.url + path, json=body, headers={"Authorization": f"Bearer {DAEMON_TOKEN}"}, timeout=5
        )
        try:
            wait_for(lambda: daemon.get("/feeds") is not None, "the API answers", timeout=30)
            assert post("/feeds", {"id": "live", "url": feed.url}).status_code == 201
            wait_for(lambda: len(daemon.stories("live")) == 2, "the posted feed's stories", timeout=30)
            daemon.stop()
            daemon.start()
            wait_for(
                lambda: daemon.feeds().get("live", {}).get("last_success_at") is not None,
                "the feed after a restart",
                timeout=30,
            )
            assert daemon.feeds()["live"]["origin"] == "api"
        finally:
            daemon.stop()


async def test_credentials_posted_are_stored_shown_as_set_and_kept_by_a_patch(db_path: str) -> None:
    secret, token = "k-9f2a61", "t-5c07e3"
    async with serving(db_path) as client:
        response = await client.post(
            "/feeds",
            json={
                "id": "paid",
                "url": "https://paid.example/rss",
                "headers": {"X-Api-Key": secret},
                "auth": {"bearer": token},
            },
        )
        assert response.status_code == 201, response.text
        assert response.json()["credentials"] == {"headers": {"X-Api-Key": "set"}, "auth": "bearer"}
        response = await client.patch("/feeds/paid", json={"interval": "10m"})
        assert response.status_code == 200, response.text
        listed = (await client.get("/feeds")).text
    assert secret not in listed and token not in listed
    store = Store(db_path)
    stored = store.get_feed("paid")
    store.close()
    assert stored is not None and stored.interval == 600.0
    assert stored.secrets is not None
    assert (stored.secrets.headers, stored.secrets.bearer) == ((("X-Api-Key", secret),), token)


async def test_env_and_file_secrets_and_client_certificates_are_refused_over_http(db_path: str) -> None:
    async with serving(db_path) as client:
        response = await client.post(
            "/feeds",
            json={"id": "paid", "url": "https://paid.example/rss", "headers": {"X-Api-Key": "env:HOME"}},
        )
        assert response.status_code == 400 and "env: and file:" in response.json()["error"]
        assert (
            await client.post("/feeds", json={"id": "ok", "url": "https://ok.example/rss"})
        ).status_code == 201
        response = await client.patch("/feeds/ok", json={"auth": {"bearer": "file:/etc/passwd"}})
        assert response.status_code == 400 and "env: and file:" in response.json()["error"]
        response = await client.patch("/feeds/ok", json={"client_cert": "/etc/ssl/private/key.pem"})
        assert response.status_code == 400 and "client certificates" in response.json()["error"]


async def test_a_basic_password_over_http_is_a_value_never_env_or_file(db_path: str) -> None:
    async with serving(db_path) as client:
        for auth in ({"basic": "u:env:HOME"}, {"basic": "u:file:/etc/hostname"}):
            response = await client.post(
                "/feeds", json={"id": "x", "url": "https://x.example/rss", "auth": auth}
            )
            assert response.status_code == 400 and "env: and file:" in response.json()["error"], response.text
        assert (
            await client.post("/feeds", json={"id": "x", "url": "https://x.example/rss"})
        ).status_code == 201
        response = await client.patch("/feeds/x", json={"auth": {"basic": "u:env:HOME"}})
        assert response.status_code == 400 and "env: and file:" in response.json()["error"]


async def test_credentials_stay_with_their_origin_when_the_url_moves(db_path: str) -> None:
    async with serving(db_path) as client:
        created = await client.post(
            "/feeds",
            json={
                "id": "paid",
                "url": "https://paid.example/rss",
                "auth": {"bearer": "tok-1"},
                "headers": {"A": "1"},
            },
        )
        assert created.status_code == 201, created.text
        same = await client.patch("/feeds/paid", json={"url": "https://paid.example/v2/rss"})
        assert same.json()["credentials"] == {"headers": {"A": "set"}, "auth": "bearer"}
        moved = await client.patch("/feeds/paid", json={"url": "https://elsewhere.example/rss"})
        assert moved.status_code == 200 and moved.json()["credentials"] is None
        again = await client.patch(
            "/feeds/paid", json={"url": "https://third.example/rss", "headers": {"B": "2"}}
        )
        assert again.json()["credentials"] == {"headers": {"B": "set"}}
        one_out = await client.patch("/feeds/paid", json={"headers": {"B": None, "C": "3"}})
        assert one_out.status_code == 200, one_out.text
        assert one_out.json()["credentials"] == {"headers": {"C": "set"}}
    store = Store(db_path)
    stored = store.get_feed("paid")
    store.close()
    assert stored is not None and stored.secrets is not None
    assert (stored.secrets.origin, stored.secrets.headers, stored.secrets.bearer) == (
        "https://third.example:443",
        (("C", "3"),),
        None,
    )


async def test_feeds_added_after_a_reload_take_the_reloaded_default_interval(db_path: str) -> None:
    rules = [RULES]
    # as the daemon passes them: the config as it is now
    async with serving(db_path, lambda: rules[-1]) as client:
        first = await client.post("/feeds", json={"id": "a", "url": "https://a.example/rss"})
        rules.append(FeedRules(CONFIG, 900.0))  # a SIGHUP changed [scheduler] default_interval
        second = await client.post("/feeds", json={"id": "b", "url": "https://b.example/rss"})
    assert (first.json()["interval"], second.json()["interval"]) == (420.0, 900.0)


async def test_a_url_whose_port_is_out_of_range_is_a_400_naming_it(db_path: str) -> None:
    async with serving(db_path) as client:
        response = await client.post(
            "/feeds", json={"id": "p", "url": "https://x.example:67605/rss", "query": {"\x03": "v"}}
        )
    assert response.status_code == 400 and "Port out of range" in response.json()["error"], response.text
