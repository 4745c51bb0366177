"""Whiteboards, databases and embeds in the page tree (issue 17, item 10): content we cannot convert is never a gap.
The page they sit under lists them after its body, under "In Confluence", as links with their kind; discovery costs
no request on a run over the whole scope, a Forge event re-renders just their page, and nothing is written for a
page the scope leaves out.

The world is the default sync world plus, in ENG, a whiteboard "Roadmap board" below "Deploy Guide".
"""

from __future__ import annotations

import json

import pytest

from confluence.client import ConfluenceClient
from confluence.gateway import ConfluenceError
from confluence.models import SyncRun, WebhookEvent
from confluence.sync.index import INDEX_PATH
from tests.confluence.sync_world import sync_now, tree

pytestmark = pytest.mark.django_db

GUIDE, HOME = "confluence/ENG/home/deploy-guide.md", "confluence/ENG/home.md"
ROADMAP = "- [Roadmap board](https://acme.atlassian.net/wiki/spaces/ENG/whiteboard/{id}) — whiteboard"


@pytest.fixture(autouse=True)
def roadmap(world):
    return world.atlassian.create_board(
        world.site.cloud_id,
        kind="whiteboard",
        space_key="ENG",
        title="Roadmap board",
        parent_id=world.pages["guide"].id,
        emit=False,
    )


def text(world, path: str) -> str:
    return tree(world)[path].decode()


def test_a_page_with_a_whiteboard_lists_it_after_its_body(world, connection, roadmap):
    run = sync_now(connection)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    guide = text(world, GUIDE)
    assert guide.endswith(f"\n## In Confluence\n\n{ROADMAP.format(id=roadmap.id)}\n")
    assert guide.index("make deploy") < guide.index("## In Confluence")
    assert "In Confluence" not in text(world, HOME)
    assert not any("roadmap" in path for path in tree(world))


def test_every_kind_is_listed_by_title(world, connection, roadmap):
    below = {"space_key": "ENG", "parent_id": world.pages["guide"].id, "emit": False}
    world.atlassian.create_board(world.site.cloud_id, kind="database", title="Assets", **below)
    world.atlassian.create_board(world.site.cloud_id, kind="embed", title="Figma", **below)

    sync_now(connection)

    listed = text(world, GUIDE).split("## In Confluence\n\n")[1].splitlines()
    assert [line.rsplit(" — ", 1)[1] for line in listed] == ["database", "smart link", "whiteboard"]
    assert listed[0].startswith("- [Assets](https://acme.atlassian.net/wiki/spaces/ENG/database/")


def test_discovery_costs_no_request_on_a_run_over_the_whole_scope(world, connection):
    """The requests a run over the whole scope made before boards were listed: the space listing, one page listing
    per space, the facts search (now naming the board types too) and the attachments of the page showing a file."""
    sync_now(connection)
    world.atlassian.reset_log()

    sync_now(connection, full=True)

    paths = [r.path.split("/wiki/", 1)[1] for r in world.atlassian.requests]
    assert len(paths) == 5 and paths.count("rest/api/content/search") == 1
    assert world.atlassian.count("GET", r"/(whiteboards|databases|embeds)/") == 0
    [search] = [r for r in world.atlassian.requests if r.path.endswith("/content/search")]
    assert "whiteboard" in search.query and "In Confluence" in text(world, GUIDE)


def test_a_created_board_event_re_renders_only_its_page_in_one_commit(world, connection, applied):
    sync_now(connection)
    before = world.github.head_sha("acme-inc", "wiki", "main")

    board = applied(
        lambda: world.atlassian.create_board(
            world.site.cloud_id, kind="database", space_key="ENG", title="Assets", parent_id=world.pages["home"].id
        )
    )

    event = WebhookEvent.objects.get(event_type="avi:confluence:created:database")
    [run] = event.runs.all()
    assert (run.status, run.page_ids, run.counts["updated"]) == (SyncRun.Status.SUCCEEDED, [world.pages["home"].id], 1)
    assert before != run.commit_sha == world.github.head_sha("acme-inc", "wiki", "main")
    assert SyncRun.objects.exclude(commit_sha="").filter(started_at__gt=event.received_at).count() == 1
    assert f"/wiki/spaces/ENG/database/{board.id}) — database" in text(world, HOME)


def test_a_board_moved_away_leaves_its_old_page(world, connection, applied, roadmap):
    sync_now(connection)

    applied(lambda: world.atlassian.move_board(roadmap.id, parent_id=world.pages["home"].id))

    [run] = WebhookEvent.objects.get(event_type="avi:confluence:moved:whiteboard").runs.all()
    assert sorted(run.page_ids) == sorted([world.pages["guide"].id, world.pages["home"].id])
    assert "Roadmap board" in text(world, HOME) and "In Confluence" not in text(world, GUIDE)


def test_a_trashed_board_leaves_the_list(world, connection, roadmap):
    sync_now(connection)
    world.atlassian.trash_board(roadmap.id)

    run = sync_now(connection)

    assert run.counts["updated"] == 1
    assert "In Confluence" not in text(world, GUIDE)
    assert "elsewhere" not in json.loads(tree(world)[INDEX_PATH])["pages"][world.pages["guide"].id]


