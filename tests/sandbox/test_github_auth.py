"""App JWTs, installation tokens, user tokens, repository visibility and rate-limit headers of the simulated GitHub."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, Github, GithubIntegration

from sandbox import credentials

BASE = "http://testserver/sandbox/github"
API = f"{BASE}/api"


@pytest.fixture
def github_world(github_sim):
    github_sim.create_user("alice")
    github_sim.create_user("bob")
    github_sim.create_user("carol")
    github_sim.create_org("acme", owners=["alice"], members=["bob"])
    for owner, name in (("alice", "notes"), ("acme", "docs"), ("acme", "site"), ("carol", "secret")):
        github_sim.create_repository(owner, name)
    return {
        "alice": github_sim.install_app("alice"),
        "acme": github_sim.install_app("acme", repositories=["docs"]),
        "carol": github_sim.install_app("carol"),
    }


def app_jwt(github_sim, *, iat_offset=-60, lifetime=300, iss=None, key=None) -> str:
    now = int(time.time())
    key = key or github_sim.app_private_key_path.read_text()
    payload = {"iat": now + iat_offset, "exp": now + iat_offset + lifetime, "iss": iss or credentials.GITHUB_APP_ID}
    return jwt.encode(payload, key, algorithm="RS256")


def post_token(github_sim, installation_id, token, **body):
    return requests.post(
        f"{API}/app/installations/{installation_id}/access_tokens",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


def get(path, token=None):
    headers = {"Authorization": f"token {token}"} if token else {}
    return requests.get(f"{API}{path}", headers=headers, timeout=5, allow_redirects=False)


def test_it_issues_installation_tokens_through_pygithub(github_sim, github_world):
    integration = GithubIntegration(
        auth=Auth.AppAuth(int(credentials.GITHUB_APP_ID), github_sim.app_private_key_path.read_text()),
        base_url=github_sim.api_url,
        retry=None,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )

    authorization = integration.get_access_token(github_world["acme"])

    assert authorization.token.startswith("ghs_")
    assert 3500 < authorization.expires_at.timestamp() - time.time() <= 3600
    assert integration.get_app_installation(github_world["acme"]).id == github_world["acme"]
    assert integration.get_repo_installation("acme", "docs").id == github_world["acme"]
    gh = integration.get_github_for_installation(github_world["acme"])
    assert gh.get_repo("acme/docs").full_name == "acme/docs"


def test_it_accepts_the_client_id_as_issuer(github_sim, github_world):
    assert (
        post_token(
            github_sim, github_world["alice"], app_jwt(github_sim, iss=credentials.GITHUB_APP_CLIENT_ID)
        ).status_code
        == 201
    )


def test_it_rejects_a_jwt_signed_with_another_key(github_sim, github_world):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )

    response = post_token(github_sim, github_world["alice"], app_jwt(github_sim, key=other))

    assert response.status_code == 401
    assert response.json()["message"] == "A JSON web token could not be decoded"


@pytest.mark.parametrize(
    "claims",
    [
        {"iat_offset": -700, "lifetime": 600},  # expired
        {"iat_offset": -60, "lifetime": 3600},  # longer than ten minutes
        {"iat_offset": 300, "lifetime": 300},  # issued in the future
        {"iss": "999"},  # another App
    ],
)
def test_it_rejects_bad_jwt_claims(github_sim, github_world, claims):
    response = post_token(github_sim, github_world["alice"], app_jwt(github_sim, **claims))

    assert response.status_code == 401


def test_it_expires_installation_tokens_after_an_hour(github_sim, github_world):
    token = post_token(github_sim, github_world["alice"], app_jwt(github_sim)).json()["token"]
    assert get("/installation/repositories", token).status_code == 200

    github_sim.advance_clock(3601)

    response = get("/installation/repositories", token)
    assert response.status_code == 401
    assert response.json()["message"] == "Bad credentials"


def test_it_refuses_tokens_for_suspended_and_deleted_installations(github_sim, github_world):
    github_sim.suspend_installation(github_world["alice"])
    assert post_token(github_sim, github_world["alice"], app_jwt(github_sim)).status_code == 403
    github_sim.unsuspend_installation(github_world["alice"])
    token = post_token(github_sim, github_world["alice"], app_jwt(github_sim)).json()["token"]

    github_sim.uninstall_app(github_world["alice"])

    assert post_token(github_sim, github_world["alice"], app_jwt(github_sim)).status_code == 404
    assert get("/installation/repositories", token).status_code == 401


def test_it_lists_only_the_installations_repositories(github_sim, github_world):
    token = github_sim.issue_installation_token(github_world["acme"])

    body = get("/installation/repositories", token).json()

    assert body["repository_selection"] == "selected"
    assert [r["full_name"] for r in body["repositories"]] == ["acme/docs"]
    assert get("/repos/acme/docs", token).status_code == 200
    assert get("/repos/acme/site", token).status_code == 404
    assert get("/repos/carol/secret", token).status_code == 404


def test_it_down_scopes_tokens(github_sim, github_world):
    body = post_token(
        github_sim, github_world["alice"], app_jwt(github_sim), repositories=["notes"], permissions={"contents": "read"}
    ).json()
    assert [r["full_name"] for r in body["repositories"]] == ["alice/notes"]

    response = requests.put(
        f"{API}/repos/alice/notes/contents/a.md",
        json={"message": "m", "content": "YQ=="},
        headers={"Authorization": f"token {body['token']}"},
        timeout=5,
    )

    assert response.status_code == 403
    assert (
        post_token(github_sim, github_world["alice"], app_jwt(github_sim), permissions={"admin": "write"}).status_code
        == 422
    )


def test_it_scopes_user_installations_to_the_users_accounts(github_sim, github_world):
    def installations(login):
        return sorted(
            i["account"]["login"]
            for i in get("/user/installations", github_sim.issue_user_token(login)).json()["installations"]
        )

    assert installations("alice") == ["acme", "alice"]
    assert installations("bob") == ["acme"]
    assert installations("carol") == ["carol"]
    bob = github_sim.issue_user_token("bob")
    assert get(f"/user/installations/{github_world['carol']}/repositories", bob).status_code == 404
    repos = get(f"/user/installations/{github_world['acme']}/repositories", bob).json()
    assert [r["full_name"] for r in repos["repositories"]] == ["acme/docs"]


def test_it_answers_user_endpoints_with_a_user_token(github_sim):
    github_sim.create_user("dora", name="Dora", email="dora@example.com")
    gh = Github(auth=Auth.Token(github_sim.issue_user_token("dora")), base_url=github_sim.api_url, retry=None)

    user = gh.get_user()

    assert (user.login, user.name, user.email) == ("dora", "Dora", "dora@example.com")
    assert get("/user/emails", github_sim.issue_user_token("dora")).json()[0]["email"] == "dora@example.com"
    assert get("/user").status_code == 401
    assert get("/user", "nonsense").status_code == 401


def test_it_counts_requests_per_installation_in_rate_limit_headers(github_sim, github_world):
    alice, acme = (
        github_sim.issue_installation_token(github_world["alice"]),
        github_sim.issue_installation_token(github_world["acme"]),
    )
    first, second = get("/repos/alice/notes", alice), get("/repos/alice/notes", alice)
    other = get("/repos/acme/docs", acme)

    assert first.headers["x-ratelimit-limit"] == "5000"
    assert first.headers["x-ratelimit-resource"] == "core"
    assert int(first.headers["x-ratelimit-remaining"]) - int(second.headers["x-ratelimit-remaining"]) == 1
    assert second.headers["x-ratelimit-used"] == "2"
    assert other.headers["x-ratelimit-used"] == "1"
    assert int(first.headers["x-ratelimit-reset"]) > time.time()


def test_it_enforces_the_primary_rate_limit_until_the_hour_resets(github_sim, github_world):
    github_sim.rate_limit = 2
    token = github_sim.issue_installation_token(github_world["alice"])
    get("/repos/alice/notes", token)
    get("/repos/alice/notes", token)

    limited = get("/repos/alice/notes", token)

    assert limited.status_code == 403
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert "rate limit exceeded" in limited.json()["message"]
    github_sim.advance_clock(3601)
    # Tokens last an hour too: a fresh one, at the new time.
    assert get("/repos/alice/notes", github_sim.issue_installation_token(github_world["alice"])).status_code == 200


def test_it_redirects_a_renamed_repository(github_sim, github_world):
    token = github_sim.issue_installation_token(github_world["alice"])
    github_sim.rename_repository("alice", "notes", "handbook")

    moved = get("/repos/alice/notes/git/refs?x=1", token)

    assert moved.status_code == 301
    assert moved.headers["Location"] == f"{API}/repos/alice/handbook/git/refs?x=1"
    gh = Github(auth=Auth.Token(token), base_url=github_sim.api_url, retry=None)
    assert gh.get_repo("alice/notes").full_name == "alice/handbook"
    assert github_sim.repository_path("alice", "handbook").is_dir()


def test_it_hides_private_repositories_from_anonymous_callers(github_sim, github_world):
    github_sim.create_repository("alice", "public-notes", private=False)

    assert get("/repos/alice/public-notes").status_code == 200
    assert get("/repos/alice/notes").status_code == 404
