"""The normalizer's rules, one behaviour per test, on small inputs written here."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestd import ninjs
from ingestd.errors import DropStory
from ingestd.models import Entry
from ingestd.normalize import _chain, _render, load_profiles, normalize_entry

NOW = datetime(2020, 1, 10, 12, 0, tzinfo=UTC)
PROFILES = load_profiles(None)
BODY = "<p>The council approved the budget on Tuesday after a long debate about schools and roads.</p>"


def run(entry: Entry, source: str | None = None, now: datetime = NOW, profiles=PROFILES):
    story = normalize_entry(entry, feed_id="test", source=source, now=now, profiles=profiles)
    doc = ninjs.finalize(story.ninjs, uri="urn:ingestd:story:t", version=1, version_created=now)
    assert ninjs.validate(doc) == []  # every story a test makes is valid ninjs 3.0
    return story


def page(text: str, **kwargs) -> Entry:
    return Entry(kind="page-text", page=text, **kwargs)


def feed(content: str = BODY, title: str = "Council approves budget", **kwargs) -> Entry:
    return Entry(kind="feed-entry", title=title, content_html=content, **kwargs)


def flags(story) -> list[str]:
    return story.ingest.get("flags", [])


class TestDateline:
    @pytest.mark.parametrize(
        "lead, source, place, date, agency",
        [
            ("SEOUL, Jan. 9 (Yonhap) -- The government said", "yonhap", "SEOUL", "2020-01-09", "Yonhap"),
            # 03:00 UTC on 9 Jan is still 8 Jan in New York, the AP profile's zone
            ("WASHINGTON (AP) — The president said", "ap", "WASHINGTON", "2020-01-08", "AP"),
            ("BATON ROUGE, La. (AP) — The governor said", "ap", "BATON ROUGE, La.", "2020-01-08", "AP"),
            ("LONDON, Jan 8 (Reuters) - British factories", "reuters", "LONDON", "2020-01-08", "Reuters"),
            (
                "WASHINGTON/LONDON (Reuters) - Officials",
                "reuters",
                "WASHINGTON/LONDON",
                "2020-01-09",
                "Reuters",
            ),
            ("PARIS (AFP) - French unions", "afp", "PARIS", "2020-01-09", "AFP"),
            ("Paris, Jan 8, 2020 (AFP) - French unions", "afp", "Paris", "2020-01-08", "AFP"),
            ("BERLIN, Jan. 8 (dpa) - German officials", "generic", "BERLIN", "2020-01-08", "dpa"),
            ("NEW YORK — Dockworkers walked off", "generic", "NEW YORK", "2020-01-09", None),
            ("(부산=연합뉴스) 김철수 기자 = 부산시는", "yonhap", "부산", "2020-01-09", "Yonhap"),
        ],
    )
    def test_dateline_read_and_source_detected(self, lead, source, place, date, agency):
        """Each agency's dateline form gives place, date, agency, and picks that agency's profile."""
        story = run(
            feed(
                f"<p>{lead} on Thursday that the plan would go ahead as scheduled.</p>",
                published=datetime(2020, 1, 9, 3, 0, tzinfo=UTC),
            )
        )
        assert story.source == source
        assert story.located == place
        assert story.ingest["dateline"] == {"place": place, "date": date, "agency": agency}
        assert story.body_text.startswith(lead)

    def test_dateline_date_near_new_year_is_last_years(self):
        """'Dec. 31' in a story published on 1 January is 31 December of the year before."""
        story = run(
            feed(
                "<p>WASHINGTON, Dec. 31 (Yonhap) -- The talks ended without a deal on Tuesday.</p>",
                published=datetime(2020, 1, 1, 1, 0, tzinfo=UTC),
            )
        )
        assert story.ingest["dateline"]["date"] == "2019-12-31"

    def test_sentence_is_not_a_dateline(self):
        """Ordinary prose with a dash is not taken for a dateline."""
        story = run(feed("<p>The U.S. said - after long talks - that it would wait.</p>"))
        assert story.located is None and "dateline" not in story.ingest

    def test_given_source_wins_over_detection(self):
        """The feed's configured source decides, even when the dateline names another agency."""
        story = run(feed("<p>PARIS (AFP) - French unions staged a strike on Thursday.</p>"), source="reuters")
        assert story.source == "reuters" and story.ingest["source_by"] == "given"

    def test_unknown_given_source_uses_generic_rules(self):
        """A source with no profile keeps its name, uses generic rules and says so."""
        story = run(feed(), source="nosuch")
        assert story.source == "nosuch"
        assert "no profile named 'nosuch': generic rules used" in flags(story)


