"""IPTC qcodes to URIs.

A NewsML-G2 qcode is `alias:code`; the item's catalogs say which scheme URI
an alias stands for (`<catalog><scheme alias="medtop" uri="…"/>`), and most
items only point at the IPTC standards catalog (`<catalogRef href=…>`), whose
aliases for the schemes ingestd reads are fixed here. A qcode whose alias no
catalog names keeps its qcode and gets no URI: an invented URI would be worse.
"""

from __future__ import annotations

from collections.abc import Mapping

SUBJECT_CODES = "http://cv.iptc.org/newscodes/subjectcode/"

# from the IPTC-G2-Standards catalog: the schemes whose codes reach a ninjs story
IPTC_SCHEMES: Mapping[str, str] = {
    "subj": SUBJECT_CODES,
    "medtop": "http://cv.iptc.org/newscodes/mediatopic/",
    "genre": "http://cv.iptc.org/newscodes/genre/",
    "scene": "http://cv.iptc.org/newscodes/scene/",
    "nprov": "http://cv.iptc.org/newscodes/newsprovider/",
    "rnd": "http://cv.iptc.org/newscodes/rendition/",
}


def qcode_uri(qcode: str | None, schemes: Mapping[str, str]) -> str | None:
    """'medtop:20000002' -> 'http://cv.iptc.org/newscodes/mediatopic/20000002'; None when unknown."""
    if not qcode or ":" not in qcode:
        return None
    alias, code = qcode.split(":", 1)
    base = schemes.get(alias) or IPTC_SCHEMES.get(alias)
    if not base or not code:
        return None
    return base + code if base.endswith(("/", "#")) else f"{base}/{code}"


def code_of(qcode: str | None) -> str | None:
    """The code without its alias: 'stat:usable' -> 'usable'."""
    if not qcode:
        return None
    return qcode.split(":", 1)[1] if ":" in qcode else qcode
