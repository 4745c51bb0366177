"""github.com's pages in the simulator: the OAuth authorize flow and the App's install / request page."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from sandbox import credentials
from sandbox.github import GitHubSimulator
from sandbox.testing import serve_with_responses

BASE = "http://testserver/sandbox/github"
WEB = f"{BASE}/web"
CALLBACK = "http://testserver/accounts/github/login/callback/"
INSTALL = f"{WEB}/apps/{credentials.GITHUB_APP_SLUG}/installations/new"


@pytest.fixture
def github_recording_deliveries(tmp_path):
    github_recording_deliveries = GitHubSimulator(base_url=BASE, root=tmp_path / "github", site_url="http://testserver")
    github_recording_deliveries.sent = []
    github_recording_deliveries.deliver = lambda url, body, headers: (
        github_recording_deliveries.sent.append(json.loads(body)) or 200
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_with_responses(rsps, github_recording_deliveries, github_recording_deliveries.base_url)
        yield github_recording_deliveries


@pytest.fixture
def github_acme(github_recording_deliveries):
    github_recording_deliveries.create_user("alice", name="Alice", email="alice@example.com")
    github_recording_deliveries.create_user("bob")
    github_recording_deliveries.create_org("acme", owners=["alice"], members=["bob"])
    github_recording_deliveries.create_repository("acme", "docs")
    github_recording_deliveries.create_repository("acme", "site")
    return github_recording_deliveries


def query(response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    return {k: v[-1] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def authorize(decision="authorize", **extra):
    data = {
        "client_id": credentials.GITHUB_APP_CLIENT_ID,
        "redirect_uri": CALLBACK,
        "state": "s1",
        "scope": "",
        "decision": decision,
        **extra,
    }
    return requests.post(f"{WEB}/login/oauth/authorize", data=data, allow_redirects=False, timeout=5)


def exchange(code, *, secret=credentials.GITHUB_APP_CLIENT_SECRET, accept="application/json"):
    data = {
        "client_id": credentials.GITHUB_APP_CLIENT_ID,
        "client_secret": secret,
        "code": code,
        "redirect_uri": CALLBACK,
    }
    return requests.post(f"{WEB}/login/oauth/access_token", data=data, headers={"Accept": accept}, timeout=5)


def test_it_shows_the_authorize_page(github_acme):
    page = requests.get(
        f"{WEB}/login/oauth/authorize",
        params={"client_id": credentials.GITHUB_APP_CLIENT_ID, "redirect_uri": CALLBACK, "state": "s1", "as": "alice"},
        timeout=5,
    )

    assert page.status_code == 200
    assert "Authorize ctx-sandbox" in page.text and "Cancel" in page.text and "<b>alice</b>" in page.text
    assert "sandbox_github_user=alice" in page.headers["Set-Cookie"]


def test_it_runs_the_oauth_flow_for_the_signed_in_user(github_acme):
    params = query(authorize(**{"as": "alice"}))
    assert params["state"] == "s1"

    token = exchange(params["code"]).json()

    assert token["token_type"] == "bearer" and token["access_token"].startswith("ghu_")
    headers = {"Authorization": f"token {token['access_token']}"}
    assert requests.get(f"{BASE}/api/user", headers=headers, timeout=5).json()["login"] == "alice"
    # allauth derives the API from GITHUB_URL as `{GITHUB_URL}/api/v3`, like GitHub Enterprise Server.
    emails = requests.get(f"{WEB}/api/v3/user/emails", headers=headers, timeout=5).json()
    assert emails == [{"email": "alice@example.com", "primary": True, "verified": True, "visibility": "private"}]


def test_it_answers_urlencoded_without_an_accept_header(github_acme):
    code = query(authorize())["code"]

    response = exchange(code, accept="*/*")

    assert parse_qs(response.text)["token_type"] == ["bearer"]


def test_it_accepts_a_json_token_request(github_acme):
    code = query(authorize())["code"]

    response = requests.post(
        f"{WEB}/login/oauth/access_token",
        json={
            "client_id": credentials.GITHUB_APP_CLIENT_ID,
            "client_secret": credentials.GITHUB_APP_CLIENT_SECRET,
            "code": code,
        },
        headers={"Accept": "application/json"},
        timeout=5,
    )

    assert response.json()["access_token"].startswith("ghu_")


def test_it_sends_access_denied_on_cancel(github_acme):
    params = query(authorize("cancel"))

    assert params["error"] == "access_denied" and params["state"] == "s1" and "code" not in params


def test_it_rejects_reused_codes_and_wrong_secrets(github_acme):
    code = query(authorize())["code"]

    assert exchange(code, secret="wrong").json()["error"] == "incorrect_client_credentials"
    assert "access_token" in exchange(code).json()
    assert exchange(code).json()["error"] == "bad_verification_code"


def test_it_refuses_unknown_clients_and_foreign_redirects(github_acme):
    assert authorize(client_id="someone-else").status_code == 400
    assert authorize(redirect_uri="https://evil.example/cb").status_code == 400


def test_it_offers_the_users_accounts_on_the_install_page(github_acme):
    page = requests.get(INSTALL, params={"state": "xyz", "as": "bob"}, timeout=5)

    assert "bob" in page.text and "acme" in page.text and "(Request)" in page.text
    form = requests.get(INSTALL, params={"state": "xyz", "as": "alice", "account": "acme"}, timeout=5)
    assert "acme/docs" in form.text and "acme/site" in form.text and ">Install</button>" in form.text
    assert requests.get(INSTALL, params={"as": "bob", "account": "acme"}, timeout=5).text.count(">Request<") == 1


def test_it_installs_and_redirects_to_the_setup_url(github_acme):
    response = requests.post(
        INSTALL,
        data={
            "as": "alice",
            "account": "acme",
            "state": "xyz",
            "repository_selection": "selected",
            "repositories": ["docs"],
        },
        allow_redirects=False,
        timeout=5,
    )

    params = query(response)
    assert response.headers["Location"].startswith("http://testserver/integrations/github/setup?")
    assert params["setup_action"] == "install" and params["state"] == "xyz"
    installation = github_acme.state.installations[int(params["installation_id"])]
    assert installation.account == "acme" and installation.repository_selection == "selected"
    assert [e["action"] for e in github_acme.sent] == ["created"]
    assert [r["full_name"] for r in github_acme.sent[0]["repositories"]] == ["acme/docs"]


def test_it_records_a_request_from_a_member(github_acme):
    response = requests.post(
        INSTALL,
        data={"as": "bob", "account": "acme", "state": "xyz", "repository_selection": "all"},
        allow_redirects=False,
        timeout=5,
    )

    assert query(response) == {"setup_action": "request", "state": "xyz"}
    assert github_acme.state.installations == {}
    assert [(r.account, r.requested_by) for r in github_acme.state.requests] == [("acme", "bob")]


def test_it_updates_an_existing_installation(github_acme):
    installation_id = github_acme.install_app("acme", repositories=["docs"])

    response = requests.post(
        INSTALL,
        data={"as": "alice", "account": "acme", "repository_selection": "selected", "repositories": ["site"]},
        allow_redirects=False,
        timeout=5,
    )

    assert query(response) == {"installation_id": str(installation_id), "setup_action": "update"}
    assert [(e.get("action"), len(e.get("repositories_added", []))) for e in github_acme.sent[1:]] == [
        ("added", 1),
        ("removed", 0),
    ]


def test_it_refuses_accounts_the_user_does_not_belong_to(github_acme):
    github_acme.create_user("mallory")

    response = requests.post(INSTALL, data={"as": "mallory", "account": "acme"}, allow_redirects=False, timeout=5)

    assert response.status_code == 403


def test_it_shows_an_overview_page(github_acme):
    github_acme.install_app("acme")

    page = requests.get(f"{WEB}/", timeout=5)

    assert "acme/docs" in page.text and "installation" in page.text.lower()


def test_it_browses_a_repository_and_pushes_from_outside(github_acme):
    installation_id = github_acme.install_app("acme")
    assert "This repository is empty." in requests.get(f"{WEB}/acme/docs", timeout=5).text

    response = requests.post(
        f"{WEB}/acme/docs/outside-commit",
        data={"path": "notes/a.md", "content": "hello", "message": "by hand", "branch": "main", "as": "bob"},
        allow_redirects=False,
        timeout=5,
    )

    assert response.status_code == 302
    page = requests.get(f"{WEB}/acme/docs", timeout=5).text
    assert "notes/a.md" in page and "by hand" in page
    assert requests.get(f"{WEB}/acme/docs/blob/main/notes/a.md", timeout=5).text.count("hello") == 1
    assert github_acme.sent[-1]["head_commit"]["added"] == ["notes/a.md"]
    assert github_acme.sent[-1]["installation"]["id"] == installation_id


def test_it_suspends_and_uninstalls_from_the_settings_page(github_acme):
    installation_id = github_acme.install_app("acme")
    page = f"{WEB}/settings/installations/{installation_id}"
    assert "Suspend" in requests.get(page, timeout=5).text

    requests.post(page, data={"action": "suspend"}, allow_redirects=False, timeout=5)
    assert "Unsuspend" in requests.get(page, timeout=5).text
    requests.post(page, data={"action": "uninstall"}, allow_redirects=False, timeout=5)

    assert [e["action"] for e in github_acme.sent] == ["created", "suspend", "deleted"]
    assert github_acme.state.installations == {}


def test_it_signs_in_the_readme_user_by_default_once_seeded(tmp_path):
    """The README says `sandbox-user` (sandbox/seed.py): it is who the simulated github.com signs in."""
    from sandbox.core import SimRequest
    from sandbox.github.pages import signed_in
    from sandbox.github.simulator import GitHubSimulator
    from sandbox.seed import _seed_github

    github_recording_deliveries = GitHubSimulator(
        base_url="http://testserver/sandbox/github", root=tmp_path, site_url="http://testserver"
    )
    index = SimRequest(method="GET", path="/web/")
    assert (
        signed_in(github_recording_deliveries, index) == "octo-sandbox"
    )  # a world without the README's user: its first user
    _seed_github(github_recording_deliveries)
    assert signed_in(github_recording_deliveries, index) == "sandbox-user"
    assert (
        signed_in(github_recording_deliveries, SimRequest(method="GET", path="/web/", query={"as": ["octo-sandbox"]}))
        == "octo-sandbox"
    )
