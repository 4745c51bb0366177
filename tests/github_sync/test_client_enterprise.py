"""The HTTP contract with GitHub Enterprise Server (base URL https://HOST/api/v3), checked with `responses`: the App
JWT for its token, the installation token for repository calls, the API version, and the user's installations
followed page by page."""

from __future__ import annotations

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from github_sync.app_auth import user_installations
from github_sync.client import InstallationClient

API = "https://ghe.example.com/api/v3"


@pytest.fixture
def enterprise(settings):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings.GITHUB_API_URL = API
    settings.GITHUB_APP_ID = "4242"
    settings.GITHUB_APP_PRIVATE_KEY = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with responses.RequestsMock() as rsps:
        yield rsps, key.public_key()


def installation(number: int, login: str) -> dict:
    return {
        "id": number,
        "account": {"login": login, "type": "Organization"},
        "target_type": "Organization",
        "repository_selection": "selected",
        "suspended_at": None,
    }


def test_it_calls_the_enterprise_api_as_the_app_then_as_the_installation(enterprise):
    rsps, public_key = enterprise
    rsps.post(
        f"{API}/app/installations/7/access_tokens", json={"token": "ghs_one", "expires_at": "2099-01-01T00:00:00Z"}
    )
    rsps.get(f"{API}/repos/acme/docs/branches/main", json={"commit": {"sha": "c1", "commit": {"tree": {"sha": "t1"}}}})

    assert InstallationClient(7).branch_head("acme/docs", "main") == ("c1", "t1")

    token_call, branch_call = rsps.calls
    scheme, _, app_jwt = token_call.request.headers["Authorization"].partition(" ")
    assert scheme == "Bearer" and jwt.decode(app_jwt, public_key, algorithms=["RS256"])["iss"] == "4242"
    assert branch_call.request.headers["Authorization"] == "Bearer ghs_one"
    assert branch_call.request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert branch_call.request.headers["User-Agent"].startswith("ctx-confluence-connector/")


def test_it_lists_the_users_installations_page_by_page(enterprise):
    rsps, _ = enterprise
    second = f"{API}/user/installations?per_page=100&page=2"
    rsps.get(
        f"{API}/user/installations?per_page=100",
        json={"total_count": 2, "installations": [installation(1, "acme")]},
        headers={"Link": f'<{second}>; rel="next"'},
    )
    rsps.get(second, json={"total_count": 2, "installations": [installation(2, "globex")]})

    found = user_installations("ghu_user")

    assert [(i.installation_id, i.account_login, i.account_type) for i in found] == [
        (1, "acme", "Organization"),
        (2, "globex", "Organization"),
    ]
    assert {call.request.headers["Authorization"] for call in rsps.calls} == {"token ghu_user"}
