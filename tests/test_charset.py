"""decode_text: which charset wins when the BOM, the HTTP header and the document's own
declaration disagree, on real-world mixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestd.parse import charset, decode_text, parse

DATA = Path(__file__).parent / "data" / "hostile"
KOREAN = "국방부는 9일 한미 방위비 분담금 협상이 워싱턴에서 열린다고 밝혔다. " * 4
JAPANESE = "東京の天気は晴れ、気温は十五度まで上がる見込みです。" * 4
FRENCH = "Café, crème brûlée et résumé de la journée à l'Élysée."


def xml(text: str, encoding: str, declared: str | None) -> bytes:
    declaration = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    return f"{declaration}<rss><channel><title>{text}</title></channel></rss>".encode(encoding)


def html(text: str, encoding: str, declared: str | None) -> bytes:
    meta = f'<meta charset="{declared}">' if declared else ""
    return f"<html><head>{meta}</head><body><p>{text}</p></body></html>".encode(encoding)


@pytest.mark.parametrize("text", [FRENCH, JAPANESE, KOREAN])
@pytest.mark.parametrize("lie", ["shift_jis", "iso-8859-1", "euc-kr", "windows-1251"])
def test_a_utf8_declaration_outranks_a_header_that_reads_the_body_as_mojibake(text: str, lie: str) -> None:
    """The issue's case: `charset=shift_jis` over a valid UTF-8 feed that says UTF-8."""
    for document in (xml(text, "utf-8", "UTF-8"), html(text, "utf-8", "utf-8")):
        assert text in decode_text(document, f"text/xml; charset={lie}")


@pytest.mark.parametrize("text", [FRENCH, JAPANESE, KOREAN])
def test_a_header_over_utf8_with_no_declaration_loses_to_utf8(text: str) -> None:
    assert text in decode_text(html(text, "utf-8", None), "text/html; charset=iso-8859-1")


@pytest.mark.parametrize(
    "text, encoding, header",
    [(FRENCH, "cp1252", "windows-1252"), (KOREAN, "cp949", "euc-kr"), (JAPANESE, "cp932", "shift_jis")],
)
def test_a_true_header_outranks_a_declaration_that_lies(text: str, encoding: str, header: str) -> None:
    document = html(text, encoding, "utf-8")
    assert text in decode_text(document, f"text/html; charset={header}")


@pytest.mark.parametrize(
    "text, encoding, declared",
    [(FRENCH, "cp1252", "iso-8859-1"), (KOREAN, "cp949", "euc-kr"), (JAPANESE, "cp932", "Shift_JIS")],
)
def test_a_true_declaration_outranks_a_header_that_cannot_decode_the_body(
    text: str, encoding: str, declared: str
) -> None:
    assert text in decode_text(xml(text, encoding, declared), "application/xml; charset=utf-8")


@pytest.mark.parametrize("text, encoding", [(KOREAN, "cp949"), (JAPANESE, "cp932"), (FRENCH, "cp1252")])
def test_with_both_lying_the_body_is_guessed(text: str, encoding: str) -> None:
    assert text in decode_text(html(text, encoding, "utf-8"), "text/html; charset=utf-8")


@pytest.mark.parametrize("text, encoding", [(KOREAN, "cp949"), (FRENCH, "cp1252"), (JAPANESE, "utf-8")])
def test_with_both_absent_the_body_is_guessed(text: str, encoding: str) -> None:
    assert text in decode_text(html(text, encoding, None))


@pytest.mark.parametrize("bom, encoding", [(b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le")])
def test_a_bom_outranks_header_and_declaration(bom: bytes, encoding: str) -> None:
    document = bom + html(JAPANESE, encoding, "shift_jis")
    text = decode_text(document, "text/html; charset=iso-8859-1")
    assert JAPANESE in text and not text.startswith("\ufeff")


def test_an_unknown_charset_name_is_passed_over() -> None:
    assert KOREAN in decode_text(html(KOREAN, "cp949", "euc-kr"), "text/html; charset=x-no-such-thing")


def test_a_declaration_claiming_utf16_on_ascii_bytes_means_utf8() -> None:
    assert FRENCH in decode_text(html(FRENCH, "utf-8", "utf-16"))


@pytest.mark.parametrize(
    "name, codec, words",
    [
        # declares iso-8859-1, holds UTF-8 (mislabelled at the source)
        ("FeedReader__Rss20FinanzenNet.xml", "utf-8", ["für"]),
        ("node-feedparser__iconv.xml", "cp1251", ["области"]),
        # no declaration, windows-1252 bytes
        ("rss-parser__uolNoticias.rss", "cp1252", ["Notícias", "simulações"]),
        ("FeedReader__Rss20CityDog.xml", "utf-8-sig", ["Гардероб"]),  # a UTF-8 BOM
        ("FeedReader__Rss091Stadtfeuerwehr.xml", "cp1252", ["Straße", "Ölbindearbeiten"]),
    ],
)
def test_real_feeds_decode_in_their_true_charset(name: str, codec: str, words: list[str]) -> None:
    body = (DATA / name).read_bytes()
    if codec != "utf-8-sig":
        assert charset(body) == codec
    text = decode_text(body)
    assert text == body.decode(codec)
    for word in words:
        assert word in text


def test_the_feed_path_takes_the_charset_decode_text_takes() -> None:
    title = "Café résumé: naïve Zürich"  # valid UTF-8 that Shift_JIS also decodes, wrongly
    body = xml(title, "utf-8", "UTF-8").replace(
        b"<channel>", b"<channel><item><guid>1</guid><title>" + title.encode() + b"</title></item>"
    )
    assert charset(body, "application/rss+xml; charset=shift_jis") == "utf-8"
    document = parse(body, content_type="application/rss+xml; charset=shift_jis")
    assert document.entries[0].title == title
