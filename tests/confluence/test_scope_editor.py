"""The scope editor (issue 14, items 3 and 4): one structured `selection` field, read the same way by Preview and
Save; page-level picks survive the redraw; thousands of picks fit in one request; hostile fields are form errors.
Issue 18, item 14: the preview's difference from the saved scope, restricted pages when the selection reports them,
and the whole listing of a space the browser builds its tree from (tests/test_browser_scope.py drives the tree)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import lxml.html
import pytest
from django.conf import settings
from django.urls import reverse

from confluence.gateway import ConfluenceError
from confluence.models import SyncScope
from confluence.setup.scope_picks import MAX_PAGE_PICKS, MAX_SELECTION_CHARS
from confluence.setup.scope_preview import MAX_DIFF_LISTED, Preview
from tests.flows import atlassian_consent, scope_selection

pytestmark = pytest.mark.django_db


@pytest.fixture
def wiki(sandbox, as_user, alice, confluence_connection):
    """ENG: Welcome / FAQ / FAQ details, Welcome / Guide (draft), Welcome / Setup.
    OPS: Ops home / Release process / Checklist (obsolete), Release process / Hotfixes; Payments dashboard."""
    a = sandbox.atlassian
    site = a.create_site(name="Acme Wiki", url="https://acme.atlassian.net")
    atlassian_consent(as_user(alice), confluence_connection)
    eng = a.create_space(site.cloud_id, key="ENG", name="Engineering", emit=False, homepage=False)
    a.create_space(site.cloud_id, key="OPS", name="Operations", emit=False, homepage=False)

    def page(key, title, parent=None, labels=()):
        parent_id = parent.id if parent else None
        return a.create_page(
            site.cloud_id, space_key=key, title=title, body="<p/>", parent_id=parent_id, labels=labels, emit=False
        )

    welcome = page("ENG", "Welcome")
    faq = page("ENG", "FAQ", welcome)
    page("ENG", "FAQ details", faq)
    page("ENG", "Guide", welcome, labels=["draft"])
    page("ENG", "Setup", welcome)
    ops_home = page("OPS", "Ops home")
    release = page("OPS", "Release process", ops_home)
    page("OPS", "Checklist", release, labels=["obsolete"])
    page("OPS", "Hotfixes", release)
    page("OPS", "Payments dashboard", labels=["draft"])
    return {"site": site, "eng": eng, "welcome": welcome, "faq": faq, "release": release}


def scope_url(connection) -> str:
    return reverse("confluence-step-scope", args=[connection.org.slug, connection.id])


def post_as_browser(client, url: str, fields: dict):
    """A form POST encoded as browsers send it (percent-encoded), which is what Django's size limits count."""
    return client.post(url, urlencode(fields), content_type="application/x-www-form-urlencoded")


def editor(response):
    return lxml.html.fromstring(response.content)


def page_choices(doc) -> dict[str, str]:
    """The list of page choices: page id → the chosen mode."""
    return {
        select.get("data-page"): (select.xpath("option[@selected]/@value") or [""])[0]
        for select in doc.xpath('//ul[@id="scope-picks"]//select')
    }


def choice_titles(doc) -> dict[str, str]:
    return {row.get("data-pick"): row.xpath("span")[0].text_content() for row in doc.xpath('//*[@id="scope-picks"]/li')}


def ticked_spaces(doc) -> set[str]:
    return {box.get("data-space") for box in doc.xpath("//input[@data-space][@checked]")}


def selection_field(doc) -> dict:
    return json.loads(doc.xpath('//input[@id="scope-selection"]/@value')[0])


def errors(doc) -> str:
    return " ".join(item.text_content() for item in doc.xpath('//ul[@class="errorlist"]/li'))


def item_3_selection(wiki) -> str:
    return scope_selection(
        spaces=["ENG"],
        pages={"ENG": {wiki["faq"].id: "exclude"}, "OPS": {wiki["release"].id: "include"}},
        labels=["draft", "obsolete"],
    )


