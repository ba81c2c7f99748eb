"""OPML import and export: nested outlines, stable ids, all or nothing, no file: URLs."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestd import api_cli
from ingestd.models import FeedConfig
from ingestd.opml import OPMLError, export_opml, feed_id_for, import_opml, parse_opml
from ingestd.progress import progress_bar
from ingestd.store import Store
from tests.support import write_config
from tests.support.engines import ENGINES, open_engine

NOW = datetime(2020, 1, 9, tzinfo=UTC)

NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Newsroom</title></head>
  <body>
    <outline text="Wires">
      <outline text="Yonhap News" type="rss" xmlUrl="https://en.yna.co.kr/RSS/news.xml"/>
      <outline text="AP" title="AP Top News" type="rss" xmlUrl="https://ap.example/top.rss"/>
      <outline text="Asia">
        <outline text="&#50672;&#54633;&#45684;&#49828;" xmlUrl="https://www.yna.co.kr/rss/all.xml"/>
      </outline>
    </outline>
    <outline text="Yonhap News" xmlurl="http://yonhap.example/second.xml"/>
    <outline text="A link, not a feed" type="link" url="https://example.org/"/>
  </body>
</opml>"""


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Both storage engines: the import is one of the port's calls."""
    with open_engine(request.param, tmp_path) as engine:
        yield engine


def feeds_of(store: Store) -> dict[str, str]:
    return {f.id: f.url for f in store.list_feeds()}


def test_nested_outlines_become_feeds_with_stable_unique_ids(store: Store) -> None:
    report = import_opml(store, NESTED, interval=600, now=NOW)
    assert [(f.id, f.url) for f in report.added] == [
        ("yonhap-news", "https://en.yna.co.kr/RSS/news.xml"),
        ("ap-top-news", "https://ap.example/top.rss"),
        ("yna-co-kr-rss-all-xml", "https://www.yna.co.kr/rss/all.xml"),
        ("yonhap-news-2", "http://yonhap.example/second.xml"),
    ]
    feed = store.get_feed("ap-top-news")
    assert feed.origin == "opml" and feed.interval == 600 and feed.state == "ok"
    assert feed.next_poll_at == NOW


def test_the_same_file_again_adds_nothing(store: Store) -> None:
    import_opml(store, NESTED, interval=300, now=NOW)
    again = import_opml(store, NESTED, interval=300, now=NOW)
    assert again.added == []
    assert [existing for _, existing in again.present] == [
        "yonhap-news",
        "ap-top-news",
        "yna-co-kr-rss-all-xml",
        "yonhap-news-2",
    ]


def test_an_id_taken_by_a_config_feed_gets_a_suffix(store: Store) -> None:
    store.sync_config_feeds([FeedConfig(id="ap-top-news", url="https://other.example/")], NOW)
    report = import_opml(store, NESTED, interval=300, now=NOW)
    assert ("ap-top-news-2", "https://ap.example/top.rss") in [(f.id, f.url) for f in report.added]


@pytest.mark.parametrize(
    "title, url, expected",
    [
        ("Reuters World", "https://r.example/world", "reuters-world"),
        ("yonhap-en", "https://x.example/", "yonhap-en"),  # already an id: kept
        ("Défense & Sécurité", "https://x.example/", "defense-securite"),
        ("", "https://www.example.org/feeds/top.xml", "example-org-feeds-top-xml"),
        ("!!!", "https://example.org/", "example-org"),
        ("x" * 80 + " long", "https://x.example/", "x" * 64),
    ],
)
def test_feed_ids(title: str, url: str, expected: str) -> None:
    assert feed_id_for(title, url) == expected


def test_file_urls_are_refused_naming_the_outline_and_nothing_is_imported(store: Store) -> None:
    opml = NESTED.replace(
        b'<outline text="Asia">',
        b'<outline text="Asia">'
        b'<outline text="Local copy" xmlUrl="file:///etc/passwd"/>'
        b'<outline text="Plain path" xmlUrl="feeds/local.xml"/>',
    )
    with pytest.raises(OPMLError) as error:
        import_opml(store, opml, interval=300, now=NOW)
    assert len(error.value.problems) == 2
    assert 'outline "body › Wires › Asia › Local copy"' in error.value.problems[0]
    assert "file:///etc/passwd" in error.value.problems[0]
    assert "config file" in error.value.problems[0]
    assert "Plain path" in error.value.problems[1]
    assert feeds_of(store) == {}


