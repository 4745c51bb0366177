"""A page too large to write never stops the run: GitHub's limits as the simulator enforces them, the cap on a page's
Markdown (SYNC_MAX_PAGE_BYTES), and the warnings a run records and the card, the history and the admin show."""

import json
import subprocess

import pytest
from django.urls import reverse

from confluence.models import SyncRun
from confluence.sync import attachments
from connectors.models import Connection
from sandbox.github import tree_api
from tests.confluence.sync_world import front_matter, sync_now, tree

pytestmark = pytest.mark.django_db

GUIDE = "confluence/ENG/home/deploy-guide.md"
RUNBOOK = "confluence/OPS/runbook.md"


def big_body(size: int) -> str:
    """Storage XHTML whose Markdown is about `size` bytes (a pasted log, the usual way a page gets this large)."""
    return "<pre>" + "lorem ipsum\n" * (size // 12) + "</pre>"


def runbook(world):
    return next(p for p in world.atlassian.pages.values() if p.title == "Runbook")


def git_show(world, *args: str) -> str:
    path = world.github.repository_path("acme-inc", "wiki")
    return subprocess.run(["git", "-C", str(path), "show", *args], capture_output=True, text=True, check=True).stdout


def index_entry(world, page_id):
    return json.loads(tree(world)[".ctx/confluence-index.json"])["pages"].get(page_id)


@pytest.fixture
def small_cap(settings):
    settings.SYNC_MAX_PAGE_BYTES = 100_000
    return settings.SYNC_MAX_PAGE_BYTES


def test_it_commits_the_other_pages_when_a_page_is_over_the_cap(world, connection):
    # The reported case: a 10.5 MB page and a small page edited at the same time.
    sync_now(connection)
    before = tree(world)[GUIDE]
    guide = world.pages["guide"]
    world.atlassian.update_page(guide.id, body=big_body(10_500_000), emit=False)
    world.atlassian.update_page(runbook(world).id, body="<p>Call the on-call engineer.</p>", emit=False)
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    assert "Call the on-call engineer." in tree(world)[RUNBOOK].decode()
    assert tree(world)[GUIDE] == before and index_entry(world, guide.id)["version"] == 1
    assert world.github.head_sha("acme-inc", "wiki") == run.commit_sha
    assert GUIDE not in git_show(world, "--name-only", "--format=", run.commit_sha).split()
    [warning] = run.warnings
    assert warning["kind"] == "page_too_large" and warning["page_id"] == guide.id and warning["kept"] is True
    assert warning["title"] == "Deploy Guide" and warning["size"] > 10_500_000 and warning["limit"] == 5 * 1024**2
    connection.refresh_from_db()
    assert connection.status != Connection.Status.ERROR


def test_it_writes_a_large_page_under_the_cap_as_a_blob(world, connection, settings):
    settings.SYNC_MAX_PAGE_BYTES = 20 * 1024**2
    sync_now(connection)
    guide = world.pages["guide"]
    world.atlassian.update_page(guide.id, body=big_body(10_500_000), emit=False)
    world.atlassian.update_page(runbook(world).id, body="<p>Call the on-call engineer.</p>", emit=False)
    world.github.reset_log()
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    assert run.warnings == [] and run.counts["updated"] == 2
    assert front_matter(tree(world)[GUIDE])["version"] == 2 and len(tree(world)[GUIDE]) > 10_500_000
    assert "Call the on-call engineer." in tree(world)[RUNBOOK].decode()
    assert world.github.count("POST", r"/git/blobs$") == 1


def test_it_sends_ordinary_pages_inline(world, connection):
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    assert world.github.count("POST", r"/git/blobs$") == 1  # flow.png, the one binary file
    assert world.github.count("POST", r"/git/trees$") == 1


def test_it_does_not_write_a_new_page_over_the_cap_and_links_to_confluence_instead(world, connection, small_cap):
    sync_now(connection)
    dump = world.atlassian.create_page(
        world.site.cloud_id,
        space_key="ENG",
        title="Data dump",
        parent_id=world.pages["home"].id,
        body=big_body(200_000),
        emit=False,
    )
    world.atlassian.update_page(
        runbook(world).id,
        body='<p>See <ac:link><ri:page ri:space-key="ENG" ri:content-title="Data dump" /></ac:link>.</p>',
        emit=False,
    )
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    assert "confluence/ENG/home/data-dump.md" not in tree(world) and index_entry(world, dump.id) is None
    text = tree(world)[RUNBOOK].decode()
    assert "See [Data dump](https://acme.atlassian.net/wiki/display/ENG/Data+dump)." in text
    assert [(w["page_id"], w["kept"]) for w in run.warnings] == [(dump.id, False)]


def test_it_keeps_a_moved_page_over_the_cap_where_it_was(world, connection, small_cap):
    sync_now(connection)
    guide = world.pages["guide"]
    world.atlassian.update_page(guide.id, title="Deploy Handbook", body=big_body(200_000), emit=False)
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    assert GUIDE in tree(world) and "confluence/ENG/home/deploy-handbook.md" not in tree(world)
    assert index_entry(world, guide.id)["path"] == GUIDE
    assert [(w["page_id"], w["kept"]) for w in run.warnings] == [(guide.id, True)]


def test_it_repeats_the_warning_until_the_page_fits_again(world, connection, small_cap):
    sync_now(connection)
    home = world.pages["home"]
    world.atlassian.update_page(home.id, body=big_body(200_000), emit=False)
    assert [w["page_id"] for w in sync_now(connection).warnings] == [home.id]
    # A Forge event about another page does not look at the large page again: the warning is carried over.
    world.atlassian.update_page(runbook(world).id, body="<p>Edited.</p>", emit=False)
    targeted = sync_now(connection, trigger=SyncRun.Trigger.FORGE, page_ids=[runbook(world).id])
    assert targeted.status == "succeeded" and [w["page_id"] for w in targeted.warnings] == [home.id]
    assert [w["page_id"] for w in sync_now(connection).warnings] == [home.id]
    world.atlassian.update_page(home.id, body="<p>Small again.</p>", emit=False)
    run = sync_now(connection)
    assert run.warnings == [] and "Small again." in tree(world)["confluence/ENG/home.md"].decode()


def test_it_drops_the_warning_of_a_page_that_left_the_repository(world, connection, small_cap):
    sync_now(connection)
    world.atlassian.update_page(runbook(world).id, body=big_body(200_000), emit=False)
    assert sync_now(connection).warnings
    world.atlassian.trash_page(runbook(world).id, emit=False)
    run = sync_now(connection)
    assert run.warnings == [] and RUNBOOK not in tree(world)


def test_it_warns_about_attachments_too_large_to_copy(world, connection, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_ATTACHMENT_BYTES", 10)
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    assert not any("_attachments" in path for path in tree(world))
    [warning] = run.warnings
    assert warning["kind"] == "attachment_too_large" and warning["filename"] == "flow.png"
    assert warning["page_id"] == world.pages["guide"].id and warning["size"] == 18 and warning["limit"] == 10
    assert run.warning_summary() == "1 attachment not copied: too large"


def test_it_retries_later_when_github_finds_even_one_file_too_large_to_process(world, connection, monkeypatch):
    # GitHub's tree limit is undocumented and varies with its load: its refusal says nothing about the connection.
    sync_now(connection)
    world.atlassian.update_page(runbook(world).id, body="<p>Call the on-call engineer.</p>", emit=False)
    monkeypatch.setattr(tree_api, "TREE_REQUEST_LIMIT", 300)
    run = sync_now(connection)
    assert run.status == "queued" and run.error_kind == SyncRun.ErrorKind.TRANSIENT and run.waiting_until
    connection.refresh_from_db()
    assert connection.status != Connection.Status.ERROR


# Where the warnings show ---------------------------------------------------------------------------------------


@pytest.fixture
def warned_run(world, connection, small_cap):
    sync_now(connection)
    world.atlassian.update_page(world.pages["guide"].id, body=big_body(200_000), emit=False)
    return sync_now(connection)


def test_it_shows_the_warning_on_the_card_with_a_link_to_the_run(as_user, alice, connection, warned_run):
    page = as_user(alice).get(reverse("connectors", args=["acme"])).content.decode()
    assert "1 page skipped: too large" in page
    assert reverse("confluence-runs", args=["acme", connection.id]) + f"#run-{warned_run.id}" in page


def test_it_explains_the_warning_in_the_run_history(as_user, bob, connection, warned_run, world):
    page = as_user(bob).get(reverse("confluence-runs", args=["acme", connection.id])).content.decode()
    assert f'id="run-{warned_run.id}"' in page and "1 page skipped: too large" in page
    assert f"Page &quot;Deploy Guide&quot; (ENG, page {world.pages['guide'].id}) is 195." in page
    assert "KB of Markdown, over the 97.7\xa0KB limit: the repository keeps its previous version." in page


def test_it_shows_the_warnings_read_only_in_the_admin(client, django_user_model, warned_run):
    client.force_login(django_user_model.objects.create_superuser("ops", "ops@example.com", "password"))
    listing = client.get(reverse("admin:confluence_syncrun_changelist")).content.decode()
    assert '<td class="field-warning_count">1</td>' in listing
    change = client.get(reverse("admin:confluence_syncrun_change", args=[warned_run.id])).content.decode()
    assert "<li>Page &quot;Deploy Guide&quot;" in change and 'name="warnings"' not in change
