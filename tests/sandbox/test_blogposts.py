"""Blog posts as the simulated Confluence serves them (issue 17, item 9): v2 `/blogposts`, `/blogposts/{id}` and
`/spaces/{id}/blogposts` with BlogPostBulk's fields, CQL `type = blogpost`, v1 content of type blogpost, the
editing API and its Forge `…:blogpost` events; and the page endpoints, which never answer with a post."""

from __future__ import annotations

import json

import pytest
import requests

from sandbox.atlassian.models import iso
from sandbox.seed import seed_world
from sandbox.seed_blog import seed_blog

BASE = "http://testserver/sandbox/atlassian"
POSTED = 1_762_160_400_000  # 2025-11-03T09:00:00Z
# BlogPostBulk: https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-blog-post/
BULK_FIELDS = {"id", "status", "title", "spaceId", "authorId", "createdAt", "version", "body", "_links"}


@pytest.fixture
def site(atlassian_sim):
    atlassian_sim.create_user(account_id="557058:alice", name="Alice", email="alice@example.com")
    return atlassian_sim.create_site(name="Acme Sandbox", url="https://acme-sandbox.atlassian.net")


@pytest.fixture
def blog(atlassian_sim, site):
    space = atlassian_sim.create_space(site.cloud_id, key="ENG", name="Engineering", homepage=False)
    page = atlassian_sim.create_page(site.cloud_id, space_key="ENG", title="Guide", body="<p>g</p>")
    post = atlassian_sim.create_blogpost(
        site.cloud_id, space_key="ENG", title="Launch day", body="<p>We shipped.</p>", posted_at=POSTED
    )
    return {"space": space, "page": page, "post": post}


