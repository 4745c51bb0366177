"""Label and attachment changes reach the repository live (issue 14, item 5): Confluence sends the Forge event, the
site queues a targeted run of the page, and one commit follows. Neither change makes a new page version.

The world is the default sync world (ENG and OPS synced whole into acme-inc/wiki, the Forge app installed), here
with the label `obsolete` excluded. Events go from the sandbox through the real endpoint, task and sync.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from confluence.models import SyncRun, WebhookEvent
from sandbox import demo
from sandbox.store import world_for_request
from tests.confluence.sync_world import front_matter, sync_now, tree
from tests.sandbox.conftest import live  # noqa: F401  (the live sandbox world of /sandbox/manage/)

pytestmark = pytest.mark.django_db

URL = "/integrations/forge/events"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "forge"
NEW_IMAGE = b"\x89PNG\r\n\x1a\nanother-image"


@pytest.fixture
def live_connection(world, acme, alice):
    """ENG and OPS synced whole, pages labelled `obsolete` left out; after the first sync."""
    live_connection = demo.connect(
        world,
        org=acme,
        user=alice,
        cloud_id=world.site.cloud_id,
        space_keys=["ENG", "OPS"],
        repository="acme-inc/wiki",
        excluded_labels=("obsolete",),
    )
    run = sync_now(live_connection)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return live_connection


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def head(world) -> str:
    return world.github.head_sha("acme-inc", "wiki")


def page_file(files: dict, page_id: str) -> str | None:
    """The path of the page's Markdown file in the tree, if any."""
    found = [
        path for path, content in files.items() if path.endswith(".md") and f"page_id: '{page_id}'".encode() in content
    ]
    return found[0] if found else None


def attachment_files(files: dict, page_id: str) -> dict[str, bytes]:
    return {path: content for path, content in files.items() if f"/_attachments/{page_id}/" in path}


def only_run(event_type: str) -> SyncRun:
    event = WebhookEvent.objects.get(event_type=event_type)
    assert event.status == WebhookEvent.Status.PROCESSED, event.detail
    [run] = event.runs.all()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


# Labels ------------------------------------------------------------------------------------------------------


def test_an_excluded_label_added_takes_the_page_out_in_one_commit(world, live_connection, applied):
    guide = world.pages["guide"]
    before, parent = tree(world), head(world)
    assert page_file(before, guide.id) and attachment_files(before, guide.id)

    applied(lambda: world.atlassian.add_label(guide.id, "obsolete"))

    run = only_run("avi:confluence:added:label")
    assert (run.trigger, run.page_ids) == (SyncRun.Trigger.FORGE, [guide.id])
    assert run.commit_sha == head(world) != parent
    after = tree(world)
    assert page_file(after, guide.id) is None and attachment_files(after, guide.id) == {}
    home = page_file(before, world.pages["home"].id)
    assert after[home] == before[home]


def test_the_label_removed_brings_the_page_back_as_it_was(world, live_connection, applied):
    guide = world.pages["guide"]
    before = tree(world)
    applied(lambda: world.atlassian.add_label(guide.id, "obsolete"))

    applied(lambda: world.atlassian.remove_label(guide.id, "obsolete"))

    run = only_run("avi:confluence:removed:label")
    assert run.page_ids == [guide.id]
    assert tree(world) == before


def test_the_pages_below_a_labelled_page_stay_and_come_back_to_their_place(world, live_connection, applied):
    """An excluded label leaves out the labelled page only: its subtree stays synced, wherever it then lives."""
    guide = world.pages["guide"]
    child = world.atlassian.create_page(
        world.site.cloud_id, space_key="ENG", title="Rollback", body="<p>Undo.</p>", parent_id=guide.id, emit=False
    )
    sync_now(live_connection)
    before = tree(world)

    applied(lambda: world.atlassian.add_label(guide.id, "obsolete"))
    during = tree(world)
    applied(lambda: world.atlassian.remove_label(guide.id, "obsolete"))

    assert page_file(during, guide.id) is None and page_file(during, child.id)
    assert tree(world) == before


