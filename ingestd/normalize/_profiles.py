"""Source profiles: the per-agency rules the chain reads, loaded from TOML.

A profile is data. Built-ins live in `ingestd/profiles/*.toml`; files in an
extra folder (the config's `sources/`) add profiles or override built-ins.
Every profile except `generic` extends another one (`extends`, default
"generic"): scalars replace the parent's, lists go in front of the parent's,
so an agency's own rules are tried before the general ones.
A broken file raises ConfigError with one Problem per file/key/reason.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from re import _constants, _parser  # type: ignore[attr-defined]  # the re module's own, for required_text
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError, Problem

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "profiles"
GENERIC = "generic"


def _regex(value: Any) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    try:
        return re.compile(value, re.UNICODE)
    except re.error as exc:
        raise ValueError(f"bad regular expression {value!r}: {exc}") from None


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a non-empty string")
    return value


def _zone(value: Any) -> ZoneInfo:
    try:
        return ZoneInfo(_string(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Seoul)") from None


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{value!r} is not a positive integer")
    return value


def _section_line(value: Any) -> tuple[re.Pattern[str], str]:
    if not isinstance(value, dict) or set(value) != {"pattern", "format"}:
        raise ValueError("each entry needs exactly `pattern` and `format`")
    pattern = _regex(value["pattern"])
    if not {"date", "time"} <= set(pattern.groupindex):
        raise ValueError(f"pattern {value['pattern']!r} needs (?P<date>…) and (?P<time>…) groups")
    return pattern, _string(value["format"])


def _parts(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError("needs a table of names to regular expressions")
    for part in value.values():
        _regex(part)
    return dict(value)


def _with_group(group: str) -> Callable[[Any], re.Pattern[str]]:
    def convert(value: Any) -> re.Pattern[str]:
        pattern = _regex(value)
        if group not in pattern.groupindex:
            raise ValueError(f"pattern {value!r} needs a (?P<{group}>…) group")
        return pattern

    return convert


# Every key a profile file may hold: dotted key -> (is a list, converter).
# The single place that says what a profile is; loading and checking read it.
KEYS: dict[str, tuple[bool, Callable[[Any], Any]]] = {
    "name": (False, _string),
    "extends": (False, _string),
    "agency": (False, _string),
    "agency_tags": (True, _string),
    "time_zone": (False, _zone),
    "hosts": (True, _string),
    "site_names": (True, _string),
    "dateline.patterns": (True, _with_group("place")),
    "dateline.parts": (False, _parts),
    "dateline.dashes": (True, _string),
    "dateline.regions": (True, _string),
    "dateline.not_places": (True, _string),
    "boilerplate.lines": (True, _string),
    "boilerplate.patterns": (True, _regex),
    "boilerplate.end_markers": (True, _regex),
    "headline.tags": (True, _with_group("tag")),
    "section_lines": (True, _section_line),
    "byline.patterns": (True, _with_group("by")),
    "byline.titles": (True, _regex),
    "signoff.patterns": (True, _regex),
    "credits.patterns": (True, _with_group("credits")),
    "captions.patterns": (True, _regex),
    "captions.max_chars": (False, _positive_int),
}


def _fold(line: str) -> str:
    return " ".join(line.split()).casefold()


@dataclass(frozen=True)
class Profile:
    """One source's rules, compiled. Field docs are in docs/normalize.md."""

    name: str
    agency: str | None
    agency_tags: tuple[str, ...]
    time_zone: ZoneInfo | None
    hosts: tuple[str, ...]
    site_names: tuple[str, ...]
    dateline_patterns: tuple[re.Pattern[str], ...]
    dateline_not_places: frozenset[str]  # folded: what a dateline-shaped opening names that is no place
    boilerplate_lines: frozenset[str]  # folded: whitespace collapsed, casefolded
    boilerplate_patterns: tuple[re.Pattern[str], ...]
    end_markers: tuple[re.Pattern[str], ...]
    headline_tags: tuple[re.Pattern[str], ...]
    section_lines: tuple[tuple[re.Pattern[str], str], ...]
    byline_patterns: tuple[re.Pattern[str], ...]
    byline_titles: tuple[re.Pattern[str], ...]
    signoff_patterns: tuple[re.Pattern[str], ...]
    credit_patterns: tuple[re.Pattern[str], ...]
    caption_patterns: tuple[re.Pattern[str], ...]
    caption_max_chars: int

    @cached_property
    def datelines(self) -> tuple[tuple[re.Pattern[str], str], ...]:
        """The dateline patterns, each with what any match of it holds (`required_text`)."""
        return tuple((pattern, required_text(pattern)) for pattern in self.dateline_patterns)

    @cached_property
    def captions(self) -> tuple[tuple[re.Pattern[str], str], ...]:
        """The caption patterns, each with characters any match of it holds (`required_text`)."""
        return tuple((pattern, required_text(pattern)) for pattern in self.caption_patterns)

    def is_boilerplate(self, line: str) -> bool:
        return self._listed_chrome(line) or self._chrome_pattern(line)

    def _listed_chrome(self, line: str) -> bool:
        # a line folds to at least what its start folds to: a paragraph is folded only as far as
        # it takes to know it is longer than every listed line
        start = line[: 2 * self._longest_chrome + 2]
        if len(start) < len(line) and len(_fold(start)) > self._longest_chrome:
            return False
        return _fold(line) in self.boilerplate_lines

    @cached_property
    def _longest_chrome(self) -> int:
        return max(map(len, self.boilerplate_lines), default=0)

    @cached_property
    def _chrome_pattern(self) -> Callable[[str], bool]:
        return any_search(self.boilerplate_patterns)


