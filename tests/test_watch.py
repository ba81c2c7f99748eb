"""Watch folders (`folder:` feeds): which files are taken, where they go, and a poll
that consumes them; the decisions called directly, the poll on an in-process daemon."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from watchfiles import Change

from ingestd import opml, watch
from ingestd.config import ConfigError, load_config
from ingestd.daemon import Daemon
from tests.support import daemon_config, rss, write_config
from tests.support.daemon import poll


class TestComplete:
    def test_a_file_seen_the_same_twice_is_taken(self) -> None:
        """Same size and mtime in both looks: the writer is done."""
        seen = {"a.xml": watch.Seen(10, 1)}
        assert watch.complete(seen, seen) == ["a.xml"]

    def test_a_growing_file_is_left(self) -> None:
        """A file whose size changed between looks is still being written."""
        assert watch.complete({"a.xml": watch.Seen(10, 1)}, {"a.xml": watch.Seen(20, 2)}) == []

    def test_a_file_seen_once_is_left(self) -> None:
        assert watch.complete({}, {"a.xml": watch.Seen(10, 1)}) == []

    def test_a_file_renamed_into_place_is_taken_at_once(self) -> None:
        """Renamed from a temporary name: complete without a second look."""
        assert watch.complete({}, {"a.xml": watch.Seen(10, 1)}, {"a.xml"}) == ["a.xml"]

    def test_taken_in_name_order(self) -> None:
        seen = {"b.xml": watch.Seen(1, 1), "a.xml": watch.Seen(1, 1)}
        assert watch.complete(seen, seen) == ["a.xml", "b.xml"]


class TestRenamedIntoPlace:
    def test_a_temporary_name_deleted_and_a_name_added_is_a_rename(self) -> None:
        changes = {(Change.deleted, "/in/a.xml.tmp"), (Change.added, "/in/a.xml")}
        assert watch.renamed_into_place(changes) == {"a.xml"}

    def test_an_added_file_alone_is_not_a_rename(self) -> None:
        assert watch.renamed_into_place({(Change.added, "/in/a.xml")}) == frozenset()

    @pytest.mark.parametrize("name", ["a.tmp", ".a.xml", "a.xml.part"])
    def test_temporary_names(self, name: str) -> None:
        assert watch.is_temporary(name)


class TestDestinations:
    def test_processed_or_error_by_reason(self, tmp_path: Path) -> None:
        moves = watch.destinations(tmp_path, {"ok.xml": None, "bad.xml": "not a feed"})
        assert [(m.target.relative_to(tmp_path).as_posix(), m.reason) for m in moves] == [
            ("error/bad.xml", "not a feed"),
            ("processed/ok.xml", None),
        ]

    def test_file_away_writes_the_reason_and_keeps_an_earlier_file_of_the_same_name(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "error").mkdir()
        (tmp_path / "error" / "bad.xml").write_text("earlier")
        (tmp_path / "bad.xml").write_text("later")
        watch.file_away(watch.destinations(tmp_path, {"bad.xml": "not a feed"}))
        assert (tmp_path / "error" / "bad.xml").read_text() == "earlier"
        assert (tmp_path / "error" / "bad.1.xml").read_text() == "later"
        assert (tmp_path / "error" / "bad.1.xml.reason").read_text() == "not a feed\n"
        assert not (tmp_path / "bad.xml").exists()


def test_look_skips_temporary_names_and_folders(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_bytes(b"12345")
    (tmp_path / "b.xml.part").write_bytes(b"1")
    (tmp_path / ".hidden").write_bytes(b"1")
    (tmp_path / "processed").mkdir()
    assert {name: seen.size for name, seen in watch.look(tmp_path).items()} == {"a.xml": 5}


def test_folder_path_refuses_what_is_not_a_folder_url() -> None:
    with pytest.raises(ValueError, match="not a folder: URL"):
        watch.folder_path("folder:")


class TestConfig:
    def test_a_relative_folder_is_relative_to_the_config_file(self, tmp_path: Path) -> None:
        path = write_config(tmp_path, '[[feeds]]\nid = "drop"\nurl = "folder:inbox"\n')
        assert load_config(path, env={}).feeds[0].url == f"folder:{tmp_path.resolve() / 'inbox'}"

    def test_an_empty_folder_is_refused_naming_the_key(self, tmp_path: Path) -> None:
        path = write_config(tmp_path, '[[feeds]]\nid = "drop"\nurl = "folder:"\n')
        with pytest.raises(ConfigError, match="needs a path"):
            load_config(path, env={})

    def test_opml_refuses_a_folder(self) -> None:
        assert "refused" in (opml._url_problem("folder:/srv/in") or "")


def _daemon(tmp_path: Path) -> tuple[Daemon, Path]:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return Daemon(daemon_config(tmp_path, feeds=[("drop", f"folder:{inbox}")])), inbox


def _stories(daemon: Daemon) -> int:
    return int(daemon.writer.store.db.execute("SELECT count(*) FROM stories").fetchone()[0])


def test_a_poll_takes_complete_files_moves_them_after_the_commit_and_never_reads_them_twice(
    tmp_path: Path,
) -> None:
    daemon, inbox = _daemon(tmp_path)
    (inbox / "one.xml").write_bytes(rss(("g1", "Harbor bridge vote passes")))
    (inbox / "bad.xml").write_bytes(b"\x00\x01 not a feed")
    (inbox / "two.xml.tmp").write_bytes(rss(("g2", "Still being written")))

    async def scenario() -> None:
        async with daemon.open():
            await poll(daemon, "drop")
            assert _stories(daemon) == 1
            await poll(daemon, "drop")  # nothing left to read
            assert _stories(daemon) == 1

    asyncio.run(scenario())
    assert sorted(p.relative_to(inbox).as_posix() for p in inbox.rglob("*")) == [
        "error",
        "error/bad.xml",
        "error/bad.xml.reason",
        "processed",
        "processed/one.xml",
        "two.xml.tmp",
    ]
    assert (inbox / "error" / "bad.xml.reason").read_text().strip()


def test_a_file_stored_but_not_moved_is_moved_by_the_next_poll_and_not_stored_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crash window, in-process: the commit happened, the move did not."""
    daemon, inbox = _daemon(tmp_path)
    (inbox / "one.xml").write_bytes(rss(("g1", "Harbor bridge vote passes")))

    def crash(moves: object) -> None:
        raise OSError("disk gone")

    async def scenario() -> None:
        async with daemon.open():
            with monkeypatch.context() as patched:
                patched.setattr(watch, "file_away", crash)
                await poll(daemon, "drop")
            assert (inbox / "one.xml").exists() and _stories(daemon) == 1
            await poll(daemon, "drop")
            assert _stories(daemon) == 1
            events = daemon.writer.store.db.execute("SELECT count(*) FROM events").fetchone()[0]
            assert events == 1

    asyncio.run(scenario())
    assert (inbox / "processed" / "one.xml").exists()
