"""Issue 18, item 14: the scope editor for real sites, in a browser — a 5,000-page scope picked in the tree,
previewed against the saved scope and saved; the tree by keyboard; a narrow window.

Same setup as tests/test_browser_recovery.py (Debian's Chromium, the live server, the live sandbox under /sandbox/).
The tests also write the README's screenshots (docs/images/*.png), so those always show the pages as they are.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.browser_support import (
    DeliveryThreads,
    chromium_page,
    one_site_request_at_a_time,
    point_sandbox_at,
    require_chromium,
    seed_live_world,
    session_cookie,
    set_up_connection,
    sign_in,
    url,
)
from tests.conftest import forget_other_worlds

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
SECTIONS, SECTION_PAGES, ARCHIVED = 47, 100, 250  # BIG: 1 + 47 + 4,700 + 1 + 250 + 1 = 5,000 pages


@pytest.fixture
def live_sandbox(django_db_setup, transactional_db, live_server, settings, tmp_path, monkeypatch):
    """As in tests/test_browser_recovery.py: a fresh seeded world under /sandbox/, the site's requests serialized."""
    import sandbox.store

    point_sandbox_at(live_server.url, settings, tmp_path / "sandbox")
    monkeypatch.setattr(sandbox.store, "_cache", {"path": None, "world": None, "mtime": None, "saved": None})
    forget_other_worlds()
    deliveries = DeliveryThreads().install(monkeypatch)
    summary = seed_live_world(pages=10, spaces=2)
    with one_site_request_at_a_time(live_server) as site_lock:
        summary.site_lock = site_lock
        yield summary
        deliveries.wait()
    forget_other_worlds()


@pytest.fixture
def acme_on_eng(django_db_setup, live_sandbox):
    """Alice's organization with a connection set up on ENG (its first sync done), and her session."""
    from connectors.models import Organization
    from tests.conftest import make_user

    alice = make_user("alice@example.com")
    org = Organization.create_with_owner(name="Acme", owner=alice)
    connection = set_up_connection(org, alice, live_sandbox)
    return {"alice": alice, "org": org, "connection": connection}


def add_space(seeded, key: str, name: str, tree) -> dict[str, str]:
    """A space built from `tree` ([(title, subtree), …]); returns page title → id."""
    from sandbox.store import world_for_request

    ids: dict[str, str] = {}
    with seeded.site_lock, world_for_request() as world:
        atlassian = world.atlassian
        atlassian.create_space(seeded.cloud_id, key=key, name=name, emit=False, homepage=False)
        stack = [(None, tree)]
        while stack:
            parent, children = stack.pop()
            for title, below in children:
                page = atlassian.create_page(
                    seeded.cloud_id, space_key=key, title=title, body="<p/>", parent_id=parent, emit=False
                )
                ids[title] = page.id
                stack.append((page.id, below))
    return ids


def big_tree():
    sections = [(f"Section {s}", [(f"Page {s}-{n}", []) for n in range(SECTION_PAGES)]) for s in range(SECTIONS)]
    archive = ("Archive", [(f"Archived {n}", []) for n in range(ARCHIVED)])
    return [("Handbook", [*sections, archive, ("Glossary", [])])]


def team_tree():
    return [
        ("Team home", [("Guides", [("Setup", []), ("Deploy", [])]), ("Policies", [("Travel", [])])]),
        ("Scratch", []),
    ]


def selection(page) -> dict:
    return json.loads(page.locator("#scope-selection").input_value())


# Opening the space, Preview and Save read 5,000 pages through the live sandbox (a second or two each, and more on
# a loaded machine: the CI runs two suites at once). This test is about the editor, not that speed.
SLOW_REQUEST_MS = 60_000


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"the page scrolls sideways: {width} px wide in a {viewport} px window"


# 5,000 pages picked, previewed and saved ------------------------------------------------------------------------


