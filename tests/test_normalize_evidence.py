"""Evidence-ranked page metadata: bylines, headlines and the body fallback."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ingestd.models import Entry, Story
from ingestd.normalize import load_profiles, normalize_entry
from ingestd.normalize._draft import Block, Draft, PageMeta
from ingestd.normalize._fallback import keep_fuller_body
from ingestd.normalize._head import parse_byline
from ingestd.normalize._page import _uncut

NOW = datetime(2020, 1, 10, 12, 0, tzinfo=UTC)
PROFILES = load_profiles(None)
PARAGRAPHS = "".join(
    f"<p>Paragraph {n} of the story says what officials decided about the harbor and why it matters.</p>"
    for n in range(1, 7)
)


def page(head: str = "", body_top: str = "", after: str = "", title: str = "Harbor deal reached") -> Story:
    markup = (
        f"<html><head><title>{title}</title>{head}</head><body>"
        f'<nav><a href="/sports">Browse Sports</a><a href="/news">News</a></nav>'
        f"<article><h1>{title}</h1>{body_top}{PARAGRAPHS}</article>{after}</body></html>"
    )
    entry = Entry(kind="page-html", page=markup, link="https://news.example.com/a/1")
    return normalize_entry(entry, feed_id="t", source=None, now=NOW, profiles=PROFILES)


def json_ld(**fields) -> str:
    return f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", **fields})}</script>'


class TestByline:
    def test_structured_author_beats_a_related_storys_by_line(self):
        """JSON-LD names the author; a "By …" line under a related story elsewhere on the page loses."""
        story = page(
            head=json_ld(author={"@type": "Person", "name": "Maria Lopez"}),
            after="<aside><h3>Related</h3><p>By Other Writer</p></aside>",
        )
        assert story.byline == "Maria Lopez" and story.ingest["byline_by"] == "json-ld"

    def test_nav_label_is_never_the_author(self):
        """A navigation link ("Browse Sports") given as author is refused; the next source wins."""
        story = page(
            head='<meta name="author" content="Browse Sports"><meta name="byl" content="By Ann Lee">'
        )
        assert story.ingest["authors"] == ["Ann Lee"]

    @pytest.mark.parametrize(
        "bad", ["Example News (www.example.com)", "news.example.com", "123456", "Harbor Gazette"]
    )
    def test_publisher_domain_or_number_is_refused(self, bad):
        """A site name, a domain or a numeric id is no author; the byline line in the article is."""
        story = page(
            head=f'<meta property="og:site_name" content="Harbor Gazette"><meta name="author" content="{bad}">',
            body_top="<p>By Sam Carter</p>",
        )
        assert story.ingest["authors"] == ["Sam Carter"]

    def test_every_author_is_kept(self):
        """Several JSON-LD authors: all in ingest.authors, joined in `by`."""
        authors = [{"@type": "Person", "name": n} for n in ("Ann Lee", "Bo Kim", "Cy Young")]
        story = page(head=json_ld(author=authors))
        assert story.ingest["authors"] == ["Ann Lee", "Bo Kim", "Cy Young"]
        assert story.byline == "Ann Lee, Bo Kim and Cy Young"

    def test_text_byline_is_shown_as_written(self):
        """When the article's own line names the same people, `by` is that line as the page prints it."""
        story = page(
            head=json_ld(author=[{"name": "Jeanne Roux"}, {"name": "Paul Martin"}]),
            body_top="<p>Par Jeanne Roux et Paul Martin</p>",
        )
        assert story.byline == "Jeanne Roux et Paul Martin"
        assert "Par Jeanne" not in story.body_text

    def test_closing_byline_signs_the_story(self):
        """A line of names closing the story is its byline and leaves the body as a sign-off."""
        paragraphs = "\n\n".join(f"南海トラフの調査が行われた。段落{n}。" for n in range(5))
        text = f"地震の調査\n\n{paragraphs}\n\n（松岡大地）"
        entry = Entry(kind="page-text", page=text)
        story = normalize_entry(entry, feed_id="t", source=None, now=NOW, profiles=PROFILES)
        assert story.ingest["authors"] == ["松岡大地"] and story.ingest["byline_by"] == "closing"
        assert "松岡大地" not in story.body_text and story.ingest["signoff"] == ["（松岡大地）"]

    def test_publisher_credited_as_author_is_the_desk_byline(self):
        """No person anywhere, and the page's own author field names the publisher: that credit stays."""
        org = {"@type": "Organization", "name": "Harbor Gazette"}
        story = page(head=json_ld(author=org, publisher=org))
        assert story.byline == "Harbor Gazette" and story.ingest["byline_by"] == "publisher"

    def test_a_person_beats_the_publisher_credit(self):
        """The publisher as JSON-LD author loses to a person named by the article's own line."""
        org = {"@type": "Organization", "name": "Harbor Gazette"}
        story = page(head=json_ld(author=org, publisher=org), body_top="<p>By Sam Carter</p>")
        assert story.ingest["authors"] == ["Sam Carter"]

    def test_publisher_name_in_free_text_is_no_credit(self):
        """Only a field that marks the author can credit the publisher; a "By" line naming it cannot."""
        story = page(
            head='<meta property="og:site_name" content="Harbor Gazette">',
            body_top="<p>By Harbor Gazette</p>",
        )
        assert story.byline is None

    @pytest.mark.parametrize(
        "top, bottom, names",
        [
            (
                "<p><strong>Mathatisi Sebusi/Mohalenyane Phakela</strong></p>",
                "",
                ["Mathatisi Sebusi", "Mohalenyane Phakela"],
            ),
            ("", "<p><b>Lê Phương</b></p>", ["Lê Phương"]),
        ],
    )
    def test_wholly_bold_line_of_names_is_a_byline(self, top, bottom, names):
        """A bold paragraph of full names above the lead or closing the story is the byline."""
        markup = (
            "<html><head><title>Harbor deal reached</title></head><body><article>"
            f"<h1>Harbor deal reached</h1>{top}{PARAGRAPHS}{bottom}</article></body></html>"
        )
        entry = Entry(kind="page-html", page=markup, link="https://news.example.com/a/1")
        story = normalize_entry(entry, feed_id="t", source=None, now=NOW, profiles=PROFILES)
        assert story.ingest["authors"] == names
        assert names[0] not in story.body_text

    def test_bold_subhead_is_not_a_byline(self):
        """A bold one-word line ("Update") or a phrase in lower case is no name."""
        story = page(body_top="<p><strong>Update</strong></p><p><b>What happens next</b></p>")
        assert story.byline is None

    @pytest.mark.parametrize(
        "line, names",
        [
            ("By ZEKE MILLER and JOSH BOAK", ["Zeke Miller", "Josh Boak"]),  # en
            ("Par Jeanne Roux et Paul Martin", ["Jeanne Roux", "Paul Martin"]),  # fr
            ("Von Anna Berg und Jonas Weber", ["Anna Berg", "Jonas Weber"]),  # de
            ("Autorin: Lena Vogt", ["Lena Vogt"]),  # de
            ("Por Ana Ruiz y Luis Gómez", ["Ana Ruiz", "Luis Gómez"]),  # es
            ("Por Ana Ruiz e João Silva", ["Ana Ruiz", "João Silva"]),  # pt
            ("Di Marco Neri", ["Marco Neri"]),  # it
            ("김민수·이해아 기자", ["김민수", "이해아"]),  # ko
            ("홍길동 기자 hong@yna.co.kr", ["홍길동"]),  # ko, with the reporter's address
            ("記者：松岡大地", ["松岡大地"]),  # ja
            ("（松岡大地）", ["松岡大地"]),  # ja, closing a story
            ("记者 张伟", ["张伟"]),  # zh
            ("本报记者 李娜", ["李娜"]),  # zh
            ("责任编辑：王芳", ["王芳"]),  # zh
        ],
    )
    def test_byline_patterns_in_nine_languages(self, line, names):
        """Author lines in en/fr/de/es/pt/it/ko/ja/zh are read as names."""
        assert parse_byline(PROFILES.generic, line)[1] == names

    @pytest.mark.parametrize(
        "line", ["Di Maio ha detto che", "Par ailleurs, le gouvernement a dit", "Von der Leyen sagte"]
    )
    def test_sentences_are_not_bylines(self, line):
        """A sentence opening with the same word is not an author line."""
        assert parse_byline(PROFILES.generic, line) is None


