"""`required_text`: what every match of a pattern holds, so a text without it is not searched."""

import re

import pytest

from ingestd.normalize import load_profiles
from ingestd.normalize._profiles import required_text


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
