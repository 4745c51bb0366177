"""Fault injection, the request log, snapshots, and the cost of big listings."""

from __future__ import annotations

import json
import time

import pytest
import requests

from sandbox.atlassian import AtlassianSimulator
from sandbox.core import FaultPlan

BASE = "http://testserver/sandbox/atlassian"


@pytest.fixture
def spaces_url(atlassian_sim):
    site = atlassian_sim.create_site(name="Acme Sandbox")
    atlassian_sim.create_space(site.cloud_id, key="ENG", name="Engineering")
    atlassian_sim.token = atlassian_sim.connect()["access_token"]
    return f"{BASE}/api/ex/confluence/{site.cloud_id}/wiki/api/v2/spaces"


def statuses(atlassian_sim, url, n):
    found = []
    for _ in range(n):
        try:
            found.append(
                requests.get(url, headers={"Authorization": f"Bearer {atlassian_sim.token}"}, timeout=5).status_code
            )
        except requests.ConnectionError:
            found.append("drop")
        except requests.Timeout:
            found.append("timeout")
    return found


def test_it_repeats_the_same_faults_under_the_same_seed(atlassian_sim, spaces_url):
    atlassian_sim.inject_faults(FaultPlan(rate=0.5, seed=7))
    first = statuses(atlassian_sim, spaces_url, 30)
    atlassian_sim.inject_faults(FaultPlan(rate=0.5, seed=7))
    assert statuses(atlassian_sim, spaces_url, 30) == first
    assert {s for s in first if s != 200} & {429, 500, 502, 503, "timeout"}
    atlassian_sim.inject_faults(FaultPlan(rate=0.5, seed=8))
    assert statuses(atlassian_sim, spaces_url, 30) != first


def test_it_fails_exactly_the_nth_request(atlassian_sim, spaces_url):
    atlassian_sim.inject_faults(FaultPlan(on_nth={2: "429", 4: "drop", 5: "503"}, retry_after=3))
    assert statuses(atlassian_sim, spaces_url, 6) == [200, 429, 200, "drop", 503, 200]


def test_it_shapes_rate_limits_like_atlassian(atlassian_sim, spaces_url):
    atlassian_sim.inject_faults(FaultPlan(on_nth={1: "429", 2: "429-no-retry-after"}, retry_after=3))
    headers = {"Authorization": f"Bearer {atlassian_sim.token}"}
    limited = requests.get(spaces_url, headers=headers, timeout=5)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert "Retry-After" not in requests.get(spaces_url, headers=headers, timeout=5).headers


def test_it_records_every_request(atlassian_sim, spaces_url):
    atlassian_sim.reset_log()
    statuses(atlassian_sim, spaces_url + "?limit=5", 2)
    requests.get(f"{BASE}/api/me", timeout=5)
    assert atlassian_sim.count("GET", r"/wiki/api/v2/spaces$") == 2
    assert atlassian_sim.requests[0].query == "limit=5" and atlassian_sim.requests[0].status == 200
    assert atlassian_sim.requests[-1].status == 401


def test_it_restores_a_snapshot(atlassian_sim, spaces_url, tmp_path):
    site = next(iter(atlassian_sim.sites.values()))
    page = atlassian_sim.create_page(site.cloud_id, space_key="ENG", title="Runbook", body="<p>x</p>", labels=["a"])
    atlassian_sim.add_attachment(page.id, filename="a.txt", data=b"abc", media_type="text/plain")
    data = json.loads(json.dumps(atlassian_sim.snapshot()))
    other = AtlassianSimulator(base_url=BASE, root=tmp_path, site_url="http://testserver")
    other.restore(data)
    assert other.snapshot() == data
    assert other.pages[page.id].version.number == 1
    assert other.space_by_key(site.cloud_id, "ENG").homepage_id
    assert other.create_page(site.cloud_id, space_key="ENG", title="Next", body="").id not in atlassian_sim.pages
    assert other.sign_invocation_token(site.cloud_id)


def test_it_lists_big_spaces_cheaply(atlassian_sim, spaces_url):
    site = next(iter(atlassian_sim.sites.values()))
    space = atlassian_sim.space_by_key(site.cloud_id, "ENG")
    for n in range(10_000):
        atlassian_sim.create_page(
            site.cloud_id, space_key="ENG", title=f"Page {n}", body="<p>" + "x" * 2000 + "</p>", emit=False
        )
    url = f"{BASE}/api/ex/confluence/{site.cloud_id}/wiki/api/v2/spaces/{space.id}/pages"
    headers = {"Authorization": f"Bearer {atlassian_sim.token}"}
    started = time.perf_counter()
    response = requests.get(url, params={"limit": 250, "body-format": "storage"}, headers=headers, timeout=5)
    for _ in range(10):
        response = requests.get(url.split("/wiki/")[0] + response.json()["_links"]["next"], headers=headers, timeout=5)
    assert len(response.json()["results"]) == 250
    assert time.perf_counter() - started < 3
