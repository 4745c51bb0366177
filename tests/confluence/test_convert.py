"""The storage-format converter: golden fixtures per construct, robustness, determinism, reporting, front matter.

Golden pairs live in tests/fixtures/convert: `<case>.xhtml` converts to exactly `<case>.md` under `GOLDEN_CONTEXT`.
"""

from __future__ import annotations

import base64
import dataclasses
import time
import zlib
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from confluence.convert import (
    CONVERTER_VERSION,
    ConversionResult,
    ConvertContext,
    PageMeta,
    PageRef,
    SitePage,
    SiteTree,
    convert,
    render_front_matter,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "convert"
CASES = sorted(p.stem for p in FIXTURES.glob("*.xhtml"))


@dataclasses.dataclass(frozen=True)
class GoldenContext(ConvertContext):
    """A repository that holds "Known Page", the current page's attachments and one named user."""

    def resolve_page(self, ref: PageRef) -> str | None:
        if ref.title == "Known Page":
            return "known-page.md" + (f"#{ref.anchor.lower()}" if ref.anchor else "")
        return None

    def resolve_attachment(self, *, page_id: str | None, filename: str) -> str | None:
        return f"_attachments/{page_id}/{filename}" if page_id == self.page_id else None

    def user_name(self, account_id: str) -> str | None:
        return {"557058:alice": "Alice Example"}.get(account_id)

    def excerpt(self, ref: PageRef) -> str | None:
        return "The known page, in brief." if ref.title == "Known Page" else None


GOLDEN_CONTEXT = GoldenContext(site_url="https://example.atlassian.net", page_id="1001", space_key="ENG")


@pytest.mark.parametrize("case", CASES)
def test_it_converts_golden_case(case):
    storage = (FIXTURES / f"{case}.xhtml").read_text(encoding="utf-8")
    expected = (FIXTURES / f"{case}.md").read_text(encoding="utf-8")
    assert convert(storage, GOLDEN_CONTEXT).markdown == expected


def test_it_has_a_golden_output_for_every_input():
    assert CASES
    assert sorted(p.stem for p in FIXTURES.glob("*.md")) == CASES


# -- robustness: never raise, say what went wrong --------------------------------------------------------


@pytest.mark.parametrize("storage", ["", "   \n ", None])
def test_it_converts_empty_bodies_to_nothing(storage):
    result = convert(storage)
    assert result == ConversionResult(markdown="")


def test_it_survives_truncated_input():
    result = convert('<p>Intro</p><ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[print(1)\nprint(')
    assert "print(1)" in result.markdown
    assert any("CDATA" in w for w in result.warnings)
    assert any("unbalanced" in w for w in result.warnings)


def test_it_survives_a_page_cut_inside_a_tag():
    result = convert("<p>Hello <strong>world</strong></p><table><tr><td>cell</td><td class=")
    assert "Hello **world**" in result.markdown
    assert any("truncated" in w for w in result.warnings)


def test_it_survives_malformed_markup_and_unknown_namespaces():
    storage = "<p>a <b>b <i>c</p></b> d</i><x:thing y:attr='1'>kept</x:thing><ac:nonsense>also kept</ac:nonsense></z:e>"
    markdown = convert(storage).markdown
    for word in ("a", "b", "c", "d", "kept", "also kept"):
        assert word in markdown


def test_it_handles_entities_xml_parsers_reject():
    assert convert("<p>a&nbsp;&rarr;&nbsp;b &bogus;</p>").markdown == "a → b &bogus;\n"


def test_it_flattens_500_levels_of_nesting():
    depth = 500
    for open_tag, close_tag in [("<div>", "</div>"), ("<ul><li>", "</li></ul>"), ("<blockquote>", "</blockquote>")]:
        result = convert(open_tag * depth + "deep text" + close_tag * depth)
        assert "deep text" in result.markdown
    nested_panels = '<ac:structured-macro ac:name="info"><ac:rich-text-body>' * depth
    result = convert(nested_panels + "<p>deep panel</p>" + "</ac:rich-text-body></ac:structured-macro>" * depth)
    assert "deep panel" in result.markdown
    assert any("nesting too deep" in w for w in result.warnings)


@pytest.mark.slow
def test_it_converts_a_5_mb_page():
    words = "Lorem ipsum dolor sit amet, <strong>consectetur</strong> adipiscing. " * 40
    code = "x = 1\n" * 200
    section = (
        f"<h2>Section {{n}}</h2><p>{words}</p>"
        f'<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[{code}]]></ac:plain-text-body>'
        "</ac:structured-macro><table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>b</td></tr></table>"
    )
    storage = "".join(section.format(n=n) for n in range(1300))
    assert len(storage) > 5_000_000
    start = time.perf_counter()
    result = convert(storage)
    assert time.perf_counter() - start < 60
    assert "## Section 1299" in result.markdown
    assert result.markdown.count("```") == 2 * 1300


# -- determinism and reporting ---------------------------------------------------------------------------


def test_it_is_deterministic():
    storage = "".join((FIXTURES / f"{case}.xhtml").read_text(encoding="utf-8") for case in CASES)
    first = convert(storage, GOLDEN_CONTEXT)
    for _ in range(3):
        assert convert(storage, GOLDEN_CONTEXT) == first


def test_it_reports_attachments_linked_pages_and_unknown_macros():
    storage = (
        '<ac:image><ri:attachment ri:filename="b.png" /></ac:image>'
        '<ac:link><ri:attachment ri:filename="a.pdf" /></ac:link>'
        '<ac:link><ri:page ri:content-title="Zeta" ri:space-key="OPS" /></ac:link>'
        '<ac:link ac:anchor="top"><ri:page ri:content-title="Alpha" /></ac:link>'
        '<ac:structured-macro ac:name="zzz-widget" /><ac:structured-macro ac:name="aaa-gadget" />'
    )
    result = convert(storage, ConvertContext(page_id="7"))
    assert result.attachments == (("7", "a.pdf"), ("7", "b.png"))
    assert result.linked_pages == (  # sorted by id, space, title, anchor
        PageRef(title="Alpha", anchor="top"),
        PageRef(title="Zeta", space_key="OPS"),
    )
    assert result.unknown_macros == ("aaa-gadget", "zzz-widget")
    assert result.warnings == ()


@pytest.mark.parametrize(
    ("storage", "markdown"),
    [
        ('<p><a href=" JaVaScRiPt:alert(1)">j</a></p>', "j"),
        ('<p><a href="java\tscript:alert(1)">t</a></p>', "t"),
        ('<p><a href="data:text/html;base64,PHNjcmlwdD4=">d</a></p>', "d"),
        ('<p><img src="data:image/png;base64,AAAA" alt="x"/></p>', "x"),
        ('<ac:image ac:alt="pic"><ri:url ri:value="javascript:alert(1)"/></ac:image>', "pic"),
        (
            '<ac:link><ri:url ri:value="vbscript:msgbox"/>'
            "<ac:plain-text-link-body><![CDATA[v]]></ac:plain-text-link-body></ac:link>",
            "v",
        ),
        ('<p><a href="https://example.com/javascript:x">ok</a></p>', "[ok](https://example.com/javascript:x)"),
        ('<p><a href="mailto:a@b.c">m</a></p>', "[m](mailto:a@b.c)"),
    ],
)
def test_a_link_that_would_run_or_embed_something_keeps_only_its_text(storage, markdown):
    assert convert(storage, ConvertContext(site_url="https://x.atlassian.net")).markdown.strip() == markdown


def test_it_links_back_to_confluence_when_the_context_resolves_nothing():
    storage = (
        '<p><ac:link><ri:page ri:content-title="Run Book" ri:space-key="OPS" /></ac:link> '
        '<ac:link><ri:content-entity ri:content-id="99" /></ac:link> '
        '<ac:image><ri:attachment ri:filename="a b.png" /></ac:image></p>'
    )
    markdown = convert(storage, ConvertContext(site_url="https://x.atlassian.net/", page_id="5")).markdown
    assert "[Run Book](https://x.atlassian.net/wiki/display/OPS/Run+Book)" in markdown
    assert "(https://x.atlassian.net/wiki/pages/viewpage.action?pageId=99)" in markdown
    assert "![a b.png](https://x.atlassian.net/wiki/download/attachments/5/a%20b.png)" in markdown


def test_it_uses_the_context_for_includes_and_children():
    @dataclasses.dataclass(frozen=True)
    class Embedding(ConvertContext):
        def include(self, ref):
            return f"Included **{ref.title}**."

        def children(self, page_id):
            return f"- child of {page_id}"

    storage = (
        '<ac:structured-macro ac:name="include"><ac:parameter ac:name="">'
        '<ac:link><ri:page ri:content-title="Footer" /></ac:link></ac:parameter></ac:structured-macro>'
        '<ac:structured-macro ac:name="children" />'
    )
    assert convert(storage, Embedding(page_id="3")).markdown == "Included **Footer**.\n\n- child of 3\n"


def test_it_names_people_from_the_context_and_reports_whom_a_page_mentions():
    storage = (
        '<p><ac:link><ri:user ri:account-id="557058:alice" /></ac:link>, <ri:user ri:account-id="712020:bob" />, '
        '<ac:link><ri:user ri:account-id="5b10:gone" /></ac:link> and <ac:link><ri:user ri:userkey="ff80" /></ac:link>'
        "</p>"
    )
    context = ConvertContext(site_url="https://x.atlassian.net", user_names={"557058:alice": "Alice", "ff80": "Eve"})

    result = convert(storage, context)

    assert result.markdown == (
        "[@Alice](https://x.atlassian.net/wiki/people/557058%3Aalice), "
        "[@unknown user](https://x.atlassian.net/wiki/people/712020%3Abob), "
        "[@unknown user](https://x.atlassian.net/wiki/people/5b10%3Agone) and @Eve\n"
    )
    assert result.mentions == ("557058:alice", "5b10:gone", "712020:bob")
    assert "@user-" not in convert(storage).markdown


def test_it_reports_the_page_that_owns_an_embedded_attachment():
    storage = (
        '<ac:structured-macro ac:name="viewpdf"><ac:parameter ac:name="name"><ri:attachment ri:filename="a.pdf">'
        '<ri:content-entity ri:content-id="77" /></ri:attachment></ac:parameter></ac:structured-macro>'
        '<ac:structured-macro ac:name="view-file"><ac:parameter ac:name="name"><ri:attachment ri:filename="b.png" />'
        "</ac:parameter></ac:structured-macro>"
        '<ac:structured-macro ac:name="viewdoc"><ac:parameter ac:name="name"><ri:attachment ri:filename="c.doc">'
        '<ri:page ri:content-title="Elsewhere" /></ri:attachment></ac:parameter></ac:structured-macro>'
    )

    result = convert(storage, ConvertContext(site_url="https://x.atlassian.net", page_id="5"))

    assert result.attachments == (("5", "b.png"), ("77", "a.pdf"))  # by title: linked to its page, not fetched
    assert result.linked_pages == (PageRef(title="Elsewhere"),)
    assert "![b.png](https://x.atlassian.net/wiki/download/attachments/5/b.png)" in result.markdown


def test_it_shows_a_diagram_as_its_png_only_when_the_context_holds_it():
    storage = (
        '<ac:structured-macro ac:name="drawio"><ac:parameter ac:name="diagramName">arch</ac:parameter>'
        "</ac:structured-macro>"
    )

    unknown = convert(storage, ConvertContext(site_url="https://x.atlassian.net", page_id="5"))
    held = convert(storage, GOLDEN_CONTEXT)

    assert unknown.markdown == "*draw.io diagram:* [arch](https://x.atlassian.net/wiki/download/attachments/5/arch)\n"
    assert unknown.attachments == ()
    assert held.markdown == "![arch](_attachments/1001/arch.png)\n"
    assert held.attachments == (("1001", "arch.png"),)


# A synced site of two spaces: ENG's home page (1) and "Other page" (77) below it, OPS's two top-level pages.
SYNCED = SiteTree(
    {
        "1": SitePage(id="1", title="Home", space_key="ENG"),
        "77": SitePage(id="77", title="Other page", space_key="ENG", parent_id="1"),
        "2": SitePage(id="2", title="Ops A", space_key="OPS"),
        "3": SitePage(id="3", title="Ops B", space_key="OPS"),
    }
)
OTHER_IMAGE = (
    '<ac:image><ri:attachment ri:filename="x.png"><ri:page ri:space-key="ENG" ri:content-title="{title}" />'
    "</ri:attachment></ac:image>"
)


@dataclasses.dataclass(frozen=True)
class SyncedContext(ConvertContext):
    """A repository holding every page of SYNCED as `<id>.md` and the attachments of page 77."""

    def resolve_page(self, ref: PageRef) -> str | None:
        return f"{ref.page_id}.md" if ref.page_id in self.site_tree.pages else None

    def resolve_attachment(self, *, page_id: str | None, filename: str) -> str | None:
        return f"_attachments/{page_id}/{filename}" if page_id == "77" else None


def test_it_shows_an_image_of_a_synced_page_named_by_title_from_the_repository():
    context = SyncedContext(site_url="https://x.atlassian.net", page_id="5", space_key="OPS", site_tree=SYNCED)

    result = convert(OTHER_IMAGE.format(title="Other page"), context)

    assert result.markdown == "![x.png](_attachments/77/x.png)\n"
    assert result.attachments == (("77", "x.png"),)  # reported with its owner: fetched once, whoever shows it


def test_it_shows_an_image_of_a_synced_page_named_by_title_from_confluence_when_not_held():
    context = ConvertContext(site_url="https://x.atlassian.net", page_id="5", space_key="OPS", site_tree=SYNCED)

    synced = convert(OTHER_IMAGE.format(title="Other page"), context)
    unsynced = convert(OTHER_IMAGE.format(title="Nowhere"), context)

    assert synced.markdown == "![x.png](https://x.atlassian.net/wiki/download/attachments/77/x.png)\n"
    assert unsynced.markdown == "[x.png](https://x.atlassian.net/wiki/display/ENG/Nowhere)\n"
    assert unsynced.attachments == ()


def test_it_links_a_space_to_its_synced_home_page():
    storage = "".join(f'<p><ac:link><ri:space ri:space-key="{key}" /></ac:link></p>' for key in ("ENG", "OPS", "HR"))
    context = SyncedContext(site_url="https://x.atlassian.net", page_id="5", space_key="OPS", site_tree=SYNCED)

    result = convert(storage, context)

    # OPS has two pages without a parent: no one home page, so the space in Confluence.
    assert result.markdown == (
        "[ENG](1.md)\n\n[OPS](https://x.atlassian.net/wiki/spaces/OPS)\n\n[HR](https://x.atlassian.net/wiki/spaces/HR)\n"
    )
    assert result.linked_pages == (PageRef(page_id="1"),)  # rendered again when the home page moves


def test_it_links_blog_posts_by_their_posting_day():
    storage = '<ac:link><ri:blog-post ri:content-title="Launch" ri:posting-day="2024/05/01" /></ac:link>'

    result = convert(storage, ConvertContext(site_url="https://x.atlassian.net", space_key="ENG"))

    assert result.markdown == "[Launch](https://x.atlassian.net/wiki/display/ENG/2024/05/01/Launch)\n"
    assert result.linked_pages == (PageRef(title="Launch", posting_day="2024/05/01"),)


def test_it_keeps_code_that_shows_storage_format_as_code():
    shown = "<ac:plain-text-body><![CDATA[print()]]></ac:plain-text-body>"
    stored = "<ac:plain-text-body><![CDATA[print()]]]]><![CDATA[></ac:plain-text-body>"  # Confluence splits "]]>"
    storage = (
        f'<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[{stored}]]></ac:plain-text-body>'
        "</ac:structured-macro>"
    )

    result = convert(storage)

    assert result.markdown == f"```\n{shown}\n```\n"
    assert result.warnings == ()


def test_it_ends_an_unterminated_cdata_section_where_its_element_ends():
    storage = (
        '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[one()</ac:plain-text-body>'
        "</ac:structured-macro><p>Between</p>"
        '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[two()]]></ac:plain-text-body>'
        "</ac:structured-macro>"
    )

    result = convert(storage)

    assert result.markdown == "```\none()\n```\n\nBetween\n\n```\ntwo()\n```\n"
    assert any("unterminated CDATA" in w for w in result.warnings)


@pytest.mark.parametrize(
    "storage",
    [
        '<p>Kept <ri:page ri:content-title="Open" ><strong>after</strong> the tag</p>',  # no "/>"
        '<p>Kept <ac:link><ri:page ri:content-title="Open" /><ac:plain-text-link-body><![CDATA[after]]>'
        "</ac:plain-text-link-body> the tag</p>",  # no "</ac:link>"
        '<ac:structured-macro ac:name="status"><ac:parameter ac:name="title">Kept</ac:parameter><p>after the tag</p>',
        '<p>Kept <ac:emoticon ac:name="tick"> after the tag</p>',
        "<table><tr><td>Kept</td></tr><p>after the tag</p>",
    ],
)
def test_it_keeps_the_text_an_unclosed_element_swallows(storage):
    result = convert(storage)

    assert "Kept" in result.markdown
    assert "after" in result.markdown and "the tag" in result.markdown
    assert "<ac:" not in result.markdown and "<ri:" not in result.markdown


def test_it_drops_a_tag_the_end_of_the_page_cut_short():
    result = convert('<p>Last words</p><ac:structured-macro ac:name="info"><ac:parameter ac:name="ti')

    assert result.markdown == "Last words\n"
    assert any("truncated" in w for w in result.warnings)


def test_it_has_an_integer_version():
    assert isinstance(CONVERTER_VERSION, int)
    assert CONVERTER_VERSION >= 1


# -- front matter ----------------------------------------------------------------------------------------


def test_it_renders_front_matter_in_a_fixed_order():
    meta = PageMeta(
        title="Deploy: the #1 guide",
        page_id="123",
        space_key="ENG",
        version=7,
        last_modified="2024-05-01T10:00:00Z",
        source_url="https://example.atlassian.net/wiki/spaces/ENG/pages/123",
        labels=("ops", "how-to"),
        ancestors=("Home", "Runbooks"),
        parent_id="100",
    )
    text = render_front_matter(meta)
    assert text.startswith("---\ntitle: 'Deploy: the #1 guide'\npage_id: '123'\n")
    assert text.endswith("parent_id: '100'\n---\n")
    loaded = yaml.safe_load(text.strip("-\n"))
    assert list(loaded) == [
        "title", "page_id", "space_key", "version", "last_modified", "source_url", "labels", "ancestors", "parent_id",
    ]  # fmt: skip
    assert loaded["labels"] == ["ops", "how-to"]


def test_it_accepts_a_mapping_and_skips_missing_values():
    text = render_front_matter({"page_id": 5, "title": "T", "parent_id": None, "labels": []})
    assert yaml.safe_load(text.strip("-\n")) == {"title": "T", "page_id": 5, "labels": []}


@pytest.mark.parametrize(
    "title",
    ["a: b", "'quoted' \"double\"", "# not a comment", "line\nbreak", "- dash", "* star", "日本語のタイトル",
     "yes", "1.0", "", " padded ", "null", "@at", "%percent", "tab\there", "{braces}", "[list]", "a\u2028b"],
)  # fmt: skip
def test_it_round_trips_awkward_titles(title):
    text = render_front_matter(PageMeta(title=title, page_id="1", ancestors=(title,)))
    loaded = yaml.safe_load(text.removeprefix("---\n").removesuffix("---\n"))
    assert loaded["title"] == title
    assert loaded["ancestors"] == [title]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_it_round_trips_any_title(title):
    text = render_front_matter(PageMeta(title=title, page_id="1"))
    assert yaml.safe_load(text.removeprefix("---\n").removesuffix("---\n"))["title"] == title


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/&;![]ac:ri-p x\"'=CDATA"))))
def test_it_never_raises_on_arbitrary_markup(storage):
    assert isinstance(convert(storage).markdown, str)


# -- diagram sources and nested tables at the limits ------------------------------------------------------


def test_it_names_a_compressed_diagram_too_large_to_be_one():
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = base64.b64encode(deflater.compress(b"A" * (2 << 20)) + deflater.flush()).decode()  # 2 MB inflated
    storage = (
        f'<ac:structured-macro ac:name="plantumlcloud"><ac:parameter ac:name="data">{data}</ac:parameter>'
        '<ac:parameter ac:name="compressed">true</ac:parameter></ac:structured-macro>'
    )

    result = convert(storage)

    assert result.markdown == "*Confluence macro: plantumlcloud*\n"
    assert "plantumlcloud" in result.unknown_macros


def test_it_writes_tables_nested_30_deep_as_html():
    storage = "<p>core</p>"
    for depth in range(30):
        storage = f"<table><tbody><tr><td>level {depth}</td><td>{storage}</td></tr></tbody></table>"

    markdown = convert(storage).markdown

    assert markdown.count("<table>") == markdown.count("</table>") == 30
    assert "|" not in markdown
    assert "core" in markdown