class TestHeadline:
    def test_typography_is_kept_and_only_the_site_suffix_goes(self):
        """An en dash and a "|" inside the headline stay; " | Site" at the end goes."""
        title = "Vargas Llosa dies – why Mallorca mattered | a look back | Harbor Gazette"
        story = page(head='<meta property="og:site_name" content="Harbor Gazette">', title=title)
        assert story.headline == "Vargas Llosa dies – why Mallorca mattered | a look back"

    def test_the_declared_headline_beats_the_display_wording(self):
        """JSON-LD's headline outranks a shorter <h1>/<title> wording, and og:title."""
        story = page(
            head=json_ld(headline="Harbor deal reached after two days of talks")
            + '<meta property="og:title" content="A shareable teaser for social media">'
        )
        assert story.headline == "Harbor deal reached after two days of talks"

    def test_og_title_stands_in_for_json_ld(self):
        """With no JSON-LD headline, og:title (its site suffix cut) is the declared one."""
        story = page(
            head='<meta property="og:site_name" content="Harbor Gazette">'
            '<meta property="og:title" content="Harbor deal reached after talks - Harbor Gazette">'
        )
        assert story.headline == "Harbor deal reached after talks"

    def test_without_a_declared_headline_most_sources_agree(self):
        """twitter:title alone against <h1> and <title> agreeing: the agreement wins."""
        story = page(head='<meta name="twitter:title" content="A shareable teaser for social media">')
        assert story.headline == "Harbor deal reached"

    def test_json_ld_wrapped_in_cdata_is_read(self):
        """A CMS's <![CDATA[ … ]]> around the JSON-LD does not hide it."""
        data = json.dumps({"@type": "NewsArticle", "headline": "Harbor deal reached after talks"})
        story = page(head=f'<script type="application/ld+json">//<![CDATA[\n{data}\n//]]></script>')
        assert story.headline == "Harbor deal reached after talks"


