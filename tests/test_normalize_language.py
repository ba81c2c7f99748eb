"""Language detection reads a sample of the text: one that holds the prose, not only what
opens the body; and scores it as py3langid does, bit for bit."""

from __future__ import annotations

import random
import re

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts

from ingestd.normalize import _langid
from ingestd.normalize._language import _identifier, detect
from tests.support import DATA

PROSE = (
    " The council said on Tuesday that the budget would be voted on next week, after a long"
    " debate over the cost of the new bridge and the schools it would serve."
)


def test_a_body_that_opens_with_figures_is_read_as_far_as_its_prose() -> None:
    assert detect("Markets\n" + "1,234 5,678 9.01 " * 24 + PROSE) == "en"
    assert detect("Scores\n" + "Ligue: Paris 2, Lyon 1; Nice 0, Lens 3; " * 10 + PROSE) == "en"


def test_too_few_letters_is_no_language() -> None:
    assert detect("1,234 5,678 9.01 " * 40) is None


def _texts() -> list[str]:
    """Text in the 27 languages of the article pages, random bytes and characters, edge cases."""
    texts = ["", "a", "AB", "ÉTÉ EN FRANCE", "\ud800 lone surrogate", "1,234 5,678"]
    for page in sorted((DATA / "articles-dev").glob("*/*.html"))[:120]:
        words = re.sub(r"<[^>]+>|\s+", " ", page.read_text(errors="replace"))
        texts += [words[start : start + 600] for start in range(0, min(len(words), 6000), 1500)]
    chance = random.Random(7)
    for _ in range(150):
        texts.append(bytes(chance.randrange(256) for _ in range(chance.randrange(700))).decode("latin-1"))
        texts.append("".join(chr(chance.randrange(1, 0x3000)) for _ in range(chance.randrange(300))))
    return texts


def test_scores_are_py3langids_own_bit_for_bit() -> None:
    """Every score of every language, not only the answer, equals py3langid's."""
    ours, theirs = _identifier(), LanguageIdentifier.from_model_file(MODEL_FILE)
    texts = _texts()
    assert len(texts) > 600
    for text in texts:
        assert ours._decide(text).tobytes() == theirs._decide(text).tobytes(), text[:60]
        assert ours.classify(text) == theirs.classify(text)


def test_features_are_the_byte_walks_in_order_of_first_occurrence() -> None:
    identifier = _identifier()
    assert identifier.depth == 6  # the shipped model's longest n-gram
    for text in _texts()[::5]:
        data = identifier._encode(text)
        walked = visit_counts(identifier.tk_nextmove, identifier._rowbase, identifier.tk_output, data)
        found = identifier.features(data)
        if walked is None:
            assert found is None
            continue
        assert found is not None
        assert list(zip(found[0].tolist(), found[1].tolist(), strict=True)) == list(walked.items())


def test_a_model_with_a_weight_the_shift_cannot_convert_uses_numpys_cast() -> None:
    """Weights are converted by bit shift only when every one is a negative normal float16."""
    loaded = _identifier()
    table = loaded.nb_ptc.copy()
    table[0, 0] = 0.0  # a zero: the shift would make it 2**-15
    model = _langid.Identifier(
        table, loaded.nb_pc, loaded.nb_classes, loaded.tk_nextmove, loaded.tk_output, tk_row=loaded.tk_row
    )
    assert loaded._exact_shift and not model._exact_shift
    features = np.array([0, 1, 99_999])
    assert model._weights(features).tobytes() == table[features].astype(np.float32).tobytes()
    assert loaded._weights(features).tobytes() == loaded.nb_ptc[features].astype(np.float32).tobytes()


def test_the_automaton_forgets_all_but_its_last_depth_bytes() -> None:
    """What makes `features` exact on every text, not only on these: from any state, the same
    `depth` bytes lead where they lead from the start. Followed over every pair of states that
    the same bytes can keep apart (a pair that meets stays together), starting from each state
    paired with the start; none is left apart after `depth` bytes, some still are one byte earlier."""
    identifier = _identifier()
    moves, rows = identifier._next, identifier._rows
    count = len(rows)
    apart = np.arange(1, count, dtype=np.int64) * count  # (state, start) for every other state
    left = []
    for _ in range(identifier.depth):
        first, second = np.divmod(apart, count)
        after = []
        for byte in range(256):
            one, other = moves[rows[first] + byte], moves[rows[second] + byte]
            differ = one != other
            after.append(one[differ].astype(np.int64) * count + other[differ])
        apart = np.unique(np.concatenate(after))
        left.append(apart.size)
    assert left[-1] == 0 and left[-2] > 0
