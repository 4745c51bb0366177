"""Whiteboards, databases and embeds in the simulated Confluence: v2 reads them by id with their parent, page
endpoints never show them, CQL finds them only when its `type` names their kind, and their changes emit the events
Confluence documents (none for trashing)."""

from __future__ import annotations

import pytest
import requests

from sandbox.seed_boards import seed_boards

BASE = "http://testserver/sandbox/atlassian"


@pytest.fixture
def board_site(atlassian_sim):
    a = atlassian_sim
    site = a.create_site(name="Boards", url="https://boards.atlassian.net")
    a.create_space(site.cloud_id, key="ENG", name="Engineering", emit=False, homepage=False)
    page = a.create_page(site.cloud_id, space_key="ENG", title="Plans", body="<p>p</p>", emit=False)
    board = a.create_board(
        site.cloud_id, kind="whiteboard", space_key="ENG", title="Roadmap", parent_id=page.id, emit=False
    )
    return site, page, board


@pytest.fixture
def call(atlassian_sim, board_site):
    """GET a path below the site's /wiki through the gateway, as the connector does."""
    token = atlassian_sim.connect()["access_token"]
    root = f"{BASE}/api/ex/confluence/{board_site[0].cloud_id}/wiki"
    return lambda path, **params: requests.get(
        f"{root}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )


def test_it_reads_a_board_by_id_with_its_parent(board_site, call):
    _, page, board = board_site
    data = call(f"/api/v2/whiteboards/{board.id}").json()
    assert (data["type"], data["title"], data["parentId"], data["parentType"]) == (
        "whiteboard",
        "Roadmap",
        page.id,
        "page",
    )
    assert data["_links"]["webui"] == f"/spaces/ENG/whiteboard/{board.id}"
    assert call(f"/api/v2/databases/{board.id}").status_code == 404


def test_page_endpoints_never_show_a_board(board_site, call):
    _, page, board = board_site
    space_id = page.space_id
    listed = call(f"/api/v2/spaces/{space_id}/pages").json()["results"]
    children = call(f"/api/v2/pages/{page.id}/children").json()["results"]
    assert [p["id"] for p in listed] == [page.id] and children == []
    assert call(f"/api/v2/pages/{board.id}").status_code == 404


def test_cql_finds_a_board_only_when_its_type_is_named(board_site, call):
    _, page, board = board_site
    search = "/rest/api/content/search"
    pages_only = call(search, cql='space = "ENG"').json()["results"]
    cql = f"type in (page, whiteboard) AND parent = {page.id}"
    both = call(search, cql=cql, expand="ancestors").json()["results"]
    assert [r["id"] for r in pages_only] == [page.id]
    assert [(r["id"], r["type"], r["ancestors"][-1]["id"]) for r in both] == [(board.id, "whiteboard", page.id)]


def test_a_trashed_board_is_gone_without_an_event(atlassian_sim, board_site, call):
    _, _, board = board_site
    emitted = atlassian_sim.events_emitted
    atlassian_sim.trash_board(board.id)
    assert atlassian_sim.events_emitted == emitted
    assert call(f"/api/v2/whiteboards/{board.id}").status_code == 404
    found = call("/rest/api/content/search", cql="type = whiteboard").json()["results"]
    assert found == []


def test_seeded_boards_sit_below_one_page(atlassian_sim, board_site):
    site, page, _ = board_site
    ids = seed_boards(atlassian_sim, site.cloud_id, ["ENG"])
    assert sorted(atlassian_sim.pages[i].type for i in ids) == ["database", "embed", "whiteboard"]
    assert {atlassian_sim.pages[i].parent_id for i in ids} == {page.id}