class TestBodyFallback:
    def draft(self, blocks: list[str], extracted: str, headline: str = "Harbor deal") -> Draft:
        story = Story(feed_id="t", source="generic", headline=headline, body_text="")
        return Draft(
            entry=Entry(kind="page-html", page="<html></html>"),
            story=story,
            now=NOW,
            profiles=PROFILES,
            profile=PROFILES.generic,
            blocks=[Block(t, t) for t in blocks],
            page=PageMeta(extracted_text=extracted),
        )

    def test_only_the_title_left_falls_back_to_the_extraction(self):
        """A body that is only the headline is replaced by trafilatura's text, flagged."""
        draft = keep_fuller_body(self.draft(["Harbor deal"], "First paragraph.\nSecond paragraph."))
        assert [b.text for b in draft.blocks] == ["First paragraph.", "Second paragraph."]
        assert any("trafilatura" in f for f in draft.story.ingest["flags"])

    def test_much_shorter_body_falls_back(self):
        """Under 60% of the extraction's tokens: the extraction wins."""
        extracted = " ".join(f"word{n}" for n in range(100))
        assert keep_fuller_body(self.draft(["word1 word2"], extracted)).blocks[0].text.startswith("word0")

    def test_a_body_as_full_as_the_extraction_is_kept(self):
        """At 60% or more, our cleaned body stays."""
        extracted = " ".join(f"word{n}" for n in range(10))
        ours = " ".join(f"word{n}" for n in range(7))
        assert keep_fuller_body(self.draft([ours], extracted)).blocks[0].text == ours


class TestPageBody:
    def test_links_in_the_article_survive_in_body_html(self):
        """The extractor reads without links; the page's own markup puts them back on the same paragraph."""
        linked = (
            '<p>Officials said the <a href="/port-authority">port authority</a> approved the deal late'
            " on Tuesday after two days of talks with the union.</p>"
        )
        story = page(body_top=linked)
        assert '<a href="https://news.example.com/port-authority"' in story.body_html
        assert "the port authority approved" in story.body_text

    def test_a_cut_paragraph_is_taken_whole(self):
        """Precision may cut a link's text out of a sentence; the default reading's whole sentence is kept."""
        words = [f"word{n}" for n in range(30)]
        fuller = [Block(" ".join(words), " ".join(words))]
        cut = " ".join(words[:10] + words[12:])
        assert _uncut([Block(cut, cut)], fuller)[0].text == fuller[0].text

    @pytest.mark.parametrize(
        "chosen",
        [
            "word0 word1 word2 word3 word4 word5 word6 word7 word8 word9",  # a summary: the start only
            "word0 word29",  # a heading whose words the paragraph happens to hold
        ],
    )
    def test_a_paragraph_that_is_no_cut_stays_as_it_is(self, chosen):
        """A long run of missing words is a different text, not a cut: nothing is swapped."""
        words = " ".join(f"word{n}" for n in range(30))
        assert _uncut([Block(chosen, chosen)], [Block(words, words)])[0].text == chosen

    def test_a_subhead_between_kept_paragraphs_comes_back(self):
        """A heading precision dropped between two paragraphs it kept is the article's own subhead."""
        first, second = "First paragraph of the story.", "Second paragraph of the story."
        fuller = [
            Block(first, first),
            Block("Rez Infinite ($30)", "Rez Infinite ($30)", "h3"),
            Block(second, second),
        ]
        kept = _uncut([Block(first, first), Block(second, second)], fuller)
        assert [b.text for b in kept] == [first, "Rez Infinite ($30)", second]

    def test_a_dropped_paragraph_keeps_its_heading_out(self):
        """A heading beside a paragraph precision also dropped (a related-links box) stays out."""
        first, second = "First paragraph of the story.", "Second paragraph of the story."
        fuller = [
            Block(first, first),
            Block("Related", "Related", "h3"),
            Block("Other story", "Other story"),
            Block(second, second),
        ]
        kept = _uncut([Block(first, first), Block(second, second)], fuller)
        assert [b.text for b in kept] == [first, second]
