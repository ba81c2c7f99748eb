"""The one charset rule for every reader: which codec a body is in."""

from __future__ import annotations

import codecs
import re

SNIFF_BYTES = 16384
BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_WIDE_STARTS = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w:.-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]*encoding\s*=\s*["']([\w:.-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w:.-]+)", re.I)


def decode_text(body: bytes, content_type: str | None = None) -> str:
    """`body` as text, in the charset `charset` picks; bytes that charset lacks become U+FFFD."""
    return body.decode(charset(body, content_type), errors="replace").lstrip("\ufeff")


def charset(body: bytes, content_type: str | None = None) -> str:
    """The codec `body` is in, by rank: a BOM; the HTTP header's charset, then the
    document's own (<?xml encoding?> or <meta charset>), each only if it decodes the
    body cleanly; then UTF-8 if that does; then a guess. Without a BOM, UTF-16 and
    UTF-32 are known by how `<` is spelled in the first bytes (XML 1.0, appendix F).

    "Cleanly" means without an error, and, for a legacy charset, on a body that is not
    valid non-ASCII UTF-8: text in Shift_JIS or windows-1252 almost never is, while
    UTF-8 read as either decodes without error into mojibake (a `shift_jis` header
    over a UTF-8 feed is the common lie; the UTF-8 declaration inside then wins).
    """
    for bom, encoding in BOMS:
        if body.startswith(bom):
            return encoding
    for start, encoding in _WIDE_STARTS:
        if body.startswith(start):
            return encoding
    utf8 = _is_utf8(body)
    for candidate in (header_charset(content_type), _declared_charset(body[:SNIFF_BYTES])):
        if candidate and _decodes_cleanly(body, candidate, utf8):
            return candidate
    if utf8 is not False:
        return "utf-8"
    return _guess(body)


def _guess(body: bytes) -> str:
    """charset_normalizer's pick; windows-1252, WHATWG's default for undeclared
    bytes, where it reads as cleanly (the guess often ties Latin code pages)."""
    from charset_normalizer import from_bytes

    matches = from_bytes(body[:1_000_000])
    best = matches.best()
    if best is None or any(m.encoding == "cp1252" and m.chaos <= best.chaos for m in matches):
        return "cp1252"
    return str(best.encoding)


def header_charset(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type) if content_type else None
    return _known_codec(match.group(1)) if match else None


def _declared_charset(head: bytes) -> str | None:
    """The document's own declaration. It is read from ASCII bytes, so it cannot
    truly say UTF-16 or UTF-32 (those have a BOM): such a claim means UTF-8 (WHATWG)."""
    for pattern in (_META_CHARSET, _XML_ENCODING):
        if match := pattern.search(head):
            codec = _known_codec(match.group(1).decode("ascii", "replace"))
            return "utf-8" if codec and codec.startswith(("utf-16", "utf-32")) else codec
    return None


def _known_codec(name: str) -> str | None:
    try:
        return codecs.lookup(_codec(name)).name
    except LookupError:
        return None


def _is_utf8(body: bytes) -> bool | None:
    """True: valid UTF-8 with non-ASCII in it; None: plain ASCII; False: not UTF-8."""
    if body.isascii():
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decodes_cleanly(body: bytes, codec: str, utf8: bool | None) -> bool:
    if utf8 and not codec.startswith("utf"):
        return False  # UTF-8 text read as a legacy charset: mojibake, however clean
    if codec == "utf-8":
        return utf8 is not False  # _is_utf8 has decoded it already
    try:
        body.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _codec(name: str) -> str:
    # WHATWG: pages that say latin-1 mean windows-1252; EUC-KR pages use its superset
    aliases = {
        "iso-8859-1": "cp1252",
        "latin1": "cp1252",
        "us-ascii": "cp1252",
        "euc-kr": "cp949",
        "ks_c_5601-1987": "cp949",
        "gb2312": "gb18030",
        "gbk": "gb18030",
        "shift_jis": "cp932",
        "x-sjis": "cp932",
    }
    return aliases.get(name.lower(), name)