# Item 3: what Preview shows is what Save stores ---------------------------------------------------------------


def test_it_redraws_every_pick_after_a_preview(as_user, alice, confluence_connection, wiki):
    response = as_user(alice).post(
        scope_url(confluence_connection), {"selection": item_3_selection(wiki), "action": "preview"}
    )
    assert response.status_code == 200
    doc = editor(response)
    # ENG: Welcome and Setup (FAQ and FAQ details excluded as a tree, Guide by its label);
    # OPS: Release process and Hotfixes (Checklist excluded by its label).
    assert "4 pages in 2 spaces will be synced; 4 excluded" in doc.get_element_by_id("scope-preview").text_content()
    assert ticked_spaces(doc) == {"ENG"}
    assert page_choices(doc) == {wiki["faq"].id: "exclude", wiki["release"].id: "include"}
    assert choice_titles(doc) == {wiki["faq"].id: "FAQ", wiki["release"].id: "Release process"}
    assert doc.get_element_by_id("scope-labels").get("value") == "draft, obsolete"
    assert selection_field(doc) == json.loads(item_3_selection(wiki))
    assert not SyncScope.objects.exists()


def test_it_saves_what_the_preview_showed(as_user, alice, confluence_connection, wiki):
    client = as_user(alice)
    preview = editor(
        client.post(scope_url(confluence_connection), {"selection": item_3_selection(wiki), "action": "preview"})
    )
    # Save re-sends the field the preview page holds, as the browser does.
    resent = preview.xpath('//input[@id="scope-selection"]/@value')[0]
    response = client.post(scope_url(confluence_connection), {"selection": resent, "action": "save"})
    assert response.status_code == 302
    scope = SyncScope.objects.get(connection=confluence_connection)
    assert [s["key"] for s in scope.spaces] == ["ENG"]
    assert scope.pages == [
        {"id": wiki["release"].id, "title": "Release process", "space_key": "OPS", "descendants": True}
    ]
    assert scope.excluded_pages == [{"id": wiki["faq"].id, "title": "FAQ", "space_key": "ENG", "descendants": True}]
    assert scope.excluded_labels == ["draft", "obsolete"]
    task = confluence_connection.tasks.get(kind="configure_scope")
    assert task.detail == "4 pages in 2 spaces will be synced; 4 excluded"


def test_it_shows_the_saved_scope_with_its_page_choices(as_user, alice, confluence_connection, wiki):
    client = as_user(alice)
    client.post(scope_url(confluence_connection), {"selection": item_3_selection(wiki), "action": "save"})
    doc = editor(client.get(scope_url(confluence_connection)))
    assert ticked_spaces(doc) == {"ENG"}
    assert page_choices(doc) == {wiki["faq"].id: "exclude", wiki["release"].id: "include"}
    assert choice_titles(doc) == {wiki["faq"].id: "FAQ", wiki["release"].id: "Release process"}
    assert selection_field(doc) == json.loads(item_3_selection(wiki))
    counts = {span.get("data-space-count"): span.text_content() for span in doc.xpath("//*[@data-space-count]")}
    assert counts == {"ENG": "1 page choice below", "OPS": "1 page choice below"}


def test_it_keeps_the_picks_on_the_page_when_they_have_errors(as_user, alice, confluence_connection, wiki):
    selection = scope_selection(
        spaces=["ENG", "GONE"], pages={"OPS": {wiki["release"].id: "include_only", "99999999": "exclude"}}
    )
    response = as_user(alice).post(scope_url(confluence_connection), {"selection": selection, "action": "save"})
    assert response.status_code == 400
    doc = editor(response)
    assert "Unknown space: GONE" in errors(doc)
    assert "not in this Confluence site" in errors(doc) and "OPS:99999999" in errors(doc)
    assert not doc.xpath('//*[@id="scope-preview"]')
    assert ticked_spaces(doc) == {"ENG", "GONE"}
    assert "No longer in this site" in doc.xpath('//li[@data-space-row="GONE"]')[0].text_content()
    assert page_choices(doc) == {wiki["release"].id: "include_only", "99999999": "exclude"}
    assert choice_titles(doc) == {wiki["release"].id: "Release process", "99999999": "Page 99999999"}
    assert not SyncScope.objects.exists()


