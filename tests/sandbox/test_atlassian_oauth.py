"""The simulated 3LO flow, spoken over HTTP the way allauth and the connector's client speak it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox import credentials

BASE = "http://testserver/sandbox/atlassian"
CALLBACK = "http://testserver/accounts/atlassian/login/callback/"
SCOPE = "offline_access read:me read:page:confluence"


@pytest.fixture
def consent_site(atlassian_sim):
    atlassian_sim.create_user(account_id="557058:alice", name="Alice Example", email="alice@example.com")
    return atlassian_sim.create_site(name="Acme Sandbox", url="https://acme-sandbox.atlassian.net")


def authorize_params(**extra):
    params = {
        "audience": "api.atlassian.com",
        "client_id": credentials.ATLASSIAN_CLIENT_ID,
        "scope": SCOPE,
        "redirect_uri": CALLBACK,
        "state": "s1",
        "response_type": "code",
        "prompt": "consent",
    }
    return {**params, **extra}


def accept(atlassian_sim, consent_site, **form):
    data = {"decision": "accept", "site": consent_site.cloud_id, **form}
    response = requests.post(
        f"{BASE}/auth/authorize", params=authorize_params(), data=data, allow_redirects=False, timeout=5
    )
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["Location"]).query)


def exchange(code, *, url=f"{BASE}/auth/oauth/token", form=False, secret=credentials.ATLASSIAN_CLIENT_SECRET):
    body = {
        "grant_type": "authorization_code",
        "client_id": credentials.ATLASSIAN_CLIENT_ID,
        "client_secret": secret,
        "code": code,
        "redirect_uri": CALLBACK,
    }
    if form:
        return requests.post(url, data=body, timeout=5)
    return requests.post(url, json=body, timeout=5)


def refresh(token):
    body = {
        "grant_type": "refresh_token",
        "client_id": credentials.ATLASSIAN_CLIENT_ID,
        "client_secret": credentials.ATLASSIAN_CLIENT_SECRET,
        "refresh_token": token,
    }
    return requests.post(f"{BASE}/auth/oauth/token", json=body, timeout=5)


def test_it_shows_scopes_and_sites_on_the_consent_page(atlassian_sim, consent_site):
    atlassian_sim.create_site(name="Other Site")
    response = requests.get(f"{BASE}/auth/authorize", params=authorize_params(), timeout=5)
    assert response.status_code == 200
    for scope in SCOPE.split():
        assert scope in response.text
    assert "Acme Sandbox" in response.text and "Other Site" in response.text
    assert f'value="{consent_site.cloud_id}"' in response.text
    assert 'value="accept"' in response.text and 'value="deny"' in response.text


def test_it_rejects_an_unknown_client(atlassian_sim, consent_site):
    response = requests.get(f"{BASE}/auth/authorize", params=authorize_params(client_id="nope"), timeout=5)
    assert response.status_code == 400


def test_it_redirects_with_a_code_and_exchanges_it(atlassian_sim, consent_site):
    query = accept(atlassian_sim, consent_site)
    assert query["state"] == ["s1"]
    response = exchange(query["code"][0])
    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) >= {"access_token", "refresh_token", "expires_in", "scope", "token_type"}
    assert tokens["expires_in"] == 3600
    assert tokens["scope"] == SCOPE


def test_it_accepts_form_bodies_at_the_api_host(atlassian_sim, consent_site):
    # django-allauth posts a form to api.atlassian.com/oauth/token.
    query = accept(atlassian_sim, consent_site)
    response = exchange(query["code"][0], url=f"{BASE}/api/oauth/token", form=True)
    assert response.status_code == 200
    assert response.json()["access_token"]


def test_it_accepts_client_credentials_in_basic_auth(atlassian_sim, consent_site):
    query = accept(atlassian_sim, consent_site)
    body = {"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": CALLBACK}
    auth = (credentials.ATLASSIAN_CLIENT_ID, credentials.ATLASSIAN_CLIENT_SECRET)
    response = requests.post(f"{BASE}/auth/oauth/token", data=body, auth=auth, timeout=5)
    assert response.status_code == 200


def test_it_redirects_with_an_error_on_deny(atlassian_sim, consent_site):
    response = requests.post(
        f"{BASE}/auth/authorize", params=authorize_params(), data={"decision": "deny"}, allow_redirects=False, timeout=5
    )
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["s1"]
    assert "code" not in query


def test_it_uses_a_code_once(atlassian_sim, consent_site):
    code = accept(atlassian_sim, consent_site)["code"][0]
    assert exchange(code).status_code == 200
    response = exchange(code)
    assert response.status_code == 403
    assert response.json()["error"] == "invalid_grant"


def test_it_rejects_a_wrong_client_secret(atlassian_sim, consent_site):
    response = exchange(accept(atlassian_sim, consent_site)["code"][0], secret="wrong")
    assert response.status_code == 401
    assert response.json()["error"] == "access_denied"


def test_it_rotates_refresh_tokens(atlassian_sim, consent_site):
    first = exchange(accept(atlassian_sim, consent_site)["code"][0]).json()
    second = refresh(first["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    reused = refresh(first["refresh_token"])
    assert reused.status_code == 403
    assert reused.json() == {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}
    assert refresh(second.json()["refresh_token"]).status_code == 200


def test_it_gives_no_refresh_token_without_offline_access(atlassian_sim, consent_site):
    tokens = atlassian_sim.connect(scope="read:me read:page:confluence")
    assert "refresh_token" not in tokens


def test_it_kills_every_token_of_a_revoked_grant(atlassian_sim, consent_site):
    tokens = exchange(accept(atlassian_sim, consent_site)["code"][0]).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert requests.get(f"{BASE}/api/oauth/token/accessible-resources", headers=headers, timeout=5).ok
    atlassian_sim.revoke_grant("557058:alice")
    assert requests.get(f"{BASE}/api/oauth/token/accessible-resources", headers=headers, timeout=5).status_code == 401
    response = refresh(tokens["refresh_token"])
    assert response.status_code == 403
    assert response.json()["error"] == "invalid_grant"


def test_it_expires_access_tokens(atlassian_sim, consent_site):
    atlassian_sim.access_token_ttl = 60
    tokens = atlassian_sim.connect()
    assert tokens["expires_in"] == 60
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    atlassian_sim.expire_access_tokens()
    assert requests.get(f"{BASE}/api/me", headers=headers, timeout=5).status_code == 401
    fresh = refresh(tokens["refresh_token"]).json()
    assert requests.get(f"{BASE}/api/me", headers={"Authorization": f"Bearer {fresh['access_token']}"}, timeout=5).ok


def test_it_lists_the_chosen_sites_as_accessible_resources(atlassian_sim, consent_site):
    atlassian_sim.create_site(name="Not Chosen")
    tokens = exchange(accept(atlassian_sim, consent_site)["code"][0]).json()
    response = requests.get(
        f"{BASE}/api/oauth/token/accessible-resources",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=5,
    )
    assert response.json() == [
        {
            "id": consent_site.cloud_id,
            "name": "Acme Sandbox",
            "url": "https://acme-sandbox.atlassian.net",
            "scopes": ["read:page:confluence"],
            "avatarUrl": response.json()[0]["avatarUrl"],
        }
    ]


def test_it_refuses_sites_outside_the_grant(atlassian_sim, consent_site):
    other = atlassian_sim.create_site(name="Not Chosen")
    tokens = exchange(accept(atlassian_sim, consent_site)["code"][0]).json()
    url = f"{BASE}/api/ex/confluence/{other.cloud_id}/wiki/api/v2/spaces"
    response = requests.get(url, headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=5)
    assert response.status_code == 404


def test_it_answers_me_for_the_chosen_user(atlassian_sim, consent_site):
    atlassian_sim.create_user(account_id="557058:bob", name="Bob Example", email="bob@example.com")
    tokens = exchange(accept(atlassian_sim, consent_site, **{"as": "557058:bob"})["code"][0]).json()
    me = requests.get(f"{BASE}/api/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=5)
    assert me.json()["account_id"] == "557058:bob"
    assert set(me.json()) >= {"account_type", "account_id", "email", "email_verified", "name", "picture", "nickname"}


def test_it_answers_401_without_a_bearer(atlassian_sim, consent_site):
    assert requests.get(f"{BASE}/api/me", timeout=5).status_code == 401
    response = requests.get(f"{BASE}/api/me", headers={"Authorization": "Bearer nonsense"}, timeout=5)
    assert response.status_code == 401
