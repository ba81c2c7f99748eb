"""Language detection reads a sample of the text: one that holds the prose, not only what
opens the body."""

from __future__ import annotations

from ingestd.normalize._language import detect

PROSE = (
    " The council said on Tuesday that the budget would be voted on next week, after a long"
    " debate over the cost of the new bridge and the schools it would serve."
)


def test_a_body_that_opens_with_figures_is_read_as_far_as_its_prose() -> None:
    assert detect("Markets\n" + "1,234 5,678 9.01 " * 24 + PROSE) == "en"
    assert detect("Scores\n" + "Ligue: Paris 2, Lyon 1; Nice 0, Lens 3; " * 10 + PROSE) == "en"


def test_too_few_letters_is_no_language() -> None:
    assert detect("1,234 5,678 9.01 " * 40) is None