def test_it_gives_each_lazily_loaded_page_a_choice_menu(as_user, alice, confluence_connection, wiki):
    """Each page of a tree level carries its id and space: scope_editor.js sets its choice from the selection
    (tests/test_browser.py sees it set after a Preview)."""
    children = reverse("confluence-scope-children", args=["acme", confluence_connection.id])
    response = as_user(alice).get(children, {"page": wiki["welcome"].id, "key": "ENG"})
    doc = lxml.html.fromstring(response.content)
    menus = {select.get("aria-label"): select for select in doc.xpath("//select[@data-page]")}
    assert set(menus) == {"FAQ in ENG", "Guide in ENG", "Setup in ENG"}
    assert menus["FAQ in ENG"].get("data-page") == wiki["faq"].id
    assert menus["FAQ in ENG"].get("data-space") == "ENG"
    assert menus["FAQ in ENG"].xpath("option/@value") == ["", "include", "include_only", "exclude", "exclude_only"]


def test_it_refuses_a_children_request_that_is_not_an_id(as_user, alice, confluence_connection, wiki):
    children = reverse("confluence-scope-children", args=["acme", confluence_connection.id])
    response = as_user(alice).get(children, {"page": "../../spaces", "key": "ENG"})
    assert response.status_code == 404


def test_it_lowercases_and_deduplicates_labels(as_user, alice, confluence_connection, wiki):
    selection = scope_selection(spaces=["ENG"], labels=["Draft", "draft", "OBSOLETE"])
    as_user(alice).post(scope_url(confluence_connection), {"selection": selection, "action": "save"})
    assert SyncScope.objects.get().excluded_labels == ["draft", "obsolete"]


# Item 4: a selection that scales ----------------------------------------------------------------------------


@pytest.fixture
def big_space(sandbox, wiki):
    """BIG: a root page, 50 sections under it, 100 pages under each section (the 5,000 to pick)."""
    a = sandbox.atlassian
    cloud_id = wiki["site"].cloud_id

    def page(title, parent):
        return a.create_page(cloud_id, space_key="BIG", title=title, body="<p/>", parent_id=parent, emit=False).id

    a.create_space(cloud_id, key="BIG", name="Big", emit=False, homepage=False)
    root = page("Root", None)
    sections = [page(f"Section {s}", root) for s in range(50)]
    return {"children": [page(f"Page {s}-{n}", section) for s, section in enumerate(sections) for n in range(100)]}


@pytest.mark.slow
def test_it_saves_5000_page_picks(as_user, alice, confluence_connection, big_space):
    modes = ("include", "include_only", "exclude", "exclude_only")
    picks = {pid: modes[n % 4] for n, pid in enumerate(big_space["children"])}
    fields = {"selection": scope_selection(pages={"BIG": picks}), "action": "save"}
    body = urlencode(fields)
    assert len(body) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS == 1000  # Django's default: the fix is one field, not a limit

    response = post_as_browser(as_user(alice), scope_url(confluence_connection), fields)

    assert response.status_code == 302, response.content[:2000]
    scope = SyncScope.objects.get(connection=confluence_connection)
    assert len(scope.pages) == 2500 and len(scope.excluded_pages) == 2500
    assert {p["id"] for p in scope.pages} | {p["id"] for p in scope.excluded_pages} == set(big_space["children"])
    assert sum(p["descendants"] for p in scope.pages) == sum(p["descendants"] for p in scope.excluded_pages) == 1250
    assert scope.pages[0] == {
        "id": big_space["children"][0],
        "title": "Page 0-0",
        "space_key": "BIG",
        "descendants": True,
    }


