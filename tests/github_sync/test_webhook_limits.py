"""POST /integrations/github/webhook under hostile and large bodies.

Valid JSON that breaks a parser or a database (100,000 nested brackets, NaN, 1e999) is refused like any body that is
not JSON, and nothing is stored; deliveries up to GITHUB_WEBHOOK_MAX_BYTES (25 MB, the most GitHub sends) are taken,
larger ones refused with 413 whatever Content-Length says; a forged signature is refused before any parsing.
"""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest

from github_sync import views, webhooks
from github_sync.models import IngestRun, WebhookDelivery
from tests.github_sync import test_webhooks
from tests.github_sync.test_webhooks import URL, fixture, sign

# The signed-delivery poster and the claimed installation 4242 (docs used by a connection) of test_webhooks.py.
post, claimed = test_webhooks.post, test_webhooks.claimed

NESTED = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
# Bodies Python's json module reads (or dies reading) that are not JSON this site takes.
NOT_JSON = {
    "100,000 nested brackets": NESTED,
    "nested past the depth limit": b"[" * (webhooks.MAX_DEPTH + 1) + b"]" * (webhooks.MAX_DEPTH + 1),
    "NaN": b'{"a": NaN}',
    "Infinity": b'{"a": -Infinity}',
    "a float overflowing to infinity": b'{"a": 1e999}',
    "an integer of 5,000 digits": b'{"a": ' + b"9" * 5000 + b"}",
    "bytes that are not UTF-8": b'{"a": "\xff"}',
}
MB = 1024 * 1024


def push_of(size: int) -> bytes:
    """A push to acme-gh/docs' default branch of more than `size` bytes: many commits, each of many files."""
    payload = fixture("push__default_branch")
    commit = payload["commits"][0]
    files = [f"docs/section-{n:04}/a-long-page-name-for-a-long-guide.md" for n in range(40)]
    payload["commits"] = [{**commit, "id": f"{n:040x}", "modified": files} for n in range(size // 2000 + 1)]
    body = json.dumps(payload).encode()
    assert len(body) > size
    return body


def asgi_request(path: str, body: bytes, headers: dict[str, str]) -> ASGIRequest:
    """The request Django builds under ASGI: its stream is the whole body as received, whatever Content-Length says."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
    }
    return ASGIRequest(scope, io.BytesIO(body))


def github_headers(body: bytes) -> dict[str, str]:
    return {"X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": sign(body)}


class UnreadableStream(io.RawIOBase):
    """A wsgi.input that fails the test if the view reads it."""

    def read(self, size=-1):
        raise AssertionError("the body was read")


# Hostile JSON ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("body", NOT_JSON.values(), ids=NOT_JSON)
def test_it_refuses_a_signed_body_json_cannot_hold_as_not_json(post, claimed, body):
    response = post("push", body)

    assert response.status_code == 400
    assert response.json() == post("push", b"not json").json()
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"[1, 2]", b'"push"', b"null", b"7"])
def test_it_refuses_a_signed_body_that_is_not_an_object(post, body):
    response = post("push", body)

    assert response.status_code == 400
    assert "JSON object" in response.json()["status"]
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_it_stores_a_signed_body_nested_to_the_depth_limit(post):
    depth = webhooks.MAX_DEPTH - 1
    body = b'{"action": "created", "deep": ' + b"[" * depth + b"]" * depth + b"}"

    assert post("star", body).status_code == 200
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.IGNORED


# Size ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_ingests_a_signed_3_mb_push(post, claimed):
    _, docs, _ = claimed
    body = push_of(3 * MB)
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = post("push", body)

    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event, delivery.status) == ("push", WebhookDelivery.Status.PROCESSED)
    assert len(delivery.payload["commits"]) == len(json.loads(body)["commits"])
    run = IngestRun.objects.get()
    assert (run.repository, run.commit_sha, run.trigger) == (docs, "b" * 40, "push")


@pytest.mark.django_db
@pytest.mark.parametrize("signature", ["sign", "sha256=" + "0" * 64])
def test_it_refuses_a_26_mb_body_whatever_its_signature(post, signature):
    response = post("push", b" " * (26 * MB), signature=signature)

    assert response.status_code == 413
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_declared_26_mb_body_before_reading_it(client):
    response = client.post(
        URL,
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(26 * MB),
        HTTP_X_GITHUB_EVENT="push",
        HTTP_X_HUB_SIGNATURE_256=sign(b"{}"),
        **{"wsgi.input": UnreadableStream()},
    )

    assert response.status_code == 413


@pytest.mark.django_db
@pytest.mark.parametrize("content_length", [None, "2", "not a number"], ids=["absent", "understated", "garbage"])
def test_it_refuses_a_26_mb_body_that_does_not_declare_its_length(content_length):
    body = b" " * (26 * MB)
    headers = github_headers(body)
    if content_length is not None:
        headers["Content-Length"] = content_length

    response = views.github_webhook(asgi_request(URL, body, headers))

    assert response.status_code == 413
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_it_takes_a_body_of_exactly_the_limit_that_does_not_declare_its_length(settings):
    settings.GITHUB_WEBHOOK_MAX_BYTES = 3 * MB
    body = b'{"action": "created"}'.ljust(3 * MB)

    response = views.github_webhook(asgi_request(URL, body, {**github_headers(body), "X-GitHub-Event": "star"}))

    assert response.status_code == 200
    assert WebhookDelivery.objects.get().action == "created"


@pytest.mark.django_db
def test_it_does_not_parse_a_big_body_with_a_forged_signature(post, monkeypatch):
    parsed = []
    monkeypatch.setattr(webhooks, "parse_json", parsed.append)

    response = post("push", push_of(3 * MB), signature="sha256=" + "0" * 64)

    assert response.status_code == 401
    assert parsed == []
    assert not WebhookDelivery.objects.exists()