def test_a_restricted_parent_writes_nothing(world, connection, roadmap):
    me = world.atlassian.default_user().account_id
    world.atlassian.restrict_page(world.pages["guide"].id, users=[me], emit=False)

    sync_now(connection)

    assert not any(b"Roadmap board" in content for content in tree(world).values())
    scope = connection.sync_scope
    scope.include_restricted = True  # the same page, once the scope opts in, lists it
    scope.save()
    sync_now(connection)
    assert "Roadmap board" in text(world, GUIDE)


def test_a_restricted_board_is_not_listed(world, connection, roadmap):
    world.atlassian.restrict_page(roadmap.id, users=[world.atlassian.default_user().account_id], emit=False)

    sync_now(connection)

    assert "In Confluence" not in text(world, GUIDE)


def test_an_excluded_board_is_never_listed_and_none_twice(world, connection, roadmap):
    cloud_id, guide = world.site.cloud_id, world.pages["guide"].id
    hidden = world.atlassian.create_board(
        cloud_id, kind="whiteboard", space_key="ENG", title="Scratch", parent_id=guide, emit=False
    )
    world.atlassian.add_label(hidden.id, "draft", emit=False)
    scope = connection.sync_scope
    scope.excluded_labels = ["draft"]
    scope.save()

    sync_now(connection)
    sync_now(connection, trigger=SyncRun.Trigger.FORGE, page_ids=[guide])

    guide_text = text(world, GUIDE)
    assert "Scratch" not in guide_text and guide_text.count("Roadmap board") == 1


def test_a_page_edit_keeps_the_list_without_asking_for_boards(world, connection, roadmap):
    sync_now(connection)
    world.atlassian.update_page(world.pages["guide"].id, body="<p>Ship it.</p>", emit=False)
    world.atlassian.reset_log()

    sync_now(connection, trigger=SyncRun.Trigger.FORGE, page_ids=[world.pages["guide"].id])

    assert world.atlassian.count() == 2
    assert "Ship it." in text(world, GUIDE) and ROADMAP.format(id=roadmap.id) in text(world, GUIDE)


def test_a_page_without_boards_keeps_its_index_entry_shape(world, connection):
    sync_now(connection)

    entries = json.loads(tree(world)[INDEX_PATH])["pages"]
    assert "elsewhere" not in entries[world.pages["home"].id]
    assert entries[world.pages["guide"].id]["elsewhere"][0][:3] == [
        entries[world.pages["guide"].id]["elsewhere"][0][0],
        "whiteboard",
        "Roadmap board",
    ]


def test_a_board_below_a_folder_is_listed_nowhere(world, connection):
    folder = world.atlassian.create_folder(world.site.cloud_id, space_key="ENG", title="Boards")
    world.atlassian.create_page(
        world.site.cloud_id, space_key="ENG", title="Notes", body="<p>n</p>", parent_id=folder.id, emit=False
    )
    world.atlassian.create_board(
        world.site.cloud_id, kind="whiteboard", space_key="ENG", title="Loose", parent_id=folder.id, emit=False
    )

    sync_now(connection)

    assert not any(b"Loose" in content for content in tree(world).values())


def test_a_moved_page_keeps_its_list(world, connection, roadmap):
    """A moved page's subtree is read again with one search, which brings the boards below it along."""
    sync_now(connection)
    world.atlassian.move_page(world.pages["guide"].id, emit=False)  # to the space's top level

    run = sync_now(connection, trigger=SyncRun.Trigger.FORGE, page_ids=[world.pages["guide"].id])

    assert run.counts["moved"] == 1
    assert ROADMAP.format(id=roadmap.id) in text(world, "confluence/ENG/deploy-guide.md")


def test_a_board_event_outside_every_scope_asks_confluence_nothing(world, connection, applied):
    sync_now(connection)
    a, cloud_id = world.atlassian, world.site.cloud_id
    a.create_space(cloud_id, key="HR", name="People", emit=False, homepage=False)
    page = a.create_page(cloud_id, space_key="HR", title="Pay", body="<p>p</p>", emit=False)
    a.reset_log()

    applied(lambda: a.create_board(cloud_id, kind="whiteboard", space_key="HR", title="Bands", parent_id=page.id))

    event = WebhookEvent.objects.get(event_type="avi:confluence:created:whiteboard")
    assert (event.status, event.runs.count(), a.count()) == (WebhookEvent.Status.IGNORED, 0, 0)


def test_a_search_that_refuses_the_board_kinds_still_syncs_every_page(world, connection, monkeypatch):
    # Atlassian documents CQL's `type` for pages, posts, comments and attachments only: a site whose search refused
    # the board kinds (400) must lose nothing but the boards' list.
    searched = ConfluenceClient.page_facts

    def refusing(client, cql):
        if "whiteboard" in cql:
            raise ConfluenceError("Confluence answered 400: could not parse cql", status=400)
        return searched(client, cql)

    monkeypatch.setattr(ConfluenceClient, "page_facts", refusing)
    run = sync_now(connection)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert "Deploy" in text(world, GUIDE) and "Roadmap board" not in text(world, GUIDE)
