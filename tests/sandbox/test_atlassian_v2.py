"""Confluence Cloud REST v2 as the simulator serves it, checked against real responses kept as fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from sandbox.atlassian.v2_shapes import tiny_id

BASE = "http://testserver/sandbox/atlassian"
# Real v2 responses, trimmed; tests/fixtures/SOURCES.md names where each comes from.
REAL = Path(__file__).resolve().parent.parent / "fixtures" / "atlassian" / "v2"
# Fields the real API adds that the connector neither reads nor may rely on.
OPTIONAL = {"ncsStepVersion"}


class Client:
    """Just enough of a v2 client: bearer auth and following `_links.next` the documented way."""

    def __init__(self, atlassian_sim, site_with_alice):
        self.sim, self.site = atlassian_sim, site_with_alice
        self.token = atlassian_sim.connect()["access_token"]
        self.root = f"{BASE}/api/ex/confluence/{site_with_alice.cloud_id}"

    def get(self, path, **params):
        return requests.get(
            f"{self.root}/wiki/api/v2{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=5,
        )

    def follow(self, path, **params):
        """All results across pages, and the number of requests it took."""
        response = self.get(path, **params)
        results, calls = [], 1
        while True:
            assert response.status_code == 200, response.text
            results += response.json()["results"]
            next_link = response.json()["_links"].get("next")
            if not next_link:
                assert "Link" not in response.headers
                return results, calls
            assert response.headers["Link"].startswith(f'<{next_link}>; rel="next"')
            assert next_link.startswith("/wiki/api/v2/")
            response = requests.get(self.root + next_link, headers={"Authorization": f"Bearer {self.token}"}, timeout=5)
            calls += 1


@pytest.fixture
def site_with_alice(atlassian_sim):
    atlassian_sim.create_user(account_id="557058:alice", name="Alice", email="alice@example.com")
    return atlassian_sim.create_site(name="Acme Sandbox", url="https://acme-sandbox.atlassian.net")


@pytest.fixture
def space(atlassian_sim, site_with_alice):
    return atlassian_sim.create_space(site_with_alice.cloud_id, key="ENG", name="Engineering")


@pytest.fixture
def client(atlassian_sim, site_with_alice, space):
    return Client(atlassian_sim, site_with_alice)


def real_response(name):
    return json.loads((REAL / name).read_text())


def missing_keys(real, ours, path=""):
    """Keys (and value kinds) of the real response that ours lacks, recursively."""
    if isinstance(real, dict):
        if not isinstance(ours, dict):
            return [path or "."]
        found = []
        for key, value in real.items():
            if key in OPTIONAL:
                continue
            if key not in ours:
                found.append(path + key)
            elif value is not None and ours[key] is not None:
                found += missing_keys(value, ours[key], f"{path}{key}.")
        return found
    if isinstance(real, list) and real and ours:
        return missing_keys(real[0], ours[0], f"{path}[0].")
    if real is not None and ours is not None and type(real) is not type(ours):
        return [f"{path} ({type(ours).__name__} instead of {type(real).__name__})"]
    return []


def page_in(atlassian_sim, site_with_alice, title="Runbook", parent=None, **kwargs):
    return atlassian_sim.create_page(
        site_with_alice.cloud_id, space_key="ENG", title=title, body=f"<p>{title}</p>", parent_id=parent, **kwargs
    )


def test_it_builds_tiny_links_like_confluence():
    assert tiny_id("2719745") == "AYAp"
    assert tiny_id("1441795") == "AwAW"


def test_it_shapes_a_page_like_the_real_api(atlassian_sim, site_with_alice, space, client):
    page = page_in(atlassian_sim, site_with_alice, parent=space.homepage_id)
    atlassian_sim.update_page(page.id, body="<p>hello world</p>", message="msg")
    data = client.get(f"/pages/{page.id}", **{"body-format": "storage"}).json()
    assert missing_keys(real_response("page-after-update.json"), data) == []
    assert data["version"] == {
        "number": 2,
        "message": "msg",
        "minorEdit": False,
        "authorId": "557058:alice",
        "createdAt": data["version"]["createdAt"],
    }
    assert data["body"] == {"storage": {"representation": "storage", "value": "<p>hello world</p>"}}
    assert data["parentId"] == space.homepage_id and data["parentType"] == "page"
    assert data["_links"]["webui"] == f"/spaces/ENG/pages/{page.id}/Runbook"
    assert data["_links"]["base"] == "https://acme-sandbox.atlassian.net/wiki"
    assert data["createdAt"].endswith("Z") and len(data["createdAt"]) == 24


def test_it_shapes_the_space_homepage_like_the_real_api(atlassian_sim, site_with_alice, space, client):
    data = client.get(f"/pages/{space.homepage_id}").json()
    assert missing_keys(real_response("space-home.json"), data) == []
    assert data["parentId"] is None and data["parentType"] is None
    assert data["_links"]["webui"] == "/spaces/ENG/overview"
    assert data["body"] == {}


def test_it_shapes_spaces_like_the_real_api(atlassian_sim, site_with_alice, space, client):
    data = client.get("/spaces").json()
    assert missing_keys(real_response("spaces.json"), data) == []
    assert data["results"][0]["homepageId"] == space.homepage_id
    assert data["_links"] == {"base": "https://acme-sandbox.atlassian.net/wiki"}


def test_it_shapes_labels_and_attachments_like_the_real_api(atlassian_sim, site_with_alice, space, client):
    page = page_in(atlassian_sim, site_with_alice, labels=["aaa", "abc"])
    atlassian_sim.add_attachment(page.id, filename="test.txt", data=b"hello world!!\n", media_type="text/plain")
    labels = client.get(f"/pages/{page.id}/labels").json()
    assert missing_keys(real_response("page-labels.json"), labels) == []
    assert [label["name"] for label in labels["results"]] == ["aaa", "abc"]
    attachments = client.get(f"/pages/{page.id}/attachments").json()
    assert missing_keys(real_response("page2-attachments.json"), attachments) == []
    item = attachments["results"][0]
    assert item["id"].startswith("att") and item["fileSize"] == 14 and item["mediaType"] == "text/plain"
    assert item["mediaTypeDescription"] == "Text File"


def test_it_versions_an_attachment_added_again(atlassian_sim, site_with_alice, space, client):
    page = page_in(atlassian_sim, site_with_alice)
    first = atlassian_sim.add_attachment(page.id, filename="a.txt", data=b"one", media_type="text/plain")
    second = atlassian_sim.add_attachment(page.id, filename="a.txt", data=b"three", media_type="text/plain")
    assert first.id == second.id
    item = client.get(f"/pages/{page.id}/attachments").json()["results"]
    assert len(item) == 1 and item[0]["version"]["number"] == 2 and item[0]["fileSize"] == 5


def test_it_paginates_with_cursors_and_link_headers(atlassian_sim, site_with_alice, space, client):
    for n in range(60):
        page_in(atlassian_sim, site_with_alice, title=f"Page {n}")
    results, calls = client.follow(f"/spaces/{space.id}/pages", limit=25)
    assert calls == 3
    assert len(results) == 61  # with the homepage
    assert len({r["id"] for r in results}) == 61


def test_it_keeps_the_query_in_next_links(atlassian_sim, site_with_alice, space, client):
    for n in range(3):
        page_in(atlassian_sim, site_with_alice, title=f"Page {n}")
    response = client.get(f"/spaces/{space.id}/pages", limit=2, **{"body-format": "storage", "sort": "-id"})
    next_link = response.json()["_links"]["next"]
    assert "body-format=storage" in next_link and "sort=-id" in next_link and "limit=2" in next_link


def test_it_clamps_the_limit_to_250(atlassian_sim, site_with_alice, space, client):
    for n in range(300):
        page_in(atlassian_sim, site_with_alice, title=f"Page {n}", emit=False)
    response = client.get(f"/spaces/{space.id}/pages", limit=1000)
    assert len(response.json()["results"]) == 250
    assert "next" in response.json()["_links"]
    assert client.get(f"/spaces/{space.id}/pages", limit=0).status_code == 400


def test_it_lists_pages_by_id_up_to_250(atlassian_sim, site_with_alice, space, client):
    pages = [page_in(atlassian_sim, site_with_alice, title=f"Page {n}") for n in range(3)]
    ids = [p.id for p in pages[:2]]
    response = client.get("/pages", id=",".join([*ids, "999999999"]))
    assert sorted(r["id"] for r in response.json()["results"]) == sorted(ids)
    too_many = client.get("/pages", id=[str(n) for n in range(1, 252)])
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["status"] == 400


def test_it_lists_only_root_pages_with_depth_root(atlassian_sim, site_with_alice, space, client):
    parent = page_in(atlassian_sim, site_with_alice, title="Parent")
    page_in(atlassian_sim, site_with_alice, title="Child", parent=parent.id)
    results, _ = client.follow(f"/spaces/{space.id}/pages", depth="root")
    assert {r["title"] for r in results} == {"Engineering", "Parent"}


def test_it_answers_an_earlier_version_by_its_number(atlassian_sim, site_with_alice, space, client):
    page = page_in(atlassian_sim, site_with_alice)
    atlassian_sim.update_page(page.id, body="<p>second</p>", title="Runbook 2")
    first = client.get(f"/pages/{page.id}", version="1", **{"body-format": "storage"}).json()
    current = client.get(f"/pages/{page.id}", version="2", **{"body-format": "storage"}).json()
    assert (first["version"]["number"], first["title"], first["body"]["storage"]["value"]) == (
        1,
        "Runbook",
        "<p>Runbook</p>",
    )
    assert (current["title"], current["body"]["storage"]["value"]) == ("Runbook 2", "<p>second</p>")
    assert client.get(f"/pages/{page.id}", version="3").status_code == 404
    assert client.get(f"/pages/{page.id}", version="x").status_code == 404


def test_it_sorts_by_modified_date(atlassian_sim, site_with_alice, space, client):
    old, new = (
        page_in(atlassian_sim, site_with_alice, title="Old"),
        page_in(atlassian_sim, site_with_alice, title="New"),
    )
    atlassian_sim.clock.advance(minutes=5)
    atlassian_sim.update_page(old.id, body="<p>edited</p>")
    results, _ = client.follow(f"/spaces/{space.id}/pages", sort="-modified-date")
    assert [r["id"] for r in results][:2] == [old.id, new.id]
    assert results[0]["version"]["number"] == 2


def test_it_lists_bodies_only_when_asked(atlassian_sim, site_with_alice, space, client):
    page_in(atlassian_sim, site_with_alice)
    plain = client.get(f"/spaces/{space.id}/pages").json()["results"]
    assert all(r["body"] == {} for r in plain)
    with_bodies = client.get(f"/spaces/{space.id}/pages", **{"body-format": "storage"}).json()["results"]
    assert with_bodies[-1]["body"]["storage"]["value"] == "<p>Runbook</p>"


def test_it_lists_trashed_pages_only_when_asked(atlassian_sim, site_with_alice, space, client):
    archived, trashed = (
        page_in(atlassian_sim, site_with_alice, title="Archived"),
        page_in(atlassian_sim, site_with_alice, title="Trashed"),
    )
    atlassian_sim.archive_page(archived.id)
    atlassian_sim.trash_page(trashed.id)
    default = {r["title"] for r in client.follow(f"/spaces/{space.id}/pages")[0]}
    assert default == {"Engineering", "Archived"}
    only_trash = client.follow(f"/spaces/{space.id}/pages", status="trashed")[0]
    assert [(r["title"], r["status"]) for r in only_trash] == [("Trashed", "trashed")]
    assert client.get(f"/pages/{trashed.id}").status_code == 404
    assert client.get(f"/pages/{trashed.id}", status="trashed").json()["status"] == "trashed"
    atlassian_sim.restore_page(trashed.id)
    assert client.get(f"/pages/{trashed.id}").json()["status"] == "current"


def test_it_answers_404_for_purged_pages(atlassian_sim, site_with_alice, space, client):
    page = page_in(atlassian_sim, site_with_alice)
    atlassian_sim.trash_page(page.id)
    atlassian_sim.purge_page(page.id)
    response = client.get(f"/pages/{page.id}", status="trashed")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NOT_FOUND"
    assert client.get("/pages", id=page.id, status=["current", "trashed"]).json()["results"] == []


def test_it_lists_children_in_position_order_and_ancestors_top_down(atlassian_sim, site_with_alice, space, client):
    parent = page_in(atlassian_sim, site_with_alice, title="Parent", parent=space.homepage_id)
    first, second = (
        page_in(atlassian_sim, site_with_alice, title="First", parent=parent.id),
        page_in(atlassian_sim, site_with_alice, title="Second", parent=parent.id),
    )
    atlassian_sim.move_page(second.id, parent_id=parent.id, position=0)
    children = client.get(f"/pages/{parent.id}/children").json()["results"]
    assert [c["title"] for c in children] == ["Second", "First"]
    assert set(children[0]) == {"id", "status", "title", "spaceId", "childPosition"}
    ancestors = client.get(f"/pages/{first.id}/ancestors").json()["results"]
    assert ancestors == [{"id": space.homepage_id, "type": "page"}, {"id": parent.id, "type": "page"}]
    assert client.get(f"/pages/{first.id}/ancestors", limit=1).json()["results"] == [{"id": parent.id, "type": "page"}]


def test_it_moves_descendants_to_another_space(atlassian_sim, site_with_alice, space, client):
    ops = atlassian_sim.create_space(site_with_alice.cloud_id, key="OPS", name="Operations")
    parent = page_in(atlassian_sim, site_with_alice, title="Parent")
    child = page_in(atlassian_sim, site_with_alice, title="Child", parent=parent.id)
    atlassian_sim.move_page(parent.id, space_key="OPS", parent_id=ops.homepage_id)
    assert client.get(f"/pages/{child.id}").json()["spaceId"] == ops.id
    titles = {r["title"] for r in client.follow(f"/spaces/{ops.id}/pages")[0]}
    assert titles == {"Operations", "Parent", "Child"}


def test_it_filters_spaces_by_ids_and_keys(atlassian_sim, site_with_alice, space, client):
    ops = atlassian_sim.create_space(site_with_alice.cloud_id, key="OPS", name="Operations")
    assert [s["key"] for s in client.get("/spaces", keys="OPS").json()["results"]] == ["OPS"]
    assert [s["id"] for s in client.get("/spaces", ids=f"{space.id},{ops.id}").json()["results"]] == [space.id, ops.id]
    results, calls = client.follow("/spaces", limit=1)
    assert calls == 2 and len(results) == 2


def test_it_answers_404_for_unknown_pages_and_spaces(atlassian_sim, site_with_alice, space, client):
    assert client.get("/pages/123").status_code == 404
    assert client.get("/spaces/123/pages").status_code == 404
    assert client.get(f"/spaces/{space.id}/pages", sort="nonsense").status_code == 400
