"""Folders as the simulated Confluence serves them (issue 17, item 10): v2 `GET /folders/{id}`, pages below a folder
naming it with `parentType: "folder"`, and the page listings, which never list a folder."""

from __future__ import annotations

import pytest
import requests

BASE = "http://testserver/sandbox/atlassian"
# Folder: https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-folder/
FOLDER_FIELDS = {
    "id", "type", "status", "title", "parentId", "parentType", "position", "authorId", "ownerId", "createdAt",
    "spaceId", "version", "_links",
}  # fmt: skip


@pytest.fixture
def site(atlassian_sim):
    return atlassian_sim.create_site(name="Acme Sandbox", url="https://acme-sandbox.atlassian.net")


@pytest.fixture
def get(atlassian_sim, site):
    token = atlassian_sim.connect()["access_token"]
    root = f"{BASE}/api/ex/confluence/{site.cloud_id}/wiki/api/v2"
    return lambda path, **params: requests.get(
        f"{root}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )


def test_a_folder_holds_pages_and_reads_by_id(atlassian_sim, site, get):
    space = atlassian_sim.create_space(site.cloud_id, key="ENG", name="Engineering", homepage=False)
    outer = atlassian_sim.create_folder(site.cloud_id, space_key="ENG", title="Handbook")
    inner = atlassian_sim.create_folder(site.cloud_id, space_key="ENG", title="Travel", parent_id=outer.id)
    page = atlassian_sim.create_page(site.cloud_id, space_key="ENG", title="Expenses", body="<p/>", parent_id=inner.id)

    folder = get(f"/folders/{inner.id}").json()
    assert set(folder) == FOLDER_FIELDS
    assert (folder["type"], folder["title"], folder["parentId"], folder["parentType"]) == (
        "folder", "Travel", outer.id, "folder",
    )  # fmt: skip
    [listed] = get(f"/spaces/{space.id}/pages").json()["results"]
    assert (listed["id"], listed["parentId"], listed["parentType"]) == (page.id, inner.id, "folder")
    assert get(f"/folders/{page.id}").status_code == 404
    assert get(f"/pages/{inner.id}").status_code == 404


def test_a_renamed_folder_answers_with_its_new_title(atlassian_sim, site, get):
    atlassian_sim.create_space(site.cloud_id, key="ENG", name="Engineering", homepage=False)
    folder = atlassian_sim.create_folder(site.cloud_id, space_key="ENG", title="Handbook")
    atlassian_sim.rename_folder(folder.id, "Staff handbook")
    answer = get(f"/folders/{folder.id}").json()
    assert (answer["title"], answer["version"]["number"]) == ("Staff handbook", 2)
