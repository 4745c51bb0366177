"""POST /integrations/forge/events under hostile and large bodies, sent with a valid Forge Invocation Token.

Valid JSON that breaks a parser or a database is refused like any body that is not JSON, and nothing is stored;
events up to FORGE_EVENT_MAX_BYTES (256 KB) are taken, larger ones refused with 413 whatever Content-Length says.
"""

from __future__ import annotations

import base64
import json

import pytest

from confluence.forge import views
from confluence.models import WebhookEvent
from tests.confluence import test_forge_tokens
from tests.confluence.test_forge_tokens import CLOUD_ID, EVENT, URL, jwks_fetches
from tests.github_sync.test_webhook_limits import NOT_JSON, asgi_request

# The signed-event poster of test_forge_tokens.py, and its clearing of the rejection counts (tests/conftest.py
# forgets the JWKS cache around every test).
post, fresh_rejection_log = test_forge_tokens.post, test_forge_tokens.fresh_rejection_log


def event_of(size: int) -> bytes:
    """The page_updated event as a body of exactly `size` bytes (JSON allows trailing whitespace)."""
    body = json.dumps(EVENT).encode()
    assert len(body) <= size
    return body.ljust(size)


def nested_token(sandbox) -> str:
    """A valid token whose header is replaced by JSON nested 3,000 deep (still under an 8 KB header line)."""
    _, payload_and_signature = sandbox.atlassian.sign_invocation_token(CLOUD_ID).split(".", 1)
    header = base64.urlsafe_b64encode(b'{"a":' + b"[" * 3000 + b"]" * 3000 + b"}").rstrip(b"=").decode()
    return f"{header}.{payload_and_signature}"


# Hostile JSON ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("body", NOT_JSON.values(), ids=NOT_JSON)
def test_it_refuses_a_body_json_cannot_hold_as_not_json(sandbox, post, body):
    token = sandbox.atlassian.sign_invocation_token(CLOUD_ID)

    response = post(token, body)

    assert response.status_code == 400
    assert response.json() == post(token, b"{not json").json() == {"error": "body is not JSON"}
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b'"avi:confluence:updated:page"', b"null", b"7"])
def test_it_refuses_a_body_that_is_not_an_object(sandbox, post, body):
    response = post(sandbox.atlassian.sign_invocation_token(CLOUD_ID), body)

    assert response.status_code == 400
    assert response.json() == {"error": "body is not a JSON object"}
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_token_whose_header_nests_3000_deep(sandbox, post):
    response = post(nested_token(sandbox))

    assert response.status_code == 401
    assert response.json() == {"error": "malformed token"}


# Size ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_takes_an_event_of_exactly_the_limit(sandbox, post, settings):
    response = post(sandbox.atlassian.sign_invocation_token(CLOUD_ID), event_of(settings.FORGE_EVENT_MAX_BYTES))

    assert response.status_code == 202
    assert WebhookEvent.objects.get().content_id == EVENT["content"]["id"]


@pytest.mark.django_db
def test_it_refuses_an_event_a_byte_over_the_limit_before_verifying_the_token(sandbox, post, settings):
    body = event_of(settings.FORGE_EVENT_MAX_BYTES + 1)

    response = post(sandbox.atlassian.sign_invocation_token(CLOUD_ID), body)

    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()
    assert jwks_fetches(sandbox) == 0


@pytest.mark.django_db
def test_it_takes_its_limit_from_the_settings(sandbox, post, settings):
    settings.FORGE_EVENT_MAX_BYTES = 2048

    response = post(sandbox.atlassian.sign_invocation_token(CLOUD_ID), event_of(2049))

    assert response.status_code == 413


@pytest.mark.django_db
@pytest.mark.parametrize("content_length", [None, "2", "not a number"], ids=["absent", "understated", "garbage"])
def test_it_refuses_an_event_over_the_limit_that_does_not_declare_its_length(sandbox, settings, content_length):
    headers = {"Authorization": f"Bearer {sandbox.atlassian.sign_invocation_token(CLOUD_ID)}"}
    if content_length is not None:
        headers["Content-Length"] = content_length

    response = views.forge_events_endpoint(asgi_request(URL, event_of(settings.FORGE_EVENT_MAX_BYTES + 1), headers))

    assert response.status_code == 413
    assert views.rejections["body too large"] == 1
    assert not WebhookEvent.objects.exists()
