"""The suite carries its own data: nothing under tests/ reaches outside the repository.

CI clones with the old shared folder beside the checkout, so a test that read it would
still pass there; only this check catches such a regression."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import ROOT

# Built from pieces so that this file does not name what it looks for.
NEEDLES = ["../" + "shared", "INGESTD_" + "SHARED"]


def _files() -> list[Path]:
    return sorted(p for p in (ROOT / "tests").rglob("*") if p.is_file() and "__pycache__" not in p.parts)


@pytest.mark.parametrize("needle", NEEDLES)
def test_no_file_under_tests_names_the_shared_folder(needle: str) -> None:
    """No test, helper, data file or data script names the shared folder or its variable."""
    offenders = [str(p.relative_to(ROOT)) for p in _files() if needle.encode() in p.read_bytes()]
    assert offenders == [], f"{needle!r} is named in {offenders}"


def test_the_scan_reaches_every_kind_of_file() -> None:
    """The scan covers this file, conftest, the helpers and the data (so it cannot pass vacuously)."""
    names = {p.relative_to(ROOT).as_posix() for p in _files()}
    assert {
        "tests/test_self_contained.py",
        "tests/conftest.py",
        "tests/support/paths.py",
        "tests/data/dedupe/make_pairs.py",
        "tests/data/schemas/ninjs/ninjs-schema_3.0.json",
    } <= names
