"""A commit's message lists exactly what the commit changes, with correct counts (issue 14, item 6)."""

import subprocess

import pytest

from confluence.models import SyncRun
from tests.confluence.sync_world import front_matter, sync_now

pytestmark = pytest.mark.django_db


def git(world, *args: str) -> str:
    path = world.github.repository_path("acme-inc", "wiki")
    return subprocess.run(["git", *args], cwd=path, capture_output=True, text=True, check=True).stdout


def last_commit(world) -> tuple[str, set[str]]:
    """(message, paths the commit changed) of the branch's head."""
    message = git(world, "log", "-1", "--format=%B", "main").strip()
    changed = set(git(world, "diff", "--name-only", "main~1", "main").split())
    return message, changed


def replace_the_guides_image(world) -> None:
    world.atlassian.add_attachment(
        world.pages["guide"].id,
        filename="flow.png",
        data=b"\x89PNG\r\n\x1a\nnew-image",
        media_type="image/png",
        emit=False,
    )


def listed(message: str) -> list[str]:
    return [line for line in message.splitlines() if line.startswith("- ")]


def test_it_lists_only_the_page_whose_file_changed_in_a_full_resync(world, connection):
    sync_now(connection)
    world.atlassian.update_page(world.pages["home"].id, body="<p>Welcome, edited.</p>", emit=False)

    run = sync_now(connection, full=True)

    message, changed = last_commit(world)
    assert message.splitlines()[0] == "Sync Confluence: 1 updated in ENG"
    assert listed(message) == [f"- updated: Home (page {world.pages['home'].id}, version 2)"]
    assert changed == {"confluence/ENG/home.md", ".ctx/confluence-index.json"}
    assert run.counts["updated"] == 1 and run.counts["unchanged"] == 2


def test_it_lists_attachments_the_commit_changes(world, connection):
    sync_now(connection)
    replace_the_guides_image(world)

    sync_now(connection, full=True)

    message, changed = last_commit(world)
    attachment = "confluence/ENG/_attachments/{}/flow.png".format(world.pages["guide"].id)
    assert message.splitlines()[0] == "Sync Confluence: 1 attachment updated"
    assert listed(message) == [f"- attachment updated: {attachment}"]
    assert changed == {attachment, ".ctx/confluence-index.json"}


def test_it_names_each_removed_and_moved_page(world, connection):
    sync_now(connection)
    world.atlassian.rename_page(world.pages["guide"].id, "Deployment Guide", emit=False)
    world.atlassian.trash_page(world.pages["home"].id, emit=False)

    run = sync_now(connection)

    message, changed = last_commit(world)
    runbook = world.github.read_tree("acme-inc", "wiki", "main")["confluence/OPS/runbook.md"]
    runbook_id = front_matter(runbook)["page_id"]
    assert message.splitlines()[0] == "Sync Confluence: 1 updated, 1 moved, 1 removed in ENG, OPS"
    assert sorted(listed(message)) == sorted(
        [
            f"- moved: Deployment Guide (page {world.pages['guide'].id}, version 2)",
            f"- removed: Home (page {world.pages['home'].id})",
            # Runbook links to "Deploy Guide" by title: with the page renamed, the link goes back to Confluence.
            f"- updated: Runbook (page {runbook_id}, version 1)",
        ]
    )
    assert b"](https://acme.atlassian.net/wiki/" in runbook
    assert run.counts["moved"] == 1 and run.counts["removed"] == 1 and run.counts["updated"] == 1
    assert "confluence/ENG/home.md" in changed


def test_it_lists_exactly_the_files_a_targeted_attachment_run_changes(world, connection):
    sync_now(connection)
    replace_the_guides_image(world)

    run = sync_now(connection, trigger=SyncRun.Trigger.FORGE, page_ids=[world.pages["guide"].id])

    message, changed = last_commit(world)
    pages = {path for path in changed if path.endswith(".md")}
    assert len(listed(message)) == len(changed - {".ctx/confluence-index.json"})
    assert run.counts["updated"] == len(pages)
