"""`python manage.py sandbox_demo [--pages N]`: a demo organization with a synced Confluence connection.

Seeds the sandbox, creates a demo user and organization, completes the five setup steps against the sandbox
through the functions the wizard uses, saves a scope, syncs to completion and prints where to `git clone` the
result. It works on the shared live world under its lock, answering the site's own HTTP calls to the sandbox
in-process, so it needs no running server.
"""

from __future__ import annotations

import responses
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from confluence.models import SyncRun
from confluence.sync.engine import run as run_sync
from confluence.sync.queue import NotReady, enqueue_sync
from github_sync.models import ApiKey
from sandbox import demo
from sandbox.seed import seed_world
from sandbox.store import world_for_request
from sandbox.testing import serve_with_responses

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a sandbox-only account, printed for the developer


class Command(BaseCommand):
    help = "Seed the sandbox and create a demo organization whose Confluence connection is set up and synced."

    def add_arguments(self, parser):
        parser.add_argument("--pages", type=int, default=200)
        parser.add_argument(
            "--api-key", action="store_true", help="Also create an API key for the demo organization and print it."
        )

    def handle(self, *args, pages: int, **options):
        user = self.demo_user()
        with world_for_request() as world, responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            rsps.add_passthru("http://127.0.0.1")  # nothing but the sandbox is called; keep local URLs reachable
            for simulator in world.simulators().values():
                serve_with_responses(rsps, simulator, simulator.base_url)
            if not world.atlassian.sites:
                seed_world(world, pages=pages)
            # A re-run finds the demo organization and its connection again and syncs it once more.
            try:
                connection = demo.build_demo(world, user=user)
            except demo.DemoBlocked as blocked:
                raise CommandError(f"Stopped before taking anything from another organization. {blocked}") from None
            try:
                run = enqueue_sync(connection, trigger=SyncRun.Trigger.COMMAND)
            except NotReady as refused:
                raise CommandError(f"The demo connection cannot sync: {refused.problem.message}.") from None
            run_sync(run.pk)
            run.refresh_from_db()
            path = world.github.repository_path(*demo.DEMO_REPOSITORY.split("/"))
        if run.status != SyncRun.Status.SUCCEEDED:
            raise CommandError(f"The demo sync failed: {run.error}")
        self.stdout.write(
            f"Connection {connection.pk} synced {run.counts.get('seen', 0)} pages in commit {run.commit_sha[:10]}.\n"
            f"Sign in as {DEMO_EMAIL} / {DEMO_PASSWORD}, or clone the result:\n"
            f"git clone {path}"
        )
        if options["api_key"]:
            # Shown once, like a key made on the API keys page; each run makes a new one.
            _, key = ApiKey.issue(org=connection.org, name="sandbox_demo", by=user)
            self.stdout.write(f"MCP server: {settings.PUBLIC_BASE_URL}/mcp\nAPI key: {key}")

    def demo_user(self):
        users = get_user_model().objects
        user = users.filter(email=DEMO_EMAIL).first()
        return user or users.create_user(username="demo", email=DEMO_EMAIL, password=DEMO_PASSWORD)
