"""Paths in the repository: unique, safe and stable, whatever the titles."""

import json

import pytest

from confluence.sync.safe_names import is_safe
from tests.confluence.sync_world import sync_now

pytestmark = pytest.mark.django_db

ODD_TITLES = [
    "A/B",
    "A-B",
    "a-b",
    "Release 2.0 / Q3 plan",
    "..",
    ".",
    "../../etc/passwd",
    "v1.2.3.",
    "🚀🚀🚀",
    "\u202eevil\u202c.md",
    "Tab\tand\nnewline",
    "NUL \x00 inside",
    "con",
    "x" * 300,
    "é" * 300,
    "   ",
]


@pytest.fixture(autouse=True)
def odd_title_pages(world):
    """The default site, plus ENG pages with titles no file system takes as they are, and an OPS home page."""
    a, site, pages = world.atlassian, world.site, world.pages
    home = pages["home"].id
    pages["odd"] = [
        a.create_page(site.cloud_id, space_key="ENG", title=title, body=f"<p>{n}</p>", parent_id=home, emit=False)
        for n, title in enumerate(ODD_TITLES)
    ]
    pages["ops_home"] = a.create_page(site.cloud_id, space_key="OPS", title="Home", body="<p>OPS home.</p>", emit=False)


def index_paths(world) -> dict[str, str]:
    index = json.loads(world.github.read_tree("acme-inc", "wiki", "main")[".ctx/confluence-index.json"])
    return {pid: entry["path"] for pid, entry in index["pages"].items()}


def test_it_gives_every_odd_title_a_safe_unique_path(world, connection):
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    paths = index_paths(world)
    assert len(paths) == 4 + len(ODD_TITLES)
    assert all(is_safe(path) for path in paths.values())
    assert len({path.casefold() for path in paths.values()}) == len(paths)
    assert set(paths.values()) <= set(world.github.read_tree("acme-inc", "wiki", "main"))


def test_it_keeps_every_path_stable_across_syncs(world, connection):
    sync_now(connection)
    first = index_paths(world)
    world.atlassian.update_page(world.pages["odd"][1].id, body="<p>edited</p>", emit=False)
    run = sync_now(connection, full=True)
    assert run.counts["moved"] == 0
    assert index_paths(world) == first


def test_it_keeps_the_oldest_sibling_on_the_plain_slug(world, connection):
    sync_now(connection)
    paths = index_paths(world)
    a_slash_b, a_dash_b, lower = (world.pages["odd"][n].id for n in range(3))
    assert paths[a_slash_b] == "confluence/ENG/home/a-b.md"
    assert paths[a_dash_b] == f"confluence/ENG/home/a-b--{a_dash_b}.md"
    assert paths[lower] == f"confluence/ENG/home/a-b--{lower}.md"


def test_it_keeps_paths_when_a_colliding_sibling_arrives_later(world, connection):
    sync_now(connection)
    before = index_paths(world)
    late = world.atlassian.create_page(
        world.site.cloud_id,
        space_key="ENG",
        title="a/B",
        body="<p>late</p>",
        parent_id=world.pages["home"].id,
        emit=False,
    )
    run = sync_now(connection)
    after = index_paths(world)
    assert run.counts["moved"] == 0
    assert all(after[pid] == path for pid, path in before.items())
    assert after[late.id] == f"confluence/ENG/home/a-b--{late.id}.md"


def test_it_separates_equal_titles_in_different_spaces(world, connection):
    sync_now(connection)
    paths = index_paths(world)
    assert paths[world.pages["home"].id] == "confluence/ENG/home.md"
    assert paths[world.pages["ops_home"].id] == "confluence/OPS/home.md"


def test_it_keeps_a_long_title_within_the_component_limit(world, connection):
    sync_now(connection)
    paths = index_paths(world)
    for page in world.pages["odd"][-3:-1]:
        name = paths[page.id].rsplit("/", 1)[1]
        assert len(name.encode()) <= 255


def test_it_keeps_the_title_in_the_front_matter(world, connection):
    sync_now(connection)
    files = world.github.read_tree("acme-inc", "wiki", "main")
    page = world.pages["odd"][0]
    content = files[index_paths(world)[page.id]].decode()
    assert "title: A/B" in content
