"""The personal data reporting API (POST /app/report-accounts/): closed and updated accounts, its limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

BASE = "http://testserver/sandbox/atlassian"
URL = f"{BASE}/api/app/report-accounts/"
GRACE = "557058:0c0ffee0-1111-4000-8000-000000000002"
ALAN = "557058:0c0ffee0-2222-4000-8000-000000000003"


@pytest.fixture
def token(atlassian_sim):
    atlassian_sim.create_site(name="Acme Sandbox")
    atlassian_sim.default_user()
    atlassian_sim.create_user(account_id=GRACE, name="Grace Hopper")
    atlassian_sim.create_user(account_id=ALAN, name="Alan Turing")
    return atlassian_sim.connect()["access_token"]


def report(token, *accounts, updated_at=None):
    moment = (updated_at or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    body = {"accounts": [{"accountId": a, "updatedAt": moment} for a in accounts]}
    return requests.post(URL, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=5)


def test_nothing_to_report_is_a_204(atlassian_sim, token):
    response = report(token, GRACE, ALAN, "557058:someone-we-never-met")
    assert response.status_code == 204 and response.content == b""
    assert response.headers["Cycle-Period"] == "604800"


def test_it_answers_closed_and_updated_accounts(atlassian_sim, token):
    atlassian_sim.close_account(GRACE)
    atlassian_sim.update_account(ALAN, name="Alan M. Turing")
    response = report(token, GRACE, ALAN, updated_at=datetime.now(UTC) - timedelta(minutes=5))
    assert response.status_code == 200
    assert response.json() == {
        "accounts": [{"accountId": GRACE, "status": "closed"}, {"accountId": ALAN, "status": "updated"}]
    }
    # Reported again with the data refreshed after the change: only the closed account remains.
    later = report(token, GRACE, ALAN, updated_at=datetime.now(UTC) + timedelta(seconds=1))
    assert later.json() == {"accounts": [{"accountId": GRACE, "status": "closed"}]}


def test_a_closed_account_shows_as_a_former_user_and_loses_its_grants(atlassian_sim, token):
    grace_token = atlassian_sim.connect(account_id=GRACE)["access_token"]
    atlassian_sim.close_account(GRACE)
    assert atlassian_sim.users[GRACE].name == "Former user"
    response = requests.get(f"{BASE}/api/me", headers={"Authorization": f"Bearer {grace_token}"}, timeout=5)
    assert response.status_code == 401
    with pytest.raises(ValueError):
        atlassian_sim.update_account(GRACE, name="Grace")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"accounts": []},
        {"accounts": [{"accountId": GRACE}]},
        {"accounts": [{"accountId": GRACE, "updatedAt": "yesterday"}]},
        {"accounts": [{"accountId": GRACE, "updatedAt": "2026-01-02T03:04:05"}]},
        {"accounts": [{"accountId": f"557058:{n}", "updatedAt": "2026-01-02T03:04:05Z"} for n in range(91)]},
    ],
)
def test_it_refuses_malformed_reports(atlassian_sim, token, body):
    response = requests.post(URL, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert response.status_code == 400


def test_it_takes_up_to_90_accounts(atlassian_sim, token):
    assert report(token, *[f"557058:{n}" for n in range(90)]).status_code == 204


def test_it_needs_a_user_token(atlassian_sim, token):
    site = next(iter(atlassian_sim.sites.values()))
    system = atlassian_sim.issue_system_token(site.cloud_id)
    for authorization in ("", "Bearer nope", f"Bearer {system}"):
        response = requests.post(URL, json={"accounts": []}, headers={"Authorization": authorization}, timeout=5)
        assert response.status_code == 401


def test_it_rate_limits_with_retry_after(atlassian_sim, token):
    atlassian_sim.rate_limit_reports(1, retry_after=30)
    limited = report(token, GRACE)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "30"
    assert report(token, GRACE).status_code == 204
    assert atlassian_sim.reports == [{"accounts": [GRACE]}]
