"""Per-feed credentials: parsed like the config's other secrets, sent to the feed's own
origin only (never after a redirect elsewhere, never to other origins' article pages),
a client certificate presented over TLS, [fetch] ca_bundle trusted, and no secret in a
log line, `feeds list`, GET /feeds or the status page. Servers run on 127.0.0.1 and
127.0.0.2, started by the tests."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingestd.api import ServiceState, build_app
from ingestd.config import load_config, parse_feed
from ingestd.credentials import covers, origin_of
from ingestd.errors import ConfigError, HTTPStatusError, TransportError
from ingestd.fetch import Fetcher
from ingestd.metrics import Metrics
from ingestd.models import FeedCredentials
from tests.support.config import write_config
from tests.support.fetching import loopback_fetcher
from tests.support.processes import clean_env
from tests.support.servers import Recording, recording

trustme = pytest.importorskip("trustme")

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
KEY, TOKEN, PASSWORD, QUERY_TOKEN = "key-6f1d93", "bearer-a83c10", "pw-77e2b4", "qtok-5c0e81"
SECRETS = (KEY, TOKEN, PASSWORD, QUERY_TOKEN)
LOOPBACK = ["127.0.0.1", "127.0.0.2"]


def fetcher(**overrides: Any) -> Fetcher:
    return loopback_fetcher(**({"allow_private": LOOPBACK} | overrides))


def fetch(url: str, credentials: FeedCredentials | None, **overrides: Any) -> Any:
    async def once() -> Any:
        async with fetcher(**overrides) as f:
            return await f.fetch(url, credentials=credentials)

    return asyncio.run(asyncio.wait_for(once(), 20))


def credentials(url: str, **table: Any) -> FeedCredentials:
    feed = parse_feed({"id": "wire", "url": url, **table}, "test", 300.0)
    assert feed.credentials is not None
    return feed.credentials


ALL = {
    "headers": {"X-Api-Key": "env:WIRE_KEY"},
    "auth": {"bearer": TOKEN},
    "query": {"api_key": QUERY_TOKEN},
}


@pytest.fixture(autouse=True)
def _wire_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIRE_KEY", KEY)


def carried(seen: Any) -> bool:
    """Did this request carry any of the credentials?"""
    return seen.headers.get("x-api-key") == KEY or "authorization" in seen.headers or QUERY_TOKEN in seen.path


# ── parsing ──────────────────────────────────────────────────────────────────


def test_config_reads_headers_auth_query_and_keeps_them_out_of_repr(tmp_path: Path) -> None:
    (tmp_path / "password").write_text(PASSWORD + "\n")
    path = write_config(
        tmp_path,
        """
        [[feeds]]
        id = "wire"
        url = "https://wire.example.com/feed.xml"
        headers = { "X-Api-Key" = "env:WIRE_KEY" }
        auth = { basic = { username = "newsroom", password = "file:password" } }
        query = { api_key = "literal-token" }
        """,
    )
    feed = load_config(path, env={}).feeds[0]
    creds = feed.credentials
    assert creds is not None
    assert creds.origin == "https://wire.example.com:443"
    assert creds.headers == (("X-Api-Key", KEY),)
    assert creds.basic == ("newsroom", PASSWORD)  # file: relative to the config's folder
    assert creds.query == (("api_key", "literal-token"),)
    assert creds.shown() == {"headers": {"X-Api-Key": "set"}, "auth": "basic", "query": {"api_key": "set"}}
    for text in (repr(feed), str(feed), repr(creds)):
        assert KEY not in text and PASSWORD not in text and "literal-token" not in text


@pytest.mark.parametrize(
    ("table", "key", "reason"),
    [
        ({"headers": {"X-Api-Key": "env:NOT_SET_ANYWHERE"}}, "headers", "NOT_SET_ANYWHERE is not set"),
        ({"headers": {"Bad Name": "x"}}, "headers", "not a header name"),
        ({"headers": {"Host": "x"}}, "headers", "set by the HTTP client"),
        ({"headers": {"X-A": "a\nb"}}, "headers", "cannot carry"),
        ({"headers": {"X-A": 12345}}, "headers", "must be a string"),
        ({"auth": {"basic": "no-colon"}}, "auth", "USER:PASSWORD"),
        ({"auth": {"digest": "x"}}, "auth", "must be one of"),
        ({"auth": {"bearer": "t"}, "headers": {"Authorization": "x"}}, "auth", "not both"),
        ({"client_key": "k.pem"}, "client_key", "needs client_cert"),
        ({"client_cert": "missing.pem"}, "client_cert", "cannot read"),
    ],
)
def test_bad_credentials_are_refused_naming_the_key(table: dict, key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_feed({"id": "w", "url": "https://wire.example.com/", **table}, "test", 300.0)
    assert any(p.key == key and reason in p.reason for p in caught.value.problems), caught.value
    assert "12345" not in str(caught.value)  # a bad value is never echoed


def test_basic_as_user_colon_password_reads_a_secret_password() -> None:
    creds = credentials("https://wire.example.com/", auth={"basic": "newsroom:env:WIRE_KEY"})
    assert creds.basic == ("newsroom", KEY)


def test_over_http_secrets_are_values_and_client_certificates_are_refused() -> None:
    table = {"id": "w", "url": "https://wire.example.com/", "headers": {"X-Api-Key": "env:WIRE_KEY"}}
    with pytest.raises(ConfigError) as caught:
        parse_feed(table | {"client_cert": "/etc/ssl/key.pem"}, "POST /feeds", 300.0, literal_secrets=True)
    assert {p.key for p in caught.value.problems} == {"headers", "client_cert"}
    literal = parse_feed(table | {"headers": {"X-Api-Key": "v"}}, "POST /feeds", 300.0, literal_secrets=True)
    assert literal.credentials is not None and literal.credentials.headers == (("X-Api-Key", "v"),)


def test_credentials_are_for_http_feeds_only(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[[feeds]]\nid = "f"\nurl = "seeds"\nheaders = { X-A = "v" }\n')
    with pytest.raises(ConfigError, match="credentials are for http"):
        load_config(path, env={})


def test_an_http_origin_covers_its_https_upgrade_only() -> None:
    creds = FeedCredentials(origin=origin_of("http://Wire.Example.com/feed"))
    assert creds.origin == "http://wire.example.com:80"
    assert covers(creds, "http://wire.example.com:80/other")
    assert covers(creds, "https://wire.example.com/feed")  # upgraded, same server
    assert not covers(creds, "https://wire.example.com:8443/feed")
    assert not covers(creds, "http://evil.example.com/feed")
    assert not covers(FeedCredentials(origin="https://wire.example.com:443"), "http://wire.example.com/")


# ── on the wire ──────────────────────────────────────────────────────────────


@pytest.fixture
def servers() -> Iterator[tuple[Recording, Recording, Recording]]:
    """home (the feed's origin), elsewhere on another address, and on another port."""
    with (
        recording({"/feed": (200, {}, FEED), "/back": (302, {}, b"")}, host="127.0.0.2") as other,
        recording({"/feed": (200, {}, FEED)}) as port,
        recording({}) as home,
    ):
        other.routes["/back"] = (302, {"Location": home.url("/feed")}, b"")
        home.routes.update(
            {
                "/feed": (200, {}, FEED),
                "/old": (302, {"Location": "/feed"}, b""),
                "/echo": (301, {"Location": f"/feed?api_key={QUERY_TOKEN}"}, b""),
                "/to-other": (302, {"Location": other.url("/feed")}, b""),
                "/to-port": (307, {"Location": port.url("/feed")}, b""),
                "/bounce": (302, {"Location": other.url("/back")}, b""),
                "/fail": (503, {}, b"down"),
            }
        )
        yield home, other, port


def test_credentials_go_to_the_origin_and_follow_a_same_origin_redirect(servers: Any) -> None:
    home, _, _ = servers
    result = fetch(home.url("/old"), credentials(home.url("/old"), **ALL))
    assert result.status == 200
    assert [s.path for s in home.seen] == [f"/old?api_key={QUERY_TOKEN}", f"/feed?api_key={QUERY_TOKEN}"]
    for seen in home.seen:
        assert seen.headers["x-api-key"] == KEY
        assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert result.final_url == home.url("/feed")  # recorded without the token


@pytest.mark.parametrize("path", ["/to-other", "/to-port"])
def test_a_redirect_to_another_origin_gets_no_credentials(servers: Any, path: str) -> None:
    home, other, port = servers
    target = other if path == "/to-other" else port
    result = fetch(home.url(path), credentials(home.url("/feed"), **ALL))
    assert result.status == 200 and result.final_url == target.url("/feed")
    assert carried(home.seen[0])
    assert [carried(s) for s in target.seen] == [False]
    assert target.seen[0].path == "/feed"


def test_once_the_origin_is_left_no_later_hop_gets_credentials(servers: Any) -> None:
    home, other, _ = servers
    fetch(home.url("/bounce"), credentials(home.url("/feed"), **ALL))
    assert [s.path.split("?")[0] for s in home.seen] == ["/bounce", "/feed"]
    assert carried(home.seen[0]) and not carried(home.seen[1])
    assert not carried(other.seen[0])


def test_an_echoed_token_is_kept_out_of_recorded_urls_and_errors(servers: Any) -> None:
    home, _, _ = servers
    creds = credentials(home.url("/feed"), **ALL)
    result = fetch(home.url("/echo"), creds)
    assert result.permanent_redirect == home.url("/feed")
    assert result.final_url == home.url("/feed")
    assert home.seen[-1].path == f"/feed?api_key={QUERY_TOKEN}"  # sent once, not twice
    with pytest.raises(HTTPStatusError) as caught:
        fetch(home.url("/fail"), creds)
    assert QUERY_TOKEN not in str(caught.value) and home.url("/fail") in str(caught.value)


def test_pages_of_other_origins_get_no_credentials(servers: Any) -> None:
    home, other, _ = servers
    fetch(other.url("/feed"), credentials(home.url("/feed"), **ALL))
    assert not carried(other.seen[0])


# ── TLS: CA bundle and client certificates ───────────────────────────────────


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Any]:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "127.0.0.2")
    client = ca.issue_cert("ingestd-client@example.org")
    paths = {
        "ca_pem": tmp_path / "ca.pem",
        "client": tmp_path / "client.pem",
        "client_cert": tmp_path / "client-cert.pem",
        "client_key": tmp_path / "client-key.pem",
    }
    ca.cert_pem.write_to_path(str(paths["ca_pem"]))
    client.private_key_and_cert_chain_pem.write_to_path(str(paths["client"]))
    client.cert_chain_pems[0].write_to_path(str(paths["client_cert"]))
    client.private_key_pem.write_to_path(str(paths["client_key"]))
    return {"ca": ca, "server": server, **{k: str(v) for k, v in paths.items()}}


