"""The API against its own OpenAPI document: every route and method described, every
field it returns declared, 405s that name the methods a path has, and a schemathesis
run over /openapi.json on a database with feeds, stories and subscriptions in it."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.applications import Starlette
from starlette.routing import Route

from ingestd.api import ServiceState, bind, build_app, serve
from ingestd.api._openapi import SECRET_PATTERN, SPEC
from ingestd.compose import save_poll, save_stories
from ingestd.metrics import Metrics
from ingestd.models import FeedConfig, FeedUpdate, PollWrite, SubscriptionConfig
from ingestd.store import Store, Writer
from ingestd.timeutil import to_iso
from ingestd.webhooks._signing import signing_key
from tests.support.stories import NOW, story
from tests.support.webhooks import SECRET

TOKEN = "tok-openapi"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
METHODS = ("get", "put", "post", "delete", "patch")


def seeded(db: Path) -> Path:
    """Feeds in each state (one quiet), stories with versions, both kinds of subscription."""
    store = Store(db)
    store.sync_config_feeds(
        [
            FeedConfig(id=f, url=f"https://{f}.example/feed", source="generic")
            for f in ("good", "bad", "hush")
        ],
        NOW,
    )
    save_poll(
        store,
        PollWrite("good", to_iso(NOW), 12, 200, 100),
        [story(1, feed="good")],
        FeedUpdate.of("good", {"state": "ok"}),
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
        PollWrite("hush", to_iso(NOW), 12, 200, 100),
        [],
        FeedUpdate.of("hush", {"state": "ok", "quiet_since": NOW}),
        NOW,
    )
    save_stories(store, [story(n, feed="good") for n in range(2, 6)], NOW)
    save_stories(store, [story(2, feed="good", body="A second version of story 2, now longer.")], NOW)
    store.sync_config_subscriptions(
        [SubscriptionConfig("newsroom", "https://hooks.example/in", (SECRET,))], NOW
    )
    store.add_subscription(SubscriptionConfig("desk", "https://hooks.example/desk", (SECRET,)), "api", NOW)
    store.close()
    return db


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Starlette]:
    """The app with a writer of its own (the daemon's part), so it needs no lifespan run."""
    db = seeded(tmp_path_factory.mktemp("openapi") / "ingestd.db")
    writer = Writer(db)
    state = ServiceState(tick_interval=1.0)
    state.scheduler_running = True
    state.ticked()
    yield build_app(db, state=state, metrics=Metrics(), token=TOKEN, writer=writer)
    writer.close()


def call(app: Starlette, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingestd", headers=AUTH) as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


def response_validator(path: str, method: str, status: int) -> Draft202012Validator:
    schema = SPEC["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    # the components beside it, so that its "#/components/…" references resolve
    return Draft202012Validator({**schema, "components": SPEC["components"]})


def test_every_route_and_method_is_described_and_nothing_else(app: Starlette) -> None:
    served = {
        (r.path, m.lower())
        for r in app.routes
        if isinstance(r, Route)
        for m in (r.methods or ())
        if m != "HEAD"
    }
    described = {(p, m) for p, item in SPEC["paths"].items() for m in item if m in METHODS}
    assert served == described


@pytest.mark.parametrize(
    "path, concrete",
    [
        ("/feeds", "/feeds"),
        ("/stories", "/stories"),
        ("/stories/{story_id}", None),
        ("/subscriptions", "/subscriptions"),
        ("/subscriptions/{subscription_id}", "/subscriptions/desk"),
        ("/healthz", "/healthz"),
        ("/readyz", "/readyz"),
    ],
)
def test_what_get_returns_is_declared_field_by_field(app: Starlette, path: str, concrete: str | None) -> None:
    """Response objects are closed (additionalProperties: false): an undeclared field fails."""
    if concrete is None:
        first = call(app, "GET", "/stories", params={"limit": 1}).json()["stories"][0]["id"]
        concrete = f"/stories/{first}"
    response = call(app, "GET", concrete)
    assert response.status_code == 200, response.text
    errors = list(response_validator(path, "get", 200).iter_errors(response.json()))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_a_quiet_feed_shows_quiet_since_as_the_spec_declares(app: Starlette) -> None:
    feeds = {f["id"]: f for f in call(app, "GET", "/feeds").json()["feeds"]}
    assert feeds["hush"]["quiet_since"] == "2020-01-09T00:31:02Z"
    assert feeds["good"]["quiet_since"] is None
    assert "quiet_since" in SPEC["components"]["schemas"]["Feed"]["required"]


@pytest.mark.parametrize("path", list(SPEC["paths"]))
def test_a_method_the_path_lacks_is_405_naming_those_it_has(app: Starlette, path: str) -> None:
    concrete = re.sub(r"\{[^}]+\}", "desk", path)
    documented = {m.upper() for m in SPEC["paths"][path] if m in METHODS}
    missing = sorted({"PUT", "POST", "DELETE", "PATCH"} - documented)[0]
    response = call(app, missing, concrete)
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert allowed == documented | {"HEAD"}
    assert set(response.json()) == {"error"}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.from_regex(r"whsec_[A-Za-z0-9+/=\n]{0,12}", fullmatch=True))
def test_the_secret_pattern_accepts_only_what_signing_accepts(secret: str) -> None:
    """What the spec calls valid, the signer takes (the spec may be the stricter one)."""
    if re.match(SECRET_PATTERN, secret):
        assert signing_key(secret)


def test_a_body_the_schema_refuses_is_400_naming_the_field(app: Starlette) -> None:
    new = {"id": "odd", "url": "https://hooks.example/odd", "secret": SECRET}
    for body, error in [
        ({**new, "events": []}, "events: [] should be non-empty"),
        ({**new, "filter": {"first_of_cluster": "yes"}}, "filter.first_of_cluster: 'yes' is not of type"),
        ({**new, "secret": SECRET[:-2] + "="}, "secret: must be whsec_ and the key in base64"),
    ]:
        response = call(app, "POST", "/subscriptions", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"].startswith(error)
        assert SECRET[6:-2] not in response.json()["error"]  # a secret is never echoed
    response = call(app, "POST", "/subscriptions", json={**new, "url": "http://0[m#1"})
    assert response.json() == {"error": "url: 'http://0[m#1' is not a URL (Invalid IPv6 URL)"}
    response = call(app, "PATCH", "/subscriptions/desk", json={"filter": {"keywords": [1]}})
    assert response.status_code == 400
    assert response.json()["error"].startswith("filter")


# ── schemathesis ─────────────────────────────────────────────────────────────


def test_openapi_json_serves_the_document_the_run_below_uses(app: Starlette) -> None:
    assert call(app, "GET", "/openapi.json").json() == SPEC


@pytest.fixture(scope="module")
def base_url(app: Starlette) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 from a thread, for the whole module: one
    lifespan, as in the daemon (schemathesis' ASGI client would run one per request)."""
    sock = bind("127.0.0.1:0")
    stop = threading.Event()

    async def main() -> None:
        stopping = asyncio.Event()
        server = asyncio.create_task(serve(app, sock, stopping))
        await asyncio.to_thread(stop.wait)
        stopping.set()
        await asyncio.wait_for(server, timeout=5)

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    thread.join(timeout=10)


# Loaded from the served document (the test above), not through a fixture: schemathesis'
# lazy fixture loader does not work with the pytest this project uses.
schema = schemathesis.openapi.from_dict(SPEC)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_the_promises_of_its_openapi_document(case: Any, base_url: str) -> None:
    # Four 400s answer schema-valid input by design, on rules a schema cannot state: a
    # cursor the server never gave (it is opaque), and a q without a word to search for
    # (Unicode word characters, which JSON Schema's regex dialect does not share).
    query = (case.query or {}) if case.operation.path == "/stories" else {}
    by_design = "cursor" in query or not re.search(r"\w", str(query.get("q", "x")))
    # and a feed's credentials: which header names a client may set, auth's two shapes
    body = case.body if isinstance(case.body, dict) else {}
    by_design |= case.operation.path.startswith("/feeds") and bool({"headers", "auth", "query"} & body.keys())
    # and a feed URL whose port is out of range (the schema's URL pattern does not count)
    by_design |= case.operation.path.startswith("/feeds") and _bad_port(body.get("url"))
    excluded = [positive_data_acceptance] if by_design else []
    case.call_and_validate(base_url=base_url, headers=AUTH, timeout=10, excluded_checks=excluded)


def _bad_port(url: Any) -> bool:
    try:
        urlsplit(url).port if isinstance(url, str) else None
    except ValueError:
        return True
    return False
