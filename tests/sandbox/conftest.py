"""Each simulator alone, served to `requests` in-process (`atlassian_sim`, `github_sim`), and the live on-disk
world the /sandbox/manage/ pages change."""

import json

import pytest
import responses

from sandbox import manage_views, store
from sandbox.atlassian import AtlassianSimulator
from sandbox.github import GitHubSimulator
from sandbox.store import world_for_request
from sandbox.testing import serve_with_responses

BASE = "http://testserver/sandbox/atlassian"
GITHUB_BASE = "http://testserver/sandbox/github"


@pytest.fixture
def atlassian_sim(tmp_path):
    atlassian_sim = AtlassianSimulator(base_url=BASE, root=tmp_path, site_url="http://testserver")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_with_responses(rsps, atlassian_sim, atlassian_sim.base_url)
        yield atlassian_sim


@pytest.fixture
def github_sim(tmp_path):
    github_sim = GitHubSimulator(base_url=GITHUB_BASE, root=tmp_path / "github", site_url="http://testserver")
    github_sim.deliver = lambda url, body, headers: 200
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_with_responses(rsps, github_sim, github_sim.base_url)
        # PyGithub always writes the port into its URLs (http://testserver:80/...).
        serve_with_responses(rsps, github_sim, "http://testserver:80/sandbox/github")
        yield github_sim


@pytest.fixture
def live(settings, tmp_path, monkeypatch):
    """A fresh live world on disk, with a site, a space and a page; Forge events captured instead of posted."""
    settings.SANDBOX_DIR = tmp_path / "live"
    monkeypatch.setattr(store, "_cache", {"world": None, "mtime": None})
    posted = []
    monkeypatch.setattr(manage_views, "post_event", lambda url, body, headers: posted.append(json.loads(body)) or 200)
    with world_for_request() as world:
        site = world.atlassian.create_site(name="Acme Sandbox")
        space = world.atlassian.create_space(site.cloud_id, key="ENG", name="Engineering")
        page = world.atlassian.create_page(site.cloud_id, space_key="ENG", title="Runbook", body="<p>x</p>")
    return {"site": site, "space": space, "page": page, "posted": posted}
