"""Property tests for inbound webhooks: no JSON body, however odd, makes a handler raise or the site answer 500.

The bodies posted to the endpoints go beyond what json.dumps writes: nesting of any depth (100,000 brackets once made
json.loads raise RecursionError), and the NaN, Infinity, 1e999 and very long integers Python's parser reads.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from confluence.forge import handle, receive
from confluence.forge.payload import describe, unwrap
from confluence.models import AtlassianSite, SyncScope, WebhookEvent
from connectors.storable import storable
from github_sync.models import Installation, Repository, WebhookDelivery

URL = "/integrations/github/webhook"
FORGE_URL = "/integrations/forge/events"
WITH_FIXTURES = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
PURE = settings(max_examples=300, deadline=None)

# Any text JSON can carry, lone surrogates (a "\ud800" escape) and NUL included.
strings = st.text(st.characters(codec=None, categories=None), max_size=12) | st.sampled_from(["\ud800", "\x00", ""])
numbers = st.integers(-(2**70), 2**70) | st.integers(-3, 3) | st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | numbers | strings
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(strings, children, max_size=4),
    max_leaves=12,
)
ids = st.sampled_from([1, "1", 2**70, -1, None, [], {}, "x"])


def shaped(keys: list[str]) -> st.SearchStrategy[dict]:
    """Objects using the keys the handlers read, with values of any type (often an id we know)."""
    value = (
        json_values
        | st.fixed_dictionaries({"id": ids}, optional={"account": json_values})
        | st.lists(
            st.fixed_dictionaries({"id": ids}, optional={"full_name": json_values, "private": json_values}), max_size=2
        )
    )
    known = st.dictionaries(st.sampled_from(keys), value, max_size=len(keys))
    return st.tuples(known, st.dictionaries(strings, json_values, max_size=3)).map(lambda kv: {**kv[1], **kv[0]})


github_payloads = json_values | shaped(
    [
        "action",
        "installation",
        "repositories",
        "repositories_added",
        "repositories_removed",
        "repository_selection",
        "repository",
        "ref",
        "after",
    ]
)
forge_bodies = shaped(["eventType", "payload", "content", "space", "prevContent", "eventCreatedDate", "context", "id"])
event_types = st.sampled_from([*sorted(handle.HANDLERS), "", "avi:confluence:unknown", "x" * 100])
# What Python's json module reads besides JSON (NaN, Infinity, 1e999 overflowing to it), and integers of every length.
odd_json_texts = st.sampled_from([b"NaN", b"-Infinity", b"1e999", b"-1e400", b"9" * 4300, b"9" * 4301, b"[1e308]"])


def nested(text: bytes, depth: int, key: str | None) -> bytes:
    """`text` inside `depth` arrays, the whole under `key` in an object when there is one (json.dumps would recurse)."""
    body = b"[" * depth + text + b"]" * depth
    return b"{" + json.dumps(key).encode() + b": " + body + b"}" if key is not None else body


def bodies(payloads: st.SearchStrategy) -> st.SearchStrategy[bytes]:
    """Payloads as JSON text, and as the inside of nesting of any depth up to 100,000, odd texts included."""
    texts = payloads.map(lambda payload: json.dumps(payload).encode()) | odd_json_texts
    depths = st.integers(0, 100) | st.integers(0, 100_000)
    return texts | st.builds(nested, texts, depths, st.none() | st.sampled_from(["action", "payload", "a"]))


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(django_settings.GITHUB_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def claimed(acme):
    """Installation 1 with repository 1, so payloads naming them reach the handlers' deeper branches."""
    installation = Installation.objects.create(org=acme, installation_id=1, account_login="acme-gh")
    Repository.objects.create(installation=installation, github_id=1, full_name="acme-gh/docs")
    return installation


@pytest.fixture
def eng_site(confluence_connection):
    """A Confluence connection reading cloud-1 with space ENG in scope."""
    SyncScope.objects.create(connection=confluence_connection, spaces=[{"key": "ENG", "id": "1", "name": "Eng"}])
    return AtlassianSite.objects.create(
        connection=confluence_connection,
        cloud_id="cloud-1",
        url="https://acme.atlassian.net",
        name="acme",
        account_id="a",
    )


@pytest.fixture
def forge_token(sandbox):
    """Mints a valid token for cloud-1 (they live 25 s: one per example); the JWKS cache starts empty."""
    return lambda: sandbox.atlassian.sign_invocation_token("cloud-1")


@pytest.mark.django_db
@WITH_FIXTURES
@given(
    body=bodies(github_payloads),
    event=st.sampled_from(["installation", "installation_repositories", "push", "ping", "unknown"]),
)
def test_it_never_answers_500_to_a_signed_github_delivery(client, claimed, body, event):
    delivery = str(uuid.uuid4())

    response = client.post(
        URL,
        body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT=event,
        HTTP_X_GITHUB_DELIVERY=delivery,
        HTTP_X_HUB_SIGNATURE_256=sign(body),
    )

    assert response.status_code < 500, response.content
    # A 2xx tells GitHub the delivery is ours: it must then be stored, and a refused one must not be.
    assert WebhookDelivery.objects.filter(delivery_id=delivery).exists() == (response.status_code == 200)


@pytest.mark.django_db
@WITH_FIXTURES
@given(body=bodies(forge_bodies))
def test_it_never_answers_500_to_a_forge_event_with_a_valid_token(client, eng_site, forge_token, body):
    stored = WebhookEvent.objects.count()

    response = client.post(
        FORGE_URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {forge_token()}"
    )

    assert response.status_code in (200, 202, 400), response.content
    # 202 is a new row; 200 a redelivery of a stored one; 400 stores nothing.
    assert WebhookEvent.objects.count() == stored + (response.status_code == 202)


@pytest.mark.slow
@PURE
@given(json_values | forge_bodies)
def test_it_unwraps_any_forge_body(body):
    event = unwrap(body) if isinstance(body, dict) else body

    assert isinstance(event, type(body))


@pytest.mark.slow
@PURE
@given(forge_bodies)
def test_it_describes_any_forge_event(body):
    fields = describe(unwrap(body))

    assert set(fields) == {"event_type", "content_id", "content_type", "space_key"}


@pytest.mark.slow
@PURE
@given(forge_bodies)
def test_it_computes_a_dedupe_key_for_any_forge_event(body):
    event = unwrap(body)

    key = receive.dedupe_key("cloud-1", event)

    assert len(key) <= 255


@pytest.mark.django_db
@WITH_FIXTURES
@given(
    payload=json_values.filter(lambda v: v is not None) | forge_bodies,
    event_type=event_types,
    cloud_id=st.sampled_from(["cloud-1", "other"]),
)
def test_it_processes_any_stored_forge_event_without_raising(eng_site, payload, event_type, cloud_id):
    row = WebhookEvent.objects.create(
        cloud_id=cloud_id,
        event_type=event_type,
        content_id="7",
        space_key="ENG",
        dedupe_key=str(uuid.uuid4()),
        payload=storable(payload),
    )

    status = handle.process_event(row.id)

    row.refresh_from_db()
    assert status == row.status
    assert row.status != WebhookEvent.Status.RECEIVED
