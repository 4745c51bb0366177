"""Page-list macros rendered from the synced tree: golden pairs in tests/fixtures/convert/page_lists, converted as
page 1001 of the tree in site.yml, plus what the converter reports and its fallbacks without a tree."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from confluence.convert import ConvertContext, PageRef, SitePage, SiteTree, convert
from tests.confluence import golden_sites

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "convert" / "page_lists"
CASES = sorted(p.stem for p in FIXTURES.glob("*.xhtml"))
ALL_CHILDREN = (
    '<ac:structured-macro ac:name="children"><ac:parameter ac:name="all">true</ac:parameter></ac:structured-macro>'
)
GUIDES = (
    '<ac:structured-macro ac:name="contentbylabel">'
    '<ac:parameter ac:name="labels">guide</ac:parameter></ac:structured-macro>'
)


def site_tree() -> SiteTree:
    return golden_sites.site_tree(FIXTURES)


@dataclasses.dataclass(frozen=True)
class TreeContext(ConvertContext):
    """A repository that holds every page of the tree as `<id>.md`."""

    def resolve_page(self, ref: PageRef) -> str | None:
        return f"{ref.page_id}.md" if ref.page_id in self.site_tree.pages else None


def context() -> TreeContext:
    return TreeContext(site_url="https://example.atlassian.net", page_id="1001", space_key="ENG", site_tree=site_tree())


@pytest.mark.parametrize("case", CASES)
def test_it_lists_pages_from_the_tree(case):
    storage = (FIXTURES / f"{case}.xhtml").read_text(encoding="utf-8")
    expected = (FIXTURES / f"{case}.md").read_text(encoding="utf-8")
    assert convert(storage, context()).markdown == expected


def test_it_has_a_golden_output_for_every_page_list_input():
    assert len(CASES) == 6
    assert sorted(p.stem for p in FIXTURES.glob("*.md")) == CASES


def test_it_reports_the_pages_it_listed_and_the_spaces_it_covers():
    result = convert('<ac:structured-macro ac:name="children" />', context())
    assert result.listed == ("1002", "1003", "1004")
    assert result.listed_spaces == ("ENG",)
    assert result.linked_pages == ()  # listings are not body links: the index keeps them apart
    every = convert(GUIDES, context())
    assert every.listed == ("1001", "1002", "1006", "2001")
    assert every.listed_spaces == ("*",)


def test_an_empty_listing_still_covers_its_space():
    result = convert('<ac:structured-macro ac:name="children" />', dataclasses.replace(context(), page_id="1005"))
    assert result.markdown == ""
    assert result.listed == ()
    assert result.listed_spaces == ("ENG",)


def test_without_a_tree_it_links_each_list_to_confluence():
    storage = (
        '<ac:structured-macro ac:name="children" /><ac:structured-macro ac:name="pagetree" />'
        '<ac:structured-macro ac:name="page-index" />'
    )
    markdown = convert(
        storage, ConvertContext(site_url="https://x.atlassian.net", page_id="7", space_key="ENG")
    ).markdown
    assert markdown == (
        "*[Child pages](https://x.atlassian.net/wiki/pages/viewpage.action?pageId=7) are listed in Confluence.*\n\n"
        "*[Page tree](https://x.atlassian.net/wiki/spaces/ENG) is in Confluence.*\n\n"
        "*[Pages of the ENG space](https://x.atlassian.net/wiki/spaces/ENG) are listed in Confluence.*\n"
    )


def test_a_parent_loop_lists_each_page_once():
    loop = {
        "1": SitePage(id="1", title="A", space_key="ENG", parent_id="2"),
        "2": SitePage(id="2", title="B", space_key="ENG", parent_id="1"),
    }
    storage = (
        '<ac:structured-macro ac:name="children"><ac:parameter ac:name="all">true</ac:parameter></ac:structured-macro>'
    )
    result = convert(storage, TreeContext(page_id="1", space_key="ENG", site_tree=SiteTree(loop)))
    assert result.markdown == "- [B](2.md)\n  - [A](1.md)\n"


def test_it_orders_the_page_index_groups_digits_and_symbols_then_a_to_z_then_others():
    titles = ["Handbook", "(Draft) Zebra", "2024 plan", "Ärger", "Apple", "…"]
    pages = {str(n): SitePage(id=str(n), title=title, space_key="ENG") for n, title in enumerate(titles, 1)}
    context = TreeContext(page_id="1", space_key="ENG", site_tree=SiteTree(pages))

    markdown = convert('<ac:structured-macro ac:name="index" />', context).markdown

    groups = [line for line in markdown.splitlines() if line.startswith("**")]
    assert groups == ["**0-9**", "**A**", "**D**", "**H**", "**Ä**"]