def test_a_label_that_excludes_nothing_reaches_the_front_matter(world, live_connection, applied):
    guide = world.pages["guide"]

    applied(lambda: world.atlassian.add_label(guide.id, "reviewed"))

    files = tree(world)
    assert front_matter(files[page_file(files, guide.id)])["labels"] == ["howto", "reviewed"]


def test_a_label_on_a_page_outside_the_scope_queues_nothing(world, live_connection, applied):
    other = world.atlassian.create_space(world.site.cloud_id, key="HR", name="People", emit=False)
    page = world.atlassian.create_page(
        world.site.cloud_id, space_key=other.key, title="Leave", body="<p>x</p>", emit=False
    )
    parent = head(world)

    applied(lambda: world.atlassian.add_label(page.id, "obsolete"))

    event = WebhookEvent.objects.get(event_type="avi:confluence:added:label")
    assert event.status == WebhookEvent.Status.IGNORED and "outside every scope" in event.detail
    assert head(world) == parent


# Attachments -------------------------------------------------------------------------------------------------


def test_a_replaced_attachment_reaches_the_repository(world, live_connection, applied):
    guide = world.pages["guide"]
    [path] = attachment_files(tree(world), guide.id)

    applied(
        lambda: world.atlassian.add_attachment(guide.id, filename="flow.png", data=NEW_IMAGE, media_type="image/png")
    )

    run = only_run("avi:confluence:updated:attachment")
    assert run.page_ids == [guide.id]
    assert attachment_files(tree(world), guide.id) == {path: NEW_IMAGE}


def test_a_deleted_attachment_leaves_the_repository(world, live_connection, applied):
    guide = world.pages["guide"]
    [attachment_id] = world.atlassian.pages[guide.id].attachment_ids

    applied(lambda: world.atlassian.trash_attachment(attachment_id))

    assert only_run("avi:confluence:trashed:attachment").page_ids == [guide.id]
    files = tree(world)
    assert attachment_files(files, guide.id) == {}
    assert page_file(files, guide.id)  # the page stays; its image now points at Confluence


def test_a_restored_attachment_comes_back(world, live_connection, applied):
    guide = world.pages["guide"]
    before = tree(world)
    [attachment_id] = world.atlassian.pages[guide.id].attachment_ids
    applied(lambda: world.atlassian.trash_attachment(attachment_id))
    assert attachment_files(tree(world), guide.id) == {}

    applied(lambda: world.atlassian.restore_attachment(attachment_id))

    assert only_run("avi:confluence:restored:attachment").page_ids == [guide.id]
    assert tree(world) == before


def test_an_attachment_added_where_a_page_shows_it_reaches_the_repository(world, live_connection, applied):
    page = world.atlassian.create_page(
        world.site.cloud_id,
        space_key="OPS",
        title="Dashboards",
        body='<p><ac:image><ri:attachment ri:filename="board.png" /></ac:image></p>',
        emit=False,
    )
    sync_now(live_connection)
    assert attachment_files(tree(world), page.id) == {}

    applied(
        lambda: world.atlassian.add_attachment(page.id, filename="board.png", data=NEW_IMAGE, media_type="image/png")
    )

    assert only_run("avi:confluence:created:attachment").page_ids == [page.id]
    assert list(attachment_files(tree(world), page.id).values()) == [NEW_IMAGE]


# What is not synced -------------------------------------------------------------------------------------------