class TestHeadline:
    @pytest.mark.parametrize(
        "title, source, headline, tags",
        [
            ("(LEAD) N. Korea fires missiles", "yonhap", "N. Korea fires missiles", ["LEAD"]),
            ("(3rd LD) (URGENT) Moon meets Abe", "yonhap", "Moon meets Abe", ["3rd LD", "URGENT"]),
            (
                "(Yonhap Interview) Envoy sees room for talks",
                "yonhap",
                "Envoy sees room for talks",
                ["Yonhap Interview"],
            ),
            ("UPDATE 2-Oil prices fall", "reuters", "Oil prices fall", ["UPDATE 2"]),
            ("RPT-EXCLUSIVE-Boeing weighs cuts", "reuters", "Boeing weighs cuts", ["RPT", "EXCLUSIVE"]),
            ("AP Exclusive: Files show delays", "ap", "Files show delays", ["AP Exclusive"]),
            ("COVID-19 cases rise in Seoul", "generic", "COVID-19 cases rise in Seoul", None),
        ],
    )
    def test_headline_tags_removed_and_kept(self, title, source, headline, tags):
        """Wire tags leave the headline and are kept in ingest.headline_tags."""
        story = run(feed(title=title), source=source)
        assert story.headline == headline
        assert story.ingest.get("headline_tags") == tags

    def test_markup_and_entities_leave_the_headline(self):
        """Real feeds put <i> and entities in titles; the headline is plain text."""
        story = run(feed(title="<i>Parasite</i> wins &amp; makes   history&#8230;"))
        assert story.headline == "Parasite wins & makes history…"

    def test_headline_repeated_as_first_paragraph_is_removed(self):
        """A body that starts by repeating the title does not keep the copy."""
        story = run(feed("<h1>Council approves budget</h1>" + BODY))
        assert not story.body_text.startswith("Council approves budget")

    def test_no_headline_takes_the_first_sentence(self):
        """A body without a title lends its first sentence, flagged."""
        story = run(feed("<p>Storms hit the coast. Thousands lost power.</p>", title=""))
        assert story.headline == "Storms hit the coast."
        assert "no headline: first sentence of the body used" in flags(story)


class TestByline:
    @pytest.mark.parametrize(
        "line, by, title",
        [
            ("By Lee Haye-ah", "Lee Haye-ah", None),
            ("By ZEKE MILLER and JOSH BOAK", "Zeke Miller and Josh Boak", None),
            ("By ZEKE MILLER, Associated Press", "Zeke Miller", "Associated Press"),
            ("By JOSH BOAK AP Economics Writer", "Josh Boak", "AP Economics Writer"),
            ("BY JANE DOE, JOHN ROE and MARY MAJOR", "Jane Doe, John Roe and Mary Major", None),
            ("By Jean-Pierre Durand and Ana de la Cruz", "Jean-Pierre Durand and Ana de la Cruz", None),
            ("By Sarah Kim, Staff Writer", "Sarah Kim", "Staff Writer"),
        ],
    )
    def test_byline_forms(self, line, by, title):
        """Bylines lose 'By' and job titles; names in capitals are recased."""
        story = run(feed(f"<p>{line}</p><p>WASHINGTON (AP) — The Senate voted on Thursday.</p>"))
        assert story.byline == by
        assert story.ingest.get("byline_title") == title
        assert line not in story.body_text

    def test_two_byline_lines_make_one_byline(self):
        """Two "By" lines under a headline are one byline with both names."""
        story = run(
            page(
                "Moon and Trump agree to keep talking on North Korea\n\nBy Kim Soo-yeon\n\n"
                "By Lee Haye-ah\n\nSEOUL, Jan. 9 (Yonhap) -- The leaders spoke by phone on Thursday."
            )
        )
        assert story.byline == "Kim Soo-yeon and Lee Haye-ah"
        assert story.ingest["authors"] == ["Kim Soo-yeon", "Lee Haye-ah"]
        assert story.summary == "" and story.body_text.startswith("SEOUL, Jan. 9 (Yonhap)")

    def test_sentence_starting_with_by_is_not_a_byline(self):
        """'By contrast, …' is body text, not a byline."""
        story = run(feed("<p>By contrast, the opposition said it would vote against the plan.</p>"))
        assert story.byline is None
        assert story.body_text.startswith("By contrast")

    def test_feed_authors_when_text_has_none(self):
        """With no byline in the text, the entry's authors are the byline."""
        story = run(feed(authors=["Jane Roe", "John Doe"]))
        assert story.byline == "Jane Roe and John Doe"

    def test_author_names_are_not_split(self):
        """An author written "Yeagle, P." is one person."""
        assert run(feed(authors=["Yeagle, P."])).byline == "Yeagle, P."

    def test_no_byline(self):
        """A story without any byline has none, and ninjs no `by`."""
        story = run(feed())
        assert story.byline is None and "by" not in story.ninjs