def test_a_5000_page_scope_is_picked_previewed_and_saved(
    django_db_setup, acme_on_eng, live_sandbox, live_server, monkeypatch
):
    from connectors.models import Connection

    executable = require_chromium()
    base = live_server.url
    big = add_space(live_sandbox, "BIG", "Big handbook", big_tree())
    assert len(big) == 5000
    # A second connection, still being set up: the wizard's screenshot.
    wizard = Connection.create_with_tasks(
        org=acme_on_eng["org"], kind="confluence", created_by=acme_on_eng["alice"], name="Team wiki"
    )
    # Saving queues a sync of the 5,000 pages; this test is about the editor, so the queue only records it.
    queued = []
    from confluence.setup import status

    monkeypatch.setattr(status, "enqueue_sync", lambda connection, **kwargs: queued.append((connection.pk, kwargs)))
    cookie = session_cookie(acme_on_eng["alice"], base, live_sandbox)
    scope_url = base + url("confluence-step-scope", "acme", acme_on_eng["connection"].id)

    with chromium_page(executable) as page:
        from playwright.sync_api import expect

        sign_in(page, cookie)
        page.goto(base + url("connection-setup", "acme", wizard.id))
        expect(page.locator("ol.steps > li")).to_have_count(5)
        page.screenshot(path=str(IMAGES / "wizard.png"))

        page.goto(scope_url)
        space = page.locator('li[data-space-row="BIG"]')
        space.locator(":scope > details > summary").click()
        tree = space.get_by_role("tree", name="Pages of Big handbook")
        handbook = tree.get_by_role("treeitem", name="Handbook, 5,000 pages")
        expect(handbook).to_have_attribute("aria-checked", "false", timeout=SLOW_REQUEST_MS)  # 5,000 pages listed
        expect(page.locator('[data-space-total="BIG"]')).to_have_text("5,000 pages · 0 chosen")
        # Only the top level is drawn until it is opened.
        expect(tree.get_by_role("treeitem")).to_have_count(1)

        handbook.locator(":scope > .tick").check()
        expect(handbook).to_have_attribute("aria-checked", "true")
        expect(page.locator('[data-space-total="BIG"]')).to_have_text("5,000 pages · 5,000 chosen")
        assert selection(page)["pages"] == {"BIG": {big["Handbook"]: "include"}}

        # Opened: its 49 pages, the sections' own pages still undrawn.
        handbook.locator(":scope > details > summary").click()
        expect(tree.get_by_role("treeitem")).to_have_count(1 + SECTIONS + 2)
        section = tree.get_by_role("treeitem", name="Section 3, 101 pages")
        section.locator(":scope > .tick").uncheck()
        expect(section).to_have_attribute("aria-checked", "false")
        expect(handbook).to_have_attribute("aria-checked", "mixed")
        expect(handbook.locator(":scope > .count")).to_have_text("4,899 of 5,000 pages")
        assert selection(page)["pages"] == {"BIG": {big["Handbook"]: "include", big["Section 3"]: "exclude"}}

        # A page inside the excluded section, ticked: the exclusion narrows to the pages beside it.
        section.locator(":scope > details > summary").click()
        section.get_by_role("treeitem", name="Page 3-7", exact=True).locator(":scope > .tick").check()
        expect(section).to_have_attribute("aria-checked", "mixed")
        picks = selection(page)["pages"]["BIG"]
        assert picks[big["Section 3"]] == "exclude_only" and big["Page 3-7"] not in picks
        assert sum(mode == "exclude" for mode in picks.values()) == SECTION_PAGES - 1
        expect(page.locator('[data-space-total="BIG"]')).to_have_text("5,000 pages · 4,900 chosen")
        space.screenshot(path=str(IMAGES / "scope-editor.png"))
        # Ticking the section again puts it back whole: one choice for the whole tree again.
        section.locator(":scope > .tick").check()
        expect(handbook).to_have_attribute("aria-checked", "true")
        assert selection(page)["pages"] == {"BIG": {big["Handbook"]: "include"}}

        # A long level is drawn 200 rows at a time.
        archive = tree.get_by_role("treeitem", name="Archive, 251 pages")
        archive.locator(":scope > details > summary").click()
        expect(archive.get_by_role("treeitem")).to_have_count(201)
        archive.get_by_role("treeitem", name="Show 50 more (50 not shown)").click()
        expect(archive.get_by_role("treeitem")).to_have_count(250)

        # Search within the space, by title; a result is shown in its place in the tree.
        space.get_by_label("Search pages in Big handbook").fill("page 46-9")
        results = space.get_by_role("tree", name="Pages of Big handbook matching the search")
        expect(results.get_by_role("treeitem")).to_have_count(11)  # Page 46-9 and Page 46-90 … 46-99
        expect(space.get_by_role("status")).to_contain_text("11 matching pages")
        results.get_by_role("treeitem", name="Page 46-9", exact=True).locator(".title").click()
        expect(tree).to_be_visible()
        found = tree.get_by_role("treeitem", name="Page 46-9", exact=True)
        expect(found).to_be_focused()
        expect(found).to_have_attribute("aria-checked", "true")

        # ENG (the saved scope) is left out, so Preview has pages to remove as well as to add.
        page.get_by_role("checkbox", name=re.compile(r"Engineering\s+ENG")).uncheck()
        # Preview and Save resolve 5,000 pages through the live sandbox (see SLOW_REQUEST_MS).
        page.get_by_role("button", name="Preview").click(timeout=SLOW_REQUEST_MS)

        preview = page.locator("#scope-preview")
        expect(preview).to_contain_text("5000 pages in 1 space will be synced; 0 excluded")
        expect(preview.locator("[data-diff]")).to_contain_text(re.compile(r"5000 added, \d+ removed"))
        expect(preview.locator("#scope-added > summary")).to_have_text("5000 pages added")
        expect(preview.locator("#scope-added li")).to_have_count(101)  # 100 named, then "and 4900 more"
        expect(preview.locator("#scope-added li").last).to_have_text("and 4900 more")
        expect(preview.locator("#scope-removed li").first).to_contain_text("ENG")
        expect(preview).not_to_contain_text("restricted")  # the listing says nothing of restrictions here
        expect(preview.locator("table.space-counts")).to_contain_text("BIG")
        preview.locator("#scope-added > summary").click()
        page.screenshot(path=str(IMAGES / "scope-preview.png"))
        # The preview's page holds the same selection; Save sends it.
        assert selection(page) == {"spaces": [], "pages": {"BIG": {big["Handbook"]: "include"}}, "excluded_labels": []}
        page.get_by_role("button", name="Save scope").click(timeout=SLOW_REQUEST_MS)

        expect(page.locator(".messages")).to_contain_text("Scope saved: 5000 pages in 1 space will be synced")
        card = page.locator(f"#connection-{acme_on_eng['connection'].id}")
        expect(card.locator(".badge").first).to_have_text("Active")
        page.locator("main").screenshot(path=str(IMAGES / "card.png"))

    from confluence.models import SyncScope

    scope = SyncScope.objects.get(connection=acme_on_eng["connection"])
    assert scope.spaces == []
    assert scope.pages == [{"id": big["Handbook"], "title": "Handbook", "space_key": "BIG", "descendants": True}]
    assert scope.excluded_pages == []
    assert queued == [(acme_on_eng["connection"].pk, {"trigger": "scope"})]