def tls(pki: dict[str, Any], mode: ssl.VerifyMode) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    pki["server"].configure_cert(context)
    pki["ca"].configure_trust(context)
    context.verify_mode = mode
    return context


def test_ca_bundle_verifies_a_server_the_default_store_does_not_know(pki: dict[str, Any]) -> None:
    with recording({"/feed": (200, {}, FEED)}, tls=tls(pki, ssl.CERT_NONE)) as server:
        with pytest.raises(TransportError, match="(?i)certificate"):
            fetch(server.url("/feed"), None)
        assert fetch(server.url("/feed"), None, ca_bundle=pki["ca_pem"]).status == 200


@pytest.mark.parametrize("split", [False, True], ids=["cert-with-key", "key-apart"])
def test_client_certificate_opens_a_server_that_requires_one(pki: dict[str, Any], split: bool) -> None:
    with recording({"/feed": (200, {}, FEED)}, tls=tls(pki, ssl.CERT_REQUIRED)) as server:
        table = (
            {"client_cert": pki["client_cert"], "client_key": pki["client_key"]}
            if split
            else {"client_cert": pki["client"]}
        )
        result = fetch(
            server.url("/feed"), credentials(server.url("/feed"), **table), ca_bundle=pki["ca_pem"]
        )
        assert result.status == 200
        assert server.seen[0].client_cert is not None
        with pytest.raises(TransportError):
            fetch(server.url("/feed"), None, ca_bundle=pki["ca_pem"])


