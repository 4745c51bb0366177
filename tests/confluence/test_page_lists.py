"""Page-list macros in the sync: a listing page is rendered again, in the same run, when the pages it lists change,
and the index records what each page lists."""

import json

import pytest

from confluence.sync.index import INDEX_PATH, Index, PageEntry
from confluence.sync.plan import Placed, make_plan
from tests.confluence.sync_world import sync_now, tree

pytestmark = pytest.mark.django_db

CHILDREN = '<p>Start here.</p><ac:structured-macro ac:name="children" ac:schema-version="2" />'
HOME = "confluence/ENG/home.md"


@pytest.fixture
def listing_home(world):
    """ENG's home page lists its children (one: Deploy Guide)."""
    world.atlassian.update_page(world.pages["home"].id, body=CHILDREN, emit=False)
    return world.pages["home"].id


def index_entry(world, page_id: str) -> dict:
    return json.loads(tree(world)[INDEX_PATH])["pages"][page_id]


def test_it_lists_the_synced_children_and_records_them(world, connection, listing_home):
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    home = tree(world)[HOME].decode()
    assert "- [Deploy Guide](home/deploy-guide.md)" in home
    assert "listed in Confluence" not in home
    assert index_entry(world, listing_home)["lists"] == {"ENG": [world.pages["guide"].id]}
    assert "lists" not in index_entry(world, world.pages["guide"].id)  # no page list: nothing recorded


def test_it_lists_a_child_added_in_the_same_run(world, connection, listing_home):
    sync_now(connection)
    notes = world.atlassian.create_page(
        world.site.cloud_id,
        space_key="ENG",
        title="Release Notes",
        parent_id=listing_home,
        body="<p>1.0</p>",
        emit=False,
    )
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    home = tree(world)[HOME].decode()
    assert "- [Deploy Guide](home/deploy-guide.md)\n- [Release Notes](home/release-notes.md)" in home
    assert index_entry(world, listing_home)["lists"] == {"ENG": sorted([world.pages["guide"].id, notes.id], key=int)}


def test_it_follows_a_renamed_child(world, connection, listing_home):
    sync_now(connection)
    world.atlassian.rename_page(world.pages["guide"].id, "Shipping Guide", emit=False)
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    home = tree(world)[HOME].decode()
    assert "- [Shipping Guide](home/shipping-guide.md)" in home
    assert "deploy-guide" not in home


def test_it_follows_a_child_renamed_in_a_targeted_run(world, connection, listing_home):
    sync_now(connection)
    guide = world.pages["guide"].id
    world.atlassian.rename_page(guide, "Shipping Guide", emit=False)
    run = sync_now(connection, page_ids=[guide])
    assert run.status == "succeeded", run.error
    assert "- [Shipping Guide](home/shipping-guide.md)" in tree(world)[HOME].decode()


def test_it_drops_a_removed_child(world, connection, listing_home):
    sync_now(connection)
    world.atlassian.trash_page(world.pages["guide"].id, emit=False)
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    home = tree(world)[HOME].decode()
    assert "Deploy Guide" not in home
    assert index_entry(world, listing_home)["lists"] == {"ENG": []}  # still covers ENG: a new child shows up


def test_a_run_that_changes_nothing_writes_nothing(world, connection, listing_home):
    first = sync_now(connection)
    again = sync_now(connection)
    assert again.status == "succeeded", again.error
    assert world.github.head_sha("acme-inc", "wiki") == first.commit_sha


# The plan alone ------------------------------------------------------------------------------------------------


def page(pid: str, title: str, space: str = "ENG", parent: str | None = None, modified: str = "2024-01-01") -> Placed:
    return Placed(pid, title, space, parent, 1, modified, (), "", path=f"confluence/{space}/{pid}.md")


def entry(desired: Placed, lists: dict | None = None) -> PageEntry:
    return PageEntry(
        title=desired.title, space_key=desired.space_key, parent_id=desired.parent_id, version=desired.version,
        modified_at=desired.modified_at, path=desired.path, blob="b", converter_version=5, lists=lists or {},
    )  # fmt: skip


def planned(index_pages: dict[str, Placed], desired: dict[str, Placed], lists: dict) -> list[str]:
    index = Index(pages={pid: entry(p, lists.get(pid)) for pid, p in index_pages.items()})
    return make_plan(index, desired, converter_version=5, full=False).updates


BEFORE = {"1": page("1", "Home"), "2": page("2", "Guide", parent="1"), "9": page("9", "Runbook", "OPS")}
LISTS = {"1": {"ENG": ["2"]}}


def test_the_plan_renders_a_listing_page_again_when_its_space_changes():
    renamed = {**BEFORE, "2": page("2", "Shipping Guide", parent="1")}
    assert planned(BEFORE, renamed, LISTS) == ["1", "2"]
    edited = {**BEFORE, "2": page("2", "Guide", parent="1", modified="2024-02-01")}
    edited["2"] = Placed(**{**edited["2"].__dict__, "version": 2})
    assert planned(BEFORE, edited, LISTS) == ["2"]  # a body edit changes no listing
    relabelled = {**BEFORE, "2": Placed(**{**BEFORE["2"].__dict__, "labels": ("howto",)})}
    assert planned(BEFORE, relabelled, LISTS) == ["1", "2"]
    added = {**BEFORE, "3": page("3", "Notes", parent="1")}
    assert planned(BEFORE, added, LISTS) == ["1"]
    assert planned(BEFORE, {pid: p for pid, p in BEFORE.items() if pid != "2"}, LISTS) == ["1"]


def test_the_plan_leaves_listing_pages_of_other_spaces_alone():
    renamed = {**BEFORE, "9": page("9", "Runbook 2", "OPS")}
    assert planned(BEFORE, renamed, LISTS) == ["9"]
    assert planned(BEFORE, renamed, {"1": {"*": []}}) == ["1", "9"]  # a list over every space


def test_the_plan_does_not_relist_for_renders_that_change_no_listing():
    index = Index(pages={pid: entry(p, LISTS.get(pid)) for pid, p in BEFORE.items()})
    index.pages["2"].converter_version = 4
    assert make_plan(index, BEFORE, converter_version=5, full=False).updates == ["2"]
