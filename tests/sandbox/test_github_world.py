"""The simulated GitHub inside a World: the suite's `sandbox` fixture, persistence, and the live Django adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from django.conf import settings

from sandbox.world import World

# Webhooks reach the site's real webhook view, which records them.
pytestmark = pytest.mark.django_db


def test_it_is_served_by_the_sandbox_fixture(sandbox):
    github = sandbox.github
    github.create_user("alice")
    github.create_repository("alice", "docs")
    token = github.issue_installation_token(github.install_app("alice"))

    response = requests.get(
        f"{settings.GITHUB_API_URL}/repos/alice/docs", headers={"Authorization": f"token {token}"}, timeout=5
    )

    assert response.status_code == 200
    assert response.json()["url"] == f"{settings.GITHUB_API_URL}/repos/alice/docs"
    assert Path(settings.GITHUB_APP_PRIVATE_KEY_FILE).read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    # The installation webhook went to the site through Django's test client.
    assert github.deliveries[0].event == "installation" and github.deliveries[0].status != 0


def test_it_survives_a_snapshot_round_trip(sandbox):
    github = sandbox.github
    github.create_user("alice", email="alice@example.com")
    github.create_org("acme", owners=["alice"])
    github.create_repository("acme", "docs", description="Docs")
    installation_id = github.install_app("acme", repositories=["docs"])
    token = github.issue_installation_token(installation_id)
    head = github.push_outside_commit("acme", "docs", files={"a.md": "one"}, message="init")
    github.rename_repository("acme", "docs", "handbook")

    again = World(root=sandbox.root, sandbox_url=sandbox.sandbox_url, site_url=sandbox.site_url)
    again.restore(json.loads(json.dumps(sandbox.snapshot())))

    restored = again.github
    assert restored.state.installations[installation_id].account == "acme"
    assert restored.state.tokens[token].subject == str(installation_id)
    assert restored.head_sha("acme", "handbook") == head
    assert restored.read_tree("acme", "handbook", "main") == {"a.md": b"one"}
    assert restored.state.redirects == {"acme/docs": restored.get_repository("acme", "handbook").id}
    assert [d.event for d in restored.deliveries] == ["installation", "push", "repository"]
    assert restored.create_user("bob").id > restored.get_repository("acme", "handbook").id


def test_it_serves_pages_through_the_django_adapter(sandbox, client):
    response = client.get("/sandbox/github/web/", {"as": "octo-sandbox"})

    assert response.status_code == 200
    assert b"Simulated GitHub" in response.content
    assert response.headers["Set-Cookie"].startswith("sandbox_github_user=octo-sandbox;")
