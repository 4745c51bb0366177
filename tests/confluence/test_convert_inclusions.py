"""Inclusion macros (include, excerpt-include, excerpt) and page properties (details, detailssummary): golden pairs
in tests/fixtures/convert/inclusions, converted as page 1001 of the tree in site.yml with the synced bodies in
sources/, plus what the converter reports and how it ends cycles."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from confluence.convert import ConvertContext, PageRef, SiteTree, convert
from tests.confluence import golden_sites

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "convert" / "inclusions"
CASES = sorted(p.stem for p in FIXTURES.glob("*.xhtml"))


def include_of(title: str, space: str = "") -> str:
    space_attr = f' ri:space-key="{space}"' if space else ""
    return (
        '<ac:structured-macro ac:name="include"><ac:parameter ac:name=""><ac:link>'
        f'<ri:page ri:content-title="{title}"{space_attr} /></ac:link></ac:parameter></ac:structured-macro>'
    )


def site_tree() -> SiteTree:
    return golden_sites.site_tree(FIXTURES)


@dataclasses.dataclass(frozen=True)
class RepositoryContext(ConvertContext):
    """A repository that holds every page of the tree as `<id>.md` and every page's attachments."""

    def resolve_page(self, ref: PageRef) -> str | None:
        page = self.source_page(ref)
        return f"{page.id}.md" if page is not None else None

    def resolve_attachment(self, *, page_id: str | None, filename: str) -> str | None:
        return f"_attachments/{page_id}/{filename}"


def context(**changes) -> RepositoryContext:
    sources = {p.stem: p.read_text(encoding="utf-8") for p in (FIXTURES / "sources").glob("*.xhtml")}
    sources["1001"] = "<p>The handbook.</p>"
    defaults = {
        "site_url": "https://example.atlassian.net",
        "page_id": "1001",
        "space_key": "ENG",
        "site_tree": site_tree(),
        "sources": sources,
    }
    return RepositoryContext(**{**defaults, **changes})


@pytest.mark.parametrize("case", CASES)
def test_it_shows_the_content_of_synced_pages(case):
    storage = (FIXTURES / f"{case}.xhtml").read_text(encoding="utf-8")
    expected = (FIXTURES / f"{case}.md").read_text(encoding="utf-8")
    assert convert(storage, context()).markdown == expected


def test_it_has_a_golden_output_for_every_inclusion_input():
    assert len(CASES) == 4
    assert sorted(p.stem for p in FIXTURES.glob("*.md")) == CASES


def test_it_reports_the_pages_whose_content_it_shows_at_any_depth():
    result = convert(include_of("Loop A"), context())
    assert result.included == ("2003", "2004")
    assert "Loop A starts." in result.markdown and "Loop B starts." in result.markdown


def test_it_reports_the_source_pages_attachments_as_theirs():
    result = convert(include_of("Shared footer", "OPS"), context())
    assert result.attachments == (("2001", "logo.png"),)
    assert "![logo.png](_attachments/2001/logo.png)" in result.markdown


def test_a_cycle_ends_with_a_link_to_the_page_already_shown():
    markdown = convert(include_of("Loop B"), context(page_id="2003")).markdown
    assert markdown.count("Loop B starts.") == 1
    assert "*Content included from [Loop A](2003.md), already shown around this point (an inclusion loop).*" in markdown


def test_a_page_that_is_not_synced_is_a_link_to_confluence_never_its_content():
    result = convert(include_of("Secret plans"), context(sources={"x": "<p>secret</p>"}))
    assert result.markdown == (
        "*Content included from [Secret plans](https://example.atlassian.net/wiki/display/ENG/Secret+plans),"
        " which is not in this repository.*\n"
    )
    assert result.included == ()


def test_a_synced_page_whose_body_is_not_at_hand_is_a_link():
    markdown = convert(include_of("Glossary"), context(sources={})).markdown
    assert markdown == "*Content included from [Glossary](2002.md), whose content was not at hand.*\n"


def test_without_a_tree_every_inclusion_links_to_confluence():
    storage = include_of("Glossary") + '<ac:structured-macro ac:name="detailssummary" />'
    result = convert(storage, ConvertContext(site_url="https://x.atlassian.net", space_key="ENG"))
    assert "[Glossary](https://x.atlassian.net/wiki/display/ENG/Glossary), which is not in this" in result.markdown
    assert (
        "*[Pages](https://x.atlassian.net/wiki/search?cql=type%20%3D%20page%20and%20space%20in%20%28%22ENG%22%29)"
        in (result.markdown)
    )
    assert "No synced page" not in result.markdown


def test_the_report_lists_its_pages_and_spaces_and_the_pages_whose_properties_it_shows():
    storage = '<ac:structured-macro ac:name="detailssummary"><ac:parameter ac:name="label">decision</ac:parameter>'
    result = convert(storage + "</ac:structured-macro>", context())
    assert result.listed == ("3001", "3002")
    assert result.listed_spaces == ("ENG",)
    assert result.included == ("3001", "3002", "3003")  # Retro too: it may gain page properties
