"""The WebhookEvent admin: filters, read-only pretty JSON, and "replay"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from confluence.models import SyncRun, WebhookEvent
from tests.confluence.test_forge_events import CLOUD_ID, PAGE_ID, fixture, make_connection

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:confluence_webhookevent_changelist"


@pytest.fixture
def event(acme, alice):
    make_connection(acme, alice)
    return WebhookEvent.objects.create(
        event_type="avi:confluence:updated:page",
        cloud_id=CLOUD_ID,
        content_id=PAGE_ID,
        content_type="page",
        space_key="SP",
        dedupe_key="k1",
        status=WebhookEvent.Status.PROCESSED,
        payload=fixture("page_updated"),
    )


def test_it_lists_and_filters_events(staff_client, event):
    WebhookEvent.objects.create(event_type="avi:forge:installed:app", cloud_id="other", dedupe_key="k2")
    url = reverse(CHANGELIST)
    assert staff_client.get(url).status_code == 200
    filtered = staff_client.get(url, {"status__exact": "processed", "cloud_id": CLOUD_ID})
    assert list(filtered.context["cl"].result_list) == [event]
    by_type = staff_client.get(url, {"event_type": "avi:forge:installed:app"})
    assert [e.dedupe_key for e in by_type.context["cl"].result_list] == ["k2"]


def test_it_shows_the_payload_read_only_as_pretty_json(staff_client, event):
    response = staff_client.get(reverse("admin:confluence_webhookevent_change", args=[event.id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<pre>" in html and "&quot;eventType&quot;: &quot;avi:confluence:updated:page&quot;" in html
    assert 'name="status"' not in html  # nothing to edit
    assert staff_client.get(reverse("admin:confluence_webhookevent_add")).status_code == 403


def test_replay_enqueues_the_same_work(staff_client, event, django_capture_on_commit_callbacks, monkeypatch):

    from confluence.sync import queue

    monkeypatch.setattr(queue, "send", lambda run_id: None)  # keep the sync itself out of this test
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse(CHANGELIST), {"action": "replay", "_selected_action": [event.id]}, follow=True
        )
    assert response.status_code == 200
    [run] = SyncRun.objects.all()
    assert (run.trigger, run.page_ids) == ("forge", [PAGE_ID])
    assert list(event.runs.all()) == [run]
    assert "Replaying 1 event" in response.content.decode()
