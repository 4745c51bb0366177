"""The v1 endpoints: listings for third-party loaders, CQL search, and the attachment download redirect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

BASE = "http://testserver/sandbox/atlassian"
# Real v1 responses, trimmed; tests/fixtures/SOURCES.md names where each comes from.
REAL = Path(__file__).resolve().parent.parent / "fixtures" / "atlassian" / "v1"


@pytest.fixture
def site_with_spaces(atlassian_sim):
    site_with_spaces = atlassian_sim.create_site(name="Acme Sandbox", url="https://acme-sandbox.atlassian.net")
    atlassian_sim.create_space(site_with_spaces.cloud_id, key="ENG", name="Engineering")
    atlassian_sim.create_space(site_with_spaces.cloud_id, key="OPS", name="Operations")
    return site_with_spaces


@pytest.fixture
def get(atlassian_sim, site_with_spaces):
    token = atlassian_sim.connect()["access_token"]
    root = f"{BASE}/api/ex/confluence/{site_with_spaces.cloud_id}/wiki"

    def get(path, allow_redirects=True, **params):
        return requests.get(
            root + path,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
            allow_redirects=allow_redirects,
        )

    return get


def add(atlassian_sim, site_with_spaces, title, space="ENG", parent=None, **kwargs):
    return atlassian_sim.create_page(
        site_with_spaces.cloud_id, space_key=space, title=title, body=f"<p>{title}</p>", parent_id=parent, **kwargs
    )


def real_response(name):
    return json.loads((REAL / name).read_text())


def keys_of(name):
    return set(real_response(name))


def test_it_lists_spaces_like_the_real_api(atlassian_sim, site_with_spaces, get):
    data = get("/rest/api/space").json()
    assert set(data) == keys_of("get-spaces.json")
    real = real_response("get-spaces.json")["results"][0]
    assert set(data["results"][0]) == set(real)
    assert set(data["results"][0]["_links"]) == set(real["_links"])
    assert [s["key"] for s in data["results"]] == ["ENG", "OPS"]
    assert isinstance(data["results"][0]["id"], int)


def test_it_lists_content_with_expansions(atlassian_sim, site_with_spaces, get):
    parent = add(atlassian_sim, site_with_spaces, "Parent")
    add(atlassian_sim, site_with_spaces, "Child", parent=parent.id)
    data = get("/rest/api/content", spaceKey="ENG", expand="body.storage,version,ancestors", limit=50).json()
    assert set(data) == keys_of("get-contents.json")
    child = data["results"][-1]
    real = real_response("get-content.json")
    assert set(real) - {"_expandable", "_links"} <= set(child)
    assert child["body"]["storage"] == {
        "value": "<p>Child</p>",
        "representation": "storage",
        "embeddedContent": [],
        "_expandable": {"content": f"/rest/api/content/{child['id']}"},
    }
    assert child["version"]["number"] == 1 and child["version"]["by"]["accountId"]
    assert [a["title"] for a in child["ancestors"]] == ["Parent"]
    assert "body" not in child["_expandable"] and "space" in child["_expandable"]


def test_it_pages_content_with_start_and_limit(atlassian_sim, site_with_spaces, get):
    for n in range(7):
        add(atlassian_sim, site_with_spaces, f"Page {n}")
    first = get("/rest/api/content", spaceKey="ENG", limit=5).json()
    assert (first["start"], first["limit"], first["size"]) == (0, 5, 5)
    assert first["_links"]["next"].startswith("/rest/api/content?")
    second = get("/rest/api/content", spaceKey="ENG", limit=5, start=5).json()
    assert second["size"] == 3 and "next" not in second["_links"]
    assert get("/rest/api/content", spaceKey="ENG", limit=500).json()["limit"] == 100


def test_it_searches_with_cql(atlassian_sim, site_with_spaces, get):
    a = add(atlassian_sim, site_with_spaces, "A", labels=["runbook"])
    b = add(atlassian_sim, site_with_spaces, "B", parent=a.id, labels=["runbook", "ops"])
    add(atlassian_sim, site_with_spaces, "C", space="OPS", labels=["runbook"])
    cql = 'type = page AND space = "ENG" AND label = "runbook" ORDER BY id'
    data = get("/rest/api/content/search", cql=cql, expand="metadata.labels,version,ancestors").json()
    assert [r["id"] for r in data["results"]] == [a.id, b.id]
    labels = data["results"][1]["metadata"]["labels"]["results"]
    assert [label["name"] for label in labels] == ["runbook", "ops"]
    assert data["results"][1]["ancestors"][-1]["id"] == a.id
    by_ancestor = get("/rest/api/content/search", cql=f"ancestor = {a.id}").json()
    assert [r["id"] for r in by_ancestor["results"]] == [b.id]
    by_ids = get("/rest/api/content/search", cql=f'id in ({a.id}, {b.id}) and space in ("ENG","OPS")').json()
    assert by_ids["size"] == 2


def test_it_searches_by_last_modified(atlassian_sim, site_with_spaces, get):
    old = add(atlassian_sim, site_with_spaces, "Old")
    atlassian_sim.clock.advance(hours=1)
    watermark = atlassian_sim.clock.iso()[:16].replace("T", " ")
    atlassian_sim.clock.advance(minutes=1)
    new = add(atlassian_sim, site_with_spaces, "New")
    atlassian_sim.update_page(old.id, body="<p>changed</p>")
    cql = f'type = page and lastmodified >= "{watermark}" order by lastmodified desc'
    data = get("/rest/api/content/search", cql=cql).json()
    assert [r["id"] for r in data["results"]] == [old.id, new.id]


def test_it_skips_trashed_pages_in_search(atlassian_sim, site_with_spaces, get):
    page = add(atlassian_sim, site_with_spaces, "Gone")
    atlassian_sim.trash_page(page.id)
    assert get("/rest/api/content/search", cql=f"id = {page.id}").json()["results"] == []


def test_it_follows_search_cursors(atlassian_sim, site_with_spaces, get):
    for n in range(12):
        add(atlassian_sim, site_with_spaces, f"Page {n}")
    seen, response = [], get("/rest/api/content/search", cql='space = "ENG"', limit=5)
    while True:
        seen += [r["id"] for r in response.json()["results"]]
        next_link = response.json()["_links"].get("next")
        if not next_link:
            break
        assert "cursor=" in next_link
        response = requests.get(
            response.json()["_links"]["base"].replace(
                "https://acme-sandbox.atlassian.net/wiki", f"{BASE}/api/ex/confluence/{site_with_spaces.cloud_id}/wiki"
            )
            + next_link,
            headers=response.request.headers,
            timeout=5,
        )
    assert len(seen) == len(set(seen)) == 13


@pytest.mark.parametrize("cql", ['text ~ "x"', "type = page OR space = ENG", "space = ", 'lastmodified > "soon"'])
def test_it_rejects_cql_outside_the_subset(atlassian_sim, site_with_spaces, get, cql):
    response = get("/rest/api/content/search", cql=cql)
    assert response.status_code == 400
    assert response.json()["message"] == f"Could not parse cql : {cql}"
    assert response.json()["statusCode"] == 400


def test_it_redirects_downloads_to_the_media_host(atlassian_sim, site_with_spaces, get):
    page = add(atlassian_sim, site_with_spaces, "With file")
    attachment = atlassian_sim.add_attachment(
        page.id, filename="diagram.png", data=b"\x89PNG one", media_type="image/png"
    )
    atlassian_sim.add_attachment(page.id, filename="diagram.png", data=b"\x89PNG two", media_type="image/png")
    path = f"/rest/api/content/{page.id}/child/attachment/{attachment.id}/download"
    response = get(path, allow_redirects=False)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{BASE}/media/")
    media = requests.get(location, timeout=5)
    assert media.content == b"\x89PNG two" and media.headers["Content-Type"] == "image/png"
    assert get(path, version=1).content == b"\x89PNG one"
    assert requests.get(location.replace("token=", "token=x"), timeout=5).status_code == 403


def test_it_lists_attachments_in_v1(atlassian_sim, site_with_spaces, get):
    page = add(atlassian_sim, site_with_spaces, "With file")
    atlassian_sim.add_attachment(page.id, filename="notes.txt", data=b"hi", media_type="text/plain")
    data = get(f"/rest/api/content/{page.id}/child/attachment").json()
    item = data["results"][0]
    assert item["type"] == "attachment" and item["extensions"]["fileSize"] == 2
    assert item["_links"]["download"].startswith(f"/download/attachments/{page.id}/notes.txt")


def test_it_searches_attachments_with_their_page_and_version(atlassian_sim, site_with_spaces, get):
    page = add(atlassian_sim, site_with_spaces, "With files")
    gone = add(atlassian_sim, site_with_spaces, "Trashed page")
    add(atlassian_sim, site_with_spaces, "Elsewhere", space="OPS")
    kept = atlassian_sim.add_attachment(page.id, filename="a.png", data=b"one", media_type="image/png")
    atlassian_sim.add_attachment(page.id, filename="a.png", data=b"two", media_type="image/png")  # version 2
    dropped = atlassian_sim.add_attachment(page.id, filename="b.txt", data=b"x", media_type="text/plain")
    atlassian_sim.trash_attachment(dropped.id)
    atlassian_sim.add_attachment(gone.id, filename="c.txt", data=b"x", media_type="text/plain")
    atlassian_sim.trash_page(gone.id)
    cql = 'type = attachment AND space in ("ENG")'
    data = get("/rest/api/content/search", cql=cql, expand="version,container").json()
    [item] = data["results"]
    assert (item["id"], item["type"], item["title"], item["version"]["number"]) == (kept.id, "attachment", "a.png", 2)
    assert item["container"]["id"] == page.id and "container" not in item["_expandable"]
    assert item["extensions"]["fileSize"] == 3
    pages = get("/rest/api/content/search", cql='space in ("ENG")').json()
    assert {r["type"] for r in pages["results"]} == {"page"}  # without a type, pages as before
    both = get("/rest/api/content/search", cql='type in (page, attachment) AND space = "ENG"').json()
    assert [r["type"] for r in both["results"]].count("attachment") == 1


def test_it_answers_v1_errors_like_the_real_api(atlassian_sim, site_with_spaces, get):
    response = get("/rest/api/content/424242")
    assert response.status_code == 404
    assert set(response.json()) == {"statusCode", "data", "message", "reason"}
