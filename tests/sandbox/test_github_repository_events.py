"""The `repository` webhook and the changes that send it: rename, delete, visibility, archiving, default branch.

GitHub's reference: https://docs.github.com/en/webhooks/webhook-events-and-payloads#repository
"""

from __future__ import annotations

import json

import pytest
import requests

from sandbox.github import GitHubSimulator, gitstore, shapes

BASE = "http://testserver/sandbox/github"
ARCHIVED_BODY = {
    "message": "Repository was archived so is read-only.",
    "documentation_url": shapes.ARCHIVED_DOCS,
    "status": "403",
}


@pytest.fixture
def github(github_sim):
    """alice's `docs` (one commit on main, a `next` branch) with the App installed on it; deliveries recorded."""
    github_sim.received = []
    github_sim.deliver = lambda url, body, headers: github_sim.received.append((headers, json.loads(body))) or 204
    github_sim.create_user("alice")
    github_sim.create_repository("alice", "docs")
    github_sim.create_repository("alice", "blog")
    github_sim.push_outside_commit("alice", "docs", files={"a.md": "one"}, message="init")
    github_sim.push_outside_commit("alice", "docs", files={"b.md": "two"}, message="next", branch="next")
    github_sim.install_app("alice", repositories=["docs"])
    github_sim.received.clear()
    return github_sim


def repository_events(github) -> list[dict]:
    return [payload for headers, payload in github.received if headers["X-GitHub-Event"] == "repository"]


def only_repository_event(github) -> dict:
    (payload,) = repository_events(github)
    return payload


def api_headers(github) -> dict[str, str]:
    installation_id = github.installation_on("alice").id
    return {"Authorization": f"token {github.issue_installation_token(installation_id)}"}


def test_it_subscribes_the_app_to_repository_events(github):
    installation = shapes.installation(github, github.installation_on("alice"))

    assert installation["events"] == ["push", "repository"]


def test_it_sends_renamed_with_the_old_name(github):
    github.rename_repository("alice", "docs", "handbook")

    headers, payload = github.received[-1]
    assert headers["X-GitHub-Event"] == "repository"
    assert payload["action"] == "renamed"
    assert payload["changes"] == {"repository": {"name": {"from": "docs"}}}
    assert payload["repository"]["full_name"] == "alice/handbook"
    assert payload["installation"] == {
        "id": github.installation_on("alice").id,
        "node_id": shapes.node_id("Installation", github.installation_on("alice").id),
    }
    assert payload["sender"]["login"] == "alice"


def test_it_sends_deleted_with_the_repository_as_it_was(github):
    repo_id = github.get_repository("alice", "docs").id

    github.delete_repository("alice", "docs", sender="alice")

    payload = only_repository_event(github)
    assert payload["action"] == "deleted" and "changes" not in payload
    assert (payload["repository"]["id"], payload["repository"]["full_name"]) == (repo_id, "alice/docs")
    assert github.find_repository("alice", "docs") is None


def test_it_sends_publicized_when_made_public(github):
    github.set_repository_private("alice", "docs", False)

    payload = only_repository_event(github)
    assert payload["action"] == "publicized" and "changes" not in payload
    assert (payload["repository"]["private"], payload["repository"]["visibility"]) == (False, "public")


def test_it_sends_privatized_when_made_private_again(github):
    github.set_repository_private("alice", "docs", False)

    github.set_repository_private("alice", "docs", True)

    payload = repository_events(github)[-1]
    assert payload["action"] == "privatized"
    assert (payload["repository"]["private"], payload["repository"]["visibility"]) == (True, "private")


def test_it_sends_nothing_when_the_visibility_is_unchanged(github):
    github.set_repository_private("alice", "docs", True)

    assert github.received == []


def test_it_sends_archived_and_shows_the_repository_archived(github):
    github.archive_repository("alice", "docs")

    payload = only_repository_event(github)
    assert payload["action"] == "archived" and payload["repository"]["archived"] is True
    answer = requests.get(f"{BASE}/api/repos/alice/docs", headers=api_headers(github), timeout=5).json()
    assert answer["archived"] is True


def test_it_sends_unarchived(github):
    github.archive_repository("alice", "docs")

    github.unarchive_repository("alice", "docs")

    assert [p["action"] for p in repository_events(github)] == ["archived", "unarchived"]
    assert repository_events(github)[-1]["repository"]["archived"] is False


def test_it_sends_edited_when_the_default_branch_changes(github):
    github.set_default_branch("alice", "docs", "next")

    payload = only_repository_event(github)
    assert payload["action"] == "edited"
    assert payload["changes"] == {"default_branch": {"from": "main"}}
    assert payload["repository"]["default_branch"] == "next"
    answer = requests.get(f"{BASE}/api/repos/alice/docs", headers=api_headers(github), timeout=5).json()
    assert answer["default_branch"] == "next"
    assert github.head_sha("alice", "docs") == github.head_sha("alice", "docs", "next")
    # A clone checks out the new default branch.
    bare = gitstore.repository(github.repository_path("alice", "docs"))
    assert bare.refs.read_ref(b"HEAD") == b"ref: refs/heads/next"