@pytest.mark.slow
def test_it_previews_5000_page_picks_with_every_pick_listed(as_user, alice, confluence_connection, big_space):
    picks = dict.fromkeys(big_space["children"], "include_only")
    fields = {"selection": scope_selection(pages={"BIG": picks}), "action": "preview"}
    response = post_as_browser(as_user(alice), scope_url(confluence_connection), fields)
    assert response.status_code == 200
    doc = editor(response)
    preview = doc.get_element_by_id("scope-preview").text_content()
    assert "5000 pages in 1 space will be synced; 0 excluded" in preview
    assert page_choices(doc) == picks
    # Nothing saved yet: all of them are added, the first hundred named and the rest counted.
    assert "Nothing is saved yet: 5000 pages will be added." in preview
    added = doc.xpath('//*[@id="scope-added"]//li')
    assert len(added) == MAX_DIFF_LISTED + 1
    assert added[-1].text_content() == f"and {5000 - MAX_DIFF_LISTED} more"


# Issue 18, item 14: the preview compared with the saved scope ---------------------------------------------------


def preview_of(client, connection, selection: str):
    response = client.post(scope_url(connection), {"selection": selection, "action": "preview"})
    assert response.status_code == 200, errors(editor(response))
    return editor(response).get_element_by_id("scope-preview")


def listed(preview, list_id: str) -> list[str]:
    return [" ".join(item.text_content().split()) for item in preview.xpath(f'.//*[@id="{list_id}"]//li')]


def space_counts(preview) -> dict[str, tuple[str, str]]:
    rows = preview.xpath('.//table[contains(@class, "space-counts")]/tbody/tr')
    return {row[0].text_content(): (row[1].text_content(), row[2].text_content()) for row in rows}


def test_it_shows_what_save_adds_and_removes(as_user, alice, confluence_connection, wiki):
    client = as_user(alice)
    client.post(scope_url(confluence_connection), {"selection": scope_selection(spaces=["ENG"]), "action": "save"})
    selection = scope_selection(pages={"ENG": {wiki["faq"].id: "include"}, "OPS": {wiki["release"].id: "include"}})

    preview = preview_of(client, confluence_connection, selection)

    # Saved: the five ENG pages. Now: FAQ and FAQ details, and the OPS release tree.
    text = " ".join(preview.text_content().split())
    assert "Compared with the saved scope (5 pages): 3 added, 3 removed." in text
    assert listed(preview, "scope-added") == ["Checklist OPS", "Hotfixes OPS", "Release process OPS"]
    assert listed(preview, "scope-removed") == ["Guide ENG", "Setup ENG", "Welcome ENG"]
    assert space_counts(preview) == {"ENG": ("2", "5"), "OPS": ("3", "5")}
    assert "restricted" not in text  # the listing says nothing of restrictions: no line, no invented count
    assert SyncScope.objects.get().spaces[0]["key"] == "ENG"  # a preview saves nothing


def test_it_asks_before_saving_a_scope_that_removes_every_page(as_user, alice, confluence_connection, wiki):
    client = as_user(alice)
    client.post(scope_url(confluence_connection), {"selection": scope_selection(spaces=["ENG"]), "action": "save"})
    nothing = scope_selection(spaces=["ENG"], pages={"ENG": {wiki["welcome"].id: "exclude"}})  # every ENG page

    refused = client.post(scope_url(confluence_connection), {"selection": nothing, "action": "save"})

    assert refused.status_code == 400
    doc = editor(refused)
    assert "tick the confirmation to remove every synced page" in doc.get_element_by_id("scope-refused").text_content()
    assert "removes every synced page (all 5)" in doc.get_element_by_id("scope-confirm-empty").text_content()
    assert SyncScope.objects.get().excluded_pages == []  # the saved scope is untouched
    confirmed = {"selection": nothing, "action": "save", "confirm_empty": "1"}
    assert client.post(scope_url(confluence_connection), confirmed).status_code == 302
    assert [p["id"] for p in SyncScope.objects.get().excluded_pages] == [wiki["welcome"].id]


