"""`python manage.py sandbox_seed`: fill the live sandbox with a realistic Confluence site and a GitHub account."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sandbox.seed import seed_world
from sandbox.store import new_world, world_for_request


class Command(BaseCommand):
    help = "Seed the sandbox's simulated Confluence site and GitHub account (deterministic under --seed)."

    def add_arguments(self, parser):
        parser.add_argument("--pages", type=int, default=200, help="pages besides the space homepages")
        parser.add_argument("--spaces", type=int, default=3, help="number of spaces; the first one is large")
        parser.add_argument("--seed", type=int, default=0, help="random seed for titles, trees and bodies")
        parser.add_argument("--reset", action="store_true", help="empty the sandbox first")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when the sandbox already has a site")

    def handle(self, *args, **options):
        with world_for_request() as world:
            if options["if_empty"] and world.atlassian.sites:
                self.stdout.write("The sandbox already has content; nothing to do.")
                return
            if options["reset"]:
                world.restore(new_world().snapshot())
            try:
                summary = seed_world(world, pages=options["pages"], spaces=options["spaces"], seed=options["seed"])
            except ValueError as error:
                raise CommandError(f"{error} (use --reset)") from None
        self.stdout.write(
            f"Seeded {summary.site_url} (cloud id {summary.cloud_id}): spaces {', '.join(summary.spaces)}, "
            f"{summary.pages} pages, {summary.attachments} attachments; "
            f"GitHub repositories {', '.join(summary.github_repositories)}."
        )