class TestDates:
    def test_local_time_read_in_profile_zone(self):
        """Yonhap's page time is Seoul time: 00:12 on 10 Jan is 15:12 UTC on 9 Jan."""
        story = run(
            page(
                "Kim inspects artillery drill in western area\n\nNorth Korea 00:12 January 10, 2020\n\n"
                "SEOUL, Jan. 10 (Yonhap) -- North Korean leader Kim Jong-un oversaw a drill."
            )
        )
        assert story.ninjs["firstCreated"] == "2020-01-09T15:12:00Z"
        assert story.ingest["dateline"]["date"] == "2020-01-10"

    def test_time_without_zone_and_no_profile_zone_is_utc_and_flagged(self):
        """Generic has no zone: a zoneless time is read as UTC, and flagged."""
        story = run(feed(published_raw="2020-01-08 14:30"))
        assert story.ninjs["firstCreated"] == "2020-01-08T14:30:00Z"
        assert "time has no zone and the profile none: read as UTC" in flags(story)

    def test_zoneless_written_time_uses_profile_zone(self):
        """The same written time for AP is New York time."""
        story = run(feed(published_raw="2020-01-08 14:30"), source="ap")
        assert story.ninjs["firstCreated"] == "2020-01-08T19:30:00Z"

    def test_future_time_is_clamped_to_fetch_time(self):
        """A publish time beyond a few minutes ahead of the fetch becomes the fetch time."""
        story = run(feed(published=datetime(2020, 1, 11, tzinfo=UTC)))
        assert story.first_created == NOW
        assert any("implausible" in f for f in flags(story))

    def test_slightly_ahead_is_kept(self):
        """Clock skew of a minute or two is not clamped."""
        ahead = datetime(2020, 1, 10, 12, 2, tzinfo=UTC)
        assert run(feed(published=ahead)).first_created == ahead

    def test_unparseable_date_is_flagged_and_fetch_time_used(self):
        """A date nobody can read degrades to the fetch time, with reasons."""
        story = run(feed(published_raw="sometime last week-ish"))
        assert story.first_created == NOW
        assert "unreadable time: 'sometime last week-ish'" in flags(story)
        assert "no publication time found: fetch time used" in flags(story)

    def test_json_ld_time_with_zone(self):
        """A page's datePublished keeps its own zone."""
        html = (
            '<html><head><script type="application/ld+json">{"@type": "NewsArticle", "headline": "H h h h",'
            '"datePublished": "2020-01-08T23:10:00+01:00"}</script></head><body><article>'
            + BODY * 3
            + "</article></body></html>"
        )
        story = run(Entry(kind="page-html", page=html))
        assert story.ninjs["firstCreated"] == "2020-01-08T22:10:00Z"