def test_client_certificate_is_not_presented_after_a_redirect_elsewhere(pki: dict[str, Any]) -> None:
    with (
        recording({"/feed": (200, {}, FEED)}, host="127.0.0.2", tls=tls(pki, ssl.CERT_OPTIONAL)) as other,
        recording({}, tls=tls(pki, ssl.CERT_REQUIRED)) as home,
    ):
        home.routes["/feed"] = (302, {"Location": other.url("/feed")}, b"")
        creds = credentials(home.url("/feed"), client_cert=pki["client"])
        assert fetch(home.url("/feed"), creds, ca_bundle=pki["ca_pem"]).status == 200
        assert home.seen[0].client_cert is not None
        assert other.seen[0].client_cert is None


def test_a_bad_ca_bundle_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "not.pem").write_text("not a certificate")
    for value, reason in (("missing.pem", "No such file"), ("not.pem", "")):
        path = write_config(tmp_path, f'[fetch]\nca_bundle = "{value}"\n')
        with pytest.raises(ConfigError) as caught:
            load_config(path, env={})
        assert caught.value.problems[0].key == "fetch.ca_bundle"
        assert reason in caught.value.problems[0].reason


# ── never shown ──────────────────────────────────────────────────────────────


def rss(*links: str) -> bytes:
    items = "".join(
        f"<item><guid>g{i}</guid><title>Story {i}</title><link>{link}</link>"
        f"<description>Body of story {i}, long enough to be one.</description>"
        f"<pubDate>Thu, 09 Jan 2020 09:25:00 +0900</pubDate></item>"
        for i, link in enumerate(links)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{items}</channel></rss>'.encode()
    )


