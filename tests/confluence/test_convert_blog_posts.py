"""The blog-posts macro (issue 17, item 9): the synced posts of the covered spaces whose blog the sync holds, as
titles with their posting day (max, labels, sort, reverse), one link to Confluence for covered spaces whose blog
is not synced. Golden pairs in tests/fixtures/convert/blog, converted on an ENG page whose context holds ENG's
blog: four posts, two labelled `release`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pytest

from confluence.convert import ConvertContext, PageRef, convert

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "convert" / "blog"
CASES = sorted(p.stem for p in FIXTURES.glob("*.xhtml"))


def post(pid: str, title: str, day: str, labels=()) -> SimpleNamespace:
    stamp = f"{day}T09:00:00.000Z"
    return SimpleNamespace(id=pid, title=title, created_at=stamp, modified_at=stamp, labels=tuple(labels))


BLOG = {
    "ENG": [
        post("501", "Kick-off", "2025-09-15"),
        post("502", "Release 1.0", "2025-10-31", ["release"]),
        post("503", "Incident review", "2025-11-12"),
        post("504", "Release 1.1", "2025-12-08", ["Release"]),
    ]
}


@dataclasses.dataclass(frozen=True)
class BlogContext(ConvertContext):
    """A repository holding ENG's posts as `blog/<id>.md`."""

    def resolve_page(self, ref: PageRef) -> str | None:
        return f"blog/{ref.page_id}.md" if any(p.id == ref.page_id for p in BLOG["ENG"]) else None

    def blog_posts(self):
        return BLOG


def context() -> BlogContext:
    return BlogContext(site_url="https://example.atlassian.net", page_id="1001", space_key="ENG")


@pytest.mark.parametrize("case", CASES)
def test_it_lists_the_synced_posts(case):
    storage = (FIXTURES / f"{case}.xhtml").read_text(encoding="utf-8")
    expected = (FIXTURES / f"{case}.md").read_text(encoding="utf-8")
    assert convert(storage, context()).markdown == expected


def test_it_has_a_golden_output_for_every_input():
    assert len(CASES) == 4
    assert sorted(p.stem for p in FIXTURES.glob("*.md")) == CASES


def test_it_reports_the_listed_posts_and_the_space_so_the_listing_follows_them():
    storage = (FIXTURES / "newest_first.xhtml").read_text(encoding="utf-8")
    result = convert(storage, context())
    assert result.listed == ("503", "504") and result.listed_spaces == ("ENG",)


def test_without_synced_blogs_it_stays_one_link_to_confluence():
    storage = (FIXTURES / "newest_first.xhtml").read_text(encoding="utf-8")
    plain = ConvertContext(site_url="https://example.atlassian.net", page_id="1001", space_key="ENG")
    result = convert(storage, plain)
    assert "[Blog posts](https://example.atlassian.net/wiki/spaces/ENG/blog) are in Confluence." in result.markdown
    assert result.listed == () and result.listed_spaces == ()
