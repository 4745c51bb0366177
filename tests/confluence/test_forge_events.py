"""Forge events after verification: rows, dedupe, which connections get a run, scope and lifecycle updates."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from confluence.forge import handle, payload, receive, runs
from confluence.models import AtlassianSite, ForgeInstallation, SyncRun, SyncScope, SyncState, WebhookEvent
from confluence.setup.readiness import FORGE_REMOVED
from confluence.sync.index import parse_index
from connectors.models import Connection, SetupTask

URL = "/integrations/forge/events"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "forge"
CLOUD_ID = "0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8"
OTHER_CLOUD_ID = "9f8e7d6c-5b4a-4938-8271-605f4e3d2c1b"
PAGE_ID = "838205441"
SPACE_IDS = {"SP": "827392002", "OPS": "827392003"}  # as in the fixtures


def fixture(name: str, **overrides) -> dict:
    data = json.loads((FIXTURES / f"{name}.json").read_text().replace("CLOUD_ID", CLOUD_ID))
    return {**data, **overrides}


@pytest.fixture
def deliver(client, sandbox):
    """POST an event signed for `cloud_id`, as Forge does; returns the response."""

    def deliver(body: dict, *, cloud_id: str = CLOUD_ID):
        token = sandbox.atlassian.sign_invocation_token(cloud_id)
        return client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")

    return deliver


def process_all() -> list[WebhookEvent]:
    """What the worker does (tasks are not run in the test's transaction): apply every received row."""
    for event_id in WebhookEvent.objects.filter(status="received").order_by("id").values_list("id", flat=True):
        handle.process_event(event_id)
    return list(WebhookEvent.objects.order_by("id"))


def make_connection(
    org, user, *, cloud_id=CLOUD_ID, spaces=("SP",), pages=(), held=None, unsynced=None, paused=False, name=""
):
    """A Confluence connection with every setup step done, reading `spaces` (and page trees) of a site."""
    forge_connection = Connection.create_with_tasks(org=org, kind="confluence", created_by=user, name=name)
    for task in forge_connection.tasks.all():
        task.mark(SetupTask.State.DONE, by=user)
    AtlassianSite.objects.create(
        connection=forge_connection, cloud_id=cloud_id, url="https://acme.atlassian.net", name="Acme", account_id="acc"
    )
    SyncScope.objects.create(
        connection=forge_connection,
        spaces=[{"id": SPACE_IDS[key], "key": key, "name": key} for key in spaces],
        pages=list(pages),
    )
    if held or unsynced:
        entries = {page_id: index_entry(**entry) for page_id, entry in (held or {}).items()}
        index = {"format": 2, "pages": entries, "spaces": {}, "unsynced": unsynced or {}}
        SyncState.objects.create(connection=forge_connection, index_file=json.dumps(index))
    if paused:
        forge_connection.pause()
    return forge_connection


def index_entry(**fields) -> dict:
    """A page of the sync index as a sync writes it: `fields` (what a test is about) over neutral defaults."""
    defaults = {"title": "Page", "space_key": "SP", "parent_id": None, "version": 0, "modified_at": ""}
    return {**defaults, "path": "confluence/SP/page.md", "blob": "", "converter_version": 0, **fields}


@pytest.fixture
def forge_connection(acme, alice):
    return make_connection(acme, alice)


def runs_of(forge_connection) -> list[SyncRun]:
    return list(SyncRun.objects.filter(connection=forge_connection))


# Recording -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_records_the_event_and_answers_at_once(deliver, forge_connection):
    response = deliver(fixture("page_updated"))
    assert response.status_code == 202
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.RECEIVED
    assert event.payload == fixture("page_updated")
    assert not runs_of(forge_connection)  # nothing happens in the request


@pytest.mark.django_db
def test_it_enqueues_processing_on_commit(deliver, forge_connection, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr("connectors.queue.async_task", lambda *args, **kwargs: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        deliver(fixture("page_updated"))
    assert sent == [("confluence.forge.handle.process_event", WebhookEvent.objects.get().id)]


@pytest.mark.django_db
def test_with_the_orm_broker_the_task_commits_with_the_row(deliver, forge_connection, monkeypatch):
    sent = []
    monkeypatch.setattr(receive, "broker_is_the_database", lambda: True)
    monkeypatch.setattr(receive, "async_task", lambda *args, **kwargs: sent.append(args))
    deliver(fixture("page_updated"))  # no on-commit callbacks run in this test: the task was queued in the insert
    assert sent == [("confluence.forge.handle.process_event", WebhookEvent.objects.get().id)]
    deliver(fixture("page_updated"))  # a redelivery queues nothing
    assert len(sent) == 1


@pytest.mark.django_db
def test_it_reads_events_under_payload(deliver, forge_connection):
    assert deliver(fixture("page_updated__payload_envelope")).status_code == 202
    [event] = process_all()
    assert (event.event_type, event.content_id, event.space_key) == ("avi:confluence:updated:page", PAGE_ID, "SP")
    assert event.status == WebhookEvent.Status.PROCESSED
    assert runs_of(forge_connection)[0].page_ids == [PAGE_ID]


@pytest.mark.django_db
@pytest.mark.parametrize("previous", ["x", {"space": "x"}, {"space": {"key": ["a"]}}, [1]])
def test_a_malformed_previous_space_is_read_as_none(deliver, forge_connection, previous):
    assert deliver(fixture("page_updated", prevContent=previous)).status_code == 202
    [event] = process_all()
    assert event.status == WebhookEvent.Status.PROCESSED, event.detail
    assert runs_of(forge_connection)[0].page_ids == [PAGE_ID]


@pytest.mark.django_db
def test_an_installation_dated_on_a_day_that_does_not_exist_is_recorded(deliver, forge_connection):
    assert deliver(fixture("app_installed", eventCreatedDate="2021-13-45T99:00:00Z")).status_code == 202
    [event] = process_all()
    assert event.status == WebhookEvent.Status.PROCESSED, event.detail
    assert ForgeInstallation.objects.filter(cloud_id=CLOUD_ID).exists()


@pytest.mark.django_db
def test_a_redelivery_causes_no_second_run(deliver, forge_connection):
    assert deliver(fixture("page_updated")).status_code == 202
    process_all()
    SyncRun.objects.update(status=SyncRun.Status.SUCCEEDED)  # the first run is long done when Forge retries
    response = deliver(fixture("page_updated__payload_envelope"))  # the same change, with a retryContext
    assert response.status_code == 200
    assert response.json() == {"status": "Duplicate delivery; already received."}
    process_all()
    assert WebhookEvent.objects.count() == 1
    assert len(runs_of(forge_connection)) == 1


@pytest.mark.django_db
def test_a_new_version_is_a_new_event(deliver, forge_connection):
    deliver(fixture("page_updated"))
    second = copy.deepcopy(fixture("page_updated", eventCreatedDate="2021-01-21T09:15:00.000Z"))
    second["content"]["version"]["number"] = 3
    assert deliver(second).status_code == 202
    assert WebhookEvent.objects.count() == 2


@pytest.mark.django_db
def test_it_stores_unknown_events_as_ignored(deliver, forge_connection):
    deliver(
        {"eventType": "avi:confluence:liked:page", **fixture("page_updated", eventType="avi:confluence:liked:page")}
    )
    deliver({"something": "else"})
    events = process_all()
    assert [e.status for e in events] == ["ignored", "ignored"]
    assert not runs_of(forge_connection)


# Page and blog events --------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("verb", payload.PAGE_VERBS)
@pytest.mark.parametrize("kind", ["page", "blogpost"])
def test_each_page_event_queues_a_targeted_run(deliver, acme, alice, verb, kind):
    forge_connection = make_connection(acme, alice, held={PAGE_ID: {"path": "confluence/SP/a.md", "space_key": "SP"}})
    body = fixture("page_updated", eventType=f"avi:confluence:{verb}:{kind}")
    body["content"]["type"] = kind
    deliver(body)
    [event] = process_all()
    [run] = runs_of(forge_connection)
    assert (run.trigger, run.status, run.page_ids, run.full) == ("forge", "queued", [PAGE_ID], False)
    assert event.status == WebhookEvent.Status.PROCESSED
    assert list(event.runs.all()) == [run]
    assert f"#{run.id}" in event.detail


@pytest.mark.django_db
@pytest.mark.parametrize(("held_version", "queued"), [(None, True), (1, True), (2, False), (3, False)])
def test_an_edit_the_repository_already_holds_queues_nothing(deliver, acme, alice, held_version, queued):
    body = fixture("page_updated")
    body["content"]["version"] = {"number": 2}
    entry = {"path": "confluence/SP/a.md", "space_key": "SP", **({"version": held_version} if held_version else {})}
    forge_connection = make_connection(acme, alice, held={PAGE_ID: entry})
    deliver(body)
    [event] = process_all()
    assert bool(runs_of(forge_connection)) is queued
    assert queued or "synced already" in event.detail


@pytest.mark.django_db
def test_a_worker_parses_each_index_once_per_sync(deliver, acme, alice, monkeypatch):
    """A burst of events reads the same indexes again and again: each is parsed once, until a sync changes it."""
    parsed = []
    monkeypatch.setattr(runs, "parsed", {})
    monkeypatch.setattr(runs, "parse_index", lambda content: parsed.append(content) or parse_index(content))
    forge_connection = make_connection(acme, alice, held={PAGE_ID: {"version": 1}})
    for number in (2, 3):
        body = fixture("page_updated")
        body["content"]["version"] = {"number": number}
        deliver(body)
    process_all()
    assert len(parsed) == 1 and len(runs_of(forge_connection)) == 1
    state = SyncState.objects.get(connection=forge_connection)
    state.index_file = state.index_file.replace('"version": 1', '"version": 5')
    state.save()  # what a sync does: a new index, a new updated_at
    body["content"]["version"] = {"number": 4}
    deliver(body)
    [*_, event] = process_all()
    assert len(parsed) == 2 and "synced already" in event.detail


@pytest.mark.django_db
def test_a_copied_page_is_synced_by_its_new_id(deliver, forge_connection):
    deliver(fixture("page_copied"))
    process_all()
    assert runs_of(forge_connection)[0].page_ids == ["838205777"]


@pytest.mark.django_db
def test_a_page_moved_out_of_the_scope_is_synced(deliver, forge_connection):
    deliver(fixture("page_moved"))  # from SP (in scope) to OPS (not in scope)
    process_all()
    assert runs_of(forge_connection)[0].page_ids == [PAGE_ID]


@pytest.mark.parametrize("verb", ["initialized", "started", "snapshotted", "published"])
def test_a_live_doc_edit_is_synced(deliver, forge_connection, verb):
    # Live docs are pages whose edits send these events instead of updated:page.
    deliver(fixture("page_updated", eventType=f"avi:confluence:{verb}:page"))
    process_all()
    assert runs_of(forge_connection)[0].page_ids == [PAGE_ID]


@pytest.mark.django_db
def test_a_held_page_is_synced_even_when_its_space_left_the_scope(deliver, acme, alice):
    forge_connection = make_connection(
        acme, alice, spaces=("OPS",), held={PAGE_ID: {"space_key": "SP", "path": "confluence/SP/x.md"}}
    )
    deliver(fixture("page_trashed"))
    process_all()
    assert runs_of(forge_connection)[0].page_ids == [PAGE_ID]


@pytest.mark.django_db
def test_a_page_the_index_knows_as_an_unsynced_ancestor_is_synced(deliver, acme, alice):
    """Its title is in the front matter of the synced pages below it: a change to it reshapes the repository."""
    above = {PAGE_ID: {"title": "Handbook", "space_key": "SP", "parent_id": None}}
    forge_connection = make_connection(acme, alice, spaces=("OPS",), unsynced=above)
    deliver(fixture("page_trashed"))
    process_all()
    assert runs_of(forge_connection)[0].page_ids == [PAGE_ID]


@pytest.mark.django_db
def test_a_page_outside_the_connectors_folder_is_not_held(deliver, acme, alice):
    """The index is a file anyone can edit in the repository: an entry pointing elsewhere is not ours."""
    forge_connection = make_connection(
        acme, alice, spaces=("OPS",), held={PAGE_ID: {"space_key": "SP", "path": "x.md"}}
    )
    deliver(fixture("page_trashed"))
    [event] = process_all()
    assert not runs_of(forge_connection)
    assert event.status == WebhookEvent.Status.IGNORED


@pytest.mark.django_db
def test_a_page_tree_in_scope_makes_its_space_a_candidate(deliver, acme, alice):
    tree = [{"id": "1", "title": "Handbook", "space_key": "SP", "descendants": True}]
    forge_connection = make_connection(acme, alice, spaces=(), pages=tree)
    deliver(fixture("page_created"))
    process_all()
    assert runs_of(forge_connection)[0].page_ids == [PAGE_ID]


@pytest.mark.django_db
def test_out_of_scope_events_are_ignored_without_api_calls(deliver, sandbox, acme, alice, globex, charlie):
    in_other_space = make_connection(acme, alice, spaces=("OPS",))
    other_site = make_connection(globex, charlie, cloud_id=OTHER_CLOUD_ID)
    sandbox.atlassian.reset_log()
    deliver(fixture("page_updated"))
    deliver(fixture("page_deleted"))  # in scope, but a page we never held: nothing to remove
    deliver(fixture("page_updated"), cloud_id="no-connection-reads-this-site")
    events = process_all()
    assert [e.status for e in events] == ["ignored"] * 3
    assert "outside every scope" in events[0].detail
    assert not SyncRun.objects.exists()
    assert not runs_of(in_other_space) and not runs_of(other_site)
    assert sandbox.atlassian.count(path_pattern="/api") == 0


@pytest.mark.django_db
def test_excluded_pages_are_ignored(deliver, acme, alice):
    forge_connection = make_connection(acme, alice)
    forge_connection.sync_scope.excluded_pages = [{"id": PAGE_ID, "title": "A brand new page", "descendants": False}]
    forge_connection.sync_scope.save()
    deliver(fixture("page_updated"))
    [event] = process_all()
    assert event.status == "ignored" and "excluded" in event.detail
    assert not runs_of(forge_connection)


@pytest.mark.django_db
def test_paused_and_unfinished_connections_are_skipped(deliver, acme, alice):
    paused = make_connection(acme, alice, paused=True, name="Paused")
    unfinished = make_connection(acme, alice, name="Unfinished")
    unfinished.tasks.filter(kind="select_repository").update(state=SetupTask.State.PENDING)
    active = make_connection(acme, alice, name="Active")
    deliver(fixture("page_updated"))
    [event] = process_all()
    assert not runs_of(paused) and not runs_of(unfinished)
    assert len(runs_of(active)) == 1
    assert "Paused: connection paused" in event.detail and "Unfinished: setup not finished" in event.detail


@pytest.mark.django_db
def test_a_paused_connection_alone_records_the_event_as_ignored(deliver, acme, alice):
    make_connection(acme, alice, paused=True, name="Paused")
    deliver(fixture("page_updated"))
    [event] = process_all()
    assert event.status == "ignored" and event.detail == "Ignored: Paused: connection paused."


@pytest.mark.django_db
def test_every_connection_of_the_site_gets_its_run(deliver, acme, alice, globex, charlie):
    first = make_connection(acme, alice)
    second = make_connection(globex, charlie)
    deliver(fixture("page_updated"))
    [event] = process_all()
    assert len(runs_of(first)) == len(runs_of(second)) == 1
    assert event.runs.count() == 2


@pytest.mark.django_db
def test_a_burst_coalesces_into_one_run_per_connection(deliver, acme, alice):
    forge_connection = make_connection(acme, alice)
    for n in range(100):
        body = copy.deepcopy(fixture("page_updated", eventCreatedDate=f"2021-01-21T09:{n // 60:02}:{n % 60:02}.000Z"))
        body["content"]["id"] = str(1000 + n % 25)
        assert deliver(body).status_code == 202
    process_all()
    [run] = runs_of(forge_connection)
    assert run.page_ids == sorted(str(1000 + n) for n in range(25))
    assert WebhookEvent.objects.filter(status="processed").count() == 100


# Space events ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_deleted_space_event_alone_changes_no_scope(deliver, acme, alice):
    # The event's word is not enough (tests/confluence/test_forge_replay.py covers the deletion Confluence
    # confirms): this connection has no grant to ask Confluence with, so its scope stays as it was.
    tree = [{"id": "1", "title": "Handbook", "space_key": "SP", "descendants": True}]
    forge_connection = make_connection(acme, alice, spaces=("SP", "OPS"), pages=tree)
    deliver(fixture("space_deleted"))
    [event] = process_all()
    scope = SyncScope.objects.get(connection=forge_connection)
    assert scope.space_keys == ["OPS", "SP"]
    assert scope.pages == tree
    assert "nothing removed" in event.detail


@pytest.mark.django_db
def test_a_deleted_space_we_still_hold_pages_of_queues_a_run(deliver, acme, alice):
    forge_connection = make_connection(
        acme, alice, spaces=("OPS",), held={"7": {"space_key": "SP", "path": "confluence/SP/x.md"}}
    )
    deliver(fixture("space_deleted"))
    process_all()
    assert len(runs_of(forge_connection)) == 1


@pytest.mark.django_db
def test_a_deleted_space_outside_every_scope_is_ignored(deliver, acme, alice):
    forge_connection = make_connection(acme, alice, spaces=("OPS",))
    deliver(fixture("space_deleted"))
    [event] = process_all()
    assert event.status == "ignored"
    assert not runs_of(forge_connection)
    assert SyncScope.objects.get(connection=forge_connection).space_keys == ["OPS"]


@pytest.mark.django_db
def test_a_renamed_space_event_alone_keeps_the_scopes_name(deliver, forge_connection):
    # The name comes from Confluence, not from the event (test_forge_replay.py renames through the API).
    forge_connection.sync_scope.spaces = [{"id": "827392002", "key": "SP", "name": "Project: Sample Project"}]
    forge_connection.sync_scope.save()
    deliver(fixture("space_updated"))
    process_all()
    assert SyncScope.objects.get(connection=forge_connection).spaces[0]["name"] == "Project: Sample Project"
    assert not runs_of(forge_connection)


@pytest.mark.django_db
def test_new_spaces_are_ignored(deliver, forge_connection):
    deliver(fixture("space_updated", eventType="avi:confluence:created:space:V2"))
    [event] = process_all()
    assert event.status == "ignored"


# Lifecycle -------------------------------------------------------------------------------------------------


def forge_step(forge_connection) -> SetupTask:
    return forge_connection.tasks.get(kind="install_forge")


@pytest.mark.django_db
def test_installed_completes_the_forge_step_of_every_connection_of_the_site(deliver, acme, alice, globex, charlie):
    first, second = make_connection(acme, alice), make_connection(globex, charlie)
    for forge_connection in (first, second):
        forge_connection.tasks.filter(kind="install_forge").update(state=SetupTask.State.WAITING)
    deliver(fixture("app_installed"))
    [event] = process_all()
    installation = ForgeInstallation.objects.get(cloud_id=CLOUD_ID)
    assert installation.installation_id == "ari:cloud:ecosystem::installation/8c4bd52e-3f0a-4a4e-9a4c-3b0f6a2e8f11"
    assert installation.is_installed
    for forge_connection in (first, second):
        assert forge_step(forge_connection).state == SetupTask.State.DONE
    assert event.status == "processed" and "2 connections" in event.detail


@pytest.mark.django_db
def test_uninstalled_marks_the_step_waiting_and_shows_it_on_the_card(deliver, forge_connection):
    deliver(fixture("app_installed"))
    deliver(fixture("app_uninstalled"))
    process_all()
    step = forge_step(forge_connection)
    assert step.state == SetupTask.State.WAITING and step.detail == FORGE_REMOVED
    forge_connection.refresh_from_db()
    assert forge_connection.status == Connection.Status.ATTENTION
    assert "Forge app removed — changes are no longer captured" in forge_connection.status_detail
    # Reinstalling (same installation id, a new delivery) completes the step again.
    deliver(fixture("app_installed"))
    process_all()
    assert forge_step(forge_connection).state == SetupTask.State.DONE


@pytest.mark.django_db
def test_a_lifecycle_event_naming_another_site_is_ignored(deliver, forge_connection):
    body = fixture("app_uninstalled", context=f"ari:cloud:confluence::site/{OTHER_CLOUD_ID}")
    deliver(body)
    [event] = process_all()
    assert event.status == "ignored"
    assert not ForgeInstallation.objects.exists()


@pytest.mark.django_db
def test_installed_through_the_sandbox(sandbox, forge_connection, django_capture_on_commit_callbacks):
    site = sandbox.atlassian.create_site(name="Acme", cloud_id=CLOUD_ID)
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.atlassian.install_forge_app(site.cloud_id)
    assert forge_step(forge_connection).state == SetupTask.State.DONE
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.atlassian.uninstall_forge_app(site.cloud_id)
    assert forge_step(forge_connection).detail == FORGE_REMOVED


# Sweeper, replay, failures ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweeper_processes_rows_whose_task_was_lost(deliver, forge_connection):
    deliver(fixture("page_updated"))
    deliver(fixture("page_created"))
    WebhookEvent.objects.filter(content_id=PAGE_ID, event_type__endswith="updated:page").update(
        received_at=timezone.now() - timedelta(minutes=2)
    )
    assert handle.process_pending_events() == 1
    assert WebhookEvent.objects.filter(status="received").count() == 1  # the fresh one still has its task


@pytest.mark.django_db
def test_processing_twice_does_nothing_more(deliver, forge_connection):
    deliver(fixture("page_updated"))
    [event] = process_all()
    assert handle.process_event(event.id) is None
    assert len(runs_of(forge_connection)) == 1


@pytest.mark.django_db
def test_replay_applies_the_event_again(deliver, forge_connection, django_capture_on_commit_callbacks):
    deliver(fixture("page_updated"))
    [event] = process_all()
    SyncRun.objects.update(status=SyncRun.Status.SUCCEEDED)
    assert handle.process_event(event.id, replay=True) == "processed"
    assert len(runs_of(forge_connection)) == 2
    assert event.runs.count() == 2


@pytest.mark.django_db
def test_a_failing_handler_marks_the_event_failed(deliver, forge_connection, monkeypatch):
    def broken(event):
        raise RuntimeError("boom")

    monkeypatch.setitem(handle.HANDLERS, "avi:confluence:updated:page", broken)
    deliver(fixture("page_updated"))
    [event] = process_all()
    assert event.status == "failed" and event.detail == "RuntimeError: boom"


def test_dedupe_keys_ignore_the_envelope_and_the_retry_context():
    plain, wrapped = fixture("page_updated"), fixture("page_updated__payload_envelope")
    assert receive.dedupe_key(CLOUD_ID, plain) == receive.dedupe_key(CLOUD_ID, payload.unwrap(wrapped))
    assert receive.dedupe_key(CLOUD_ID, plain) != receive.dedupe_key(OTHER_CLOUD_ID, plain)
    assert receive.dedupe_key(CLOUD_ID, plain) != receive.dedupe_key(CLOUD_ID, fixture("page_created"))


@pytest.mark.django_db
def test_it_stores_an_event_whose_title_holds_a_nul(sandbox, client):
    """PostgreSQL's JSON refuses U+0000; the row keeps U+FFFD instead and the delivery is accepted."""
    from confluence.models import WebhookEvent

    site = sandbox.atlassian.create_site(name="Acme Wiki", url="https://acme.atlassian.net")
    sandbox.atlassian.install_forge_app(site.cloud_id)
    token = sandbox.atlassian.sign_invocation_token(site.cloud_id)
    body = {
        "eventType": "avi:confluence:updated:page",
        "eventCreatedDate": "2026-01-02T03:04:05.000Z",
        "content": {
            "id": "42",
            "type": "page",
            "title": "Bad\u0000Title",
            "space": {"key": "ENG"},
            "version": {"number": 2},
        },
    }
    response = client.post(
        "/integrations/forge/events", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code in (200, 202)
    event = WebhookEvent.objects.get(content_id="42")
    assert event.payload["content"]["title"] == "Bad\ufffdTitle"
