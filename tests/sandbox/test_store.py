"""The live sandbox's world on disk: every change saved before the answer, nothing serialised after a read."""

import json

import pytest

from sandbox import credentials, store
from sandbox.core import SimRequest
from sandbox.github import GitHubSimulator
from sandbox.store import state_path, world_for_request

pytestmark = pytest.mark.django_db

ATLASSIAN = "/sandbox/atlassian"


@pytest.fixture
def serialised(monkeypatch):
    """The simulators the store serialises, by name, in order. Webhooks are not sent: a delivery's answer, recorded
    by another thread whenever it comes, would count as a change of its own."""
    monkeypatch.setattr(store, "_deliver", lambda simulator, deliveries: None)
    names = []
    serialise = store._serialise
    monkeypatch.setattr(store, "_serialise", lambda simulator: names.append(simulator.name) or serialise(simulator))
    return names


def on_disk() -> dict:
    return json.loads(state_path().read_text())


def access_token(live) -> str:
    with world_for_request() as world:
        return world.atlassian.connect(sites=[live["site"].cloud_id])["access_token"]


def test_it_serialises_nothing_after_a_read(client, live, serialised):
    token = access_token(live)
    before, serialised[:] = state_path().stat().st_mtime_ns, []
    url = f"{ATLASSIAN}/api/ex/confluence/{live['site'].cloud_id}/wiki/api/v2/pages/{live['page'].id}"

    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200 and response.json()["title"] == "Runbook"
    assert serialised == []
    assert state_path().stat().st_mtime_ns == before


def test_it_serialises_nothing_after_a_manage_page(client, live, serialised):
    response = client.get(f"/sandbox/manage/atlassian/pages/{live['page'].id}/")

    assert response.status_code == 200
    assert serialised == []


def test_it_saves_a_change_before_answering(client, live):
    with world_for_request() as world:
        refresh_token = world.atlassian.connect(sites=[live["site"].cloud_id])["refresh_token"]
    body = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": credentials.ATLASSIAN_CLIENT_ID,
        "client_secret": credentials.ATLASSIAN_CLIENT_SECRET,
    }

    response = client.post(f"{ATLASSIAN}/auth/oauth/token", json.dumps(body), content_type="application/json")

    assert response.status_code == 200
    assert response.json()["access_token"] in on_disk()["atlassian"]["tokens"]


def test_it_saves_what_a_read_makes_on_demand(client, live):
    with world_for_request() as world:
        assert world.atlassian.forge_keys == []

    response = client.get(f"{ATLASSIAN}/forge/jwks.json")

    assert [key["kid"] for key in on_disk()["atlassian"]["forge_keys"]] == [response.json()["keys"][0]["kid"]]


def test_it_serialises_only_the_simulator_that_changed(client, live, serialised):
    with world_for_request() as world:
        world.github.create_user("alice")
        world.github.create_repository("alice", "docs")
        token = world.github.issue_installation_token(world.github.install_app("alice", repositories=["docs"]))
    serialised.clear()

    response = client.get("/sandbox/github/api/repos/alice/docs", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    # Counting the request against the token's hour is a change GitHub keeps.
    assert serialised == ["github"]
    with world_for_request(only_marked_changes=True) as world:
        assert on_disk() == json.loads(json.dumps(world.snapshot()))
        assert [used for _, used in world.github.state.rate.values()] == [1]


def test_it_reloads_what_another_process_saved(client, live):
    with world_for_request() as world:
        data = world.snapshot()
    data["atlassian"]["pages"][live["page"].id]["title"] = "Saved elsewhere"
    state_path().write_text(json.dumps(data))

    with world_for_request(only_marked_changes=True) as world:
        assert world.atlassian.pages[live["page"].id].title == "Saved elsewhere"


def test_the_simulators_count_writes_but_not_reads(live):
    with world_for_request() as world:
        atlassian = world.atlassian
        before = atlassian.changes
        atlassian.handle(SimRequest("GET", "/forge/jwks.json"))
        after_read = atlassian.changes
        atlassian.handle(SimRequest("POST", "/auth/oauth/token", body=b"{}"))

    assert after_read == before + 1  # the first read made the signing key
    assert atlassian.changes == after_read + 1
    with world_for_request() as world:
        world.atlassian.handle(SimRequest("GET", "/forge/jwks.json"))
        assert world.atlassian.changes == after_read + 1


def test_it_counts_a_delivery_answer_as_a_change(tmp_path):
    github = GitHubSimulator(base_url="http://testserver/sandbox/github", root=tmp_path, site_url="http://testserver")
    github.deliver, github.defer_deliveries = (lambda url, body, headers: 202), True
    delivery = github.deliver_webhook("ping", {"zen": "Keep it logically awesome."})
    before = github.changes

    store._deliver(github, github.take_outbox())

    assert delivery.status == 202
    assert github.changes == before + 1
