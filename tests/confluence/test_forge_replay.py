"""An event only triggers work: a token carries one delivery, and nothing leaves the repository or the scope on the
word of an event body (issue 14, item 7). Forge Invocation Tokens sign who sent a request, not its body.

The world is the default sync world (ENG and OPS synced whole into acme-inc/wiki, the Forge app installed), so
events go from the sandbox through the real endpoint, the task and the sync to the repository.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from django.utils import timezone

from confluence import tasks
from confluence.client import ConfluenceClient
from confluence.forge import handle, tokens
from confluence.gateway import ConfluenceError
from confluence.models import ForgeTokenUse, SyncRun, SyncScope, WebhookEvent
from sandbox.atlassian import events as simulated_events
from sandbox.core import FaultPlan
from tests.confluence.sync_world import sync_now, tree

pytestmark = pytest.mark.django_db

URL = "/integrations/forge/events"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "forge"
SPACE_LOOKUP = r"/wiki/api/v2/spaces/\d+$"


@pytest.fixture
def synced(world, connection):
    """After the first sync: the repository holds ENG and OPS."""
    run = sync_now(connection)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return connection


@pytest.fixture
def post(client):
    """POST a body under a token, as Forge does (or as someone holding a token would)."""

    def post(body: dict, token: str):
        return client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")

    return post


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def space_deleted_body(world, key: str) -> dict:
    """What Confluence sends when the space is deleted, for a space that still exists."""
    space = world.atlassian.space_by_key(world.site.cloud_id, key)
    return {"eventType": "avi:confluence:deleted:space:V2", **simulated_events.space_event(world.atlassian, space)}


def scope_keys(connection) -> list[str]:
    return SyncScope.objects.get(connection=connection).space_keys


def paths_under(files: dict, prefix: str) -> list[str]:
    return sorted(path for path in files if path.startswith(prefix))


# One token, one delivery -------------------------------------------------------------------------------------


def test_a_token_cannot_carry_a_second_body(sandbox, post):
    token = sandbox.atlassian.sign_invocation_token("cloud-1")
    assert post(fixture("page_updated"), token).status_code == 202

    response = post(fixture("space_deleted"), token)

    assert response.status_code == 401
    assert response.json() == {"error": "token already used"}
    assert list(WebhookEvent.objects.values_list("event_type", flat=True)) == ["avi:confluence:updated:page"]


def test_the_same_request_sent_twice_is_acknowledged_and_stored_once(sandbox, client):
    token = sandbox.atlassian.sign_invocation_token("cloud-1")
    body = fixture("page_updated")
    first = json.dumps(body)
    resent = json.dumps(dict(reversed(body.items())), indent=2)  # the same JSON, other bytes

    answers = [
        client.post(URL, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}").status_code
        for data in (first, resent)
    ]

    assert answers == [202, 200]
    assert WebhookEvent.objects.count() == 1
    assert ForgeTokenUse.objects.count() == 1


def test_a_redelivery_under_a_new_token_uses_that_token_up(sandbox, post):
    first, retry = (sandbox.atlassian.sign_invocation_token("cloud-1") for _ in range(2))
    assert post(fixture("page_updated"), first).status_code == 202
    assert post(fixture("page_updated"), retry).status_code == 200  # Forge's retry: a duplicate event

    assert post(fixture("space_deleted"), retry).status_code == 401
    assert WebhookEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("claims", "reason"),
    [({"jti": None}, "token has no jti"), ({"jti": ""}, "invalid token id"), ({"jti": "x" * 256}, "invalid token id")],
    ids=["no jti", "empty jti", "jti too long"],
)
def test_a_token_without_a_usable_id_is_refused(sandbox, post, claims, reason):
    token = sandbox.atlassian.sign_invocation_token("cloud-1", claims=claims)

    response = post(fixture("page_updated"), token)

    assert response.status_code == 401
    assert response.json() == {"error": reason}
    assert not WebhookEvent.objects.exists() and not ForgeTokenUse.objects.exists()


def test_a_token_is_remembered_until_it_expires(sandbox, post):
    token = sandbox.atlassian.sign_invocation_token("cloud-1", lifetime=25)
    post(fixture("page_updated"), token)

    used = ForgeTokenUse.objects.get()

    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    assert used.expires_at == datetime.fromtimestamp(expires, tz=UTC) + timedelta(seconds=tokens.LEEWAY_SECONDS)


def test_the_daily_prune_forgets_expired_tokens_only():
    now = timezone.now()
    ForgeTokenUse.objects.create(token_id="expired", body_sha256="0" * 64, expires_at=now - timedelta(seconds=1))
    ForgeTokenUse.objects.create(token_id="live", body_sha256="0" * 64, expires_at=now + timedelta(seconds=30))

    result = tasks.prune_history()

    assert result["forge_tokens"] == 1
    assert list(ForgeTokenUse.objects.values_list("token_id", flat=True)) == ["live"]


# Nothing removed on an event's word --------------------------------------------------------------------------


def test_a_replayed_token_with_a_deleted_space_body_changes_nothing(world, synced, client, applied):
    """The issue's reproduction: a genuine delivery's token, replayed with `deleted:space:V2` for ENG."""
    atlassian, home = world.atlassian, world.pages["home"]
    atlassian.defer_deliveries = True
    atlassian.update_page(home.id, body="<p>Welcome, edited.</p>")
    atlassian.defer_deliveries = False
    [(url, body, headers)] = atlassian.take_outbox()
    assert applied(lambda: atlassian.flush_outbox([(url, body, headers)])) == [202]
    head, files = world.github.head_sha("acme-inc", "wiki"), tree(world)

    replay = applied(
        lambda: client.post(
            URL,
            space_deleted_body(world, "ENG"),
            content_type="application/json",
            HTTP_AUTHORIZATION=headers["Authorization"],
        )
    )

    assert replay.status_code == 401
    assert not WebhookEvent.objects.filter(event_type="avi:confluence:deleted:space:V2").exists()
    assert scope_keys(synced) == ["ENG", "OPS"]
    assert world.github.head_sha("acme-inc", "wiki") == head and tree(world) == files


def test_a_deleted_space_event_for_a_space_confluence_still_has_removes_nothing(world, synced, sandbox, post, applied):
    """Even under a fresh, valid token: the body is not signed, so Confluence is asked."""
    head, files = world.github.head_sha("acme-inc", "wiki"), tree(world)
    token = sandbox.atlassian.sign_invocation_token(world.site.cloud_id)

    assert applied(lambda: post(space_deleted_body(world, "ENG"), token)).status_code == 202

    event = WebhookEvent.objects.get(event_type="avi:confluence:deleted:space:V2")
    assert event.status == WebhookEvent.Status.IGNORED
    assert "Confluence still has space ENG; nothing removed" in event.detail
    assert scope_keys(synced) == ["ENG", "OPS"]
    assert not SyncRun.objects.filter(trigger=SyncRun.Trigger.FORGE).exists()
    assert world.github.head_sha("acme-inc", "wiki") == head and tree(world) == files


def test_a_deleted_space_confluence_confirms_leaves_the_scope_and_the_repository(world, synced, applied):
    before = tree(world)
    assert paths_under(before, "confluence/ENG/")

    applied(lambda: world.atlassian.delete_space(world.site.cloud_id, "ENG"))

    event = WebhookEvent.objects.get(event_type="avi:confluence:deleted:space:V2")
    assert event.status == WebhookEvent.Status.PROCESSED, event.detail
    assert scope_keys(synced) == ["OPS"]
    [run] = event.runs.all()
    assert run.status == SyncRun.Status.SUCCEEDED and run.page_ids is None, run.error
    after = tree(world)
    assert paths_under(after, "confluence/ENG/") == []
    assert paths_under(after, "confluence/OPS/") == paths_under(before, "confluence/OPS/") != []


def test_a_deletion_confluence_cannot_confirm_now_is_tried_again(world, synced, applied, monkeypatch):
    monkeypatch.setattr("connectors.http.sleep", lambda seconds: None)
    world.atlassian.inject_faults(FaultPlan(rate=1.0, kinds=("503",), path_pattern=SPACE_LOOKUP))
    applied(lambda: world.atlassian.delete_space(world.site.cloud_id, "ENG"))
    event = WebhookEvent.objects.get(event_type="avi:confluence:deleted:space:V2")
    assert event.status == WebhookEvent.Status.RECEIVED
    assert "Trying again" in event.detail and scope_keys(synced) == ["ENG", "OPS"]

    world.atlassian.inject_faults(None)
    WebhookEvent.objects.filter(id=event.id).update(received_at=timezone.now() - handle.SWEEP_AFTER * 2)
    applied(handle.process_pending_events)

    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.PROCESSED, event.detail
    assert scope_keys(synced) == ["OPS"]
    assert paths_under(tree(world), "confluence/ENG/") == []


def test_a_deletion_confluence_cannot_confirm_for_hours_is_left_to_reconciliation(world, synced, applied, monkeypatch):
    monkeypatch.setattr("connectors.http.sleep", lambda seconds: None)
    world.atlassian.inject_faults(FaultPlan(rate=1.0, kinds=("503",), path_pattern=SPACE_LOOKUP))
    applied(lambda: world.atlassian.delete_space(world.site.cloud_id, "ENG"))
    event = WebhookEvent.objects.get(event_type="avi:confluence:deleted:space:V2")
    WebhookEvent.objects.filter(id=event.id).update(received_at=timezone.now() - handle.RETRY_FOR)

    applied(handle.process_pending_events)

    event.refresh_from_db()
    assert event.status == WebhookEvent.Status.FAILED
    assert "reconciliation" in event.detail
    assert scope_keys(synced) == ["ENG", "OPS"]


def test_a_deletion_confluence_refuses_to_confirm_removes_nothing(world, synced, sandbox, post, applied, monkeypatch):
    def forbidden(client, space_id):
        raise ConfluenceError("Forbidden", status=403)

    monkeypatch.setattr(ConfluenceClient, "get_space", forbidden)
    head = world.github.head_sha("acme-inc", "wiki")
    token = sandbox.atlassian.sign_invocation_token(world.site.cloud_id)

    applied(lambda: post(space_deleted_body(world, "ENG"), token))

    event = WebhookEvent.objects.get(event_type="avi:confluence:deleted:space:V2")
    assert event.status == WebhookEvent.Status.IGNORED
    assert "answered 403" in event.detail and "nothing removed" in event.detail
    assert scope_keys(synced) == ["ENG", "OPS"]
    assert world.github.head_sha("acme-inc", "wiki") == head


def test_a_trashed_page_event_for_a_current_page_keeps_the_page(world, synced, sandbox, post, applied):
    guide = world.pages["guide"]
    head, files = world.github.head_sha("acme-inc", "wiki"), tree(world)
    content = {**simulated_events.content(sandbox.atlassian, guide), "status": "trashed"}
    body = {"eventType": "avi:confluence:trashed:page", **simulated_events.page_event(sandbox.atlassian, content)}

    applied(lambda: post(body, sandbox.atlassian.sign_invocation_token(world.site.cloud_id)))

    [run] = WebhookEvent.objects.get(event_type="avi:confluence:trashed:page").runs.all()
    assert run.status == SyncRun.Status.SUCCEEDED and run.page_ids == [guide.id], run.error
    assert run.counts["removed"] == 0
    assert world.github.head_sha("acme-inc", "wiki") == head and tree(world) == files


def test_a_space_is_renamed_in_the_scope_with_the_name_confluence_gives(world, synced, sandbox, post, applied):
    eng = sandbox.atlassian.space_by_key(world.site.cloud_id, "ENG")
    forged = {"eventType": "avi:confluence:updated:space:V2", **simulated_events.space_event(sandbox.atlassian, eng)}
    forged["space"]["name"] = "Not what Confluence says"
    applied(lambda: post(forged, sandbox.atlassian.sign_invocation_token(world.site.cloud_id)))
    assert SyncScope.objects.get(connection=synced).spaces[0]["name"] == "Engineering"

    applied(lambda: sandbox.atlassian.update_space(world.site.cloud_id, "ENG", name="Engineering & Ops"))

    assert SyncScope.objects.get(connection=synced).spaces[0]["name"] == "Engineering & Ops"