@pytest.mark.parametrize(
    "document, message",
    [
        (b"<opml><body><outline text='x' xmlUrl='https://a.example/'>", "not well-formed"),
        (b"<rss version='2.0'><channel/></rss>", "root element is <rss>"),
        (b"<opml version='2.0'><head/></opml>", "no <body>"),
        (
            b"<?xml version='1.0'?><!DOCTYPE opml [<!ENTITY a 'aaaaaaaaaa'>"
            b"<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]>"
            b"<opml><body><outline text='&b;' xmlUrl='https://a.example/'/></body></opml>",
            "entities",
        ),
        (
            b"<?xml version='1.0'?><!DOCTYPE opml [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
            b"<opml><body><outline text='&x;' xmlUrl='https://a.example/'/></body></opml>",
            "entities",
        ),
        (
            b"<opml><body><outline text='ftp' xmlUrl='ftp://a.example/feed'/></body></opml>",
            "only http and https",
        ),
        (
            b"<opml><body><outline text='js' xmlUrl='javascript:alert(1)'/></body></opml>",
            "only http and https",
        ),
        (b"<opml><body><outline text='nohost' xmlUrl='https:///feed'/></body></opml>", "has no host"),
    ],
)
def test_bad_opml_is_a_clear_error_and_imports_nothing(store: Store, document: bytes, message: str) -> None:
    good = b"<outline text='good' xmlUrl='https://good.example/feed'/>"
    document = document.replace(b"<body>", b"<body>" + good, 1)
    with pytest.raises(OPMLError, match=message):
        import_opml(store, document, interval=300, now=NOW)
    assert feeds_of(store) == {}


def test_a_file_without_feeds_is_an_error(store: Store) -> None:
    with pytest.raises(OPMLError, match="no feeds"):
        import_opml(
            store, b"<opml version='2.0'><body><outline text='folder'/></body></opml>", interval=300, now=NOW
        )


def test_a_failure_half_way_through_the_import_leaves_nothing(store: Store) -> None:
    def failing_progress(feeds: list) -> Iterator:
        yield feeds[0]
        yield feeds[1]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_opml(store, NESTED, interval=300, now=NOW, progress=failing_progress)
    assert feeds_of(store) == {}


def test_export_then_import_gives_the_same_feeds(store: Store, tmp_path: Path) -> None:
    import_opml(store, NESTED, interval=300, now=NOW)
    store.sync_config_feeds(
        [
            FeedConfig(id="local", url="file:///srv/feeds/"),
            FeedConfig(id="Wire.EN_1", url="https://wire.example/en"),
        ],
        NOW,
    )
    document, left_out = export_opml(store.list_feeds())
    assert [f.id for f in left_out] == ["local"]
    assert parse_opml(document, interval=300)  # what we write, we read
    other = Store(tmp_path / "other.db")
    try:
        import_opml(other, document, interval=300, now=NOW)
        exported = {k: v for k, v in feeds_of(store).items() if k != "local"}
        assert feeds_of(other) == exported
    finally:
        other.close()


def test_removed_feeds_are_not_exported(store: Store) -> None:
    store.sync_config_feeds([FeedConfig(id="old", url="https://old.example/")], NOW)
    store.sync_config_feeds([], NOW)
    document, _ = export_opml(store.list_feeds())
    assert b"old.example" not in document


# ── the commands ─────────────────────────────────────────────────────────────


def run_feeds(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ingestd")
    feeds = parser.add_subparsers().add_parser("feeds").add_subparsers(required=True)

    def with_config(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--config")
        return sub

    api_cli.add_feeds_actions(feeds, with_config)
    args = parser.parse_args(["feeds", *argv])
    return args.handler(args)


def test_import_and_export_commands(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = write_config(
        tmp_path, f'[storage]\npath = "{tmp_path / "db.sqlite"}"\n[scheduler]\ndefault_interval = "10m"\n'
    )
    source = tmp_path / "in.opml"
    source.write_bytes(NESTED)
    assert run_feeds("import", str(source), "--config", str(config)) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "yonhap-news  https://en.yna.co.kr/RSS/news.xml"
    assert err == "4 feeds imported, 0 already there\n"  # no progress bar: not a terminal
    assert run_feeds("export", "--config", str(config), "-o", str(tmp_path / "out.opml")) == 0
    assert len(parse_opml((tmp_path / "out.opml").read_bytes(), interval=1)) == 4
    store = Store(tmp_path / "db.sqlite")
    assert store.get_feed("yonhap-news").interval == 600
    store.close()


def test_import_command_reports_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = write_config(tmp_path, f'[storage]\npath = "{tmp_path / "db.sqlite"}"\n')
    source = tmp_path / "bad.opml"
    source.write_bytes(b"<opml><body><outline text='x' xmlUrl='file:///x'/></body></opml>")
    assert run_feeds("import", str(source), "--config", str(config)) == 1
    err = capsys.readouterr().err
    assert f'{source}: outline "body › x"' in err
    assert err.endswith(f"{source}: nothing imported\n")
    assert run_feeds("import", str(tmp_path / "missing.opml"), "--config", str(config)) == 1


def test_progress_bar_only_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert progress_bar("feeds", io.StringIO()) is None
    terminal = Terminal()
    assert list(progress_bar("feeds", terminal)(["a", "b"])) == ["a", "b"]
    assert terminal.getvalue() == "\r1/2 feeds\r2/2 feeds\n"