def any_search(patterns: tuple[re.Pattern[str], ...]) -> Callable[[str], bool]:
    """`any(p.search(text) for p in patterns)`, as one search where the patterns join into one
    (no groups a backreference could count, one set of flags): one call instead of a call each."""
    flags = patterns[0].flags if patterns else 0
    if patterns and not flags & re.VERBOSE and all(p.groups == 0 and p.flags == flags for p in patterns):
        try:
            joined = re.compile("|".join(f"(?:{p.pattern})" for p in patterns), flags)
        except re.error:  # a pattern that opens with global flags, which may not stand inside a group
            joined = None
        if joined is not None and joined.flags == flags and joined.groups == 0:
            return lambda text: joined.search(text) is not None
    return lambda text: any(p.search(text) for p in patterns)


def required_text(pattern: re.Pattern[str]) -> str:
    """The longest run of plain characters every match of `pattern` holds ("" when none is sure).

    A text without it cannot match: `in` finds that out faster than a search with no literal
    prefix to scan for (a caption pattern that opens with a word boundary tries every position)."""
    if pattern.flags & re.IGNORECASE:
        return ""
    try:
        items = _parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001 - a private parser that may change: then no shortcut, every text is searched
        return ""
    return max(_literal_runs(items), key=len, default="")


def _literal_runs(items: Any) -> list[str]:
    """Runs of literal characters in a sequence every match goes through, and in its groups."""
    runs, run = [], ""
    for op, value in items:
        if op == _constants.LITERAL:
            run += chr(value)
            continue
        runs.append(run)
        run = ""
        # a group is matched whole; one with its own flags may ignore case
        if op == _constants.SUBPATTERN and not value[1] & re.IGNORECASE:
            runs += _literal_runs(value[3])
    return [*runs, run]


@dataclass(frozen=True)
class Profiles:
    """All profiles by name, with the look-ups source detection needs."""

    by_name: dict[str, Profile]

    @property
    def generic(self) -> Profile:
        return self.by_name[GENERIC]

    @property
    def names(self) -> list[str]:
        return sorted(self.by_name)

    def get(self, name: str) -> Profile | None:
        return self.by_name.get(name)

    @cached_property
    def agency_datelines(self) -> tuple[tuple[re.Pattern[str], str], ...]:
        """The dateline patterns that can name an agency, each once, in the order profiles try them
        (profiles share their parent's patterns: matching each copy again found nothing new),
        each with what any match of it holds (`required_text`)."""
        patterns = (p for name in self.names for p in self.by_name[name].dateline_patterns)
        return tuple(
            (p, required_text(p)) for p in dict.fromkeys(p for p in patterns if "agency" in p.groupindex)
        )

    def for_agency_tag(self, tag: str) -> Profile | None:
        folded = tag.strip().casefold()
        for name in self.names:
            profile = self.by_name[name]
            if any(t.casefold() == folded for t in profile.agency_tags):
                return profile
        return None

    def for_host(self, host: str) -> Profile | None:
        return self._for_host(host.lower().rstrip("."))

    @cached_property
    def _for_host(self) -> Callable[[str], Profile | None]:
        # answered once a host: a feed's stories share a few, and each answer reads every profile's hosts
        @lru_cache(maxsize=1024)
        def find(host: str) -> Profile | None:
            for name in self.names:
                profile = self.by_name[name]
                if any(host == h or host.endswith("." + h) for h in profile.hosts):
                    return profile
            return None

        return find


def load_profiles(extra_dir: str | os.PathLike[str] | None) -> Profiles:
    """Built-in profiles plus `*.toml` in `extra_dir` (absent folder: built-ins only)."""
    problems: list[Problem] = []
    builtins = _read_folder(BUILTIN_DIR, problems)
    extras = _read_folder(Path(extra_dir), problems) if extra_dir is not None else {}
    raw: dict[str, tuple[str, dict[str, Any]]] = dict(builtins)
    for name, (file, data) in extras.items():
        if name in raw:  # an override merges over the built-in of that name
            data = _merge(data, raw[name][1])
        raw[name] = (file, data)
    if GENERIC not in raw:
        problems.append(Problem(str(BUILTIN_DIR), GENERIC, "the generic profile is missing"))
    profiles: dict[str, Profile] = {}
    for name in sorted(raw):
        file = raw[name][0]
        flat = _resolve(name, raw, problems)
        if flat is not None:
            profile = _compile(file, flat, problems)
            if profile is not None:
                profiles[name] = profile
    if problems:
        raise ConfigError(problems)
    return Profiles(profiles)