def test_it_asks_when_the_saved_scope_could_not_be_compared(as_user, alice, confluence_connection, wiki, monkeypatch):
    client = as_user(alice)
    client.post(scope_url(confluence_connection), {"selection": scope_selection(spaces=["ENG"]), "action": "save"})
    nothing = scope_selection(spaces=["ENG"], pages={"ENG": {wiki["welcome"].id: "exclude"}})

    def confluence_fails(self, saved):
        raise ConfluenceError("Confluence answered 503")

    monkeypatch.setattr(Preview, "compare_with", confluence_fails)
    response = client.post(scope_url(confluence_connection), {"selection": nothing, "action": "save"})

    assert response.status_code == 400
    assert "removes every synced page" in editor(response).get_element_by_id("scope-confirm-empty").text_content()
    assert SyncScope.objects.get().excluded_pages == []


def test_a_first_scope_that_selects_nothing_needs_no_confirmation(as_user, alice, confluence_connection, wiki):
    nothing = scope_selection(spaces=["ENG"], pages={"ENG": {wiki["welcome"].id: "exclude"}})

    response = as_user(alice).post(scope_url(confluence_connection), {"selection": nothing, "action": "save"})

    assert response.status_code == 302 and SyncScope.objects.exists()


def test_it_compares_with_the_saved_labels(as_user, alice, confluence_connection, wiki):
    """The saved scope left out `draft` pages; the new one does not: Guide comes back, read with the saved labels."""
    client = as_user(alice)
    saved = scope_selection(spaces=["ENG"], labels=["draft"])
    client.post(scope_url(confluence_connection), {"selection": saved, "action": "save"})

    preview = preview_of(client, confluence_connection, scope_selection(spaces=["ENG"]))

    assert "Compared with the saved scope (4 pages): 1 added, 0 removed." in " ".join(preview.text_content().split())
    assert listed(preview, "scope-added") == ["Guide ENG"]
    assert not preview.xpath('.//*[@id="scope-removed"]')


def test_it_says_when_save_changes_no_page(as_user, alice, confluence_connection, wiki):
    client = as_user(alice)
    client.post(scope_url(confluence_connection), {"selection": item_3_selection(wiki), "action": "save"})
    # The same pages, chosen another way: ENG whole minus the FAQ tree is Welcome, Guide and Setup.
    same = scope_selection(
        pages={
            "ENG": {wiki["welcome"].id: "include", wiki["faq"].id: "exclude"},
            "OPS": {wiki["release"].id: "include"},
        },
        labels=["draft", "obsolete"],
    )
    text = " ".join(preview_of(client, confluence_connection, same).text_content().split())
    assert "The same pages as the saved scope (4): saving changes no page." in text


def test_it_counts_the_restricted_pages_it_skips(as_user, alice, confluence_connection, wiki, sandbox):
    """FAQ is restricted to the linked account (so the listing shows it); FAQ details inherits the restriction."""
    a = sandbox.atlassian
    client = as_user(alice)
    client.post(scope_url(confluence_connection), {"selection": scope_selection(spaces=["OPS"]), "action": "save"})
    a.restrict_page(wiki["faq"].id, users=[a.default_user().account_id], emit=False)

    preview = preview_of(client, confluence_connection, scope_selection(spaces=["ENG", "OPS"]))

    text = " ".join(preview.text_content().split())
    assert "8 pages in 2 spaces will be synced" in text  # ENG: Welcome, Guide, Setup; all five of OPS
    assert preview.get_element_by_id("scope-restricted").text_content() == "2 pages are restricted and will be skipped."
    named = preview.xpath('.//details[@id="scope-restricted-pages"]//li')
    assert [" ".join(li.text_content().split()) for li in named] == ["FAQ ENG", "FAQ details ENG"]
    # The difference is in pages Save really writes: the restricted ones are neither added nor removed.
    assert listed(preview, "scope-added") == ["Guide ENG", "Setup ENG", "Welcome ENG"]


