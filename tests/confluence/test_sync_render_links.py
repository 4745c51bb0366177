"""Links the renderer resolves through the synced site (issue 17): an image of another page's attachment named by
the page's title, and a link to a space, point at files in the repository when the sync holds them."""

import pytest

from confluence.models import SyncRun
from tests.confluence.sync_world import sync_now, tree

pytestmark = pytest.mark.django_db

FLOW = b"\x89PNG\r\n\x1a\nfake-image"  # Deploy Guide's flow.png (sync_world)


def page(world, title: str, body: str, space_key: str = "OPS"):
    return world.atlassian.create_page(world.site.cloud_id, space_key=space_key, title=title, body=body, emit=False)


def test_an_image_of_another_pages_attachment_by_title_shows_the_repositorys_file_downloaded_once(world, connection):
    page(
        world,
        "Diagrams",
        '<p><ac:image><ri:attachment ri:filename="flow.png"><ri:page ri:space-key="ENG" ri:content-title="Deploy Guide"'
        " /></ri:attachment></ac:image></p>",
    )
    world.atlassian.reset_log()
    run = sync_now(connection)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    files = tree(world)
    guide = world.pages["guide"].id
    assert files[f"confluence/ENG/_attachments/{guide}/flow.png"] == FLOW
    assert f"![flow.png](../ENG/_attachments/{guide}/flow.png)" in files["confluence/OPS/diagrams.md"].decode()
    # The Deploy Guide shows the file too: one download serves both pages.
    assert world.atlassian.count("GET", r"/attachment/[^/]+/download$") == 1


def test_an_image_of_an_unsynced_pages_attachment_by_title_still_links_to_that_page(world, connection):
    page(
        world,
        "Diagrams",
        '<p><ac:image><ri:attachment ri:filename="x.png"><ri:page ri:content-title="Nowhere" /></ri:attachment>'
        "</ac:image></p>",
    )
    sync_now(connection)
    assert (
        "[x.png](https://acme.atlassian.net/wiki/display/OPS/Nowhere)"
        in tree(world)["confluence/OPS/diagrams.md"].decode()
    )


def test_a_link_to_a_synced_space_goes_to_its_home_pages_file(world, connection):
    page(
        world,
        "Spaces",
        '<p><ac:link><ri:space ri:space-key="ENG" /></ac:link> and '
        '<ac:link><ri:space ri:space-key="HR" /></ac:link></p>',
    )
    sync_now(connection)
    markdown = tree(world)["confluence/OPS/spaces.md"].decode()
    assert "[ENG](../ENG/home.md)" in markdown
    assert "[HR](https://acme.atlassian.net/wiki/spaces/HR)" in markdown