class TestHygiene:
    def test_text_is_nfc_with_collapsed_spaces_and_kept_paragraphs(self):
        """Entities decoded, NFC, spaces collapsed inside paragraphs, paragraph breaks kept."""
        story = run(feed("<p>Cafe\u0301 &amp;  bar\u00a0 opened\u200b today.</p>\n<p>Second   one.</p>"))
        assert story.body_text == "Café & bar opened today.\n\nSecond one."

    def test_html_is_sanitized_and_links_absolute(self):
        """No script, style, iframe, on* attributes or javascript: URLs; relative links resolved."""
        html = (
            '<script>steal()</script><style>p{}</style><p onclick="x()">Read <a href="/a/b?c=1">more</a> '
            '<a href="javascript:evil()">here</a></p><iframe src="https://x.example/"></iframe>'
            '<p><img src="x.jpg" onerror="bad()" alt="A photo"></p>'
        )
        story = run(feed(html, base_url="https://news.example.org/world/"))
        for bad in ("script", "steal", "style", "iframe", "onclick", "onerror", "javascript"):
            assert bad not in story.body_html
        assert '<a href="https://news.example.org/a/b?c=1"' in story.body_html
        assert story.pictures[0].href == "https://news.example.org/world/x.jpg"

    def test_mis_decoded_utf8_is_repaired(self):
        """UTF-8 read as cp1252 ("lâ€™aÃ©roport") is turned back, word by word."""
        story = run(
            feed("<p>Ce que lâ€™on sait de lâ€™aÃ©roport, São Paulo.</p>", title="Ð¡Ðš Ð²Ð¾Ð·Ð±ÑƒÐ´Ð¸Ð»")
        )
        assert story.body_text == "Ce que l’on sait de l’aéroport, São Paulo."
        assert story.headline == "СК возбудил"

    @pytest.mark.parametrize(
        "content",
        [
            "<p>Tom &amp; Jerry: 5 &gt; 4 &lt; 6.</p><ul><li>one</li><li>two</li></ul><h2>Next</h2>",
            "<p>No-break\u00a0space and a lone\rreturn.</p>",
            "<p>Linked <a href='https://x.example/'>text</a>.</p>",
        ],
    )
    def test_body_html_is_what_the_sanitizer_gives(self, monkeypatch, content):
        """Text-only bodies skip nh3 (it would give them back unchanged); any other goes through it."""
        sanitize, calls = _render.sanitize, []
        monkeypatch.setattr(_render, "sanitize", lambda markup: calls.append(markup) or sanitize(markup))
        story = run(feed(content))
        assert story.body_html == sanitize(story.body_html)
        assert bool(calls) == ("<a " in content or "\u00a0" in content)

    def test_br_pairs_split_paragraphs(self):
        """Feed HTML that separates paragraphs with <br><br> gets paragraphs."""
        story = run(feed("First part of the story here.<br><br>Second part of the story here."))
        assert story.body_text == "First part of the story here.\n\nSecond part of the story here."
        assert story.body_html == "<p>First part of the story here.</p><p>Second part of the story here.</p>"

    def test_hard_wrapped_page_text_is_rejoined(self):
        """Lines a hard wrap split become one paragraph again."""
        story = run(
            page(
                "Council approves the budget for schools\n\nThe council approved the budget for\n"
                "the new year after a long debate.\nA second paragraph."
            )
        )
        assert story.body_text == (
            "The council approved the budget for the new year after a long debate.\n\nA second paragraph."
        )

    def test_text_after_an_embed_is_body_text(self):
        """<embed> is a void element (HTML5): the text after it is the story's, not the embed's."""
        story = run(
            feed(
                '<p>Watch the debate <embed src="/v.swf" type="video/x-flv"> as it happened.</p><p>More.</p>'
            )
        )
        assert story.body_text == "Watch the debate as it happened.\n\nMore."
        assert "embed" not in story.body_html

    def test_an_embed_only_body_is_media_not_text(self):
        """A body that is only an <embed> has no text: the embed is media (an enclosure)."""
        story = run(
            feed(
                '<embed src="/clip.swf" type="application/x-shockwave-flash">',
                base_url="https://tv.example/a/",
            )
        )
        assert story.body_text == ""
        assert "no body text" in flags(story)
        assert story.enclosures == [
            {"href": "https://tv.example/clip.swf", "type": "application/x-shockwave-flash"}
        ]


class TestLanguage:
    def test_declared_language_wins(self):
        """The feed's declaration is used (normalized), even over the text's own language."""
        story = run(feed(language="fr_fr"))
        assert story.language == "fr-FR" and story.ingest["language_by"] == "declared"

    def test_detected_when_not_declared(self):
        """With no declaration, the language is detected from the text."""
        story = run(
            feed(
                "<p>Der Stadtrat hat am Dienstag nach langer Debatte den Haushalt beschlossen.</p>",
                title="Stadtrat beschließt Haushalt",
            )
        )
        assert story.language == "de" and story.ingest["language_by"] == "detected"

    def test_bad_declaration_is_flagged_and_detection_used(self):
        """A declaration that is not a language tag is ignored, with a flag."""
        story = run(feed(language="English (US)"))
        assert story.language == "en"
        assert "declared language 'English (US)' is not a language tag" in flags(story)


