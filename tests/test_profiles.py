"""Source profiles: built-ins, overrides from a folder, and errors that name file, key and reason."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestd.errors import ConfigError
from ingestd.models import Entry
from ingestd.normalize import load_profiles, normalize_entry

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2020, 1, 10, tzinfo=UTC)


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def problems(folder: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_profiles(folder)
    return [(Path(p.file).name, p.key, p.reason) for p in caught.value.problems]


def test_builtins_load_without_a_folder():
    """The five built-in profiles come from the package, with their zones."""
    profiles = load_profiles(None)
    assert profiles.names == ["afp", "ap", "generic", "reuters", "yonhap"]
    assert str(profiles.get("yonhap").time_zone) == "Asia/Seoul"
    assert profiles.generic.time_zone is None


def test_missing_folder_means_builtins_only(tmp_path):
    """A sources folder that does not exist is not an error."""
    assert load_profiles(tmp_path / "absent").names == load_profiles(None).names


def test_example_override_in_config_loads():
    """config/sources/ (the documented example) is a valid profile folder."""
    profiles = load_profiles(ROOT / "config" / "sources")
    assert "koreaherald" in profiles.names


def test_override_merges_over_the_builtin(tmp_path):
    """An override's lists go in front of the built-in's; its scalars replace them."""
    write(
        tmp_path,
        "yonhap.toml",
        """
        name = "yonhap"
        time_zone = "Asia/Tokyo"
        [boilerplate]
        lines = ["Yonhap Exclusive Banner"]
    """,
    )
    yonhap = load_profiles(tmp_path).get("yonhap")
    assert str(yonhap.time_zone) == "Asia/Tokyo"
    assert yonhap.is_boilerplate("Yonhap Exclusive Banner")
    assert yonhap.is_boilerplate("Send Feedback")


def test_new_profile_extends_generic(tmp_path):
    """A new site profile gets generic's rules behind its own."""
    write(
        tmp_path,
        "gazette.toml",
        """
        name = "gazette"
        agency = "Gazette"
        agency_tags = ["Gazette"]
        hosts = ["gazette.example"]
        time_zone = "Europe/Berlin"
    """,
    )
    gazette = load_profiles(tmp_path).get("gazette")
    assert gazette.is_boilerplate("Skip to content")
    assert gazette.byline_patterns == load_profiles(None).generic.byline_patterns


def test_host_picks_the_profile(tmp_path):
    """With no dateline tag, the page's host decides the source."""
    write(tmp_path, "gazette.toml", 'name = "gazette"\nhosts = ["gazette.example"]\n')
    profiles = load_profiles(tmp_path)
    entry = Entry(
        kind="feed-entry",
        title="Council approves budget",
        link="https://www.gazette.example/a/1",
        content_html="<p>The council approved the budget on Tuesday after a long debate.</p>",
    )
    story = normalize_entry(entry, feed_id="f", source=None, now=NOW, profiles=profiles)
    assert story.source == "gazette"
    assert story.ingest["source_by"] == "host"


def test_unknown_zone_names_file_key_and_reason(tmp_path):
    """A zone that does not exist fails loading with the file, the key and why."""
    write(tmp_path, "bad.toml", 'name = "bad"\ntime_zone = "Mars/Olympus_Mons"\n')
    [(file, key, reason)] = problems(tmp_path)
    assert (file, key) == ("bad.toml", "time_zone")
    assert "unknown time zone 'Mars/Olympus_Mons'" in reason


def test_bad_regex_and_missing_group_are_reported(tmp_path):
    """A broken pattern and a pattern without its named group are each one problem."""
    write(
        tmp_path,
        "bad.toml",
        """
        name = "bad"
        [dateline]
        patterns = ["^(?P<place>[A-Z"]
        [byline]
        patterns = ["^By (.+)$"]
    """,
    )
    found = problems(tmp_path)
    assert [(f, k) for f, k, _ in found] == [
        ("bad.toml", "dateline.patterns"),
        ("bad.toml", "byline.patterns"),
    ]
    assert "bad regular expression" in found[0][2]
    assert "(?P<by>" in found[1][2]


def test_unknown_key_and_wrong_type(tmp_path):
    """Typos and wrong types are caught, not ignored."""
    write(tmp_path, "bad.toml", 'name = "bad"\ntimezone = "UTC"\nhosts = "bad.example"\n')
    found = problems(tmp_path)
    assert ("bad.toml", "timezone") in [(f, k) for f, k, _ in found]
    assert ("bad.toml", "hosts", "'bad.example' is not a list") in found


def test_unreadable_toml(tmp_path):
    """A file that is not TOML is reported as such."""
    write(tmp_path, "broken.toml", "name = \n")
    [(file, key, reason)] = problems(tmp_path)
    assert (file, key) == ("broken.toml", "(file)") and reason.startswith("cannot read TOML")


def test_extends_unknown_and_loop(tmp_path):
    """`extends` must name a profile, and profiles may not extend each other in a loop."""
    write(tmp_path, "a.toml", 'name = "a"\nextends = "b"\n')
    write(tmp_path, "b.toml", 'name = "b"\nextends = "a"\n')
    write(tmp_path, "c.toml", 'name = "c"\nextends = "nope"\n')
    reasons = {(f, k): r for f, k, r in problems(tmp_path)}
    assert "loop" in reasons[("a.toml", "extends")]
    assert reasons[("c.toml", "extends")] == "no profile named 'nope'"


def test_section_line_needs_date_and_time(tmp_path):
    """A section line pattern without date and time groups cannot be used."""
    write(
        tmp_path,
        "bad.toml",
        """
        name = "bad"
        [[section_lines]]
        pattern = '^(?P<section>\\w+)$'
        format = "%H:%M"
    """,
    )
    [(file, key, reason)] = problems(tmp_path)
    assert key == "section_lines" and "(?P<date>" in reason


def test_dateline_parts_and_dashes_are_filled_in(tmp_path):
    """A profile's dateline pattern names generic's parts; its own dash list fills {dash}."""
    write(
        tmp_path,
        "tilde.toml",
        """
        name = "tilde"
        [dateline]
        patterns = ['^(?P<place>{caps_place}(?:, {region})?) {dash}\\s*']
        dashes = ["~"]
        regions = ["Bz."]
        """,
    )
    profile = load_profiles(tmp_path).get("tilde")
    assert profile is not None
    match = next(p.match("BOLZANO, Bz. ~ Snow closed the pass.") for p in profile.dateline_patterns)
    assert match and match["place"] == "BOLZANO, Bz."


def test_bad_dateline_part_is_reported(tmp_path):
    """A part that is no regular expression names the key and the reason."""
    write(tmp_path, "bad.toml", 'name = "bad"\n[dateline.parts]\nplace = "[A-Z"\n')
    [(file, key, reason)] = problems(tmp_path)
    assert (file, key) == ("bad.toml", "dateline.parts") and "bad regular expression" in reason


def test_not_places_are_no_datelines():
    """'ALSO READ:' opens like a dateline and names no place."""
    profiles = load_profiles(None)
    story = normalize_entry(
        Entry(
            kind="page-text", page="Storm nears coast\n\nALSO READ: How storms form over warm water today."
        ),
        feed_id="t",
        source=None,
        now=datetime(2020, 1, 10, tzinfo=UTC),
        profiles=profiles,
    )
    assert story.located is None
