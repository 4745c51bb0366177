"""Forge Invocation Tokens, the JWKS, installation, and the events delivered to the site."""

from __future__ import annotations

import json

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox import credentials

BASE = "http://testserver/sandbox/atlassian"


@pytest.fixture
def forge_site(atlassian_sim):
    return atlassian_sim.create_site(name="Acme Sandbox", url="https://acme-sandbox.atlassian.net")


@pytest.fixture
def delivered(atlassian_sim):
    captured = []
    atlassian_sim.deliver = lambda url, body, headers: captured.append((url, json.loads(body), headers)) or 200
    return captured


def verify(token):
    """Verify a FIT the way the connector must: JWKS over HTTP, RS256, issuer and audience.

    (PyJWKClient fetches with urllib, which `responses` cannot answer, so the JWKS comes through requests.)
    """
    keys = jwt.PyJWKSet.from_dict(requests.get(f"{BASE}/forge/jwks.json", timeout=5).json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next((k for k in keys.keys if k.key_id == kid), None)
    if key is None:
        raise LookupError(f"no key {kid}")
    return jwt.decode(
        token, key.key, algorithms=["RS256"], audience=credentials.FORGE_APP_ID, issuer="forge/invocation-token"
    )


def test_it_signs_tokens_that_verify_against_the_jwks(atlassian_sim, forge_site):
    installation_id = atlassian_sim.install_forge_app(forge_site.cloud_id)
    claims = verify(atlassian_sim.sign_invocation_token(forge_site.cloud_id))
    assert claims["app"]["installationId"] == installation_id
    assert claims["app"]["apiBaseUrl"] == f"{BASE}/api/ex/confluence/{forge_site.cloud_id}"
    assert claims["app"]["id"] == credentials.FORGE_APP_ID
    assert 20 <= claims["exp"] - claims["iat"] <= 30
    assert jwt.get_unverified_header(atlassian_sim.sign_invocation_token(forge_site.cloud_id))["kid"].startswith(
        "forge/invocation-token/"
    )


def test_it_keeps_old_keys_in_the_jwks_after_rotation(atlassian_sim, forge_site):
    old_token = atlassian_sim.sign_invocation_token(forge_site.cloud_id)
    atlassian_sim.rotate_forge_key()
    new_token = atlassian_sim.sign_invocation_token(forge_site.cloud_id)
    assert jwt.get_unverified_header(old_token)["kid"] != jwt.get_unverified_header(new_token)["kid"]
    assert verify(old_token) and verify(new_token)
    atlassian_sim.rotate_forge_key(retire_old=True)
    assert len(atlassian_sim.forge_jwks()["keys"]) == 1
    with pytest.raises(LookupError):
        verify(new_token)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"exp_offset": -5}, jwt.ExpiredSignatureError),
        ({"nbf_offset": 60}, jwt.ImmatureSignatureError),
        ({"aud": "ari:cloud:ecosystem::app/someone-else"}, jwt.InvalidAudienceError),
        ({"iss": "someone"}, jwt.InvalidIssuerError),
    ],
)
def test_it_forges_bad_tokens_on_request(atlassian_sim, forge_site, overrides, error):
    with pytest.raises(error):
        verify(atlassian_sim.sign_invocation_token(forge_site.cloud_id, **overrides))


def test_it_signs_with_a_foreign_key_on_request(atlassian_sim, forge_site):
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(jwt.InvalidSignatureError):
        verify(atlassian_sim.sign_invocation_token(forge_site.cloud_id, key=attacker))


def test_it_delivers_lifecycle_events(atlassian_sim, forge_site, delivered):
    installation_id = atlassian_sim.install_forge_app(forge_site.cloud_id)
    url, body, headers = delivered[0]
    assert url == "http://testserver/integrations/forge/events"
    assert body == {
        "eventType": "avi:forge:installed:app",
        "id": installation_id,
        "installerAccountId": atlassian_sim.default_user().account_id,
        "app": {"id": credentials.FORGE_APP_ID, "version": "1"},
        "environment": {"id": body["environment"]["id"]},
        "context": f"ari:cloud:confluence::site/{forge_site.cloud_id}",
    }
    assert verify(headers["Authorization"].removeprefix("Bearer "))["app"]["installationId"] == installation_id
    atlassian_sim.uninstall_forge_app(forge_site.cloud_id)
    assert delivered[-1][1]["eventType"] == "avi:forge:uninstalled:app"


def test_it_delivers_nothing_before_installation(atlassian_sim, forge_site, delivered):
    atlassian_sim.create_space(forge_site.cloud_id, key="ENG", name="Engineering")
    assert delivered == []


