"""Attachment changes whose Forge event never arrived: a run over the whole scope finds them with one bulk listing
(an attachment change makes no page version, so the page listing alone cannot see it) — issue 14's invariant that
a reconciliation leaves the repository equal to a clean sync."""

import pytest

from confluence.models import SyncRun
from confluence.sync.index import INDEX_PATH, parse_index
from tests.confluence.sync_world import sync_now, tree

pytestmark = pytest.mark.django_db

RECONCILE = SyncRun.Trigger.SCHEDULE  # the reconciliation schedule: a run over the whole scope


def guide_file(world) -> str:
    return f"confluence/ENG/_attachments/{world.pages['guide'].id}/flow.png"


def guide_text(world) -> str:
    return tree(world)["confluence/ENG/home/deploy-guide.md"].decode()


def test_it_writes_a_replaced_attachment_on_reconciliation(world, connection):
    sync_now(connection)
    world.atlassian.add_attachment(
        world.pages["guide"].id, filename="flow.png", data=b"\x89PNG new", media_type="image/png", emit=False
    )

    run = sync_now(connection, trigger=RECONCILE)

    assert run.status == "succeeded", run.error
    assert tree(world)[guide_file(world)] == b"\x89PNG new"
    assert run.counts["attachments"] == 1 and run.counts["updated"] == 0  # the page's Markdown is the same


def test_it_removes_a_deleted_attachment_and_links_to_confluence(world, connection):
    sync_now(connection)
    [attachment_id] = world.pages["guide"].attachment_ids
    world.atlassian.trash_attachment(attachment_id, emit=False)

    sync_now(connection, trigger=RECONCILE)

    assert guide_file(world) not in tree(world)
    assert "_attachments" not in guide_text(world)


def test_it_adds_a_file_a_page_showed_before_it_existed(world, connection):
    page = world.pages["home"]
    world.atlassian.update_page(
        page.id, body='<p><ac:image><ri:attachment ri:filename="later.png" /></ac:image></p>', emit=False
    )
    sync_now(connection)
    world.atlassian.add_attachment(page.id, filename="later.png", data=b"\x89PNG", media_type="image/png", emit=False)

    sync_now(connection, trigger=RECONCILE)

    assert tree(world)[f"confluence/ENG/_attachments/{page.id}/later.png"] == b"\x89PNG"


def test_it_matches_a_clean_full_sync_after_reconciling(world, connection):
    sync_now(connection)
    world.atlassian.add_attachment(
        world.pages["guide"].id, filename="flow.png", data=b"\x89PNG new", media_type="image/png", emit=False
    )
    sync_now(connection, trigger=RECONCILE)
    reconciled = tree(world)

    full = sync_now(connection, full=True)

    assert full.commit_sha == ""
    assert tree(world) == reconciled


def test_it_spends_one_request_on_attachments_and_commits_nothing_when_none_changed(world, connection):
    sync_now(connection)
    index = parse_index(tree(world)[INDEX_PATH])
    assert index.pages[world.pages["guide"].id].listings  # what the page showed files of, as rendered
    world.atlassian.reset_log()

    run = sync_now(connection, trigger=RECONCILE)

    searches = [r for r in world.atlassian.requests if "content/search" in r.path and "attachment" in r.query]
    assert run.commit_sha == "" and len(searches) == 1