PAGE = (
    b"<html><head><title>A page</title></head><body><article><p>"
    + b"Words of a page. " * 40
    + b"</p></article></body></html>"
)


def ingestd(config: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingestd", *argv, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(**env),
    )


def test_secrets_are_never_logged_or_shown(tmp_path: Path) -> None:
    """Config and run-time feeds with every kind of credential: a poll sends them to the
    feed's origin and its own pages only, and no log line, `feeds list` (text, --json),
    GET /feeds or status page shows one. A run-time feed's secrets are in the database."""
    (tmp_path / "token").write_text(TOKEN)
    with (
        recording({"/page": (200, {"Content-Type": "text/html"}, PAGE)}, host="127.0.0.2") as other,
        recording({}) as home,
    ):
        home.routes.update(
            {
                "/feed": (
                    200,
                    {"Content-Type": "application/rss+xml"},
                    rss(home.url("/page"), other.url("/page")),
                ),
                "/page": (200, {"Content-Type": "text/html"}, PAGE),
                "/runtime": (200, {"Content-Type": "application/rss+xml"}, rss()),
            }
        )
        config = write_config(
            tmp_path,
            f"""
            [storage]
            path = "db.sqlite"
            [log]
            level = "debug"
            format = "json"
            [fetch]
            allow_private = ["127.0.0.1", "127.0.0.2"]
            [[feeds]]
            id = "wire"
            url = "{home.url("/feed")}"
            fetch_article = true
            headers = {{ "X-Api-Key" = "env:WIRE_KEY" }}
            auth = {{ bearer = "file:token" }}
            query = {{ api_key = "{QUERY_TOKEN}" }}
            """,
        )
        added = ingestd(
            config,
            "feeds",
            "add",
            "late",
            "--url",
            home.url("/runtime"),
            "--header",
            "X-Api-Key=env:WIRE_KEY",
            "--basic",
            "newsroom:env:WIRE_PASSWORD",
            "--query",
            f"api_key={QUERY_TOKEN}",
            WIRE_KEY=KEY,
            WIRE_PASSWORD=PASSWORD,
        )
        assert added.returncode == 0, added.stderr
        ran = ingestd(config, "run", "--once", WIRE_KEY=KEY)
        assert ran.returncode == 0, ran.stderr
        listed = ingestd(config, "feeds", "list", WIRE_KEY=KEY)
        listed_json = ingestd(config, "feeds", "list", "--json", WIRE_KEY=KEY)
        checked = ingestd(config, "check-config", WIRE_KEY=KEY)

    by_path = {s.path.split("?")[0]: s for s in home.seen}
    assert carried(by_path["/feed"]) and carried(by_path["/page"])  # the origin's own page: yes
    assert [carried(s) for s in other.seen] == [False]  # another origin's page: no
    late = by_path["/runtime"]
    assert late.headers["x-api-key"] == KEY and late.headers["authorization"].startswith("Basic ")
    assert QUERY_TOKEN in late.path

    rows = {json.loads(line)["id"]: json.loads(line) for line in listed_json.stdout.splitlines()}
    assert rows["wire"]["credentials"] == {
        "headers": {"X-Api-Key": "set"},
        "auth": "bearer",
        "query": {"api_key": "set"},
    }
    assert rows["late"]["credentials"]["auth"] == "basic"

    async def api() -> list[str]:
        import httpx

        app = build_app(
            str(tmp_path / "db.sqlite"), state=ServiceState(tick_interval=1.0), metrics=Metrics(), token="t"
        )
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://ingestd",
                headers={"Authorization": "Bearer t"},
            ) as client:
                feeds, page = await client.get("/feeds"), await client.get("/")
                assert feeds.status_code == 200 and page.status_code == 200
                assert {f["id"]: f["credentials"] for f in feeds.json()["feeds"]}["wire"]["auth"] == "bearer"
                assert "credentials: X-Api-Key, bearer auth, ?api_key" in page.text
                return [feeds.text, page.text]

    shown = [ran.stdout, ran.stderr, listed.stdout, listed.stderr, listed_json.stdout, checked.stdout]
    shown += [added.stdout, added.stderr, checked.stderr, *asyncio.run(api())]
    assert any("wire" in text for text in shown)
    for text in shown:
        for secret in SECRETS:
            assert secret not in text

    # run-time secrets are stored like subscriptions' (documented): in the database
    with sqlite3.connect(tmp_path / "db.sqlite") as db:
        stored = dict(db.execute("SELECT id, secrets FROM feeds"))
    assert stored["wire"] is None  # a config feed's stay in the config
    assert KEY in stored["late"] and PASSWORD in stored["late"]