# The tree by keyboard ---------------------------------------------------------------------------------------------


def test_the_tree_is_used_with_the_keyboard(django_db_setup, acme_on_eng, live_sandbox, live_server):
    executable = require_chromium()
    base = live_server.url
    team = add_space(live_sandbox, "TEAM", "Team", team_tree())
    cookie = session_cookie(acme_on_eng["alice"], base, live_sandbox)

    with chromium_page(executable) as page:
        from playwright.sync_api import expect

        sign_in(page, cookie)
        page.goto(base + url("confluence-step-scope", "acme", acme_on_eng["connection"].id))
        space = page.locator('li[data-space-row="TEAM"]')
        # Only a whole space syncs its blog: its box is off until the space is ticked, and unticked with it.
        blog, whole = space.locator("input[data-blog]"), space.locator("input[data-space]")
        expect(blog).to_be_disabled()
        whole.check()
        blog.check()
        whole.uncheck()
        expect(blog).to_be_disabled()
        expect(blog).not_to_be_checked()
        space.locator(":scope > details > summary").focus()
        page.keyboard.press("Enter")
        tree = space.get_by_role("tree", name="Pages of Team")
        home = tree.get_by_role("treeitem", name="Team home, 6 pages")
        expect(home).to_be_visible()
        # One row of the tree is in the tab order: after the page search comes the tree.
        page.keyboard.press("Tab")
        expect(space.get_by_label("Search pages in Team")).to_be_focused()
        page.keyboard.press("Tab")
        expect(home).to_be_focused()

        page.keyboard.press("ArrowRight")  # opens
        expect(home).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("ArrowRight")  # to the first page below
        guides = tree.get_by_role("treeitem", name="Guides, 3 pages")
        expect(guides).to_be_focused()
        page.keyboard.press("ArrowDown")
        policies = tree.get_by_role("treeitem", name="Policies, 2 pages")
        expect(policies).to_be_focused()
        page.keyboard.press("Space")
        expect(policies).to_have_attribute("aria-checked", "true")
        expect(home).to_have_attribute("aria-checked", "mixed")
        assert selection(page)["pages"] == {"TEAM": {team["Policies"]: "include"}}

        page.keyboard.press("ArrowUp")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowDown")
        setup_row = tree.get_by_role("treeitem", name="Setup", exact=True)
        expect(setup_row).to_be_focused()
        page.keyboard.press("Space")
        expect(guides).to_have_attribute("aria-checked", "mixed")
        page.keyboard.press("ArrowLeft")  # a page with nothing below: to its parent
        expect(guides).to_be_focused()
        page.keyboard.press("ArrowLeft")  # closes
        expect(guides).to_have_attribute("aria-expanded", "false")
        page.keyboard.press("End")
        expect(tree.get_by_role("treeitem", name="Scratch")).to_be_focused()
        page.keyboard.press("Home")
        expect(home).to_be_focused()
        page.keyboard.press("Space")  # a half-ticked box ticks everything below
        expect(home).to_have_attribute("aria-checked", "true")
        assert selection(page)["pages"] == {"TEAM": {team["Team home"]: "include"}}
        page.keyboard.press("Space")
        expect(home).to_have_attribute("aria-checked", "false")
        assert selection(page)["pages"] == {}

        # Tab reaches the focused row's menu, labelled with the page and its space.
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Tab")
        expect(tree.get_by_label("Guides in TEAM", exact=True)).to_be_focused()
        page.keyboard.press("Shift+Tab")
        expect(guides).to_be_focused()

        # The page search: Enter in the box searches (it does not submit); Enter on a result shows it in the tree.
        search = space.get_by_label("Search pages in Team")
        search.fill("trav")
        search.press("Enter")
        expect(page).to_have_url(re.compile(r"/scope/$"))
        results = space.get_by_role("tree", name="Pages of Team matching the search")
        travel = results.get_by_role("treeitem", name="Travel")
        expect(travel).to_contain_text("Team home / Policies")
        page.keyboard.press("Tab")
        expect(travel).to_be_focused()
        page.keyboard.press("Space")
        page.keyboard.press("Enter")
        shown = tree.get_by_role("treeitem", name="Travel")
        expect(shown).to_be_focused()
        expect(shown).to_have_attribute("aria-checked", "true")
        expect(tree.get_by_role("treeitem", name="Policies, 2 pages")).to_have_attribute("aria-checked", "mixed")

        # The whole space's box, and the buttons, by keyboard too.
        page.get_by_role("checkbox", name=re.compile(r"Team\s+TEAM")).focus()
        page.keyboard.press("Space")
        expect(home).to_have_attribute("aria-checked", "true")
        page.get_by_role("button", name="Preview").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#scope-preview")).to_contain_text("will be synced")
        expect(page.locator("#scope-preview")).to_be_focused()
        assert selection(page)["spaces"] == ["ENG", "TEAM"]


