"""Webhook deliveries from the simulated GitHub: signatures, headers, and installation / push payloads."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import requests
import responses

from sandbox import credentials
from sandbox.github import GitHubSimulator
from sandbox.github.webhooks import signature_256
from sandbox.testing import serve_with_responses

BASE = "http://testserver/sandbox/github"


class Site:
    """Stands in for the site's webhook view: verifies like it must, and keeps what arrived."""

    def __init__(self):
        self.received = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        expected = "sha256=" + hmac.new(credentials.GITHUB_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers["X-Hub-Signature-256"]):
            return 401
        self.received.append((url, headers, json.loads(body)))
        return 204

    def events(self):
        return [(h["X-GitHub-Event"], p.get("action")) for _, h, p in self.received]


def make_sim(tmp_path, seed=0):
    github_with_repos = GitHubSimulator(
        base_url=BASE, root=tmp_path / f"github-{seed}", site_url="http://testserver", seed=seed
    )
    github_with_repos.deliver = Site()
    return github_with_repos


@pytest.fixture
def github_with_repos(tmp_path):
    github_with_repos = make_sim(tmp_path)
    github_with_repos.create_user("alice")
    github_with_repos.create_repository("alice", "docs")
    github_with_repos.create_repository("alice", "blog")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_with_responses(rsps, github_with_repos, github_with_repos.base_url)
        yield github_with_repos


def test_it_signs_like_the_github_docs_test_vector():
    assert signature_256("It's a Secret to Everybody", b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


def test_it_delivers_a_signed_installation_event(github_with_repos):
    installation_id = github_with_repos.install_app("alice", repositories=["docs"])

    url, headers, payload = github_with_repos.deliver.received[0]
    assert url == "http://testserver/integrations/github/webhook"
    assert headers["X-GitHub-Event"] == "installation"
    assert headers["User-Agent"] == "GitHub-Hookshot/sandbox"
    assert headers["Content-Type"] == "application/json"
    assert len(headers["X-GitHub-Delivery"]) == 36
    assert payload["action"] == "created"
    assert payload["installation"]["id"] == installation_id
    assert payload["installation"]["account"]["login"] == "alice"
    assert payload["installation"]["app_id"] == int(credentials.GITHUB_APP_ID)
    assert [r["full_name"] for r in payload["repositories"]] == ["alice/docs"]
    assert github_with_repos.deliveries[0].status == 204


def test_it_numbers_deliveries_deterministically_under_a_seed(tmp_path):
    guids = []
    for _ in range(2):
        github_with_repos = make_sim(tmp_path / str(len(guids)), seed=7)
        github_with_repos.create_user("alice")
        github_with_repos.install_app("alice")
        guids.append(github_with_repos.deliveries[0].guid)

    other = make_sim(tmp_path / "other", seed=8)
    other.create_user("alice")
    other.install_app("alice")

    assert guids[0] == guids[1] != other.deliveries[0].guid


def test_it_names_an_owner_as_the_sender_for_an_organization(github_with_repos):
    github_with_repos.create_org("acme", owners=["alice"])

    github_with_repos.install_app("acme")

    payload = github_with_repos.deliver.received[0][2]
    assert payload["sender"]["login"] == "alice"
    assert payload["installation"]["target_type"] == "Organization"


def test_it_sends_installation_lifecycle_events(github_with_repos):
    installation_id = github_with_repos.install_app("alice", repositories=["docs"])
    github_with_repos.add_installation_repositories(installation_id, ["blog"])
    github_with_repos.remove_installation_repositories(installation_id, ["docs"])
    github_with_repos.suspend_installation(installation_id)
    github_with_repos.unsuspend_installation(installation_id)
    github_with_repos.uninstall_app(installation_id)

    assert github_with_repos.deliver.events() == [
        ("installation", "created"),
        ("installation_repositories", "added"),
        ("installation_repositories", "removed"),
        ("installation", "suspend"),
        ("installation", "unsuspend"),
        ("installation", "deleted"),
    ]
    added = github_with_repos.deliver.received[1][2]
    assert [r["full_name"] for r in added["repositories_added"]] == ["alice/blog"]
    assert added["repository_selection"] == "selected"
    assert github_with_repos.deliver.received[3][2]["installation"]["suspended_at"] is not None


def test_it_sends_push_for_an_outside_commit(github_with_repos):
    installation_id = github_with_repos.install_app("alice")
    first = github_with_repos.push_outside_commit("alice", "docs", files={"a.md": "1", "b.md": "2"}, message="one")

    second = github_with_repos.push_outside_commit(
        "alice", "docs", files={"a.md": "changed", "b.md": None, "c/d.md": "new"}, message="two", author="alice"
    )

    _, headers, push = github_with_repos.deliver.received[-1]
    assert headers["X-GitHub-Event"] == "push"
    assert (push["ref"], push["before"], push["after"]) == ("refs/heads/main", first, second)
    assert push["installation"]["id"] == installation_id
    assert push["repository"]["full_name"] == "alice/docs"
    assert push["sender"]["login"] == "alice" and push["created"] is False and push["forced"] is False
    commit = push["head_commit"]
    assert (commit["id"], commit["message"]) == (second, "two")
    assert (commit["added"], commit["removed"], commit["modified"]) == (["c/d.md"], ["b.md"], ["a.md"])
    assert github_with_repos.deliver.received[-2][2]["created"] is True


def test_it_sends_push_when_the_api_moves_a_branch_unless_switched_off(github_with_repos):
    installation_id = github_with_repos.install_app("alice")
    github_with_repos.push_outside_commit("alice", "docs", files={"a.md": "1"}, message="one")
    token = github_with_repos.issue_installation_token(installation_id)
    headers = {"Authorization": f"token {token}"}
    api = f"{BASE}/api/repos/alice/docs/contents"

    requests.put(f"{api}/b.md", json={"message": "via api", "content": "Yg=="}, headers=headers, timeout=5)
    assert github_with_repos.deliver.events()[-1] == ("push", None)
    assert github_with_repos.deliver.received[-1][2]["sender"]["login"] == "ctx-sandbox[bot]"

    github_with_repos.emit_push_on_api_update = False
    count = len(github_with_repos.deliveries)
    requests.put(f"{api}/c.md", json={"message": "quiet", "content": "Yw=="}, headers=headers, timeout=5)
    assert len(github_with_repos.deliveries) == count


def test_it_sends_no_push_where_the_app_is_not_installed(github_with_repos):
    github_with_repos.install_app("alice", repositories=["blog"])

    github_with_repos.push_outside_commit("alice", "docs", files={"a.md": "1"}, message="one")

    assert github_with_repos.deliver.events() == [("installation", "created")]


def test_it_records_a_failed_delivery(tmp_path):
    github_with_repos = make_sim(tmp_path)
    github_with_repos.deliver = None  # the default: requests.post to the site, which is not there
    github_with_repos.create_user("alice")
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        github_with_repos.install_app("alice")

    assert github_with_repos.deliveries[0].status == 0 and "Connection refused" in github_with_repos.deliveries[0].error


def test_it_delivers_through_any_event_hook(github_with_repos):
    delivery = github_with_repos.deliver_webhook("ping", {"zen": "Keep it logically awesome."})

    assert delivery.status == 204
    assert github_with_repos.deliver.received[-1][1]["X-GitHub-Event"] == "ping"
