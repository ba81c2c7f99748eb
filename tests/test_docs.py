"""Every command has help and is documented; every dependency says what it is for."""

from __future__ import annotations

import argparse
import re
import tomllib

from ingestd.cli import _parser
from tests.support import ROOT

DOCS = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def commands(parser: argparse.ArgumentParser, prefix: str = "ingestd"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield f"{prefix} {name}", helps.get(name) or sub.description, sub
                yield from commands(sub, f"{prefix} {name}")


def test_every_command_has_help_and_is_documented() -> None:
    found = list(commands(_parser()))
    assert len(found) >= 15
    for name, help_text, _ in found:
        assert help_text, f"{name} has no help"
        assert name in DOCS, f"{name} is not in the README or docs/"


def test_every_dependency_is_explained_in_the_readme() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra
    ]
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Dependencies") :]
    for requirement in names:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
        assert re.search(rf"\b{re.escape(name)}\b", table), f"{name}: what is it for?"


def test_the_readme_links_only_to_files_in_the_repository() -> None:
    """A fresh clone has nothing beside it: every relative link resolves inside the checkout."""
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#\s]+)", readme) + re.findall(r"`(\.\./[^`]+)`", readme)
    local = [t for t in targets if not re.match(r"[a-z]+://", t)]
    assert local, "the README links to no file at all"
    for target in local:
        path = (ROOT / target).resolve()
        assert ROOT in path.parents and path.exists(), f"README links to {target}, outside the checkout"