def test_it_keeps_the_restricted_pages_when_the_connection_opted_in(
    as_user, alice, confluence_connection, wiki, sandbox
):
    a = sandbox.atlassian
    client = as_user(alice)
    client.post(scope_url(confluence_connection), {"selection": scope_selection(spaces=["ENG"]), "action": "save"})
    SyncScope.objects.filter(connection=confluence_connection).update(include_restricted=True)
    a.restrict_page(wiki["faq"].id, users=[a.default_user().account_id], emit=False)

    preview = preview_of(client, confluence_connection, scope_selection(spaces=["ENG"]))

    assert "5 pages in 1 space will be synced" in preview.text_content()
    assert not preview.xpath('.//*[@id="scope-restricted"]')
    assert "The same pages as the saved scope (5)" in " ".join(preview.text_content().split())


# Issue 18, item 14: the listing a space's tree is built from ---------------------------------------------------


def test_it_lists_a_whole_space_for_the_tree(as_user, alice, confluence_connection, wiki, sandbox):
    hostile = sandbox.atlassian.create_page(
        wiki["site"].cloud_id,
        space_key="ENG",
        title="</script><script>alert(1)</script>",
        body="<p/>",
        parent_id=wiki["faq"].id,
        emit=False,
    )
    children = reverse("confluence-scope-children", args=["acme", confluence_connection.id])
    response = as_user(alice).get(children, {"space": wiki["eng"].id, "key": "ENG", "tree": "all"})
    assert response.status_code == 200
    assert b"<script>alert" not in response.content  # the title is data, escaped inside the JSON
    doc = lxml.html.fromstring(response.content)
    rows = json.loads(doc.get_element_by_id("scope-tree-rows").text_content())
    by_title = {title: (page_id, parent) for page_id, parent, title in rows}
    welcome, faq = wiki["welcome"].id, wiki["faq"].id
    assert by_title == {
        "Welcome": (welcome, None),
        "FAQ": (faq, welcome),
        "FAQ details": (by_title["FAQ details"][0], faq),
        "Guide": (by_title["Guide"][0], welcome),
        "Setup": (by_title["Setup"][0], welcome),
        hostile.title: (hostile.id, faq),
    }
    assert not doc.xpath("//select")  # the browser draws the rows: only the data is sent


# Hostile or broken selection fields: form errors, never a 500, nothing saved ----------------------------------


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Nothing was chosen"),
        ("{", "could not be read"),
        ("[]", "could not be read"),
        ('"ENG"', "could not be read"),
        ('{"spaces": ["ENG"], "extra": 1}', "unexpected fields"),
        ('{"spaces": "ENG"}', "spaces must be a list"),
        ('{"spaces": [1]}', "space key is not text"),
        ('{"spaces": [], "pages": ["1"]}', "grouped by space"),
        ('{"pages": {"ENG": ["1"]}}', "map page ids to choices"),
        ('{"pages": {"ENG": {"12a": "include"}}}', "Confluence page ids are digits"),
        ('{"pages": {"ENG": {"-1": "include"}}}', "Confluence page ids are digits"),
        ('{"pages": {"ENG": {"1": "everything"}}}', "Unrecognised choice"),
        ('{"pages": {"ENG": {"1": "include", "1": "exclude"}}}', "could not be read"),
        ('{"pages": {"ENG": {"1": "include"}, "OPS": {"1": "exclude"}}}', "listed under two spaces"),
        ('{"spaces": ["ENG"], "excluded_labels": "draft"}', "Excluded labels must be a list"),
        ('{"spaces": ["ENG"], "excluded_labels": ["needs review"]}', "cannot contain spaces"),
        ('{"spaces": ["ENG"], "excluded_labels": [""]}', "Labels are text"),
        ('{"spaces": ["ENG"], "excluded_labels": [NaN]}', "could not be read"),
        (nested(100_000), "could not be read"),
    ],
    ids=[
        "missing",
        "truncated",
        "array",
        "string",
        "unknown-field",
        "spaces-not-list",
        "space-not-text",
        "pages-not-object",
        "modes-not-object",
        "id-not-digits",
        "negative-id",
        "unknown-mode",
        "duplicate-page",
        "page-in-two-spaces",
        "labels-not-list",
        "label-with-space",
        "empty-label",
        "nan",
        "deep-nesting",
    ],
)
def test_it_refuses_a_malformed_selection(as_user, alice, confluence_connection, wiki, raw, message):
    response = as_user(alice).post(scope_url(confluence_connection), {"selection": raw, "action": "save"})
    assert response.status_code == 400
    assert message in errors(editor(response))
    assert not SyncScope.objects.exists()


