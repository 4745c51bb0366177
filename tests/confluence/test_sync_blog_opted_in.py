"""A space that syncs its blog but has no synced post yet (issue 17): its blog-posts macro says so in the repository
instead of linking to Confluence, since the sync will write the posts there as they come."""

import pytest

from confluence.models import SyncRun
from sandbox import demo
from tests.confluence.sync_world import sync_now, tree

pytestmark = pytest.mark.django_db

MACRO = '<ac:structured-macro ac:name="blog-posts" />'


def test_the_blog_posts_macro_of_a_space_syncing_an_empty_blog_says_there_are_none(world, acme, alice):
    world.atlassian.create_page(world.site.cloud_id, space_key="ENG", title="News", body=MACRO, emit=False)
    connection = demo.connect(
        world, org=acme, user=alice, cloud_id=world.site.cloud_id, space_keys=["ENG"], repository="acme-inc/wiki"
    )
    scope = connection.sync_scope
    scope.spaces = [{**space, "blog": True} for space in scope.spaces]
    scope.save()

    run = sync_now(connection)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    news = tree(world)["confluence/ENG/news.md"].decode()
    assert "*No blog posts.*" in news
    assert "wiki/spaces/ENG/blog" not in news