@pytest.fixture
def post(client, world):
    def post(body: dict):
        token = world.atlassian.sign_invocation_token(world.site.cloud_id)
        return client.post(URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")

    return post


def on_page(body: dict, page, key: str = "ENG") -> dict:
    """A fixture's event moved onto one of the world's pages (its space too)."""
    body = copy.deepcopy(body)
    target = body.get("content") or body["attachment"]["container"]
    target["id"], target.setdefault("space", {})["key"] = page.id, key
    (body.get("content") or body["attachment"])["space"]["key"] = key
    return body


def test_labels_and_attachments_of_blog_posts_outside_synced_blogs_are_ignored(world, live_connection, post, applied):
    label = on_page(fixture("label_added"), world.pages["guide"])
    label["content"]["type"], label["content"]["id"] = "blogpost", "424242"
    attachment = on_page(fixture("attachment_created"), world.pages["guide"])
    attachment["attachment"]["container"]["type"] = "blogpost"
    attachment["attachment"]["container"]["id"] = "424242"

    applied(lambda: (post(label), post(attachment)))

    events = {e.event_type: e for e in WebhookEvent.objects.filter(event_type__contains=":confluence:")}
    assert {e.status for e in events.values()} == {WebhookEvent.Status.IGNORED}
    # The scope syncs no space's blog: posts are outside it.
    assert "Blog post" in events["avi:confluence:added:label"].detail
    assert "outside every scope" in events["avi:confluence:created:attachment"].detail
    assert not SyncRun.objects.filter(trigger=SyncRun.Trigger.FORGE).exists()


def test_a_label_on_a_space_is_ignored(world, live_connection, post, applied):
    body = fixture("label_added__space")
    body["space"]["key"] = "ENG"

    applied(lambda: post(body))

    event = WebhookEvent.objects.get(event_type="avi:confluence:added:label")
    assert event.status == WebhookEvent.Status.IGNORED and "space or a template" in event.detail
    assert not SyncRun.objects.filter(trigger=SyncRun.Trigger.FORGE).exists()


def test_the_documented_events_are_synced_too(world, live_connection, post, applied):
    """The reference's own payloads, moved onto the guide: each queues a targeted run of it."""
    guide = world.pages["guide"]

    applied(lambda: (post(on_page(fixture("label_added"), guide)), post(on_page(fixture("attachment_created"), guide))))

    runs = {run.id: run for run in SyncRun.objects.filter(trigger=SyncRun.Trigger.FORGE)}
    assert {tuple(run.page_ids) for run in runs.values()} == {(guide.id,)}
    assert WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count() == 2


# The sandbox sends these events like Confluence -----------------------------------------------------------------


def keys(value) -> object:
    """The shape of a JSON value: its keys, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {key: keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [keys(value[0])] if value else []
    return None


def sent(world) -> list[dict]:
    return [json.loads(body) for _, body, _ in world.atlassian.take_outbox()]


@pytest.fixture
def outbox(world):
    """The Forge app installed, its deliveries held back for the test to read."""
    world.atlassian.defer_deliveries = True
    world.atlassian.install_forge_app(world.site.cloud_id)
    world.atlassian.take_outbox()
    return world


def test_the_sandbox_sends_label_events_shaped_like_the_reference(outbox):
    world = outbox
    atlassian, guide = world.atlassian, world.pages["guide"]

    atlassian.add_label(guide.id, "obsolete")
    atlassian.add_label(guide.id, "obsolete")  # carried already: nothing happens, nothing is sent
    atlassian.remove_label(guide.id, "obsolete")
    atlassian.remove_label(guide.id, "absent")

    added, removed = sent(world)
    assert (added["eventType"], removed["eventType"]) == ("avi:confluence:added:label", "avi:confluence:removed:label")
    documented = fixture("label_added")
    assert set(added) == set(documented) - {"suppressNotifications"}
    assert set(added["content"]) == set(documented["content"])
    assert keys(added["label"]) == keys(documented["label"])
    assert [label["name"] for label in added["content"]["labels"]] == ["howto", "obsolete"]
    assert [label["name"] for label in removed["content"]["labels"]] == ["howto"]
    assert added["eventCreatedDate"] != removed["eventCreatedDate"]


def test_the_sandbox_sends_attachment_events_shaped_like_the_reference(outbox):
    world = outbox
    atlassian, guide = world.atlassian, world.pages["guide"]
    [attachment_id] = atlassian.pages[guide.id].attachment_ids

    atlassian.add_attachment(guide.id, filename="flow.png", data=NEW_IMAGE, media_type="image/png")
    atlassian.trash_attachment(attachment_id)
    atlassian.restore_attachment(attachment_id)
    atlassian.purge_attachment(attachment_id)

    bodies = sent(world)
    assert [b["eventType"].split(":")[2] for b in bodies] == ["updated", "trashed", "restored", "deleted"]
    assert [b["attachment"]["status"] for b in bodies] == ["current", "trashed", "current", "deleted"]
    documented = fixture("attachment_created")["attachment"]
    for body in bodies:
        assert set(body["attachment"]) <= set(documented) | {"history"}
        assert body["attachment"]["container"]["id"] == guide.id
    assert attachment_id not in atlassian.attachments


# /sandbox/manage/ ---------------------------------------------------------------------------------------------


def manage(client, page_id: str, **form):
    return client.post(f"/sandbox/manage/atlassian/pages/{page_id}/actions/", form)


def test_the_manage_page_labels_pages_and_sends_the_events(client, live):  # noqa: F811
    page_id = live["page"].id
    client.post(f"/sandbox/manage/atlassian/sites/{live['site'].cloud_id}/", {"action": "install"})

    manage(client, page_id, action="add_label", label=" obsolete ", emit="1")
    manage(client, page_id, action="remove_label", label="obsolete")  # "Send the Forge event" unticked

    with world_for_request() as world:
        assert world.atlassian.pages[page_id].labels == []
    assert [e["eventType"] for e in live["posted"]][1:] == ["avi:confluence:added:label"]
    assert live["posted"][-1]["label"]["name"] == "obsolete"


def test_the_manage_page_trashes_restores_and_purges_attachments(client, live):  # noqa: F811
    page_id = live["page"].id
    with world_for_request() as world:
        attachment_id = world.atlassian.add_attachment(
            page_id, filename="notes.txt", data=b"hello", media_type="text/plain", emit=False
        ).id
    client.post(f"/sandbox/manage/atlassian/sites/{live['site'].cloud_id}/", {"action": "install"})
    assert b'value="trash_attachment"' in client.get(f"/sandbox/manage/atlassian/pages/{page_id}/").content

    for action in ("trash_attachment", "restore_attachment", "purge_attachment"):
        assert manage(client, page_id, action=action, attachment_id=attachment_id, emit="1").status_code == 302

    with world_for_request() as world:
        assert attachment_id not in world.atlassian.attachments
    verbs = [e["eventType"] for e in live["posted"]][1:]
    assert verbs == [f"avi:confluence:{verb}:attachment" for verb in ("trashed", "restored", "deleted")]


def test_the_manage_page_refuses_another_pages_attachment(client, live):  # noqa: F811
    with world_for_request() as world:
        other = world.atlassian.create_page(live["site"].cloud_id, space_key="ENG", title="Other", body="", emit=False)
        attachment_id = world.atlassian.add_attachment(
            other.id, filename="a.txt", data=b"a", media_type="text/plain", emit=False
        ).id

    response = manage(client, live["page"].id, action="trash_attachment", attachment_id=attachment_id)

    assert response.status_code == 302
    with world_for_request() as world:
        assert world.atlassian.attachments[attachment_id].status == "current"


# Restrictions -----------------------------------------------------------------------------------------------


def test_a_view_restriction_takes_the_page_and_its_subtree_out_in_one_commit(world, live_connection, applied):
    home = world.pages["home"]
    me = world.atlassian.default_user().account_id
    parent = head(world)

    applied(lambda: world.atlassian.restrict_page(home.id, users=[me]))

    run = only_run("avi:confluence:permissions_updated:page")
    assert run.commit_sha == head(world) != parent
    after = tree(world)
    assert page_file(after, home.id) is None and page_file(after, world.pages["guide"].id) is None
    assert {s["id"] for s in run.restricted_skipped} == {home.id, world.pages["guide"].id}

    applied(lambda: world.atlassian.unrestrict_page(home.id))

    assert page_file(tree(world), home.id) and page_file(tree(world), world.pages["guide"].id)