# A narrow window --------------------------------------------------------------------------------------------------


def test_the_editor_fits_a_narrow_window(django_db_setup, acme_on_eng, live_sandbox, live_server):
    executable = require_chromium()
    base = live_server.url
    add_space(live_sandbox, "TEAM", "Team", team_tree())
    cookie = session_cookie(acme_on_eng["alice"], base, live_sandbox)

    with chromium_page(executable, width=400, height=860) as page:
        from playwright.sync_api import expect

        sign_in(page, cookie)
        page.goto(base + url("confluence-step-scope", "acme", acme_on_eng["connection"].id))
        space = page.locator('li[data-space-row="TEAM"]')
        space.locator(":scope > details > summary").click()
        tree = space.get_by_role("tree", name="Pages of Team")
        home = tree.get_by_role("treeitem", name="Team home, 6 pages")
        home.locator(":scope > details > summary").click()
        tree.get_by_role("treeitem", name="Guides, 3 pages").locator(":scope > details > summary").click()
        # One line a page: a page's menu shows once the page is tapped (or focused), unless it holds a choice.
        setup_row = tree.get_by_role("treeitem", name="Setup", exact=True)
        expect(setup_row.get_by_label("Setup in TEAM", exact=True)).to_be_hidden()
        setup_row.locator(".title").click()
        expect(setup_row).to_be_focused()
        tree.get_by_label("Setup in TEAM", exact=True).select_option("include_only")
        expect(tree.get_by_label("Deploy in TEAM", exact=True)).to_be_hidden()
        expect(home).to_have_attribute("aria-checked", "mixed")
        for control in (
            tree.get_by_label("Setup in TEAM", exact=True),
            space.get_by_label("Search pages in Team"),
            page.get_by_role("button", name="Save scope"),
        ):
            box = control.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 400, (control, box)
        no_sideways_scroll(page)
        page.screenshot(path=str(IMAGES / "scope-editor-narrow.png"))
        page.get_by_role("button", name="Preview").click()
        expect(page.locator("#scope-preview")).to_contain_text("Compared with the saved scope")
        no_sideways_scroll(page)