class TestBadInput:
    @pytest.mark.parametrize("text", ["", "   \n\n  "])
    def test_empty_input_is_dropped(self, text):
        """Nothing at all: DropStory with a reason."""
        with pytest.raises(DropStory, match="empty input"):
            run(page(text))

    def test_binary_junk_is_dropped(self):
        """Bytes that are not text, decoded anyway, are rejected as binary."""
        junk = bytes(range(256)).decode("latin-1") * 40
        with pytest.raises(DropStory, match="binary content"):
            run(page(junk))

    def test_no_headline_no_body_is_dropped(self):
        """A feed entry with neither title nor text is dropped."""
        with pytest.raises(DropStory, match="no headline and no body"):
            run(feed("<script>x()</script>", title=""))

    def test_empty_html_document_is_dropped(self):
        """An HTML page with nothing readable is dropped, not crashed on."""
        with pytest.raises(DropStory):
            run(Entry(kind="page-html", page="<html></html>"))

    def test_text_without_structure_still_makes_a_story(self):
        """No dateline, byline or section: a story with what is there, flagged."""
        story = run(page("lorem ipsum dolor sit amet\nconsectetur adipiscing elit\nsed do eiusmod tempor"))
        assert story.headline and story.located is None and story.byline is None
        assert "no publication time found: fetch time used" in flags(story)

    def test_title_only_entry_is_kept_and_flagged(self):
        """A headline alone is a story, flagged as having no body."""
        story = run(feed("", title="Breaking: quake hits Japan"))
        assert story.body_text == "" and "no body text" in flags(story)

    @pytest.mark.parametrize("kind", ["page-text", "page-html"])
    def test_huge_page_is_cut_and_fast(self, kind):
        """A 50 MB page is cut to the first few MB, flagged, and done in seconds."""
        para = "The committee met on Tuesday to discuss item %d of the city budget and its schools.\n\n"
        body = "".join(para % i for i in range(600_000))
        text = body if kind == "page-text" else f"<html><body><article><p>{body}</p></article></body></html>"
        assert len(text) > 50_000_000
        started = time.monotonic()
        story = run(Entry(kind=kind, page=text))
        assert time.monotonic() - started < 10
        assert any(f.startswith("input cut to its first") for f in flags(story))

    def test_a_failing_step_is_skipped_and_flagged(self, monkeypatch):
        """A bug in one step costs that step, not the story."""

        def broken(draft):
            raise RuntimeError("boom")

        monkeypatch.setattr(_chain, "CHAIN", (broken, *_chain.CHAIN))
        story = run(feed())
        assert "step broken failed: RuntimeError: boom" in flags(story)
        assert story.headline == "Council approves budget"


class TestOutput:
    def test_same_input_same_bytes(self):
        """Deterministic: the same entry and fetch time give byte-identical ninjs."""
        path = Path(__file__).resolve().parents[1] / "seeds" / "yonhap-2020-01-09-defense-cost-sharing.txt"
        entry = page(path.read_text(encoding="utf-8"))
        first, second = (json.dumps(run(entry).ninjs, ensure_ascii=False) for _ in range(2))
        assert first == second

    def test_ninjs_has_no_identity_fields(self):
        """uri, version and versionCreated are the store's to add."""
        assert not {"uri", "version", "versionCreated"} & set(run(feed()).ninjs)

    def test_guid_becomes_an_alt_id(self):
        """The feed's guid is kept as a ninjs altId."""
        assert run(feed(guid="urn:x:1")).ninjs["altIds"] == [{"role": "guid", "value": "urn:x:1"}]

    def test_example_site_profile(self):
        """config/sources/koreaherald.toml reads its own byline and time line formats."""
        profiles = load_profiles(Path(__file__).resolve().parents[1] / "config" / "sources")
        story = run(
            page(
                "Seoul to expand subsidies for electric cars\n\nPublished : Jan. 9, 2020 - 16:31\n\n"
                "By Choi Si-young (siyoungchoi@heraldcorp.com)\n\n"
                "The government will expand subsidies for electric vehicles this year.\n\n"
                "siyoungchoi@heraldcorp.com"
            ),
            source="koreaherald",
            profiles=profiles,
        )
        assert story.byline == "Choi Si-young"
        assert story.ninjs["firstCreated"] == "2020-01-09T07:31:00Z"
        assert story.body_text == "The government will expand subsidies for electric vehicles this year."