def _read_folder(folder: Path, problems: list[Problem]) -> dict[str, tuple[str, dict[str, Any]]]:
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            problems.append(Problem(str(path), "(file)", f"cannot read TOML: {exc}"))
            continue
        flat = _flatten(data)
        unknown = sorted(set(flat) - set(KEYS))
        for key in unknown:
            problems.append(Problem(str(path), key, f"unknown key (known: {', '.join(KEYS)})"))
        name = flat.get("name", path.stem)
        if not isinstance(name, str) or not name:
            problems.append(Problem(str(path), "name", f"{name!r} is not a non-empty string"))
            continue
        if name in found:
            problems.append(Problem(str(path), "name", f"profile {name!r} is defined twice in {folder}"))
            continue
        found[name] = (str(path), {k: v for k, v in flat.items() if k not in unknown} | {"name": name})
    return found


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = prefix + key
        if isinstance(value, dict) and dotted not in KEYS:
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def _merge(child: dict[str, Any], parent: dict[str, Any]) -> dict[str, Any]:
    merged = dict(parent)
    for key, value in child.items():
        if isinstance(value, list) and isinstance(parent.get(key), list):
            merged[key] = value + [v for v in parent[key] if v not in value]
        else:
            merged[key] = value
    return merged


def _resolve(
    name: str, raw: dict[str, tuple[str, dict[str, Any]]], problems: list[Problem]
) -> dict[str, Any] | None:
    """Follow `extends` up to generic and merge, child over parent."""
    chain: list[str] = [name]
    while chain[-1] != GENERIC:
        file, data = raw[chain[-1]]
        parent = data.get("extends", GENERIC)
        if parent not in raw:
            problems.append(Problem(file, "extends", f"no profile named {parent!r}"))
            return None
        if parent in chain:
            problems.append(Problem(file, "extends", f"profiles extend each other in a loop: {chain}"))
            return None
        chain.append(parent)
    merged: dict[str, Any] = {}
    for link in reversed(chain):
        merged = _merge(raw[link][1], merged)
    merged["name"] = name
    return merged


def _expand(flat: dict[str, Any]) -> dict[str, Any]:
    """Dateline patterns with their {part} names filled in from the profile's data:
    `{dash}` from dateline.dashes, `{region}` from dateline.regions (and the parts'
    `region` form), every other `{name}` from dateline.parts."""
    parts = dict(flat.get("dateline.parts") or {})
    if not isinstance(parts, dict) or not isinstance(flat.get("dateline.patterns", []), list):
        return flat  # _compile reports the wrong type
    dashes = sorted(
        (d for d in flat.get("dateline.dashes") or [] if isinstance(d, str)), key=len, reverse=True
    )
    regions = [re.escape(r) for r in flat.get("dateline.regions") or [] if isinstance(r, str)]
    parts["dash"] = "(?:" + "|".join(map(re.escape, dashes or ["—"])) + ")"
    parts["region"] = "(?:" + "|".join([*regions, *filter(None, [parts.get("region")])] or ["(?!)"]) + ")"

    def fill(pattern: str) -> str:
        for _ in range(4):  # parts may name parts
            for name, part in parts.items():
                pattern = pattern.replace("{" + name + "}", part)
        return pattern

    return flat | {
        "dateline.patterns": [fill(p) if isinstance(p, str) else p for p in flat.get("dateline.patterns", [])]
    }


def _compile(file: str, flat: dict[str, Any], problems: list[Problem]) -> Profile | None:
    values: dict[str, Any] = {}
    count = len(problems)
    flat = _expand(flat)
    for key, (is_list, convert) in KEYS.items():
        if key not in flat:
            values[key] = () if is_list else None
            continue
        value = flat[key]
        if is_list and not isinstance(value, list):
            problems.append(Problem(file, key, f"{value!r} is not a list"))
            continue
        try:
            values[key] = tuple(convert(v) for v in value) if is_list else convert(value)
        except ValueError as exc:
            problems.append(Problem(file, key, str(exc)))
    if len(problems) > count:
        return None
    return Profile(
        name=values["name"],
        agency=values["agency"],
        agency_tags=values["agency_tags"],
        time_zone=values["time_zone"],
        hosts=tuple(h.lower() for h in values["hosts"]),
        site_names=values["site_names"],
        dateline_patterns=values["dateline.patterns"],
        dateline_not_places=frozenset(_fold(p) for p in values["dateline.not_places"]),
        boilerplate_lines=frozenset(_fold(line) for line in values["boilerplate.lines"]),
        boilerplate_patterns=values["boilerplate.patterns"],
        end_markers=values["boilerplate.end_markers"],
        headline_tags=values["headline.tags"],
        section_lines=values["section_lines"],
        byline_patterns=values["byline.patterns"],
        byline_titles=values["byline.titles"],
        signoff_patterns=values["signoff.patterns"],
        credit_patterns=values["credits.patterns"],
        caption_patterns=values["captions.patterns"],
        caption_max_chars=values["captions.max_chars"] or 400,
    )
