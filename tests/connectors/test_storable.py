"""`storable`: what outsiders send, made into JSON and text every database keeps."""

import json

import pytest

from confluence.models import WebhookEvent
from connectors.storable import storable


def test_it_replaces_nul_and_lone_surrogates_in_keys_and_values_at_any_depth():
    value = json.loads('{"a\\u0000": ["x\\ud800y", {"k": "\\udfff"}], "n": 1.5, "t": true, "z": null}')
    assert storable(value) == {"a\ufffd": ["x\ufffdy", {"k": "\ufffd"}], "n": 1.5, "t": True, "z": None}


def test_it_keeps_escaped_surrogate_pairs_and_plain_text():
    assert storable(json.loads('["\\ud83d\\ude00", "plain"]')) == ["\U0001f600", "plain"]


@pytest.mark.django_db
def test_the_result_is_saved_and_read_back_unchanged():
    payload = storable({"message": "fix\x00 \ud83d", "commits": [{"id": "\udc00"}]})
    row = WebhookEvent.objects.create(event_type="x", cloud_id="c", dedupe_key="k", payload=payload)
    row.refresh_from_db()
    assert row.payload == {"message": "fix\ufffd \ufffd", "commits": [{"id": "\ufffd"}]}
