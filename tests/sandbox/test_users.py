"""The bulk user lookup (POST /wiki/api/v2/users-bulk) and the account states it reports: active, deactivated
("inactive": the name stays) and closed ("Former user")."""

from __future__ import annotations

import pytest
import requests

from sandbox.atlassian import models
from sandbox.atlassian.users import deactivate_account
from sandbox.store import world_for_request

BASE = "http://testserver/sandbox/atlassian"
GRACE = "557058:0c0ffee0-1111-4000-8000-000000000002"
ALAN = "557058:0c0ffee0-2222-4000-8000-000000000003"
EDSGER = "557058:0c0ffee0-3333-4000-8000-000000000004"


@pytest.fixture
def site(atlassian_sim):
    site = atlassian_sim.create_site(name="Acme Sandbox")
    atlassian_sim.default_user()
    for account_id, name in ((GRACE, "Grace Hopper"), (ALAN, "Alan Turing"), (EDSGER, "Edsger Dijkstra")):
        atlassian_sim.create_user(account_id=account_id, name=name)
    return site


def look_up(atlassian_sim, site, *account_ids, token=None):
    token = token or atlassian_sim.connect()["access_token"]
    return requests.post(
        f"{BASE}/api/ex/confluence/{site.cloud_id}/wiki/api/v2/users-bulk",
        json={"accountIds": list(account_ids)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


def test_the_lookup_says_which_accounts_are_active_deactivated_or_closed(atlassian_sim, site):
    deactivate_account(atlassian_sim, ALAN)
    atlassian_sim.close_account(EDSGER)

    response = look_up(atlassian_sim, site, GRACE, ALAN, EDSGER, "557058:never-met")

    assert response.status_code == 200
    answered = {r["accountId"]: (r["accountStatus"], r["displayName"]) for r in response.json()["results"]}
    assert answered == {
        GRACE: ("active", "Grace Hopper"),
        ALAN: ("inactive", "Alan Turing"),
        EDSGER: ("closed", "Former user"),
    }


def test_a_deactivated_account_loses_its_grants_but_is_not_reported_closed(atlassian_sim, site):
    alan_token = atlassian_sim.connect(account_id=ALAN)["access_token"]
    deactivate_account(atlassian_sim, ALAN)

    assert look_up(atlassian_sim, site, GRACE, token=alan_token).status_code == 401
    assert atlassian_sim.report_status(ALAN, 0) is None
    assert atlassian_sim.users[ALAN].name == "Alan Turing"


def test_a_closed_account_cannot_be_deactivated(atlassian_sim, site):
    atlassian_sim.close_account(EDSGER)
    with pytest.raises(ValueError):
        deactivate_account(atlassian_sim, EDSGER)
    assert not atlassian_sim.users[EDSGER].deactivated


def test_a_world_stored_before_deactivation_existed_still_loads():
    stored = {GRACE: {"account_id": GRACE, "name": "Grace Hopper", "email": "", "closed": False}}
    assert models.load("users", stored)[GRACE].deactivated is False


@pytest.mark.django_db
def test_the_manage_page_deactivates_an_account(client, live):
    with world_for_request() as world:
        other = world.atlassian.create_user(name="Grace Hopper").account_id
    assert b'value="deactivate"' in client.get("/sandbox/manage/").content

    client.post(f"/sandbox/manage/atlassian/accounts/{other}/", {"action": "deactivate"})

    with world_for_request() as world:
        user = world.atlassian.users[other]
        assert user.deactivated and not user.closed and user.name == "Grace Hopper"
    assert b"<td>deactivated</td>" in client.get("/sandbox/manage/").content
