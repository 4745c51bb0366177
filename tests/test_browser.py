"""Issue 5: a browser clicks through the five Confluence setup steps against the live sandbox.

Debian's Chromium (/usr/bin/chromium) driven by Playwright, against pytest-django's live server. The site reaches
the simulated Atlassian and GitHub over real HTTP at live_server.url + "/sandbox/…" (the same process), so nothing
is mocked: the Forge installation event and the GitHub webhooks arrive the way they do under `make run`.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser_support import (
    TIMEOUT_MS,
    DeliveryThreads,
    chromium_page,
    one_site_request_at_a_time,
    point_sandbox_at,
    require_chromium,
    seed_live_world,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "dana@example.com"
PASSWORD = "correct-horse-battery-staple-42"
ORG_NAME = "Acme Docs"
REPOSITORY = "acme-sandbox/confluence-docs"


@pytest.fixture
def live_sandbox(django_db_setup, transactional_db, live_server, settings, tmp_path, monkeypatch):
    """A fresh, seeded on-disk world served under /sandbox/ by the live server; yields the seed summary.

    `django_db_setup` comes first so the test database exists before the (session-scoped) live server starts:
    only then does the server hand its threads the in-memory SQLite connection instead of opening their own.
    """
    import sandbox.store

    point_sandbox_at(live_server.url, settings, tmp_path / "sandbox")
    # The store caches the last world it loaded; this test's SANDBOX_DIR starts from nothing.
    monkeypatch.setattr(sandbox.store, "_cache", {"path": None, "world": None, "mtime": None, "saved": None})
    deliveries = DeliveryThreads().install(monkeypatch)
    summary = seed_live_world(pages=10, spaces=2)
    with one_site_request_at_a_time(live_server):
        yield summary
        deliveries.wait()


def test_five_steps_from_a_fresh_organization_to_an_active_connection(
    django_db_setup, live_sandbox, live_server, tmp_path
):
    executable = require_chromium()  # fails, never skips, when Debian's Chromium is missing
    screenshot = tmp_path / "connectors.png"
    with chromium_page(executable) as page:
        click_through_setup(page, live_server.url, live_sandbox, screenshot)
    print(f"\nscreenshot of the final Connectors page: {screenshot}")

    # What the pages showed is what was stored (read once the browser, and its event loop, are gone).
    from confluence.models import SyncRun, SyncScope
    from connectors.models import Connection

    connection = Connection.objects.get(org__name=ORG_NAME)
    scope = SyncScope.objects.get(connection=connection)
    assert [s["key"] for s in scope.spaces] == ["ENG"]
    assert [(p["title"], p["space_key"], p["descendants"]) for p in scope.pages] == [("Release process", "OPS", True)]
    assert [(p["title"], p["space_key"], p["descendants"]) for p in scope.excluded_pages] == [("FAQ", "ENG", True)]
    assert scope.excluded_labels == ["draft", "obsolete"]
    assert connection.status == Connection.Status.ACTIVE
    assert set(connection.tasks.values_list("state", flat=True)) == {"done"}
    run = connection.sync_runs.order_by("created_at").first()  # the one activation queued
    assert run.status == SyncRun.Status.SUCCEEDED, (run.status, run.error)
    assert run.commit_sha


def click_through_setup(page, base: str, seeded, screenshot) -> None:
    from playwright.sync_api import expect

    visited: list[str] = []

    def on_ctx_page(heading: str | re.Pattern) -> None:
        """A ctx| page (not a simulator's): its heading, and the sandbox banner."""
        expect(page.get_by_role("heading", level=1)).to_have_text(heading, timeout=TIMEOUT_MS)
        expect(page.locator(".sandbox-banner")).to_be_visible()
        expect(page.locator(".sandbox-banner")).to_contain_text("Sandbox mode.")
        visited.append(page.url)

    # Sign up and create the organization -------------------------------------------------------------------
    page.goto(f"{base}/accounts/signup/")
    on_ctx_page(re.compile("Sign up", re.I))
    page.locator("input[name=email]").fill(EMAIL)
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.locator("form", has=page.locator("input[name=password2]")).locator("[type=submit]").click()

    on_ctx_page("Create your organization")
    page.get_by_label("Name").fill(ORG_NAME)
    page.get_by_role("button", name="Create organization").click()

    on_ctx_page(f"{ORG_NAME} · Connectors")
    expect(page.get_by_text("No connections yet.")).to_be_visible()
    page.get_by_role("link", name="Add connection", exact=True).click()

    on_ctx_page("Add a connection")
    page.get_by_label("Atlassian Confluence").check()
    page.get_by_role("button", name="Create and start setup").click()

    on_ctx_page(re.compile(r"^Set up "))
    setup_url = page.url
    expect(page.locator("ol.steps > li")).to_have_count(5)

    def step(kind: str):
        return page.locator(f"#step-{kind}")

    # 1. Link the Atlassian account ----------------------------------------------------------------------------
    step("link_atlassian").get_by_role("link", name="Open").click()
    on_ctx_page(re.compile("Atlassian"))
    page.get_by_role("button", name="Link Atlassian account").click()
    # The sandbox's consent page (a simulator page: no banner); the one site is ticked by default.
    expect(page).to_have_title(re.compile("Authorize app"))
    expect(page.get_by_label(re.compile("Acme Sandbox"))).to_be_checked()
    page.get_by_role("button", name="Accept").click()

    # One site: linked straight away, on to the Forge step.
    on_ctx_page(re.compile("Forge"))
    expect(page.locator(".messages")).to_contain_text("Linked Acme Sandbox.")

    # 2. Install the Forge app ------------------------------------------------------------------------------
    install = page.get_by_role("link", name="Install the ctx| Forge app")
    expect(install).to_have_attribute("target", "_blank")
    page.goto(install.get_attribute("href"))
    expect(page).to_have_title(re.compile("Install Forge app"))
    page.get_by_label("Site").select_option(seeded.cloud_id)
    page.get_by_role("button", name="Install", exact=True).click()
    expect(page.get_by_text("Installed.")).to_be_visible()

    # The avi:forge:installed:app event is posted to the site from another thread: reload until it landed.
    page.goto(setup_url)
    on_ctx_page(re.compile(r"^Set up "))
    deadline = time.monotonic() + 20
    while step("install_forge").locator(".badge.done").count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        page.reload()
    expect(
        step("install_forge").locator(".badge.done"), "the Forge installation event never completed step 2"
    ).to_be_visible()
    expect(step("install_forge")).to_contain_text("Installed in Acme Sandbox")

    # 3. Link GitHub and install the ctx| GitHub App ------------------------------------------------------------
    step("link_github").get_by_role("link", name="Open").click()
    on_ctx_page(re.compile("GitHub"))
    page.get_by_role("button", name="Link GitHub account").click()
    expect(page).to_have_title(re.compile("Authorize"))
    if not page.get_by_text(re.compile(r"Signed in to the simulated GitHub as\s+sandbox-user")).is_visible():
        page.locator("select[name=as]").select_option("sandbox-user")
        page.get_by_role("button", name="Switch").click()
    expect(page.get_by_text(re.compile(r"Signed in to the simulated GitHub as\s+sandbox-user"))).to_be_visible()
    page.get_by_role("button", name=re.compile("^Authorize ")).click()

    on_ctx_page(re.compile("GitHub"))
    expect(page.get_by_text("Linked as sandbox-user.")).to_be_visible()
    page.get_by_role("button", name="Install the ctx| GitHub App").click()

    expect(page).to_have_title(re.compile("Install "))
    page.get_by_role("link", name="acme-sandbox", exact=True).click()
    expect(page.get_by_text("Repository access for acme-sandbox")).to_be_visible()
    page.get_by_label("All repositories").check()
    page.get_by_role("button", name="Install", exact=True).click()

    on_ctx_page(re.compile(r"^Set up "))
    expect(page.locator(".messages")).to_contain_text("GitHub App installed on acme-sandbox.")
    expect(step("link_github").locator(".badge.done")).to_be_visible()

    # 4. The sync repository ----------------------------------------------------------------------------------
    step("select_repository").get_by_role("link", name="Open").click()
    on_ctx_page(re.compile("repository", re.I))
    page.get_by_label(REPOSITORY).check()
    page.get_by_role("button", name="Use this repository").click()

    # 5. The scope (issue 14, item 3: page-level picks survive Preview and are what Save stores) ------------------
    on_ctx_page(re.compile("scope", re.I))
    tree, picks = page.locator("#scope-spaces"), page.locator("#scope-picks")

    def open_children(select_label: str) -> None:
        """Open the tree level under a page (the one whose choice menu has this label)."""
        menu = tree.get_by_label(select_label, exact=True)
        menu.locator("xpath=following-sibling::details[1]/summary").click()

    page.get_by_role("checkbox", name=re.compile(r"Engineering\s+ENG")).check()
    tree.locator('li[data-space-row="ENG"] > details > summary').click()
    open_children("Engineering in ENG")
    open_children("Onboarding in ENG")
    tree.get_by_label("FAQ in ENG", exact=True).select_option("exclude")
    tree.locator('li[data-space-row="OPS"] > details > summary').click()
    open_children("Operations in OPS")
    open_children("Onboarding in OPS")
    tree.get_by_label("Release process in OPS", exact=True).select_option("include")
    # Chosen deep in the trees, listed at once among the page choices.
    expect(picks.get_by_label("FAQ in ENG", exact=True)).to_have_value("exclude")
    expect(picks.get_by_label("Release process in OPS", exact=True)).to_have_value("include")
    expect(tree.locator('[data-space-count="OPS"]')).to_have_text("1 page choice below")
    # Searching spaces filters the list in place: nothing chosen so far is lost.
    page.get_by_label("Search spaces").fill("oper")
    expect(tree.locator('li[data-space-row="ENG"]')).to_be_hidden()
    page.get_by_label("Search spaces").fill("")
    expect(tree.locator('li[data-space-row="ENG"]')).to_be_visible()
    page.get_by_label("Excluded labels").fill("draft, obsolete")
    page.get_by_role("button", name="Preview").click()

    on_ctx_page(re.compile("scope", re.I))
    preview = page.locator("#scope-preview")
    expect(preview).to_be_visible()
    # ENG: Engineering, Onboarding, Release process, Release 2.0 / Q3 plan (FAQ and its child are excluded);
    # OPS: Release process and Reports design review (Meeting notes carries draft).
    expect(preview).to_contain_text("6 pages in 2 spaces will be synced; 3 excluded")
    expect(preview.locator(".errorlist")).to_have_count(0)
    # The redrawn page shows every pick: the space, both page choices (listed, and in the trees), the labels.
    expect(page.get_by_role("checkbox", name=re.compile(r"Engineering\s+ENG"))).to_be_checked()
    expect(page.get_by_role("checkbox", name=re.compile(r"Operations\s+OPS"))).not_to_be_checked()
    expect(picks.locator("select")).to_have_count(2)
    expect(picks.get_by_label("FAQ in ENG", exact=True)).to_have_value("exclude")
    expect(picks.get_by_label("Release process in OPS", exact=True)).to_have_value("include")
    expect(page.get_by_label("Excluded labels")).to_have_value("draft, obsolete")
    tree.locator('li[data-space-row="ENG"] > details > summary').click()
    open_children("Engineering in ENG")
    open_children("Onboarding in ENG")
    expect(tree.get_by_label("FAQ in ENG", exact=True)).to_have_value("exclude")
    expect(tree.get_by_label("Onboarding in ENG", exact=True)).to_have_value("")
    page.get_by_role("button", name="Save scope").click()

    # The Connectors page: active, with what was set up and the first sync ---------------------------------------
    on_ctx_page(f"{ORG_NAME} · Connectors")
    expect(page.locator(".messages")).to_contain_text("is set up.")
    card = page.locator("article.card")
    expect(card).to_have_count(1)
    expect(card.locator(".badge").first).to_have_text("Active")
    facts = card.locator("dl.facts")
    expect(facts).to_contain_text("Acme Sandbox")
    expect(facts).to_contain_text(REPOSITORY)
    expect(facts).to_contain_text("Watching for changes")
    # The sync activation queued ran inline (Q_CLUSTER sync); a card still showing it queued reloads by itself.
    last_sync = facts.locator("dt:text-is('Last sync') + dd")
    expect(last_sync).to_contain_text(re.compile(r"\d+ pages"), timeout=30_000)
    expect(last_sync).not_to_contain_text("failed")
    expect(last_sync.get_by_role("link", name=re.compile(r"^[0-9a-f]{7}$"))).to_be_visible()
    expect(facts.locator("dt:text-is('Scope') + dd")).to_have_text("1 space and 1 page tree; 3 exclusions")
    expect(card.get_by_role("link", name="Reopen setup")).to_be_visible()
    expect(card.get_by_role("button", name="Sync now")).to_be_visible()

    # The repository and the sync's commit link to the simulated GitHub, where they exist.
    repository_url = facts.get_by_role("link", name=REPOSITORY).get_attribute("href")
    assert repository_url == f"{base}/sandbox/github/web/{REPOSITORY}"
    commit_url = last_sync.get_by_role("link", name=re.compile(r"^[0-9a-f]{7}$")).get_attribute("href")
    assert commit_url.startswith(f"{repository_url}/commit/"), commit_url
    assert page.request.get(repository_url).status == 200
    assert page.request.get(commit_url).status == 200

    page.screenshot(path=str(screenshot), full_page=True)
    assert len(visited) >= 10, visited
