"""The scope editor's "Include blog posts" (issue 17, item 9): one box per space, beside the JSON selection; saved
on the whole-space entry of the scope (`"blog": true`), shown again, counted by the preview as the sync judges
posts (excluded labels, restrictions), and refused for a space that is not synced whole."""

from __future__ import annotations

import lxml.html
import pytest
from django.urls import reverse

from confluence.models import SyncScope
from tests.flows import atlassian_consent, scope_selection

pytestmark = pytest.mark.django_db


@pytest.fixture
def wiki(sandbox, as_user, alice, confluence_connection):
    """ENG: one page and four posts (one labelled draft, one restricted); OPS: one page, no blog."""
    a = sandbox.atlassian
    site = a.create_site(name="Acme Wiki", url="https://acme.atlassian.net")
    atlassian_consent(as_user(alice), confluence_connection)
    for key, name in (("ENG", "Engineering"), ("OPS", "Operations")):
        a.create_space(site.cloud_id, key=key, name=name, emit=False, homepage=False)
        a.create_page(site.cloud_id, space_key=key, title=f"{name} home", body="<p/>", emit=False)
    for title, labels in (("Launch", ()), ("Retro", ()), ("Draft idea", ("draft",)), ("Secret", ())):
        post = a.create_blogpost(site.cloud_id, space_key="ENG", title=title, body="<p/>", labels=labels, emit=False)
    a.restrict_page(post.id, users=[a.default_user().account_id], emit=False)
    return site


def scope_url(connection) -> str:
    return reverse("confluence-step-scope", args=[connection.org.slug, connection.id])


def editor(response):
    return lxml.html.fromstring(response.content)


def blog_boxes(doc) -> dict[str, bool]:
    return {box.get("value"): box.get("checked") is not None for box in doc.xpath('//input[@name="blog"]')}


def test_each_space_has_a_labelled_blog_box(as_user, alice, confluence_connection, wiki):
    doc = editor(as_user(alice).get(scope_url(confluence_connection)))
    assert blog_boxes(doc) == {"ENG": False, "OPS": False}
    [box] = doc.xpath('//input[@name="blog"][@value="ENG"]')
    assert box.getparent().tag == "label" and "Include blog posts" in box.getparent().text_content()
    assert doc.get_element_by_id(box.get("aria-describedby")) is not None


def test_it_saves_the_opt_in_and_shows_it_again(as_user, alice, confluence_connection, wiki):
    client = as_user(alice)
    fields = {"selection": scope_selection(spaces=["ENG", "OPS"]), "blog": ["ENG"], "action": "save"}
    assert client.post(scope_url(confluence_connection), fields).status_code == 302
    scope = SyncScope.objects.get(connection=confluence_connection)
    assert [(s["key"], s.get("blog", False)) for s in scope.spaces] == [("ENG", True), ("OPS", False)]
    assert "blog" not in scope.spaces[1]
    assert blog_boxes(editor(client.get(scope_url(confluence_connection)))) == {"ENG": True, "OPS": False}


def test_unticking_the_box_saves_the_space_without_its_blog(as_user, alice, confluence_connection, wiki):
    client = as_user(alice)
    selection = scope_selection(spaces=["ENG"])
    client.post(scope_url(confluence_connection), {"selection": selection, "blog": ["ENG"], "action": "save"})
    client.post(scope_url(confluence_connection), {"selection": selection, "action": "save"})
    assert SyncScope.objects.get(connection=confluence_connection).spaces[0].get("blog") is None


def test_the_preview_counts_the_posts_the_sync_would_write(as_user, alice, confluence_connection, wiki):
    fields = {"selection": scope_selection(spaces=["ENG"], labels=["draft"]), "blog": ["ENG"], "action": "preview"}
    doc = editor(as_user(alice).post(scope_url(confluence_connection), fields))
    preview = " ".join(doc.get_element_by_id("scope-preview").text_content().split())
    # Launch and Retro: Draft idea carries an excluded label, Secret is restricted.
    assert "1 page and 2 blog posts in 1 space will be synced" in preview
    [row] = doc.xpath('//table[@id="scope-blog-counts"]/tbody/tr')
    assert [cell.text_content() for cell in row.xpath("td")] == ["ENG", "2", "4 (1 restricted, skipped)"]


def test_a_preview_without_a_blog_mentions_no_posts(as_user, alice, confluence_connection, wiki):
    fields = {"selection": scope_selection(spaces=["ENG"]), "action": "preview"}
    doc = editor(as_user(alice).post(scope_url(confluence_connection), fields))
    assert "blog" not in doc.get_element_by_id("scope-preview").text_content()


def test_it_refuses_a_blog_without_its_whole_space(as_user, alice, confluence_connection, wiki):
    fields = {"selection": scope_selection(spaces=["OPS"]), "blog": ["ENG"], "action": "save"}
    response = as_user(alice).post(scope_url(confluence_connection), fields)
    assert response.status_code == 400
    assert "Blog posts are synced with a whole space only: tick ENG too" in response.content.decode()
    assert not SyncScope.objects.exists()


def test_emptying_a_scope_that_synced_only_posts_asks_first(as_user, alice, confluence_connection, wiki, sandbox):
    client = as_user(alice)
    home = next(p for p in sandbox.atlassian.pages.values() if p.title == "Engineering home")
    no_pages = scope_selection(spaces=["ENG"], pages={"ENG": {home.id: "exclude"}})
    posts_only = {"selection": no_pages, "blog": ["ENG"], "action": "save"}
    assert client.post(scope_url(confluence_connection), posts_only).status_code == 302

    response = client.post(scope_url(confluence_connection), {"selection": no_pages, "action": "save"})

    assert response.status_code == 400
    assert editor(response).get_element_by_id("scope-confirm-empty") is not None
    assert SyncScope.objects.get().spaces[0]["blog"]