@pytest.fixture
def get(atlassian_sim, site):
    token = atlassian_sim.connect()["access_token"]
    root = f"{BASE}/api/ex/confluence/{site.cloud_id}/wiki"

    def get(path, **params):
        return requests.get(f"{root}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=5)

    return get


def test_it_lists_a_spaces_posts_with_the_bulk_fields(get, blog):
    response = get(f"/api/v2/spaces/{blog['space'].id}/blogposts", limit=250, **{"body-format": "storage"})
    [post] = response.json()["results"]
    assert set(post) == BULK_FIELDS
    assert (post["id"], post["title"], post["spaceId"]) == (blog["post"].id, "Launch day", blog["space"].id)
    assert post["createdAt"] == "2025-11-03T09:00:00.000Z" and post["version"]["number"] == 1
    assert post["body"]["storage"]["value"] == "<p>We shipped.</p>"
    assert post["_links"]["webui"] == f"/spaces/ENG/blog/2025/11/03/{blog['post'].id}/Launch+day"


def test_it_reads_posts_by_id_in_bulk_and_alone(get, blog):
    ids = f"{blog['post'].id},{blog['page'].id}"
    assert [p["id"] for p in get("/api/v2/blogposts", id=ids).json()["results"]] == [blog["post"].id]
    assert get(f"/api/v2/blogposts/{blog['post'].id}").json()["title"] == "Launch day"
    assert get(f"/api/v2/blogposts/{blog['page'].id}").status_code == 404


def test_the_page_endpoints_never_answer_with_a_post(get, blog):
    post_id = blog["post"].id
    assert [p["id"] for p in get(f"/api/v2/spaces/{blog['space'].id}/pages").json()["results"]] == [blog["page"].id]
    assert get("/api/v2/pages", id=post_id).json()["results"] == []
    assert get(f"/api/v2/pages/{post_id}").status_code == 404
    assert [c["id"] for c in get("/rest/api/content", spaceKey="ENG").json()["results"]] == [blog["page"].id]


def test_cql_finds_posts_only_when_asked(get, blog):
    def found(cql):
        return {item["id"]: item["type"] for item in get("/rest/api/content/search", cql=cql).json()["results"]}

    assert found('space = "ENG"') == {blog["page"].id: "page"}
    assert found('type = blogpost AND space = "ENG"') == {blog["post"].id: "blogpost"}
    assert found('type in (page, blogpost) AND space = "ENG"') == {blog["page"].id: "page", blog["post"].id: "blogpost"}


def test_v1_content_lists_and_reads_posts_by_type(get, blog):
    listed = get("/rest/api/content", spaceKey="ENG", type="blogpost").json()["results"]
    assert [(c["id"], c["type"]) for c in listed] == [(blog["post"].id, "blogpost")]
    assert get(f"/rest/api/content/{blog['post'].id}").json()["type"] == "blogpost"


def test_a_trashed_post_leaves_the_listings(atlassian_sim, get, blog):
    atlassian_sim.trash_blogpost(blog["post"].id)
    assert get(f"/api/v2/spaces/{blog['space'].id}/blogposts").json()["results"] == []
    assert get(f"/api/v2/blogposts/{blog['post'].id}").status_code == 404
    assert get(f"/api/v2/blogposts/{blog['post'].id}", status="trashed").json()["status"] == "trashed"


def test_a_posts_attachments_and_labels_hang_off_the_post(atlassian_sim, get, blog):
    post_id = blog["post"].id
    atlassian_sim.add_attachment(post_id, filename="chart.png", data=b"png", media_type="image/png")
    atlassian_sim.add_label(post_id, "news")
    [attachment] = get(f"/api/v2/blogposts/{post_id}/attachments").json()["results"]
    assert attachment["blogPostId"] == post_id and "pageId" not in attachment
    assert [label["name"] for label in get(f"/api/v2/blogposts/{post_id}/labels").json()["results"]] == ["news"]
    assert get(f"/api/v2/pages/{post_id}/attachments").status_code == 404


def test_editing_a_post_emits_blogpost_events(atlassian_sim, site):
    delivered = []
    atlassian_sim.deliver = lambda url, body, headers: delivered.append(json.loads(body)) or 200
    atlassian_sim.install_forge_app(site.cloud_id)
    atlassian_sim.create_space(site.cloud_id, key="ENG", name="Engineering", emit=False)
    post = atlassian_sim.create_blogpost(site.cloud_id, space_key="ENG", title="Launch", body="<p>x</p>")
    atlassian_sim.update_blogpost(post.id, title="Launch day")
    atlassian_sim.trash_blogpost(post.id)
    atlassian_sim.purge_blogpost(post.id)
    events = [body for body in delivered if ":confluence:" in body["eventType"]]
    assert [body["eventType"] for body in events] == [
        "avi:confluence:created:blogpost",
        "avi:confluence:updated:blogpost",
        "avi:confluence:trashed:blogpost",
        "avi:confluence:deleted:blogpost",
    ]
    assert {body["content"]["type"] for body in events} == {"blogpost"}
    with pytest.raises(ValueError):
        atlassian_sim.update_blogpost(atlassian_sim.space_by_key(site.cloud_id, "ENG").homepage_id, body="<p/>")


def test_the_seeded_blog_spans_months_with_links_a_draft_and_a_restricted_post(sandbox):
    summary = seed_world(sandbox, pages=30, spaces=2, seed=0)
    ids = seed_blog(sandbox.atlassian, summary.cloud_id, summary.spaces)
    posts = [sandbox.atlassian.pages[pid] for pid in ids]
    assert {post.type for post in posts} == {"blogpost"}
    first = sandbox.atlassian.space_by_key(summary.cloud_id, summary.spaces[0])
    assert {post.space_id for post in posts} == {
        sandbox.atlassian.space_by_key(summary.cloud_id, key).id for key in summary.spaces
    }
    assert len({iso(post.created_at)[:7] for post in posts}) >= 4
    assert [post.title for post in posts if "draft" in post.labels] == ["Engineering plans for next year"]
    *_, secret = posts
    assert secret.space_id == first.id and sandbox.atlassian.restricted_by(secret) == [secret]
    assert all("<ri:page " in post.body for post in posts[:-1]) and "<ri:blog-post " in posts[1].body
