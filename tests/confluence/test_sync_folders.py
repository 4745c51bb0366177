"""Confluence folders keep their place in the repository (issue 17, item 10): a folder holding synced pages is a
directory named like it (no file of its own), its title is among its pages' ancestors, a renamed folder moves its
pages, and a site without folders asks nothing about them.

The world is the default sync world plus, in ENG, a folder "Handbook" holding "Policies" and a folder "Travel"
that holds "Expenses".
"""

from __future__ import annotations

import pytest

from confluence.models import SyncRun, WebhookEvent
from tests.confluence.sync_world import front_matter, sync_now, tree

pytestmark = pytest.mark.django_db

POLICIES = "confluence/ENG/handbook/policies.md"
EXPENSES = "confluence/ENG/handbook/travel/expenses.md"


@pytest.fixture(autouse=True)
def folders(world):
    a, cloud_id = world.atlassian, world.site.cloud_id
    handbook = a.create_folder(cloud_id, space_key="ENG", title="Handbook")
    travel = a.create_folder(cloud_id, space_key="ENG", title="Travel", parent_id=handbook.id)
    world.pages["policies"] = a.create_page(
        cloud_id, space_key="ENG", title="Policies", body="<p>Be kind.</p>", parent_id=handbook.id, emit=False
    )
    world.pages["expenses"] = a.create_page(
        cloud_id, space_key="ENG", title="Expenses", body="<p>Keep receipts.</p>", parent_id=travel.id, emit=False
    )
    world.folders = {"handbook": handbook, "travel": travel}


def test_a_folder_is_a_directory_of_its_pages(world, connection):
    run = sync_now(connection)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    files = tree(world)
    assert {POLICIES, EXPENSES} <= set(files)
    assert not any(path.endswith(("/handbook.md", "/travel.md")) for path in files)
    meta = front_matter(files[EXPENSES])
    assert meta["ancestors"] == ["Handbook", "Travel"] and meta["parent_id"] == world.folders["travel"].id


def test_a_renamed_folder_moves_its_pages(world, connection):
    sync_now(connection)
    world.atlassian.rename_folder(world.folders["handbook"].id, "Staff handbook")
    run = sync_now(connection)
    assert run.counts["moved"] == 2
    files = tree(world)
    assert POLICIES not in files and "confluence/ENG/staff-handbook/travel/expenses.md" in files
    assert front_matter(files["confluence/ENG/staff-handbook/policies.md"])["ancestors"] == ["Staff handbook"]


def test_a_page_edit_in_a_folder_reads_no_folder_again(world, connection):
    sync_now(connection)
    world.atlassian.update_page(world.pages["expenses"].id, body="<p>Keep every receipt.</p>", emit=False)
    world.atlassian.reset_log()
    run = sync_now(connection, trigger=SyncRun.Trigger.FORGE, page_ids=[world.pages["expenses"].id])
    assert run.counts["updated"] == 1
    assert world.atlassian.count("GET", r"/folders/") == 0
    assert "Keep every receipt." in tree(world)[EXPENSES].decode()


def test_a_page_moved_into_a_folder_moves_into_its_directory(world, connection):
    sync_now(connection)
    world.atlassian.move_page(world.pages["guide"].id, parent_id=world.folders["travel"].id, emit=False)
    run = sync_now(connection, trigger=SyncRun.Trigger.FORGE, page_ids=[world.pages["guide"].id])
    assert run.counts["moved"] == 1
    assert "confluence/ENG/handbook/travel/deploy-guide.md" in tree(world)


def test_folders_cost_one_request_each_and_nothing_without_them(world, connection):
    sync_now(connection)
    assert world.atlassian.count("GET", r"/folders/\d+$") == 2
    world.atlassian.reset_log()
    for page in (world.pages["policies"], world.pages["expenses"]):
        world.atlassian.move_page(page.id, emit=False)  # to the space's top level
    sync_now(connection)
    world.atlassian.reset_log()
    sync_now(connection)
    assert world.atlassian.count("GET", r"/folders/") == 0


def test_a_moved_folder_event_moves_its_pages_in_one_commit(world, connection, applied):
    sync_now(connection)
    applied(lambda: world.atlassian.move_page(world.folders["travel"].id, parent_id=world.pages["home"].id))
    event = WebhookEvent.objects.get(event_type="avi:confluence:moved:folder")
    [run] = event.runs.all()
    assert (run.status, run.page_ids, run.counts["moved"]) == (
        SyncRun.Status.SUCCEEDED,
        [world.folders["travel"].id],
        1,
    )
    files = tree(world)
    assert EXPENSES not in files and "confluence/ENG/home/travel/expenses.md" in files
    assert front_matter(files["confluence/ENG/home/travel/expenses.md"])["ancestors"] == ["Home", "Travel"]
