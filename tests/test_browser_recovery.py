"""Issue 18: a browser off the happy path — the wrong GitHub account and its recovery, a member's request and the
owner's approval, pages that update themselves (the Forge step, the card, the run history), the Atlassian claim
seen from both organizations, and the error pages.

Same setup as tests/test_browser.py: Debian's Chromium, the live server, the live sandbox under /sandbox/. People
are signed in by their session cookie; rows the test needs first are made before the browser opens (Playwright's
event loop makes Django refuse ORM calls on this thread), and the few made while it is open go through
`orm_while_browsing`.
"""

from __future__ import annotations

import contextlib
import re

import pytest

from tests.browser_support import (
    TIMEOUT_MS,
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

LIVE_MS = 5_000  # live fragments are polled every 1.5 s: a change shows well within this, with no reload


@pytest.fixture
def deliveries(monkeypatch):
    return DeliveryThreads().install(monkeypatch)


@pytest.fixture
def live_sandbox(django_db_setup, transactional_db, live_server, settings, tmp_path, monkeypatch, deliveries):
    """As in tests/test_browser.py; the deliveries are a fixture of their own, so a test can wait for them."""
    import sandbox.store

    point_sandbox_at(live_server.url, settings, tmp_path / "sandbox")
    monkeypatch.setattr(sandbox.store, "_cache", {"path": None, "world": None, "mtime": None, "saved": None})
    forget_other_worlds()
    summary = seed_live_world(pages=10, spaces=2)
    with one_site_request_at_a_time(live_server) as site_lock:
        summary.site_lock = site_lock
        yield summary
        deliveries.wait()
    forget_other_worlds()


@pytest.fixture
def people(django_db_setup, live_sandbox):
    from connectors.models import Connection, Membership, Organization
    from tests.conftest import make_user

    alice, bob, charlie = (make_user(f"{n}@example.com") for n in ("alice", "bob", "charlie"))
    acme = Organization.create_with_owner(name="Acme", owner=alice)
    Membership.objects.create(org=acme, user=bob, role=Membership.Role.MEMBER)
    globex = Organization.create_with_owner(name="Globex", owner=charlie)
    connection = Connection.create_with_tasks(org=acme, kind="confluence", created_by=alice)
    return {"alice": alice, "bob": bob, "charlie": charlie, "acme": acme, "globex": globex, "connection": connection}


@contextlib.contextmanager
def orm_while_browsing(monkeypatch, seeded):
    """ORM calls while Playwright's loop runs on this thread. The live server's threads share this thread's
    database connection, so the calls hold the lock the site's requests take, as a request would."""
    with monkeypatch.context() as patch, seeded.site_lock:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


# The Forge step, the card and the run history update themselves ---------------------------------------------


def test_the_card_the_history_and_the_forge_step_update_without_a_reload(
    django_db_setup, people, live_sandbox, live_server, monkeypatch, deliveries
):
    from django.utils import timezone

    from confluence.models import SyncRun
    from confluence.setup import steps
    from sandbox.store import world_for_request

    executable = require_chromium()
    base = live_server.url
    connection = set_up_connection(people["acme"], people["alice"], live_sandbox)
    with world_for_request() as world:
        world.atlassian.uninstall_forge_app(live_sandbox.cloud_id)
    deliveries.wait()
    with live_sandbox.site_lock:
        steps.record_forge_uninstalled(cloud_id=live_sandbox.cloud_id)
        SyncRun.objects.filter(connection=connection).delete()
        running = SyncRun.objects.create(
            connection=connection, trigger="manual", status="running", progress_done=50, progress_total=82
        )
    cookie = session_cookie(people["alice"], base, live_sandbox)

    with chromium_page(executable) as page:
        from playwright.sync_api import expect

        sign_in(page, cookie)
        # The card shows the running sync's progress, then its result, without a reload.
        page.goto(base + url("connectors", "acme"))
        card = page.locator(f"#connection-{connection.id}")
        expect(card).to_contain_text("50 of 82 pages")
        with orm_while_browsing(monkeypatch, live_sandbox):
            SyncRun.objects.filter(pk=running.pk).update(progress_done=70)
        expect(card).to_contain_text("70 of 82 pages", timeout=LIVE_MS)
        with orm_while_browsing(monkeypatch, live_sandbox):
            SyncRun.objects.filter(pk=running.pk).update(
                status="succeeded", finished_at=timezone.now(), commit_sha="abcdef1234567890", counts={"seen": 82}
            )
        last_sync = card.locator("dt:text-is('Last sync') + dd")
        expect(last_sync).to_contain_text("82 pages", timeout=LIVE_MS)
        expect(last_sync.get_by_role("link", name="abcdef1")).to_be_visible()
        expect(card).not_to_contain_text("Syncing")

        # The run history shows a new run as it is queued.
        page.goto(base + url("confluence-runs", "acme", connection.id))
        expect(page.locator(f"#run-{running.pk}")).to_contain_text("Succeeded")
        with orm_while_browsing(monkeypatch, live_sandbox):
            queued = SyncRun.objects.create(connection=connection, trigger="manual", status="queued")
        expect(page.locator(f"#run-{queued.pk}")).to_contain_text("Queued", timeout=LIVE_MS)
        with orm_while_browsing(monkeypatch, live_sandbox):
            SyncRun.objects.filter(pk=queued.pk).delete()  # so the catch-up the reinstall queues has its place

        # The Forge step waits; the app is installed in another tab; the step completes here by itself.
        page.goto(base + url("confluence-step-forge", "acme", connection.id))
        status = page.locator("#forge-status")
        expect(status).to_contain_text("Waiting")
        installer = page.context.new_page()
        installer.goto(base + "/sandbox/atlassian/forge/install")
        installer.get_by_label("Site").select_option(live_sandbox.cloud_id)
        installer.get_by_role("button", name="Install", exact=True).click()
        expect(installer.get_by_text("Installed.")).to_be_visible()
        installer.close()
        expect(status.get_by_text("Installed", exact=True), "the Forge step never completed by itself").to_be_visible(
            timeout=LIVE_MS + TIMEOUT_MS
        )
        status.get_by_role("link", name="Continue").click()
        expect(page).to_have_url(base + url("connectors", "acme"))  # every step is done: the Connectors page


# GitHub: the wrong account, then the recovery ------------------------------------------------------------------


def test_the_wrong_github_account_is_not_a_dead_end(django_db_setup, people, live_sandbox, live_server):
    from github_sync.models import Installation

    executable = require_chromium()
    base = live_server.url
    connection = people["connection"]
    cookie = session_cookie(people["alice"], base, live_sandbox)
    github_step = url("github-link", "acme", connection.id)

    with chromium_page(executable) as page:
        from playwright.sync_api import expect

        sign_in(page, cookie)
        # Linked as the wrong GitHub user, who installs on their own (empty) account: step 3 completes...
        page.goto(base + github_step)
        page.get_by_role("button", name="Link GitHub account").click()
        page.locator("select[name=as]").select_option("octo-sandbox")
        page.get_by_role("button", name="Switch").click()
        page.get_by_role("button", name=re.compile("^Authorize ")).click()
        expect(page.get_by_text("Linked as octo-sandbox.")).to_be_visible()
        page.get_by_role("button", name="Install the ctx| GitHub App").click()
        page.get_by_role("link", name="octo-sandbox", exact=True).click()
        page.get_by_role("button", name="Install", exact=True).click()
        expect(page.locator("#step-link_github .badge.done")).to_be_visible()
        # ...and step 4 finds nothing to write to.
        page.goto(base + url("confluence-step-repository", "acme", connection.id))
        expect(page.get_by_text("reaches no repository yet")).to_be_visible()
        page.get_by_role("link", name="install it on another account").click()

        # On GitHub as the README's user, installing on acme-sandbox: refused, since ctx| knows octo-sandbox.
        page.get_by_role("button", name="Install on another GitHub account").click()
        page.locator("select[name=as]").select_option("sandbox-user")
        page.get_by_role("button", name="Switch").click()
        page.get_by_role("link", name="acme-sandbox", exact=True).click()
        page.get_by_role("button", name="Install", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("The GitHub installation could not be recorded")
        expect(page.locator("#reason")).to_contain_text("does not list that installation")
        expect(page.get_by_text("octo-sandbox").first).to_be_visible()

        # The way back: link the right GitHub account, remove the wrong installation, install on the right one.
        page.get_by_role("button", name="Link a different GitHub account").click()
        expect(page.get_by_text(re.compile(r"Signed in to the simulated GitHub as\s+sandbox-user"))).to_be_visible()
        page.get_by_role("button", name=re.compile("^Authorize ")).click()
        expect(page).to_have_url(re.compile(re.escape(github_step) + "$"))
        expect(page.get_by_text("ctx| knows you on GitHub as")).to_contain_text("sandbox-user")
        page.get_by_role("button", name="Remove octo-sandbox from Acme").click()
        expect(page.locator(".messages")).to_contain_text("Removed octo-sandbox from Acme")
        expect(page.locator("h1 .badge")).to_have_text("To do")
        page.get_by_role("button", name="Install the ctx| GitHub App").click()
        page.get_by_role("link", name="acme-sandbox", exact=True).click()
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator(".messages")).to_contain_text("GitHub App installed on acme-sandbox.")
        page.goto(base + url("confluence-step-repository", "acme", connection.id))
        expect(page.get_by_label("acme-sandbox/confluence-docs")).to_be_visible()

    assert list(Installation.objects.values_list("account_login", flat=True)) == ["acme-sandbox"]


# GitHub: a member's request and the owner's approval ---------------------------------------------------------


def test_a_request_completes_when_the_owner_approves(django_db_setup, people, live_sandbox, live_server):
    from sandbox.store import world_for_request

    executable = require_chromium()
    base = live_server.url
    connection = people["connection"]
    with world_for_request() as world:
        world.github.create_user("sandbox-member", name="Sandbox Member")
        world.github.state.orgs["acme-sandbox"].members.append("sandbox-member")
    cookie = session_cookie(people["alice"], base, live_sandbox)

    with chromium_page(executable) as page:
        from playwright.sync_api import expect

        sign_in(page, cookie)
        page.goto(base + url("github-link", "acme", connection.id))
        page.get_by_role("button", name="Link GitHub account").click()
        page.locator("select[name=as]").select_option("sandbox-member")
        page.get_by_role("button", name="Switch").click()
        page.get_by_role("button", name=re.compile("^Authorize ")).click()
        page.get_by_role("button", name="Install the ctx| GitHub App").click()
        page.get_by_role("link", name="acme-sandbox", exact=True).click()
        page.get_by_role("button", name="Request", exact=True).click()

        waiting = page.locator("#github-request")
        expect(waiting).to_contain_text("sandbox-member")
        page.get_by_label("Which GitHub organization did you ask?").fill("acme-sandbox")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(waiting).to_contain_text("owner of acme-sandbox")

        # The owner approves on GitHub, in another tab: GitHub's page lists the request.
        owner = page.context.new_page()
        owner.goto(base + "/sandbox/github/web/?as=sandbox-user")
        owner.get_by_role("link", name="review the request").click()
        owner.get_by_role("button", name="Install", exact=True).click()
        expect(owner.get_by_role("heading", level=1)).to_have_text("The ctx| GitHub App is installed")
        owner.close()

        # The member's page completes by itself and leads on to the next step.
        expect(waiting.locator(".badge.done"), "the request never completed").to_be_visible(timeout=LIVE_MS)
        waiting.get_by_role("link", name="Continue").click()
        expect(page).to_have_url(re.compile(r"/confluence/atlassian/$"))  # the first step not done yet


# The Atlassian account claimed by another organization, seen from both --------------------------------------


def test_the_claim_conflict_seen_from_both_organizations(
    django_db_setup,
    people,
    live_sandbox,
    live_server,
):
    executable = require_chromium()
    base = live_server.url
    set_up_connection(people["globex"], people["charlie"], live_sandbox, repository="sandbox-user/notes")
    connection = people["connection"]
    alice, charlie = (
        session_cookie(people["alice"], base, live_sandbox),
        session_cookie(people["charlie"], base, live_sandbox),
    )

    with chromium_page(executable) as page:
        from playwright.sync_api import expect

        sign_in(page, alice)
        page.goto(base + url("confluence-step-atlassian", "acme", connection.id))
        page.get_by_role("button", name="Link Atlassian account").click()
        page.get_by_role("button", name="Accept").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("This Atlassian account is linked elsewhere")
        expect(page.locator("main")).not_to_contain_text("Globex")
        page.get_by_role("button", name="Link it here instead").click()
        expect(page.locator(".messages")).to_contain_text("Linked Acme Sandbox.")

        sign_in(page, charlie)
        page.goto(base + url("connectors", "globex"))
        card = page.locator("article.card")
        expect(card).to_contain_text("Re-link needed")
        expect(card).to_contain_text("was linked to another organization.")
        expect(page.locator("main")).not_to_contain_text("Acme (")
        expect(card.get_by_role("link", name="Link Atlassian account")).to_be_visible()


# Error pages -------------------------------------------------------------------------------------------------


def test_each_error_page_says_what_happened_and_leads_back(
    django_db_setup,
    people,
    live_sandbox,
    live_server,
):
    executable = require_chromium()
    base = live_server.url
    connection = people["connection"]
    alice, bob = session_cookie(people["alice"], base, live_sandbox), session_cookie(people["bob"], base, live_sandbox)
    connectors = url("connectors", "acme")

    with chromium_page(executable) as page:
        from playwright.sync_api import expect

        heading = page.get_by_role("heading", level=1)
        # 404: a connection that does not exist, from the Connectors page.
        sign_in(page, alice)
        page.goto(base + url("connection-setup", "acme", 999), referer=base + connectors)
        expect(heading).to_have_text("Page not found")
        page.get_by_role("link", name="Back to the previous page").click()
        expect(page).to_have_url(base + connectors)

        # 403: a plain member opening a step.
        sign_in(page, bob)
        page.goto(base + url("confluence-step-forge", "acme", connection.id), referer=base + connectors)
        expect(heading).to_have_text("You cannot do this")
        expect(page.locator("#error-explanation")).to_contain_text("Only owners and admins can change connections.")
        page.get_by_role("link", name="Back to the previous page").click()
        expect(page).to_have_url(base + connectors)

        # 400: a form sent with more fields than the site accepts.
        sign_in(page, alice)
        page.goto(base + url("connection-add", "acme"))
        page.evaluate(
            """() => { const form = document.querySelector("main form");
                for (let i = 0; i < 1100; i++) { const input = document.createElement("input");
                  input.type = "hidden"; input.name = "f" + i; input.value = "x"; form.appendChild(input); } }"""
        )
        page.get_by_label("Atlassian Confluence").check()
        page.get_by_role("button", name="Create and start setup").click()
        expect(heading).to_have_text("Too many fields in one form")
        page.get_by_role("link", name="Back to the previous page").click()
        expect(page).to_have_url(base + url("connection-add", "acme"))

        # A reloaded OAuth callback: its one-time state is used; the page leads back to the step.
        step = url("github-link", "acme", connection.id)
        page.goto(base + step)
        callbacks: list[str] = []
        page.on("request", lambda request: callbacks.append(request.url) if "/login/callback/" in request.url else None)
        page.get_by_role("button", name="Link GitHub account").click()
        page.get_by_role("button", name=re.compile("^Authorize ")).click()
        expect(page.get_by_text("Linked as sandbox-user.")).to_be_visible()
        page.goto(callbacks[-1])
        expect(heading).to_have_text("Linking the account did not finish")
        page.get_by_role("link", name=re.compile("^Back to “Link GitHub")).click()
        expect(page).to_have_url(base + step)
