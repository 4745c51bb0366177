"""POST /integrations/forge/events: only authentic Forge Invocation Tokens get in; everything else is a 401."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from confluence.forge import tokens, views
from confluence.models import WebhookEvent

URL = "/integrations/forge/events"
CLOUD_ID = "0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8"
EVENT = json.loads((Path(__file__).parent.parent / "fixtures/forge/page_updated.json").read_text())


@pytest.fixture(autouse=True)
def fresh_rejection_log():
    views.rejections.clear()


@pytest.fixture
def post(client):
    def post(token: str | None, body: bytes | dict = EVENT, **headers):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client.generic("POST", URL, data, content_type="application/json", **headers)

    return post


def jwks_fetches(sandbox) -> int:
    return sandbox.atlassian.count("GET", "/forge/jwks")


@pytest.mark.django_db
def test_it_accepts_a_valid_token(sandbox, post):
    response = post(sandbox.atlassian.sign_invocation_token(CLOUD_ID))
    assert response.status_code == 202
    event = WebhookEvent.objects.get()
    assert event.cloud_id == CLOUD_ID
    assert (event.event_type, event.content_id, event.content_type, event.space_key) == (
        "avi:confluence:updated:page",
        "838205441",
        "page",
        "SP",
    )


@pytest.mark.django_db
def test_it_caches_the_jwks(sandbox, post):
    for _ in range(3):
        assert post(
            sandbox.atlassian.sign_invocation_token(CLOUD_ID), {**EVENT, "eventCreatedDate": "x"}
        ).status_code in (
            200,
            202,
        )
    assert jwks_fetches(sandbox) == 1


@pytest.mark.django_db
def test_it_takes_the_cloud_id_from_the_token_not_the_body(sandbox, post):
    body = {**EVENT, "cloudId": "someone-elses-site", "context": {"cloudId": "someone-elses-site"}}
    assert post(sandbox.atlassian.sign_invocation_token(CLOUD_ID), body).status_code == 202
    assert WebhookEvent.objects.get().cloud_id == CLOUD_ID


@pytest.mark.django_db
def test_it_reads_the_cloud_id_from_the_installation_contexts(sandbox, post):
    claims = {
        "app": {"installation": {"contexts": [{"name": "confluence", "apiBaseUrl": f"x/ex/confluence/{CLOUD_ID}"}]}}
    }
    assert post(sandbox.atlassian.sign_invocation_token(CLOUD_ID, claims=claims)).status_code == 202
    assert WebhookEvent.objects.get().cloud_id == CLOUD_ID


def attacker_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(sandbox) -> bytes:
    key = jwt.PyJWKSet.from_dict(sandbox.atlassian.forge_jwks()).keys[0].key
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def unsigned(sandbox) -> str:
    good = sandbox.atlassian.sign_invocation_token(CLOUD_ID)
    claims = jwt.decode(good, options={"verify_signature": False})
    kid = jwt.get_unverified_header(good)["kid"]
    return jwt.encode(claims, None, algorithm="none", headers={"kid": kid})


def hs256_with_public_key(sandbox) -> str:
    good = sandbox.atlassian.sign_invocation_token(CLOUD_ID)
    claims = jwt.decode(good, options={"verify_signature": False})
    kid = jwt.get_unverified_header(good)["kid"]
    # PyJWT refuses PEM keys as HMAC secrets, so build the token by hand, as an attacker would.
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = jwt.utils.base64url_encode(json.dumps(claims).encode())
    import hashlib
    import hmac

    signature = hmac.new(public_pem(sandbox), header + b"." + payload, hashlib.sha256).digest()
    return (header + b"." + payload + b"." + jwt.utils.base64url_encode(signature)).decode()


BAD_TOKENS = {
    "wrong signature": (lambda s: s.atlassian.sign_invocation_token(CLOUD_ID, key=attacker_key()), "bad signature"),
    "expired": (lambda s: s.atlassian.sign_invocation_token(CLOUD_ID, iat_offset=-60, exp_offset=-15), "token expired"),
    "future nbf": (lambda s: s.atlassian.sign_invocation_token(CLOUD_ID, nbf_offset=60), "token not yet valid"),
    "wrong aud": (
        lambda s: s.atlassian.sign_invocation_token(CLOUD_ID, aud="ari:cloud:ecosystem::app/another-app"),
        "wrong audience",
    ),
    "wrong iss": (lambda s: s.atlassian.sign_invocation_token(CLOUD_ID, iss="forge/other"), "wrong issuer"),
    "alg none": (unsigned, "wrong algorithm"),
    "HS256 with the public key": (hs256_with_public_key, "wrong algorithm"),
    "not a JWT": (lambda s: "not-a-jwt", "malformed token"),
    "no site": (
        lambda s: s.atlassian.sign_invocation_token(CLOUD_ID, claims={"app": {"id": "x"}}),
        "token names no Confluence site",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_TOKENS)
def test_it_rejects_bad_tokens(sandbox, post, case, caplog):
    make, reason = BAD_TOKENS[case]
    token = make(sandbox)
    with caplog.at_level(logging.WARNING, logger="confluence.forge.views"):
        response = post(token)
    assert response.status_code == 401
    assert response.json() == {"error": reason}
    assert not WebhookEvent.objects.exists()
    assert views.rejections[reason] == 1
    assert reason in caplog.text and token not in caplog.text


@pytest.mark.django_db
def test_it_accepts_small_clock_skew(sandbox, post):
    token = sandbox.atlassian.sign_invocation_token(CLOUD_ID, iat_offset=-30, exp_offset=-5, nbf_offset=5)
    assert post(token).status_code == 202


@pytest.mark.django_db
def test_it_refreshes_the_jwks_once_for_an_unknown_kid(sandbox, post):
    assert post(sandbox.atlassian.sign_invocation_token(CLOUD_ID)).status_code == 202
    assert jwks_fetches(sandbox) == 1
    response = post(sandbox.atlassian.sign_invocation_token(CLOUD_ID, kid="forge/invocation-token/wf-unknown"))
    assert response.status_code == 401
    assert response.json() == {"error": "unknown signing key"}
    assert jwks_fetches(sandbox) == 1  # fetched moments ago: no refresh for every made-up kid


@pytest.mark.django_db
def test_it_follows_a_key_rotation(sandbox, post, monkeypatch):
    assert post(sandbox.atlassian.sign_invocation_token(CLOUD_ID)).status_code == 202
    monkeypatch.setattr(tokens, "UNKNOWN_KID_REFRESH_SECONDS", 0)
    sandbox.atlassian.rotate_forge_key()
    body = {**EVENT, "eventCreatedDate": "2021-01-21T09:12:04.000Z"}
    assert post(sandbox.atlassian.sign_invocation_token(CLOUD_ID), body).status_code == 202
    assert jwks_fetches(sandbox) == 2
    response = post(sandbox.atlassian.sign_invocation_token(CLOUD_ID, kid="forge/invocation-token/wf-unknown"))
    assert response.status_code == 401
    assert jwks_fetches(sandbox) == 3  # refreshed once, then refused


@pytest.mark.django_db
def test_it_answers_503_when_the_jwks_is_unreachable(sandbox, post, settings):
    settings.FORGE_JWKS_URL = "http://jwks.invalid/jwks.json"  # `responses` refuses every other host
    response = post(sandbox.atlassian.sign_invocation_token(CLOUD_ID))
    assert response.status_code == 503
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_it_keeps_cached_keys_when_a_refresh_fails(sandbox, post, monkeypatch):
    assert post(sandbox.atlassian.sign_invocation_token(CLOUD_ID)).status_code == 202
    monkeypatch.setattr(tokens, "JWKS_TTL_SECONDS", -1)
    monkeypatch.setattr(tokens.requests, "get", lambda *a, **k: (_ for _ in ()).throw(requests.ConnectTimeout()))
    body = {**EVENT, "eventCreatedDate": "2021-01-21T09:12:05.000Z"}
    assert post(sandbox.atlassian.sign_invocation_token(CLOUD_ID), body).status_code == 202


@pytest.mark.django_db
def test_a_key_server_that_is_down_is_asked_at_most_once_every_ten_seconds(sandbox, post, monkeypatch):
    assert post(sandbox.atlassian.sign_invocation_token(CLOUD_ID)).status_code == 202
    attempts = []

    def down(*args, **kwargs):
        attempts.append(args)
        raise requests.ConnectTimeout()

    monkeypatch.setattr(tokens.requests, "get", down)
    now = [tokens.time.monotonic() + tokens.JWKS_TTL_SECONDS + 1]  # the cached keys have expired
    monkeypatch.setattr(tokens, "time", SimpleNamespace(monotonic=lambda: now[0]))
    forged = [
        sandbox.atlassian.sign_invocation_token(CLOUD_ID, kid=f"forge/invocation-token/made-up-{n}") for n in range(5)
    ]

    assert [post(token).status_code for token in forged] == [401] * 5
    body = {**EVENT, "eventCreatedDate": "2021-01-21T09:12:06.000Z"}
    assert post(sandbox.atlassian.sign_invocation_token(CLOUD_ID), body).status_code == 202  # the keys held
    assert len(attempts) == 1
    now[0] += tokens.UNKNOWN_KID_REFRESH_SECONDS + 1
    post(forged[0])
    assert len(attempts) == 2


@pytest.mark.django_db
def test_it_requires_the_authorization_header(sandbox, post):
    response = post(None)
    assert response.status_code == 401
    assert response.json() == {"error": "missing bearer token"}
    assert post("").status_code == 401
    assert jwks_fetches(sandbox) == 0


@pytest.mark.django_db
def test_it_rejects_malformed_json(sandbox, post):
    response = post(sandbox.atlassian.sign_invocation_token(CLOUD_ID), b"{not json")
    assert response.status_code == 400
    assert post(sandbox.atlassian.sign_invocation_token(CLOUD_ID), b"[1, 2]").status_code == 400
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_1_mb_body_before_reading_it(sandbox, post):
    body = json.dumps({**EVENT, "padding": "x" * 1024 * 1024}).encode()
    response = post(sandbox.atlassian.sign_invocation_token(CLOUD_ID), body)
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()
    assert jwks_fetches(sandbox) == 0


@pytest.mark.django_db
def test_it_only_accepts_post(client):
    assert client.get(URL).status_code == 405


@pytest.mark.django_db
def test_it_needs_no_csrf_token(sandbox, settings):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    token = sandbox.atlassian.sign_invocation_token(CLOUD_ID)
    response = client.post(URL, EVENT, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 202


@pytest.mark.django_db
def test_it_rejects_everything_without_a_configured_app_id(sandbox, post, settings):
    settings.FORGE_APP_ID = ""
    response = post(sandbox.atlassian.sign_invocation_token(CLOUD_ID))
    assert response.status_code == 401