def test_it_redraws_the_saved_scope_after_a_malformed_selection(as_user, alice, confluence_connection, wiki):
    client = as_user(alice)
    client.post(scope_url(confluence_connection), {"selection": item_3_selection(wiki), "action": "save"})
    response = client.post(scope_url(confluence_connection), {"selection": "{oops", "action": "save"})
    assert response.status_code == 400
    doc = editor(response)
    assert selection_field(doc) == json.loads(item_3_selection(wiki))
    assert page_choices(doc) == {wiki["faq"].id: "exclude", wiki["release"].id: "include"}


def test_it_refuses_too_many_page_picks(as_user, alice, confluence_connection, wiki):
    picks = {str(10**9 + n): "include_only" for n in range(MAX_PAGE_PICKS + 1)}
    fields = {"selection": scope_selection(pages={"ENG": picks}), "action": "save"}
    response = post_as_browser(as_user(alice), scope_url(confluence_connection), fields)
    assert response.status_code == 400
    assert "Too many single page choices: at most 20,000" in errors(editor(response))
    assert not SyncScope.objects.exists()


def test_it_refuses_an_oversized_selection(as_user, alice, confluence_connection, wiki):
    raw = scope_selection(spaces=["ENG"], labels=["x" * 200] * 5000)
    assert MAX_SELECTION_CHARS < len(raw) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = as_user(alice).post(scope_url(confluence_connection), {"selection": raw, "action": "save"})
    assert response.status_code == 400
    assert "The selection is too large" in errors(editor(response))
    assert not SyncScope.objects.exists()


def test_it_names_a_few_unknown_pages_and_counts_the_rest(as_user, alice, confluence_connection, wiki):
    picks = {str(10**9 + n): "include_only" for n in range(25)}
    selection = scope_selection(spaces=["ENG"], pages={"ENG": picks})
    response = as_user(alice).post(scope_url(confluence_connection), {"selection": selection, "action": "save"})
    assert response.status_code == 400
    message = errors(editor(response))
    assert "ENG:1000000000" in message and "and 15 more" in message
    assert "ENG:1000000024" not in message
    assert not SyncScope.objects.exists()


def test_it_refuses_pages_of_another_site(as_user, alice, confluence_connection, wiki, sandbox):
    other = sandbox.atlassian.create_site(name="Elsewhere", url="https://elsewhere.atlassian.net")
    sandbox.atlassian.create_space(other.cloud_id, key="ENG", name="Their ENG", emit=False)
    stranger = sandbox.atlassian.create_page(other.cloud_id, space_key="ENG", title="Secret", body="<p/>", emit=False)
    selection = scope_selection(spaces=["ENG"], pages={"ENG": {stranger.id: "include"}})
    response = as_user(alice).post(scope_url(confluence_connection), {"selection": selection, "action": "save"})
    assert response.status_code == 400
    doc = editor(response)
    assert f"ENG:{stranger.id}" in errors(doc)
    assert "Secret" not in response.content.decode()
    assert not SyncScope.objects.exists()


# Access ------------------------------------------------------------------------------------------------------


def test_it_hides_the_scope_from_another_organization(client, charlie, globex, confluence_connection, wiki):
    client.force_login(charlie)
    response = client.post(
        scope_url(confluence_connection), {"selection": scope_selection(spaces=["ENG"]), "action": "save"}
    )
    assert response.status_code == 404
    assert not SyncScope.objects.exists()
