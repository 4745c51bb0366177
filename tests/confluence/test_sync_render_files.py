"""Rendering is pure: placed pages and their bodies in, files and the new index out, without Confluence or the
database (no test here may touch either: pytest-django refuses database access without the marker)."""

from __future__ import annotations

from confluence.sync.index import Index, PageEntry
from confluence.sync.plan import Placed, Plan, Selected, make_plan, place
from confluence.sync.render import SiteMap
from confluence.sync.render_files import remove_gone, render_again, render_files, to_render_again

HOME = Placed("1", "Home", "ENG", None, 3, "2024-01-01", (), "", path="confluence/ENG/home.md")
GUIDE = Placed(
    "2", "Guide", "ENG", "1", 1, "2024-01-02", ("howto",), "", path="confluence/ENG/home/guide.md", ancestors=("Home",)
)
PLACED = {"1": HOME, "2": GUIDE}
BODIES = {
    "1": '<p>See <ac:link><ri:page ri:content-title="Guide"/></ac:link>.</p>',
    "2": '<p><ac:image><ri:attachment ri:filename="Diagram.png"/></ac:image></p>',
}


def site_map(**kwargs) -> SiteMap:
    return SiteMap.build("https://example.atlassian.net", PLACED, **kwargs)


def test_placing_turns_selected_pages_into_placed_ones():
    selected = {
        "1": Selected("1", "Home", "ENG", None, 3, "2024-01-01", (), ""),
        "2": Selected("2", "Guide", "ENG", "1", 1, "2024-01-02", ("howto",), ""),
    }

    placed = place(selected, {})

    assert placed == PLACED
    assert not hasattr(selected["2"], "path")


def test_it_renders_the_planned_pages_without_confluence_or_the_database():
    plan = make_plan(Index(), PLACED, converter_version=1, full=False)
    progress = []

    rendered = render_files(
        plan, PLACED, dict(BODIES), Index(), site=site_map(), limit=10_000, on_progress=progress.append
    )

    assert sorted(rendered.files) == ["confluence/ENG/home.md", "confluence/ENG/home/guide.md"]
    assert b"[Guide](home/guide.md)" in rendered.files["confluence/ENG/home.md"]
    assert rendered.index.pages["1"].links == ["title:ENG:Guide"]
    assert rendered.references == {"1": set(), "2": {("2", "Diagram.png")}}
    assert rendered.too_large == {} and rendered.warnings == []


def test_a_page_too_large_keeps_its_previous_version_and_warns():
    previous = PageEntry("Guide", "ENG", "1", 0, "", "confluence/ENG/home/guide.md", "old", 1)
    index = Index(pages={"2": previous})

    rendered = render_files(Plan(updates=["2"]), {"2": GUIDE}, dict(BODIES), index, site=site_map(), limit=10)

    assert rendered.index.pages["2"] is previous
    assert rendered.files == {}
    assert [(w["page_id"], w["kept"]) for w in rendered.warnings] == [("2", True)]


def test_the_pages_to_render_again_get_both_the_listed_file_paths_and_the_links_to_a_page_left_out():
    # Home links to Guide, which is new and too large to write; a file Home shows takes a path its page's listing gave.
    bodies = {**BODIES, "2": f"<p>{'x' * 5000}</p>"}
    rendered = render_files(Plan(adds=["1", "2"]), PLACED, bodies, Index(), site=site_map(), limit=2000)
    rendered.references["1"] = {("2", "Diagram.png")}
    listed = {("2", "Diagram.png"): "confluence/ENG/_attachments/2/Diagram--9.png"}

    again, site_again = to_render_again(rendered, PLACED, site_map(), listed_paths=listed)
    render_again(rendered, {"1": BODIES["1"]}, placed=PLACED, site=site_again)

    assert list(rendered.too_large) == ["2"] and "2" not in rendered.index.pages
    assert again == ["1"]
    assert "2" not in site_again.pages
    assert site_again.attachment_paths == listed
    assert b"(home/guide.md)" not in rendered.files["confluence/ENG/home.md"]


def test_nothing_is_rendered_again_when_every_path_is_as_expected():
    rendered = render_files(Plan(adds=["1", "2"]), PLACED, dict(BODIES), Index(), site=site_map(), limit=10_000)

    assert to_render_again(rendered, PLACED, site_map(), listed_paths={})[0] == []


def test_it_deletes_the_files_the_new_index_no_longer_names():
    gone = PageEntry("Old", "ENG", None, 1, "", "confluence/ENG/old.md", "b", 1)
    rendered = render_files(Plan(), {}, {}, Index(), site=site_map(), limit=10_000)

    remove_gone(rendered, Index(pages={"9": gone}))

    assert rendered.files == {"confluence/ENG/old.md": None}
