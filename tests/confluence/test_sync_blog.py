"""Blog posts of the spaces whose blog the scope syncs (issue 17, item 9): where they are written, what they cost,
how links and the blog-posts macro reach them, and how Forge events and scope changes move them.

The world is the default sync world plus an ENG blog: three posts over two months (one linking to a page, one to
another post), one labelled `draft` (excluded by the scope), one restricted; and a page that lists the blog and
links to a post by title and posting day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest

from confluence.models import SyncRun, WebhookEvent
from sandbox import demo
from tests.confluence.sync_world import front_matter, sync_now, tree

pytestmark = pytest.mark.django_db

NOVEMBER = "confluence/ENG/blog/2025/11/release-notes.md"
DECEMBER = "confluence/ENG/blog/2025/12/incident-review.md"
LISTING = "confluence/ENG/home/blog-digest.md"


def posted(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, 9, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture(autouse=True)
def blog(world):
    a, cloud_id = world.atlassian, world.site.cloud_id
    me = a.default_user().account_id
    posts = {
        "release": a.create_blogpost(
            cloud_id,
            space_key="ENG",
            title="Release notes",
            body='<p>Read <ac:link><ri:page ri:content-title="Deploy Guide" /></ac:link> first.</p>',
            labels=["news"],
            posted_at=posted(2025, 11, 3),
            emit=False,
        ),
        "review": a.create_blogpost(
            cloud_id,
            space_key="ENG",
            title="Incident review",
            body=(
                '<p>Since <ac:link><ri:blog-post ri:content-title="Release notes" ri:posting-day="2025/11/03" />'
                "</ac:link>.</p>"
            ),
            posted_at=posted(2025, 12, 10),
            emit=False,
        ),
        "draft": a.create_blogpost(
            cloud_id, space_key="ENG", title="Half done", body="<p>WIP</p>", labels=["draft"], emit=False
        ),
        "secret": a.create_blogpost(cloud_id, space_key="ENG", title="Layoffs", body="<p>Hush.</p>", emit=False),
    }
    a.restrict_page(posts["secret"].id, users=[me], emit=False)
    world.pages["digest"] = a.create_page(
        cloud_id,
        space_key="ENG",
        title="Blog digest",
        parent_id=world.pages["home"].id,
        body=(
            '<ac:structured-macro ac:name="blog-posts"><ac:parameter ac:name="max">5</ac:parameter>'
            "</ac:structured-macro>"
            '<p>Start with <ac:link><ri:blog-post ri:content-title="Release notes" ri:posting-day="2025/11/03" />'
            '</ac:link> and <ac:link><ri:content-entity ri:content-id="' + posts["review"].id + '" /></ac:link>.</p>'
        ),
        emit=False,
    )
    world.posts = posts
    return posts


def connect(world, acme, alice):
    return demo.connect(
        world,
        org=acme,
        user=alice,
        cloud_id=world.site.cloud_id,
        space_keys=["ENG", "OPS"],
        repository="acme-inc/wiki",
        excluded_labels=("draft",),
    )


def set_blog(connection, *keys: str) -> None:
    scope = connection.sync_scope
    scope.spaces = [
        {key: value for key, value in {**space, "blog": space["key"] in keys}.items() if value is not False}
        for space in scope.spaces
    ]
    scope.save()


@pytest.fixture
def plain(world, acme, alice):
    """ENG and OPS synced whole, no blog."""
    return connect(world, acme, alice)


@pytest.fixture
def blogging(world, acme, alice):
    """ENG (with its blog) and OPS synced whole, label `draft` excluded; after the first sync."""
    connection = connect(world, acme, alice)
    set_blog(connection, "ENG")
    run = sync_now(connection)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return connection


def posts_in(files) -> set[str]:
    return {path for path in files if "/blog/" in path}


def confluence_paths(world) -> list[str]:
    return [request.path for request in world.atlassian.requests]


# Writing posts -------------------------------------------------------------------------------------------------


def test_it_writes_the_posts_of_a_blog_by_posting_month_with_front_matter(world, blogging):
    files = tree(world)
    assert posts_in(files) == {NOVEMBER, DECEMBER}
    meta = front_matter(files[NOVEMBER])
    assert meta["type"] == "blogpost" and meta["title"] == "Release notes"
    assert meta["page_id"] == world.posts["release"].id and meta["labels"] == ["news"] and meta["space_key"] == "ENG"
    assert meta["source_url"].startswith("https://acme.atlassian.net/wiki/spaces/ENG/blog/2025/11/03/")
    assert "type" not in front_matter(files[LISTING])


def test_a_posts_attachments_go_where_pages_attachments_go(world, blogging):
    post = world.posts["release"]
    image = b"\x89PNG\r\n\x1a\nchart"
    world.atlassian.add_attachment(post.id, filename="chart.png", data=image, media_type="image/png")
    body = '<p><ac:image><ri:attachment ri:filename="chart.png" /></ac:image></p>'
    world.atlassian.update_blogpost(post.id, body=body)
    run = sync_now(blogging)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    files = tree(world)
    assert files[f"confluence/ENG/_attachments/{post.id}/chart.png"] == image
    assert f"](../../../_attachments/{post.id}/chart.png)" in files[NOVEMBER].decode()


def test_it_never_writes_a_restricted_post_and_reports_it(world, blogging):
    assert not any(b"Hush" in content for content in tree(world).values())
    assert world.posts["secret"].id in blogging.sync_state.restricted_pages


def test_the_scope_file_says_which_blogs_are_synced(world, blogging):
    scope = tree(world)[".ctx/confluence.yml"].decode()
    assert "- key: ENG\n  name: Engineering\n  blog: true\n" in scope
    assert "- key: OPS\n  name: Operations\n- " not in scope and "blog: true" not in scope.split("key: OPS")[1]


# What it costs -------------------------------------------------------------------------------------------------


def test_a_scope_without_a_blog_asks_nothing_about_posts(world, plain):
    run = sync_now(plain)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert not posts_in(tree(world))
    assert not any("blogpost" in path for path in confluence_paths(world))
    searches = [parse_qs(r.query)["cql"][0] for r in world.atlassian.requests if r.path.endswith("/content/search")]
    assert searches and not any("blogpost" in cql for cql in searches)


def test_posts_cost_a_scope_without_a_blog_not_one_request(world, plain):
    sync_now(plain)
    with_posts = sync_now(plain, full=True)
    for post in world.posts.values():
        world.atlassian.purge_blogpost(post.id, emit=False)
    without_posts = sync_now(plain, full=True)
    assert with_posts.confluence_requests == without_posts.confluence_requests


def test_syncing_a_blog_adds_just_the_listing_of_its_posts(world, plain):
    sync_now(plain)
    world.atlassian.reset_log()
    without = sync_now(plain, full=True)
    set_blog(plain, "ENG", "OPS")
    world.atlassian.reset_log()
    with_blogs = sync_now(plain, full=True)
    assert with_blogs.status == SyncRun.Status.SUCCEEDED, with_blogs.error
    # One listing per space whose blog is synced (fewer than 250 posts each); the facts search is the same one.
    assert with_blogs.confluence_requests - without.confluence_requests == 2
    assert world.atlassian.count("GET", r"/spaces/\d+/blogposts$") == 2


# Links and lists -----------------------------------------------------------------------------------------------


def test_links_between_pages_and_posts_become_relative(world, blogging):
    files = tree(world)
    assert "](../../../home/deploy-guide.md)" in files[NOVEMBER].decode()
    assert "](../11/release-notes.md)" in files[DECEMBER].decode()
    listing = files[LISTING].decode()
    assert "](../blog/2025/11/release-notes.md)" in listing and "](../blog/2025/12/incident-review.md)" in listing


def test_the_blog_posts_macro_lists_the_synced_posts_newest_first(world, blogging):
    listing = tree(world)[LISTING].decode()
    macro = listing.split("Start with")[0]
    assert macro.index("Incident review") < macro.index("Release notes")
    assert "(2025-12-10)" in macro and "Half done" not in macro and "Layoffs" not in macro
    assert "in Confluence" not in macro


def test_the_blog_posts_macro_links_to_confluence_when_the_blog_is_not_synced(world, plain):
    sync_now(plain)
    listing = tree(world)[LISTING].decode()
    assert "[Blog posts](https://acme.atlassian.net/wiki/spaces/ENG/blog)" in listing
    assert "../blog/" not in listing


# Forge events and scope changes --------------------------------------------------------------------------------


def only_run(event_type: str) -> SyncRun:
    event = WebhookEvent.objects.get(event_type=event_type)
    assert event.status == WebhookEvent.Status.PROCESSED, event.detail
    [run] = event.runs.all()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def changed(before: dict, after: dict) -> set[str]:
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)} - {
        ".ctx/confluence-index.json"
    }


def test_an_edited_post_is_one_commit_of_that_post(world, blogging, applied):
    before = tree(world)
    applied(lambda: world.atlassian.update_blogpost(world.posts["review"].id, body="<p>Root cause: DNS.</p>"))
    run = only_run("avi:confluence:updated:blogpost")
    assert run.page_ids == [world.posts["review"].id] and run.counts["updated"] == 1
    assert changed(before, tree(world)) == {DECEMBER}
    assert "Root cause: DNS." in tree(world)[DECEMBER].decode()


def test_a_trashed_post_is_deleted_in_one_commit(world, blogging, applied):
    before = tree(world)
    applied(lambda: world.atlassian.trash_blogpost(world.posts["review"].id))
    run = only_run("avi:confluence:trashed:blogpost")
    assert run.counts["removed"] == 1
    after = tree(world)
    assert DECEMBER not in after and NOVEMBER in after
    # The page listing the blog and linking to the post is rendered again, nothing else.
    assert changed(before, after) == {DECEMBER, LISTING}


def test_an_event_of_a_restricted_post_writes_nothing(world, blogging, applied):
    before = tree(world)
    applied(lambda: world.atlassian.update_blogpost(world.posts["secret"].id, body="<p>Still hush.</p>"))
    assert tree(world) == before


def test_a_renamed_post_moves_and_the_pages_linking_to_it_follow(world, blogging, applied):
    applied(lambda: world.atlassian.update_blogpost(world.posts["review"].id, title="Outage review"))
    run = only_run("avi:confluence:updated:blogpost")
    assert run.counts["moved"] == 1
    files = tree(world)
    moved = "confluence/ENG/blog/2025/12/outage-review.md"
    assert DECEMBER not in files and moved in files
    assert "](../blog/2025/12/outage-review.md)" in files[LISTING].decode()


def test_opting_out_deletes_the_posts_and_nothing_else(world, blogging):
    before = tree(world)
    set_blog(blogging)
    run = sync_now(blogging)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    after = tree(world)
    assert not posts_in(after)
    assert {path for path in before if path not in after} == {NOVEMBER, DECEMBER}
    assert run.counts["removed"] == 2
