"""Content whose latest edit the search does not know yet is held at the version the repository holds (F2 of issue
17); when what it shows must change meanwhile (an included page restricted or labelled out, a linked page moved),
it is rendered again at that version, read by its number (found by a red-team review: before, a held page kept
a restricted page's included content until the next run over the whole scope)."""

from __future__ import annotations

import pytest

from confluence.models import SyncRun
from tests.confluence.sync_world import sync_now, tree

pytestmark = pytest.mark.django_db

HANDBOOK = "confluence/OPS/handbook.md"


def include(title: str, space: str = "ENG") -> str:
    page = f'<ac:link><ri:page ri:content-title="{title}" ri:space-key="{space}" /></ac:link>'
    parameter = f'<ac:parameter ac:name="">{page}</ac:parameter>'
    return f'<ac:structured-macro ac:name="include">{parameter}</ac:structured-macro>'


@pytest.fixture
def payroll(world, connection):
    """ENG's Payroll, included by OPS's Handbook; both synced. The Handbook is then edited, and the search does not
    know the edit yet."""
    atlassian, cloud_id = world.atlassian, world.site.cloud_id
    secret = atlassian.create_page(cloud_id, space_key="ENG", title="Payroll", body="<p>SALARYDATA</p>", emit=False)
    handbook = atlassian.create_page(
        cloud_id, space_key="OPS", title="Handbook", body="<p>Synced text.</p>" + include("Payroll"), emit=False
    )
    assert sync_now(connection).status == SyncRun.Status.SUCCEEDED
    assert b"SALARYDATA" in tree(world)[HANDBOOK]
    atlassian.update_page(handbook.id, body="<p>Unjudged text.</p>" + include("Payroll"), emit=False)
    return secret, handbook


def leaked(world) -> list[str]:
    return [path for path, content in tree(world).items() if b"SALARYDATA" in content]


def test_a_held_page_loses_a_source_restricted_meanwhile(world, connection, payroll, lagging_search, me):
    secret, handbook = payroll
    lagging_search.add(handbook.id)
    world.atlassian.restrict_page(secret.id, users=[me], emit=False)

    run = sync_now(connection, trigger=SyncRun.Trigger.FORGE, page_ids=[secret.id, handbook.id])

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert leaked(world) == []
    # Rendered at the version the repository held: the unjudged edit is not written.
    assert b"Synced text." in tree(world)[HANDBOOK] and b"Unjudged text." not in tree(world)[HANDBOOK]


def test_a_held_page_loses_a_source_labelled_out_in_a_run_over_the_whole_scope(
    world, connection, payroll, lagging_search
):
    secret, handbook = payroll
    connection.sync_scope.excluded_labels = ["secret"]
    connection.sync_scope.save()
    lagging_search.add(handbook.id)
    world.atlassian.add_label(secret.id, "secret", emit=False)

    run = sync_now(connection, trigger=SyncRun.Trigger.SCHEDULE)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert leaked(world) == [] and b"Synced text." in tree(world)[HANDBOOK]


def test_a_held_page_gets_its_edit_once_the_search_knows_it(world, connection, payroll, lagging_search, me):
    secret, handbook = payroll
    lagging_search.add(handbook.id)
    world.atlassian.restrict_page(secret.id, users=[me], emit=False)
    sync_now(connection, trigger=SyncRun.Trigger.FORGE, page_ids=[secret.id])
    lagging_search.clear()

    sync_now(connection, trigger=SyncRun.Trigger.FORGE, page_ids=[handbook.id])

    assert b"Unjudged text." in tree(world)[HANDBOOK] and leaked(world) == []


def test_a_held_page_whose_synced_version_cannot_be_read_leaves_until_it_is_judged(
    world, connection, payroll, lagging_search, me, monkeypatch
):
    from confluence.client import ConfluenceClient

    secret, handbook = payroll
    lagging_search.add(handbook.id)
    world.atlassian.restrict_page(secret.id, users=[me], emit=False)
    monkeypatch.setattr(ConfluenceClient, "get_version", lambda self, content_id, version, post=False: None)

    run = sync_now(connection, trigger=SyncRun.Trigger.FORGE, page_ids=[secret.id])

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert leaked(world) == [] and HANDBOOK not in tree(world)
