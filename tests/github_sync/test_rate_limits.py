"""The HTTP contract of GitHub's rate limits, checked with `responses`: a secondary limit (403 or 429 with
Retry-After, or a message saying so, with requests left) is a wait like the primary one, never a refusal or an
uninstall; GitHub's guidance without a time is at least a minute; a plain 403 is still a refusal. And no ~/.netrc
on the host can replace our Authorization header.

Reference: https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
"""

from __future__ import annotations

import time

import pytest
import responses

from connectors import http
from github_sync import app_auth
from github_sync.client import InstallationClient
from github_sync.errors import GitHubUnavailable, InstallationGone

API = "https://ghe.example.com/api/v3"
REPOSITORIES = f"{API}/installation/repositories"
BRANCH = f"{API}/repos/acme/docs/branches/main"
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."


@pytest.fixture
def github(settings, monkeypatch):
    """GitHub Enterprise Server as `responses`, installation 7's token already in hand, waits counted not slept."""
    settings.GITHUB_API_URL = API
    settings.GITHUB_APP_ID = "4242"
    settings.HTTP_MAX_INLINE_WAIT_SECONDS = 30
    monkeypatch.setitem(app_auth._tokens, 7, ("ghs_one", time.time() + 3600))
    waited: list[float] = []
    monkeypatch.setattr(http, "sleep", waited.append)
    with responses.RequestsMock() as rsps:
        yield rsps, waited


def limited(status: int, *, message: str = SECONDARY, headers: dict | None = None) -> dict:
    left = {"x-ratelimit-remaining": "4321", "x-ratelimit-reset": str(int(time.time()) + 3000)}
    return {"status": status, "json": {"message": message}, "headers": {**left, **(headers or {})}}


def branch_found() -> dict:
    return {"json": {"commit": {"sha": "c1", "commit": {"tree": {"sha": "t1"}}}}}


def test_it_waits_out_a_403_with_retry_after_where_a_403_would_mean_uninstalled(github):
    rsps, waited = github
    rsps.get(REPOSITORIES, **limited(403, message="Forbidden", headers={"Retry-After": "3"}))
    rsps.get(REPOSITORIES, json={"total_count": 0, "repositories": []})

    assert InstallationClient(7).list_repositories() == []
    assert waited == [3.0]


def test_it_hands_back_a_secondary_limit_that_says_no_time_for_at_least_a_minute(github):
    rsps, waited = github
    rsps.get(REPOSITORIES, **limited(403))
    client = InstallationClient(7)

    with pytest.raises(GitHubUnavailable):
        client.list_repositories()

    # Over the inline budget: not slept, the run goes back to the queue for GitHub's minute.
    assert waited == [] and client.stats.declined_wait_seconds == 60
    assert len(rsps.calls) == 1


def test_it_waits_a_minute_not_the_hours_reset_on_a_429_with_requests_left(github, settings):
    rsps, waited = github
    settings.HTTP_MAX_INLINE_WAIT_SECONDS = 600
    rsps.get(BRANCH, **limited(429, message="Too many requests"))
    rsps.get(BRANCH, **branch_found())

    assert InstallationClient(7).branch_head("acme/docs", "main") == ("c1", "t1")
    assert waited == [60.0]


def test_a_403_that_is_no_rate_limit_is_a_refusal_at_once(github):
    rsps, waited = github
    rsps.get(REPOSITORIES, **limited(403, message="This installation has been suspended"))

    with pytest.raises(InstallationGone):
        InstallationClient(7).list_repositories()
    assert waited == [] and len(rsps.calls) == 1


def test_a_netrc_on_the_host_never_replaces_our_authorization(github, tmp_path, monkeypatch):
    rsps, _ = github
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine ghe.example.com login someone password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("NETRC", raising=False)
    rsps.get(BRANCH, **branch_found())

    InstallationClient(7).branch_head("acme/docs", "main")

    assert rsps.calls[0].request.headers["Authorization"] == "Bearer ghs_one"
