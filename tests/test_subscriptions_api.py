"""/subscriptions through the ASGI app, writing through a Writer as the daemon's does:
status codes, validation naming the field, config subscriptions, auth, no secrets out."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from ingestd.api import ServiceState, build_app
from ingestd.compose import save_stories
from ingestd.metrics import Metrics
from ingestd.models import SubscriptionConfig
from ingestd.store import Store
from ingestd.webhooks import fingerprint
from tests.support.api import api_client
from tests.support.webhooks import OLD_SECRET, SECRET, story, utcnow

pytestmark = pytest.mark.anyio

TOKEN = "tok-subs"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HOOK = "https://hooks.example.org/in"
DESK = {"id": "desk", "url": HOOK, "secret": SECRET}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    """A database as the daemon leaves it at start: one config subscription synced."""
    store = Store(tmp_path / "ingestd.db")
    store.sync_config_subscriptions([SubscriptionConfig("newsroom", HOOK, (SECRET,))], utcnow())
    store.close()
    return str(tmp_path / "ingestd.db")


def serving(
    db_path: str, headers: dict[str, str] | None = AUTH
) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    return api_client(db_path, TOKEN, headers)


async def test_post_adds_a_subscription_and_answers_201_without_the_secret(db_path: str) -> None:
    async with serving(db_path) as client:
        response = await client.post(
            "/subscriptions",
            json={
                **DESK,
                "secret": [SECRET, OLD_SECRET],
                "events": ["story.updated"],
                "filter": {"sections": ["Defense"], "first_of_cluster": True},
            },
        )
        assert response.status_code == 201, response.text
        assert response.headers["location"] == "/subscriptions/desk"
        body = response.json()
        assert body == {
            "id": "desk",
            "url": HOOK,
            "origin": "api",
            "events": ["story.updated"],
            "filter": {"sections": ["Defense"], "first_of_cluster": True},
            "secret_fingerprints": [fingerprint(SECRET), fingerprint(OLD_SECRET)],
            "state": "active",
            "reason": None,
            "backlog": 0,
            "failed": 0,
            "delivered": 0,
            "last_success_at": None,
            "last_error": None,
            "last_error_at": None,
        }
        assert (await client.get("/subscriptions/desk")).json() == body
        listing = await client.get("/subscriptions")
        assert [s["id"] for s in listing.json()["subscriptions"]] == ["desk", "newsroom"]
        newsroom = listing.json()["subscriptions"][1]
        assert (newsroom["origin"], newsroom["secret_fingerprints"]) == ("config", None)
        for text in (response.text, listing.text):
            for secret in (SECRET, OLD_SECRET):
                assert secret.removeprefix("whsec_") not in text
        again = await client.post("/subscriptions", json=DESK)
        assert again.status_code == 409
        assert again.json() == {"error": "subscription 'desk' exists already"}
        taken = await client.post("/subscriptions", json={**DESK, "id": "newsroom"})
        assert taken.status_code == 409 and "declared in the config" in taken.json()["error"]


@pytest.mark.parametrize(
    "body, error",
    [
        (
            {**DESK, "url": "ftp://hooks.example.org/"},
            "url: 'ftp://hooks.example.org/' is not an http(s) URL",
        ),
        ({**DESK, "url": "file:///etc/passwd"}, "url: 'file:///etc/passwd' is not an http(s) URL"),
        ({**DESK, "secret": "not-a-whsec"}, "secret: a webhook secret must start with whsec_"),
        ({**DESK, "secret": "whsec_%%%"}, "secret: what follows whsec_ is not base64"),
        ({**DESK, "secret": "env:HOME"}, "secret: env: and file: are for the config file"),
        ({**DESK, "secret": [SECRET, "file:/etc/hostname"]}, "secret: env: and file: are for"),
        ({**DESK, "events": ["story.deleted"]}, "events: unknown event types ['story.deleted']"),
        ({**DESK, "filter": {"colour": ["red"]}}, "filter: unknown filter key 'colour'"),
        ({**DESK, "filter": {"first_of_cluster": "maybe"}}, "filter: 'maybe' is not true or false"),
        ({**DESK, "id": "no spaces"}, "id: 'no spaces' is not an id"),
        ({**DESK, "colour": "red"}, "colour: unknown key"),
        ({"id": "desk"}, "url: missing (required); secret: missing (required)"),
        (["desk"], "body: must be a JSON object"),
        ("{not json", "body: not JSON"),
    ],
)
async def test_post_refuses_a_bad_field_with_400_naming_it(db_path: str, body: object, error: str) -> None:
    async with serving(db_path) as client:
        if isinstance(body, str):
            response = await client.post("/subscriptions", content=body)
        else:
            response = await client.post("/subscriptions", json=body)
        assert response.status_code == 400
        assert response.json()["error"].startswith(error)
        assert [s["id"] for s in (await client.get("/subscriptions")).json()["subscriptions"]] == ["newsroom"]


async def test_patch_merges_the_fields_given(db_path: str) -> None:
    async with serving(db_path) as client:
        await client.post(
            "/subscriptions", json={**DESK, "filter": {"sources": ["yonhap"], "sections": ["Defense"]}}
        )
        response = await client.patch(
            "/subscriptions/desk",
            json={
                "url": HOOK + "/v2",
                "secret": OLD_SECRET,
                "filter": {"sections": None, "languages": ["en"]},
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["url"] == HOOK + "/v2"
        assert body["filter"] == {"sources": ["yonhap"], "languages": ["en"]}
        assert body["secret_fingerprints"] == [fingerprint(OLD_SECRET)]
        response = await client.patch(
            "/subscriptions/desk", json={"filter": None, "events": ["story.created"]}
        )
        assert (response.json()["filter"], response.json()["events"]) == ({}, ["story.created"])
        bad = await client.patch("/subscriptions/desk", json={"url": "gopher://x"})
        assert bad.status_code == 400 and bad.json()["error"].startswith("url: ")
        renamed = await client.patch("/subscriptions/desk", json={"id": "other"})
        assert renamed.status_code == 400 and renamed.json()["error"].startswith("id: ")
        unset = await client.patch("/subscriptions/desk", json={"secret": None})
        assert unset.json() == {"error": "secret: missing (required)"}
        assert (await client.get("/subscriptions/desk")).json()["url"] == HOOK + "/v2"
        missing = await client.patch("/subscriptions/nobody", json={"url": HOOK})
        assert missing.status_code == 404
        assert missing.json() == {"error": "no subscription 'nobody'"}


async def test_patch_state_disables_and_enables_any_subscription(db_path: str) -> None:
    async with serving(db_path) as client:
        await client.post("/subscriptions", json=DESK)
        for sub_id in ("desk", "newsroom"):
            response = await client.patch(f"/subscriptions/{sub_id}", json={"state": "disabled"})
            assert response.status_code == 200
            assert (response.json()["state"], response.json()["reason"]) == (
                "disabled",
                "disabled by operator",
            )
            response = await client.patch(f"/subscriptions/{sub_id}", json={"state": "active"})
            assert response.json()["state"] == "active"
        bad = await client.patch("/subscriptions/desk", json={"state": "paused"})
        assert bad.status_code == 400 and bad.json()["error"].startswith("state: 'paused'")
        missing = await client.patch("/subscriptions/nobody", json={"state": "active"})
        assert missing.status_code == 404
        store = Store(db_path)
        store.sync_config_subscriptions([], utcnow())  # restarted without it: set aside
        store.close()
        gone = await client.patch("/subscriptions/newsroom", json={"state": "active"})
        assert gone.status_code == 409 and "has left the config" in gone.json()["error"]


async def test_a_config_subscription_keeps_its_declared_fields_and_stays(db_path: str) -> None:
    async with serving(db_path) as client:
        response = await client.patch("/subscriptions/newsroom", json={"url": HOOK + "/x"})
        assert response.status_code == 409
        assert response.json()["error"].startswith(
            "subscription 'newsroom' is declared in the config and cannot be changed at run "
            "time: edit the config file"
        )
        response = await client.delete("/subscriptions/newsroom")
        assert response.status_code == 409
        assert "'newsroom' is declared in the config and cannot be removed" in response.json()["error"]
        assert (await client.get("/subscriptions/newsroom")).json()["url"] == HOOK


async def test_delete_removes_a_runtime_subscription_and_its_deliveries(db_path: str) -> None:
    async with serving(db_path) as client:
        await client.post("/subscriptions", json=DESK)
        store = Store(db_path)
        save_stories(store, [story(1)], utcnow())
        assert (await client.get("/subscriptions/desk")).json()["backlog"] == 1
        response = await client.delete("/subscriptions/desk")
        assert (response.status_code, response.content) == (204, b"")
        assert (await client.get("/subscriptions/desk")).status_code == 404
        assert (
            store.db.execute("SELECT count(*) FROM deliveries WHERE subscription_id = 'desk'").fetchone()[0]
            == 0
        )
        store.close()
        assert (await client.delete("/subscriptions/desk")).status_code == 404


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/subscriptions"),
        ("POST", "/subscriptions"),
        ("GET", "/subscriptions/newsroom"),
        ("PATCH", "/subscriptions/newsroom"),
        ("DELETE", "/subscriptions/newsroom"),
    ],
)
async def test_every_subscription_route_needs_the_token(db_path: str, method: str, path: str) -> None:
    async with serving(db_path, headers={"Authorization": "Bearer wrong"}) as client:
        response = await client.request(method, path, json={"state": "disabled"})
    assert response.status_code == 401 and response.json() == {"error": "unauthorized"}
    store = Store(db_path)
    assert [s.state for s in store.list_subscriptions()] == ["active"]
    store.close()


async def test_without_a_writer_the_app_writes_through_its_own(db_path: str) -> None:
    app = build_app(db_path, state=ServiceState(tick_interval=1.0), metrics=Metrics(), token=TOKEN)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ingestd", headers=AUTH
        ) as client:
            assert (await client.post("/subscriptions", json=DESK)).status_code == 201
    store = Store(db_path)
    assert store.stored_subscription("desk").secrets == (SECRET,)  # type: ignore[union-attr]
    store.close()


async def test_openapi_describes_each_route_and_method(db_path: str) -> None:
    app = build_app(db_path, state=ServiceState(tick_interval=1.0), metrics=Metrics(), token=TOKEN)
    served: dict[str, set[str]] = {}
    for route in app.routes:
        if isinstance(route, Route):
            served.setdefault(route.path, set()).update(m.lower() for m in route.methods or () if m != "HEAD")
    async with serving(db_path) as client:
        spec = (await client.get("/openapi.json")).json()
    assert {path: set(item) for path, item in spec["paths"].items()} == served
    assert set(served["/subscriptions/{subscription_id}"]) == {"get", "patch", "delete"}