def test_a_config_feed_taking_over_a_run_time_feeds_id_drops_its_stored_secrets(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from ingestd.store import Store

    runtime = parse_feed({"id": "w", "url": "https://wire.example.com/", **ALL}, "cli", 300.0)
    declared = parse_feed({"id": "w", "url": "https://wire.example.com/"}, "config", 300.0)
    store = Store(tmp_path / "db.sqlite")
    try:
        assert store.add_feed(runtime, "cli", datetime.now(UTC))
        stored = store.get_feed("w")
        assert stored is not None and stored.secrets == runtime.credentials
        assert stored.credentials == runtime.credentials.shown()  # type: ignore[union-attr]
        store.sync_config_feeds([declared], datetime.now(UTC))
        taken = store.get_feed("w")
        assert taken is not None and taken.secrets is None and taken.credentials is None
    finally:
        store.close()


def test_a_cookie_one_feed_was_set_is_never_sent_with_another_feeds_request() -> None:
    from ingestd.fetch import Fetcher

    with recording(
        {"/a": (200, {"Set-Cookie": "session=feed-a-secret; Path=/"}, b"<rss/>"), "/b": (200, {}, b"<rss/>")}
    ) as host:

        async def both() -> None:
            async with Fetcher(
                timeout=5.0,
                connect_timeout=2.0,
                user_agent="t",
                allow_private=["127.0.0.1"],
                max_body=10_000,
                max_redirects=2,
                environ={},
            ) as fetcher:
                await fetcher.fetch(host.url("/a"))
                await fetcher.fetch(host.url("/b"))

        asyncio.run(asyncio.wait_for(both(), 20))
    assert "cookie" not in host.seen[1].headers
