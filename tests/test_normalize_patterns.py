"""The shortcuts around profile patterns: what a match requires, patterns joined, chrome lines folded."""

import re

import pytest

from ingestd.normalize import load_profiles
from ingestd.normalize._profiles import any_search, required_text


@pytest.mark.parametrize(
    ("pattern", "required"),
    [
        (r"\b(?P<credit>REUTERS/[A-Z][\w .-]+(?:/File Photo)?)\s*$", "REUTERS/"),
        (r"\b(?P<credit>[A-Z][\w .-]{1,40}/(?:AFP|Getty Images))\s*$", "/"),
        (r"ab(?:cdefg)?hij", "hij"),  # an optional group is no requirement
        (r"(?:abc|xyz)q", "q"),  # nor is a branch
        (r"(?:abc|abd)q", "ab"),  # but the prefix the branches share is
        (r"a(bcd)e", "bcd"),
        (r"(?i:abcd)ef", "ef"),  # a group that ignores case
        (r"(?i)abcdef", ""),
        (r"[ab]c?", ""),
    ],
)
def test_required_text(pattern: str, required: str) -> None:
    assert required_text(re.compile(pattern)) == required


def test_every_caption_match_holds_its_required_text() -> None:
    texts = [
        "Firefighters at the scene (AP Photo/Evan Vucci)",
        "A man walks past the bank. REUTERS/Toby Melville/File Photo",
        "Police in Paris. Ludovic Marin/AFP via Getty Images",
        "소방관들이 현장에 있다. [연합뉴스 자료사진]",
        "The harbor at dawn (Photo by Jane Roe)",
    ]
    profiles = load_profiles(None)
    matched = 0
    for profile in profiles.by_name.values():
        for pattern, required in profile.captions:
            for text in texts:
                if match := pattern.search(text):
                    matched += 1
                    assert required in match.group(0)
    assert matched


@pytest.mark.parametrize(
    "patterns",
    [
        (r"^Share\b", r"(?i:copyright)", r"^_{3,}$"),  # joined into one
        (r"(a)\1", r"^b"),  # a backreference: searched one by one
        (r"^x", r"(?i)y"),  # global flags: one by one
        (),
    ],
)
def test_any_search_is_any(patterns: tuple[str, ...]) -> None:
    compiled = tuple(re.compile(p) for p in patterns)
    search = any_search(compiled)
    for text in ("Share this", "COPYRIGHT 2020", "____", "aa", "b", "x", "Y", "nothing", ""):
        assert search(text) == any(p.search(text) for p in compiled)


def test_chrome_lines_folded_however_long() -> None:
    generic = load_profiles(None).generic
    assert generic.is_boilerplate("Skip to content")
    assert generic.is_boilerplate("  SKIP   to" + " " * 500 + "\n content ")  # folds to a listed line
    assert not generic.is_boilerplate("Skip to content " + "and more words " * 40)


def test_host_answers_cached_and_unchanged() -> None:
    profiles = load_profiles(None)
    for _ in range(2):
        assert profiles.for_host("WWW.YNA.CO.KR.") is profiles.get("yonhap")
        assert profiles.for_host("example.com") is None
