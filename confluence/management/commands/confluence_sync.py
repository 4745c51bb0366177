"""`python manage.py confluence_sync CONNECTION_ID [--full] [--wait]`: queue a sync, as "Sync now" does."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from confluence.models import SyncRun
from confluence.sync.engine import run as run_sync
from confluence.sync.queue import NotReady, enqueue_sync
from connectors.models import Connection


class Command(BaseCommand):
    help = "Queue a sync of a Confluence connection (merged into its queued run if there is one)."

    def add_arguments(self, parser):
        parser.add_argument("connection_id", type=int)
        parser.add_argument("--full", action="store_true", help="re-read and re-render every page")
        parser.add_argument(
            "--wait", action="store_true", help="run it in this process if no worker picks it up, and report the result"
        )

    def handle(self, *args, connection_id: int, full: bool, wait: bool, **options):
        connection = Connection.objects.filter(pk=connection_id, kind=Connection.Kind.CONFLUENCE).first()
        if connection is None:
            raise CommandError(f"No Confluence connection with id {connection_id}.")
        try:
            run = enqueue_sync(connection, trigger=SyncRun.Trigger.COMMAND, full=full)
        except NotReady:
            raise CommandError(f"Connection {connection_id} has not finished its setup, or is paused.") from None
        self.stdout.write(f"Sync run {run.pk} queued for {connection}.")
        if wait:
            run = self.wait_for(run)
            self.stdout.write(f"Run {run.pk}: {run.status} {run.counts} {run.commit_sha or ''} {run.error}".rstrip())
            if run.status == SyncRun.Status.FAILED:
                raise CommandError(run.error or "The sync failed.")

    def wait_for(self, run: SyncRun) -> SyncRun:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status != SyncRun.Status.QUEUED:
                break
            time.sleep(0.5)
        else:
            # No worker claimed it: do it here (claiming keeps a late worker from running it twice).
            run_sync(run.pk)
        while True:
            run.refresh_from_db()
            if run.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED):
                return run
            time.sleep(1)
