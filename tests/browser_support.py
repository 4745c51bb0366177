"""Helpers for the browser test: Debian's Chromium through Playwright, and a live sandbox on the live server."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Debian's package; `playwright install` (a browser download) is never used.
CHROMIUM = os.environ.get("CTX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The machine has no network beyond loopback: keep Chromium from calling home.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Explicit waits: long enough for a slow CI machine, short enough to fail fast when something is broken.
TIMEOUT_MS = 15_000


def require_chromium() -> str:
    """The Chromium binary, or a failure (never a skip) saying how to get it."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        found = shutil.which("chromium")
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM} (chromium on PATH: {found or 'none'}). The browser test needs "
            "Debian's package: `apt-get update && apt-get install -y chromium` (`make test` and .ci/run do this "
            "when it is missing). Never `playwright install`.",
            pytrace=False,
        )
    return CHROMIUM


def point_sandbox_at(live_server_url: str, settings, sandbox_dir: Path) -> None:
    """Every base URL the site uses to reach Atlassian, Forge and GitHub, aimed at /sandbox/ on the live server.

    ctxsite/settings.py derives them from PUBLIC_BASE_URL at import time, so the test overrides each one.
    """
    from sandbox import credentials

    base = live_server_url.rstrip("/")
    sandbox = f"{base}/sandbox"
    settings.PUBLIC_BASE_URL = base
    settings.CSRF_TRUSTED_ORIGINS = [base]
    settings.ATLASSIAN_AUTH_URL = f"{sandbox}/atlassian/auth"
    settings.ATLASSIAN_API_URL = f"{sandbox}/atlassian/api"
    settings.FORGE_JWKS_URL = f"{sandbox}/atlassian/forge/jwks.json"
    settings.CONFLUENCE_FORGE_INSTALL_URL = sandbox + credentials.FORGE_INSTALL_PATH
    settings.GITHUB_API_URL = f"{sandbox}/github/api"
    settings.GITHUB_WEB_URL = f"{sandbox}/github/web"
    settings.SANDBOX_DIR = sandbox_dir
    settings.GITHUB_APP_PRIVATE_KEY_FILE = str(sandbox_dir / credentials.GITHUB_APP_PRIVATE_KEY_FILE)


def seed_live_world(*, pages: int = 10, spaces: int = 2):
    """Create and seed the on-disk world the /sandbox/ views serve (settings must point at a fresh SANDBOX_DIR)."""
    from sandbox.seed import seed_world
    from sandbox.store import world_for_request

    with world_for_request() as world:
        return seed_world(world, pages=pages, spaces=spaces)


@contextlib.contextmanager
def one_site_request_at_a_time(live_server) -> Iterator[threading.Lock]:
    """Serialize the site's requests when the live server shares one in-memory SQLite connection across threads.

    pytest-django hands the test's in-memory SQLite connection to every request thread of the live server; two
    requests using it at once (the Forge event or a GitHub webhook, posted from a simulator's thread, while the
    browser loads a page) fail with "database table is locked". Requests to /sandbox/ and /static/ touch no
    database and are not serialized: the site calls the sandbox while handling its own requests. PostgreSQL gives
    each thread its own connection, so nothing is serialized there.

    Yields the lock: a test that uses the database itself while the site runs (webhooks may arrive at any time)
    holds it meanwhile, as a request would.
    """
    from django.db import connection

    thread = live_server.thread
    if not thread.connections_override:
        if connection.vendor == "sqlite" and connection.is_in_memory_db():
            pytest.fail(
                "The live server started before the test database existed, so its threads open their own "
                "connections to the shared in-memory SQLite database and fail with 'database table is locked'. "
                "Request django_db_setup before live_server.",
                pytrace=False,
            )
        yield threading.Lock()  # nothing to serialize with: each thread has its own connection
        return
    app = thread.httpd.get_app()
    lock = threading.Lock()

    def serialized(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(("/sandbox/", "/static/")):
            return app(environ, start_response)
        with lock:
            response = app(environ, start_response)
            try:
                return list(response)
            finally:
                if hasattr(response, "close"):
                    response.close()

    thread.httpd.set_app(serialized)
    try:
        yield lock
    finally:
        thread.httpd.set_app(app)


@contextlib.contextmanager
def chromium_page(executable: str, *, width: int = 1280, height: int = 900):
    """A fresh page in Debian's Chromium, closed (browser included) when the block ends.

    Playwright's sync API runs an asyncio loop on this thread while it is open; Django refuses ORM calls from
    such a thread, so a test reads the database only after this block.
    """
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)  # assertions wait as long as actions (their default is 5 s)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            context.set_default_timeout(TIMEOUT_MS)
            context.set_default_navigation_timeout(TIMEOUT_MS)
            yield context.new_page()
        finally:
            browser.close()


class DeliveryThreads:
    """Stands in for `threading` in the modules where the live sandbox starts its webhook deliveries.

    The Forge events and GitHub webhooks are posted from daemon threads once a /sandbox/ request has released the
    world's lock. A test waits for them before its teardown, so none lands on the (session-wide) live server while
    the next test runs.
    """

    def __init__(self) -> None:
        self.started: list[threading.Thread] = []

    def Thread(self, *args, **kwargs) -> threading.Thread:
        thread = threading.Thread(*args, **kwargs)
        self.started.append(thread)
        return thread

    def __getattr__(self, name: str):
        return getattr(threading, name)

    def install(self, monkeypatch) -> DeliveryThreads:
        import sandbox.atlassian.forge
        import sandbox.store

        monkeypatch.setattr(sandbox.store, "threading", self)
        monkeypatch.setattr(sandbox.atlassian.forge, "threading", self)
        return self

    def wait(self, timeout: float = 30) -> None:
        """Join every delivery, including those that deliveries caused; fail if some are still running."""
        deadline = time.monotonic() + timeout
        while True:
            running = [t for t in self.started if t.is_alive()]
            if not running:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"{len(running)} sandbox webhook deliveries still running after {timeout} s")
            running[0].join(timeout=max(0.0, deadline - time.monotonic()))


# Shared by the browser test modules ------------------------------------------------------------------------


def session_cookie(user, base: str, seeded) -> dict:
    from django.conf import settings
    from django.test import Client

    client = Client()
    with seeded.site_lock:  # a session row, written while webhooks may still be arriving
        client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": base,
    }


def sign_in(page, cookie: dict) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([cookie])


def set_up_connection(org, user, seeded, *, repository="acme-sandbox/confluence-docs", name=""):
    """A connection set up through the wizard's functions: the simulated side under the world's lock, then the
    site's side (which calls the sandbox over HTTP, so outside the lock)."""
    from sandbox import demo
    from sandbox.store import world_for_request

    # The site's lock: webhooks the simulators send meanwhile wait for this thread to be done with the database.
    with seeded.site_lock:
        with world_for_request() as world:
            grants = world.grant_connection(cloud_id=seeded.cloud_id, space_keys=["ENG"], repository=repository)
        return demo.connect_with_grants(grants, org=org, user=user, name=name)


def url(name: str, *args) -> str:
    from django.urls import reverse

    return reverse(name, args=args)
