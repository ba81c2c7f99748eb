"""The HTTP API through its ASGI app: health, auth, feeds, stories, pages, search."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from ingestd.api import ServiceState, build_app
from ingestd.compose import save_poll, save_stories
from ingestd.metrics import Metrics
from ingestd.models import FeedConfig, FeedUpdate, PollWrite
from ingestd.store import Store
from ingestd.timeutil import to_iso
from tests.support.stories import NOW, story

pytestmark = pytest.mark.anyio

TOKEN = "tok-3f9a1c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "ingestd.db")
    yield s
    s.close()


@pytest.fixture
def state() -> ServiceState:
    state = ServiceState(tick_interval=1.0)
    state.scheduler_running = True
    state.ticked()
    return state


@contextlib.asynccontextmanager
async def serving(
    store: Store,
    state: ServiceState | None = None,
    token: str | None = TOKEN,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(
        store.path, state=state or ServiceState(tick_interval=1.0), metrics=Metrics(), token=token
    )
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ingestd", headers=headers
        ) as client:
            yield client


async def page_ids(client: httpx.AsyncClient, **params: str | int) -> list[str]:
    response = await client.get("/stories", params=params)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["stories"]]


# ── health ───────────────────────────────────────────────────────────────────


async def test_healthz_is_200_while_the_scheduler_ticks_without_a_token(
    store: Store, state: ServiceState
) -> None:
    async with serving(store, state) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_healthz_is_503_once_the_tick_is_older_than_expected(store: Store, state: ServiceState) -> None:
    state.last_tick = time.monotonic() - state.stale_after - 1
    async with serving(store, state) as client:
        response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "stale"


async def test_readyz_is_200_when_ticking_writable_and_not_stopping(
    store: Store, state: ServiceState
) -> None:
    async with serving(store, state) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "checks": {"database": "ok", "scheduler": "ok", "shutdown": "ok"},
    }


@pytest.mark.parametrize(
    "change, check, reason",
    [
        ({"scheduler_running": False}, "scheduler", "not running"),
        ({"shutting_down": True}, "shutdown", "shutting down"),
        ({"last_tick": 0.0}, "scheduler", "no tick for"),
    ],
)
async def test_readyz_is_503_and_says_why(
    store: Store, state: ServiceState, change: dict, check: str, reason: str
) -> None:
    for name, value in change.items():
        setattr(state, name, value)
    async with serving(store, state) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["ready"] is False
    assert response.json()["checks"][check].startswith(reason)


# ── auth ─────────────────────────────────────────────────────────────────────

PROTECTED = [
    ("GET", "/feeds"),
    ("GET", "/stories"),
    ("GET", "/stories/st_x"),
    ("GET", "/openapi.json"),
    ("GET", "/no-such-path"),
    ("POST", "/feeds"),
]


@pytest.mark.parametrize("method, path", PROTECTED)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "]
)
async def test_missing_or_wrong_token_gets_401_and_nothing_else(
    store: Store, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with serving(store) as client:
        response = await client.request(method, path, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized"}
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer anything"])
async def test_without_a_configured_token_nobody_gets_in(
    store: Store, state: ServiceState, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with serving(store, state, token=None, headers=headers) as client:
        for _, path in PROTECTED[:4]:
            assert (await client.get(path)).status_code == 401
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/metrics")).status_code == 200


async def test_the_token_opens_the_protected_routes(store: Store) -> None:
    async with serving(store, headers={"Authorization": f"bearer {TOKEN}"}) as client:
        assert (await client.get("/feeds")).status_code == 200
        assert (await client.get("/openapi.json")).status_code == 200
        assert (await client.get("/no-such-path")).status_code == 404


# ── feeds ────────────────────────────────────────────────────────────────────


async def test_feeds_shows_each_feeds_state_and_last_story(store: Store) -> None:
    store.sync_config_feeds(
        [
            FeedConfig(id="good", url="https://a.example/feed"),
            FeedConfig(id="bad", url="https://b.example/feed"),
        ],
        NOW,
    )
    save_poll(
        store,
        PollWrite("bad", to_iso(NOW), 12, 500, 0, error="HTTP 500"),
        [],
        FeedUpdate.of("bad", {"state": "erroring", "error_count": 1, "last_error": "HTTP 500"}),
        NOW,
    )
    save_poll(
        store,
        PollWrite("good", to_iso(NOW), 12, 200, 100),
        [story(1, feed="good")],
        FeedUpdate.of("good", {"state": "ok", "last_success_at": NOW}),
        NOW,
    )
    async with serving(store, headers=AUTH) as client:
        response = await client.get("/feeds")
    assert response.status_code == 200
    feeds = {f["id"]: f for f in response.json()["feeds"]}
    assert feeds["bad"]["state"] == "erroring" and feeds["bad"]["last_error"] == "HTTP 500"
    assert feeds["bad"]["error_count"] == 1 and feeds["bad"]["last_story_at"] is None
    assert feeds["good"]["state"] == "ok"
    assert feeds["good"]["last_success_at"] == feeds["good"]["last_story_at"] == to_iso(NOW)
    assert "etag" not in feeds["good"] and "body_hash" not in feeds["good"]


# ── stories ──────────────────────────────────────────────────────────────────


async def test_stories_come_newest_first_with_their_summary(store: Store) -> None:
    save_stories(store, [story(3), story(1, byline="By Kim"), story(2)], NOW)
    async with serving(store, headers=AUTH) as client:
        response = await client.get("/stories")
    body = response.json()
    assert [s["headline"] for s in body["stories"]] == ["Story number 1", "Story number 2", "Story number 3"]
    assert body["next_cursor"] is None
    first = body["stories"][0]
    assert first == {
        "id": first["id"],
        "version": 1,
        "feed": "news",
        "source": "generic",
        "headline": "Story number 1",
        "byline": "By Kim",
        "located": None,
        "section": None,
        "language": "en",
        "first_created": to_iso(NOW - timedelta(minutes=1)),
        "version_created": to_iso(NOW),
        "url": "https://example.org/1",
    }


async def test_pages_stay_stable_while_stories_arrive(store: Store) -> None:
    save_stories(store, [story(n) for n in range(1, 26)], NOW)
    seen: list[str] = []
    async with serving(store, headers=AUTH) as client:
        response = await client.get("/stories", params={"limit": 10})
        seen += [s["id"] for s in response.json()["stories"]]
        arrivals = 100
        while cursor := response.json()["next_cursor"]:
            # newer stories, and one late arrival published between older ones
            save_stories(
                store,
                [
                    story(arrivals, published=NOW + timedelta(minutes=arrivals)),
                    story(arrivals + 1, published=NOW - timedelta(minutes=17, seconds=30)),
                ],
                NOW,
            )
            arrivals += 2
            response = await client.get("/stories", params={"limit": 10, "cursor": cursor})
            seen += [s["id"] for s in response.json()["stories"]]
    originals = {
        row["id"]: row["first_created"]
        for row in store.db.query(
            "SELECT id, first_created FROM stories WHERE guid IN (%s)"
            % ",".join(f"'g{n}'" for n in range(1, 26))
        )
    }
    assert len(seen) == len(set(seen)), "a story came twice"
    assert [i for i in seen if i in originals] == sorted(
        originals, key=lambda i: (originals[i], i), reverse=True
    )
    assert not any(store.get_story(i)["first_created"] > to_iso(NOW) for i in seen)


async def test_a_page_ends_exactly_at_the_last_story(store: Store) -> None:
    save_stories(store, [story(n) for n in range(1, 5)], NOW)
    async with serving(store, headers=AUTH) as client:
        first = (await client.get("/stories", params={"limit": 2})).json()
        second = (await client.get("/stories", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert len(second["stories"]) == 2 and second["next_cursor"] is None


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"feed": "wire"}, [2]),
        ({"source": "yonhap"}, [3]),
        ({"section": "politics"}, [1, 3]),
        ({"language": "ko"}, [4]),
        ({"since": "2020-01-09T00:28:02Z"}, [1, 2, 3]),
        ({"since": "2020-01-09T09:28:02+09:00", "section": "politics"}, [1, 3]),
    ],
)
async def test_filters(store: Store, params: dict[str, str], expected: list[int]) -> None:
    save_stories(
        store,
        [
            story(1, section="politics"),
            story(2, feed="wire"),
            story(3, source="yonhap", section="politics"),
            story(4, language="ko"),
        ],
        NOW,
    )
    ids = {store.get_story(row["id"])["guid"]: row["id"] for row in store.db.query("SELECT id FROM stories")}
    async with serving(store, headers=AUTH) as client:
        assert await page_ids(client, **params) == [ids[f"g{n}"] for n in expected]


async def test_full_text_search_in_headline_body_and_byline(store: Store) -> None:
    save_stories(
        store,
        [
            story(1, headline="North Korea fires missile", body="Launch over the East Sea."),
            story(2, headline="Markets close higher", body="U.S.-China trade talks lift stocks."),
            story(3, headline="Weather", body="Fine dust in Seoul.", byline="By Kim Ji-hoon"),
            story(4, headline="Défense budget", body="Cost-sharing talks resume."),
        ],
        NOW,
    )
    guid = {row["id"]: row["guid"] for row in store.db.query("SELECT id, guid FROM stories")}
    async with serving(store, headers=AUTH) as client:

        async def found(q: str) -> list[str]:
            return [guid[i] for i in await page_ids(client, q=q)]

        assert await found("missile") == ["g1"]
        assert await found("talks") == ["g2", "g4"]
        assert await found("U.S.-China") == ["g2"]
        assert await found('"trade talks"') == ["g2"]
        assert await found('"talks trade"') == []
        assert await found("kim") == ["g3"]
        assert await found("miss*") == ["g1"]
        assert await found("defense") == ["g4"]  # diacritics folded
        assert await found("talks resume") == ["g4"]  # every word must occur
        assert await found("talks feed") == []
        assert await found("talks\x00resume") == ["g4"]  # a control character splits words


async def test_search_follows_new_versions_and_purges(store: Store) -> None:
    [first] = save_stories(store, [story(1, headline="Ceasefire holds")], NOW)
    save_stories(store, [story(2, headline="Ceasefire talks")], NOW)
    save_stories(store, [story(1, headline="Ceasefire collapses")], NOW + timedelta(minutes=5))
    async with serving(store, headers=AUTH) as client:
        assert await page_ids(client, q="holds") == []
        assert await page_ids(client, q="collapses") == [first.story_id]
        with store.transaction():
            store.db.execute("DELETE FROM stories WHERE id = ?", [first.story_id])
        assert await page_ids(client, q="collapses") == []
        assert len(await page_ids(client, q="ceasefire")) == 1


async def test_search_pages_and_filters_together(store: Store) -> None:
    save_stories(
        store,
        [
            story(n, headline=f"Missile report {n}", section="defense" if n % 2 else "world")
            for n in range(1, 8)
        ],
        NOW,
    )
    async with serving(store, headers=AUTH) as client:
        first = (
            await client.get("/stories", params={"q": "missile", "section": "defense", "limit": 2})
        ).json()
        rest = (
            await client.get(
                "/stories",
                params={"q": "missile", "section": "defense", "limit": 2, "cursor": first["next_cursor"]},
            )
        ).json()
    headlines = [s["headline"] for s in first["stories"] + rest["stories"]]
    assert headlines == ["Missile report 1", "Missile report 3", "Missile report 5", "Missile report 7"]


@pytest.mark.parametrize(
    "params, names",
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WzFd"}, "cursor"),
        ({"since": "yesterday"}, "since"),
        ({"q": "-- ..."}, "q"),
        ({"feed": ""}, "feed"),
        ({"feed_id": "news"}, "feed_id"),
    ],
)
async def test_bad_parameters_get_400_naming_them(store: Store, params: dict[str, str], names: str) -> None:
    async with serving(store, headers=AUTH) as client:
        response = await client.get("/stories", params=params)
    assert response.status_code == 400
    assert names in response.json()["error"]


async def test_a_story_with_its_versions(store: Store) -> None:
    [change] = save_stories(store, [story(1)], NOW)
    save_stories(store, [story(1, headline="Retitled")], NOW + timedelta(minutes=5))
    async with serving(store, headers=AUTH) as client:
        response = await client.get(f"/stories/{change.story_id}")
    body = response.json()
    assert response.status_code == 200
    assert body["id"] == change.story_id
    assert body["story"]["version"] == "2"
    assert body["story"]["headlines"][0]["value"] == "Retitled"
    assert body["ingest"]["feed"] == "news"
    assert [v["version"] for v in body["versions"]] == [2, 1]
    assert body["versions"][1]["story"]["headlines"][0]["value"] == "Story number 1"
    assert body["versions"][0]["created_at"] == to_iso(NOW + timedelta(minutes=5))


async def test_an_unknown_story_is_404(store: Store) -> None:
    async with serving(store, headers=AUTH) as client:
        response = await client.get("/stories/st_nope")
    assert response.status_code == 404
    assert response.json() == {"error": "no story 'st_nope'"}


async def test_openapi_describes_every_route(store: Store) -> None:
    app = build_app(store.path, state=ServiceState(tick_interval=1.0), metrics=Metrics(), token=TOKEN)
    routes = {r.path for r in app.routes if isinstance(r, Route)}
    async with serving(store, headers=AUTH) as client:
        spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == routes
    public = {p for p, item in spec["paths"].items() if item["get"]["security"] == []}
    assert public == {"/healthz", "/readyz", "/metrics", "/websub/{feed_id}"}  # WebSub hubs have no token


def test_the_read_connection_cannot_write(store: Store) -> None:
    reader = Store.open_reader(store.path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.db.execute("INSERT INTO meta VALUES ('k', 'v')")
    finally:
        reader.close()


async def test_stories_stored_before_the_index_existed_are_found(tmp_path: Path) -> None:
    class StoreBeforeSearch(Store):
        migrations = [m for m in Store.migrations if not m[0].startswith("reads-")]

    old = StoreBeforeSearch(tmp_path / "old.db")
    save_stories(old, [story(1, headline="Typhoon nears Okinawa")], NOW)
    old.close()
    store = Store(tmp_path / "old.db")  # migrates: the index is built from what is stored
    try:
        async with serving(store, headers=AUTH) as client:
            assert len(await page_ids(client, q="typhoon")) == 1
    finally:
        store.close()
