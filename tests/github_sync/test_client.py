"""`InstallationClient` on PyGithub: every call through the client's one ApiSession (counted, retried and waited by
our rules, never by PyGithub's), installation tokens shared by the process, a revoked token renewed once, a secondary
rate limit waited on (never read as an uninstall), and a deleted repository told from a missing branch or file."""

from __future__ import annotations

import pytest
import requests

from connectors import http
from github_sync import app_auth
from github_sync.client import InstallationClient
from github_sync.errors import GitHubError, GitHubUnavailable, RepositoryGone
from sandbox.core import FaultPlan

pytestmark = pytest.mark.django_db


@pytest.fixture
def waits(monkeypatch):
    waited = []
    monkeypatch.setattr(http, "sleep", waited.append)
    return waited


def test_every_call_goes_through_the_clients_session_and_is_counted(installation, push):
    push({"a.md": "# A"})
    client = InstallationClient(installation.installation_id)

    head = client.branch_head("acme-gh/docs", "main")
    client.create_blob("acme-gh/docs", b"\x00binary")

    assert head is not None
    # The installation token (POST), the branch, the blob.
    assert client.stats.requests == 3 and client.stats.by_method == {"POST": 2, "GET": 1}


def test_the_installation_token_is_shared_by_the_clients_of_the_process(installation, push, github):
    push({"a.md": "# A"})
    InstallationClient(installation.installation_id).branch_head("acme-gh/docs", "main")
    github.reset_log()

    later = InstallationClient(installation.installation_id)
    later.branch_head("acme-gh/docs", "main")

    assert later.stats.requests == 1 and github.count("POST") == 0


def test_a_revoked_token_is_renewed_once(installation, push, github):
    push({"a.md": "# A"})
    with app_auth._tokens_lock:
        app_auth._tokens[installation.installation_id] = ("ghs_revoked", 4_000_000_000.0)
    client = InstallationClient(installation.installation_id)

    assert client.branch_head("acme-gh/docs", "main") is not None
    # Refused (401), a new token, the branch again.
    assert client.stats.by_method == {"GET": 2, "POST": 1}


def test_a_5xx_is_retried_by_our_policy_with_a_heartbeat(installation, push, github, waits):
    push({"a.md": "# A"})
    github.inject_faults(FaultPlan(on_nth={1: "503"}, path_pattern="/branches/"))
    client = InstallationClient(installation.installation_id)
    beats = []
    client.session.on_wait = beats.append

    assert client.branch_head("acme-gh/docs", "main") is not None
    assert client.stats.retries == 1 and len(waits) == 1 and beats == waits


def test_a_wait_longer_than_the_inline_budget_is_declined_and_reported(installation, push, github, waits, settings):
    push({"a.md": "# A"})
    settings.HTTP_MAX_INLINE_WAIT_SECONDS = 10
    github.inject_faults(FaultPlan(on_nth={1: "429"}, path_pattern="/branches/", retry_after=600))
    client = InstallationClient(installation.installation_id)

    with pytest.raises(GitHubUnavailable):
        client.branch_head("acme-gh/docs", "main")

    assert client.stats.declined_wait_seconds == 600 and waits == []


def test_writes_are_not_throttled_by_pygithub(installation, push, monkeypatch):
    push({"a.md": "# A"})
    slept = []
    monkeypatch.setattr("github.Requester.time.sleep", slept.append)
    client = InstallationClient(installation.installation_id)

    for n in range(3):
        client.create_blob("acme-gh/docs", b"\x00%d" % n)

    assert slept == [] and client.stats.write_requests == 4


def test_an_unconfigured_app_fails_at_the_first_call_as_a_github_error(settings):
    settings.GITHUB_APP_ID = ""
    client = InstallationClient(1)

    with pytest.raises(GitHubError, match="GITHUB_APP_ID"):
        client.branch_head("acme-gh/docs", "main")
    assert client.stats.requests == 0


def test_a_write_redirected_to_a_moved_repository_is_an_error_not_an_answer(installation, push, monkeypatch):
    push({"a.md": "# A"})
    client = InstallationClient(installation.installation_id)
    real = client.session.request

    def moved(method, url, **kwargs):
        if method == "POST" and url.endswith("/git/blobs"):
            response = requests.Response()
            response.status_code, response.url = 307, url
            response.headers["Location"] = url.replace("acme-gh/docs", "acme-gh/handbook")
            response._content = b'{"message": "Temporary Redirect", "url": "..."}'
            return response
        return real(method, url, **kwargs)

    monkeypatch.setattr(client.session, "request", moved)

    with pytest.raises(RepositoryGone):
        client.create_blob("acme-gh/docs", b"text")


def test_github_out_of_reach_is_unavailable_not_a_bug(installation, push, monkeypatch):
    push({"a.md": "# A"})
    client = InstallationClient(installation.installation_id)
    client.branch_head("acme-gh/docs", "main")  # the token is in hand

    def unreachable(method, url, **kwargs):
        raise requests.ConnectionError("connection refused")

    monkeypatch.setattr(client.session, "request", unreachable)

    with pytest.raises(GitHubUnavailable):
        client.branch_head("acme-gh/docs", "main")


def test_a_secondary_rate_limit_403_is_a_wait_not_an_uninstall(installation, github, waits, settings):
    settings.HTTP_MAX_INLINE_WAIT_SECONDS = 10
    github.rate_limit_fault_status = 403
    github.inject_faults(FaultPlan(on_nth={1: "429"}, path_pattern="/installation/repositories", retry_after=600))
    client = InstallationClient(installation.installation_id)

    with pytest.raises(GitHubUnavailable):
        client.list_repositories()

    assert client.stats.declined_wait_seconds == 600 and waits == []


def test_a_short_secondary_rate_limit_403_is_slept_and_retried(installation, push, github, waits):
    push({"a.md": "# A"})
    github.rate_limit_fault_status = 403
    github.inject_faults(FaultPlan(on_nth={1: "429"}, path_pattern="/branches/", retry_after=2))
    client = InstallationClient(installation.installation_id)

    assert client.branch_head("acme-gh/docs", "main") is not None
    assert waits == [2.0] and client.stats.rate_limited == 1


def test_a_missing_branch_of_a_repository_that_exists_is_none(installation, push):
    push({"a.md": "# A"})
    client = InstallationClient(installation.installation_id)

    assert client.branch_head("acme-gh/docs", "no-such-branch") is None


def test_a_deleted_repository_is_gone_not_a_missing_branch(installation, push, github):
    push({"a.md": "# A"})
    github.delete_repository("acme-gh", "docs")
    client = InstallationClient(installation.installation_id)

    with pytest.raises(RepositoryGone):
        client.branch_head("acme-gh/docs", "main")


def test_a_missing_file_of_a_repository_that_exists_is_none(installation, push):
    sha = push({"a.md": "# A"})
    client = InstallationClient(installation.installation_id)

    assert client.get_file("acme-gh/docs", "missing.md", ref=sha) is None


def test_a_file_of_a_deleted_repository_is_gone_not_missing(installation, push, github):
    sha = push({"a.md": "# A"})
    github.delete_repository("acme-gh", "docs")
    client = InstallationClient(installation.installation_id)

    with pytest.raises(RepositoryGone):
        client.get_file("acme-gh/docs", "a.md", ref=sha)


def test_a_branch_github_names_missing_costs_no_second_request(installation, push):
    push({"a.md": "# A"})
    client = InstallationClient(installation.installation_id)

    assert client.branch_head("acme-gh/docs", "no-such-branch") is None
    assert client.stats.by_method["GET"] == 1  # beside the installation token's POST