def test_it_delivers_page_events_with_the_real_shape(atlassian_sim, forge_site, delivered):
    atlassian_sim.install_forge_app(forge_site.cloud_id)
    atlassian_sim.create_space(forge_site.cloud_id, key="ENG", name="Engineering")
    page = atlassian_sim.create_page(forge_site.cloud_id, space_key="ENG", title="Runbook", body="<p>x</p>")
    atlassian_sim.update_page(page.id, body="<p>y</p>")
    atlassian_sim.move_page(page.id, parent_id=atlassian_sim.space_by_key(forge_site.cloud_id, "ENG").homepage_id)
    atlassian_sim.trash_page(page.id)
    atlassian_sim.restore_page(page.id)
    atlassian_sim.trash_page(page.id, emit=False)
    atlassian_sim.purge_page(page.id)
    types = [body["eventType"] for _, body, _ in delivered]
    assert types == [
        "avi:forge:installed:app",
        "avi:confluence:created:space:V2",
        "avi:confluence:created:page",
        "avi:confluence:updated:page",
        "avi:confluence:moved:page",
        "avi:confluence:trashed:page",
        "avi:confluence:restored:page",
        "avi:confluence:deleted:page",
    ]
    created = delivered[2][1]
    assert set(created) == {"eventType", "atlassianId", "eventCreatedDate", "suppressNotifications", "content"}
    assert set(created["content"]) == {"id", "type", "status", "title", "space", "history", "version"}
    assert created["content"]["space"]["key"] == "ENG" and isinstance(created["content"]["space"]["id"], int)
    assert created["content"]["version"]["number"] == 1
    assert delivered[3][1]["content"]["version"]["number"] == 2
    assert delivered[3][1]["updateTrigger"] == "edit_page"
    assert "prevContent" in delivered[4][1]
    assert set(delivered[1][1]["space"]) >= {"id", "key", "alias", "name", "type", "icon", "status", "history"}
    for _, _, headers in delivered:
        assert headers["x-forge-oauth-system"] and headers["Content-Type"] == "application/json"


def test_it_accepts_the_system_token_on_the_api(atlassian_sim, forge_site, delivered):
    atlassian_sim.install_forge_app(forge_site.cloud_id)
    system_token = delivered[0][2]["x-forge-oauth-system"]
    api_base = verify(delivered[0][2]["Authorization"][7:])["app"]["apiBaseUrl"]
    response = requests.get(
        f"{api_base}/wiki/api/v2/spaces", headers={"Authorization": f"Bearer {system_token}"}, timeout=5
    )
    assert response.status_code == 200


def test_it_emits_space_updates(atlassian_sim, forge_site, delivered):
    atlassian_sim.install_forge_app(forge_site.cloud_id)
    atlassian_sim.create_space(forge_site.cloud_id, key="ENG", name="Engineering", emit=False)
    atlassian_sim.update_space(forge_site.cloud_id, "ENG", name="Engineering & Ops")
    assert delivered[-1][1]["eventType"] == "avi:confluence:updated:space:V2"
    assert delivered[-1][1]["space"]["name"] == "Engineering & Ops"


def test_it_emits_space_deletion_without_page_events(atlassian_sim, forge_site, delivered):
    atlassian_sim.create_space(forge_site.cloud_id, key="ENG", name="Engineering")
    atlassian_sim.create_page(forge_site.cloud_id, space_key="ENG", title="Runbook", body="<p>x</p>")
    atlassian_sim.install_forge_app(forge_site.cloud_id)
    atlassian_sim.delete_space(forge_site.cloud_id, "ENG")
    assert [body["eventType"] for _, body, _ in delivered][1:] == ["avi:confluence:deleted:space:V2"]
    assert atlassian_sim.pages == {}


def test_it_installs_from_its_install_page(atlassian_sim, forge_site, delivered):
    page = requests.get(f"{BASE}/forge/install", timeout=5)
    assert "Acme Sandbox" in page.text
    response = requests.post(
        f"{BASE}/forge/install", data={"site": forge_site.cloud_id, "action": "install"}, timeout=5
    )
    assert response.status_code == 200 and "Installed." in response.text
    assert forge_site.cloud_id in atlassian_sim.installations
    assert delivered[0][1]["eventType"] == "avi:forge:installed:app"


def test_it_defers_deliveries_when_asked(atlassian_sim, forge_site, delivered):
    atlassian_sim.install_forge_app(forge_site.cloud_id)
    atlassian_sim.defer_deliveries = True
    atlassian_sim.create_space(forge_site.cloud_id, key="ENG", name="Engineering")
    assert len(delivered) == 1 and len(atlassian_sim.outbox) == 1
    atlassian_sim.defer_deliveries = False
    assert atlassian_sim.flush_outbox() == [200]
    assert delivered[-1][1]["eventType"] == "avi:confluence:created:space:V2"
    assert atlassian_sim.deliveries[-1]["status"] == 200