def test_it_refuses_a_default_branch_that_does_not_exist(github):
    with pytest.raises(ValueError):
        github.set_default_branch("alice", "docs", "nowhere")

    assert github.get_repository("alice", "docs").default_branch == "main" and github.received == []


def test_it_sends_no_repository_event_where_the_app_is_not_installed(github):
    github.archive_repository("alice", "blog")
    github.rename_repository("alice", "blog", "journal")
    github.delete_repository("alice", "journal")

    assert github.received == []
    assert github.find_repository("alice", "journal") is None


def test_it_sends_no_repository_event_to_a_suspended_installation(github):
    github.suspend_installation(github.installation_on("alice").id)

    github.archive_repository("alice", "docs")

    assert repository_events(github) == []


def test_it_names_the_organization_and_an_owner_for_an_organization_repository(github):
    github.create_org("acme", owners=["alice"])
    github.create_repository("acme", "wiki")
    github.install_app("acme")

    github.set_repository_private("acme", "wiki", False)

    payload = repository_events(github)[-1]
    organization = payload["organization"]
    assert (organization["login"], organization["url"]) == ("acme", f"{BASE}/api/orgs/acme")
    assert payload["sender"]["login"] == "alice"


def test_it_leaves_organization_out_for_a_users_repository(github):
    github.archive_repository("alice", "docs")

    assert "organization" not in only_repository_event(github)


def test_it_offers_make_public_and_archive_on_the_repository_page(github):
    page = requests.get(f"{BASE}/web/alice/docs", timeout=5).text

    assert 'value="public">Make public</button>' in page and 'value="archive">Archive</button>' in page


def test_it_sends_events_raised_from_the_repository_page_once_the_page_is_answered(github):
    response = requests.post(
        f"{BASE}/web/alice/docs/settings", data={"action": "archive", "as": "alice"}, timeout=5, allow_redirects=False
    )

    assert response.status_code == 302
    assert github.get_repository("alice", "docs").archived is True
    assert only_repository_event(github)["sender"]["login"] == "alice"


# Archived: read-only ----------------------------------------------------------------------------------------


def _writes(head: str) -> list[tuple[str, str, dict | None]]:
    """Every write the REST API has, each a (method, path under the repository, JSON body)."""
    return [
        ("POST", "/git/blobs", {"content": "x"}),
        ("POST", "/git/trees", {"tree": [{"path": "c.md", "mode": "100644", "type": "blob", "content": "c"}]}),
        ("POST", "/git/commits", {"message": "m", "tree": "0" * 40, "parents": [head]}),
        ("POST", "/git/refs", {"ref": "refs/heads/other", "sha": head}),
        ("PATCH", "/git/refs/heads/main", {"sha": head, "force": True}),
        ("DELETE", "/git/refs/heads/next", None),
        ("PUT", "/contents/c.md", {"message": "m", "content": "Yw=="}),
    ]


@pytest.mark.parametrize("index", range(7))
def test_it_refuses_every_write_to_an_archived_repository(github, index):
    head = github.head_sha("alice", "docs")
    github.archive_repository("alice", "docs")
    method, path, body = _writes(head)[index]

    response = requests.request(
        method, f"{BASE}/api/repos/alice/docs{path}", json=body, headers=api_headers(github), timeout=5
    )

    assert (response.status_code, response.json()) == (403, ARCHIVED_BODY)
    assert github.head_sha("alice", "docs") == head
    assert github.head_sha("alice", "docs", "next") is not None
    assert github.head_sha("alice", "docs", "other") is None


def test_it_keeps_reads_working_while_archived(github):
    github.archive_repository("alice", "docs")

    response = requests.get(f"{BASE}/api/repos/alice/docs/contents/a.md", headers=api_headers(github), timeout=5)

    assert response.status_code == 200 and response.json()["name"] == "a.md"


def test_it_lets_writes_through_again_after_unarchiving(github):
    github.archive_repository("alice", "docs")
    github.unarchive_repository("alice", "docs")

    response = requests.put(
        f"{BASE}/api/repos/alice/docs/contents/c.md",
        json={"message": "m", "content": "Yw=="},
        headers=api_headers(github),
        timeout=5,
    )

    assert response.status_code == 201
    assert github.read_tree("alice", "docs", "main")["c.md"] == b"c"


def test_it_refuses_an_outside_push_to_an_archived_repository(github):
    head = github.head_sha("alice", "docs")
    github.archive_repository("alice", "docs")

    with pytest.raises(PermissionError, match="archived"):
        github.push_outside_commit("alice", "docs", files={"a.md": "changed"}, message="late")

    assert github.head_sha("alice", "docs") == head


def test_it_keeps_the_settings_across_a_snapshot_round_trip(github, tmp_path):
    github.set_repository_private("alice", "docs", False)
    github.set_default_branch("alice", "docs", "next")
    github.archive_repository("alice", "docs")

    again = GitHubSimulator(base_url=BASE, root=github.root, site_url="http://testserver")
    again.restore(json.loads(json.dumps(github.snapshot())))

    repo = again.get_repository("alice", "docs")
    assert (repo.private, repo.archived, repo.default_branch) == (False, True, "next")
    assert shapes.repository(again, repo)["archived"] is True
