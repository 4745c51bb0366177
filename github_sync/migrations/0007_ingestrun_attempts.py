"""Ingestion runs count the workers that stopped on them (the sweeper gives a run up after TASK_MAX_ATTEMPTS), note
when the broker last took them (`sent_at`: the sweeper's clock), and keep a queued run's wait in `not_before`
instead of in `lease_until`, which now only ever means a running run's lease."""

from django.db import migrations, models


def move_waits(apps, schema_editor):
    IngestRun = apps.get_model("github_sync", "IngestRun")
    waiting = IngestRun.objects.filter(status="queued", lease_until__isnull=False)
    waiting.update(not_before=models.F("lease_until"), lease_until=None)


def move_waits_back(apps, schema_editor):
    IngestRun = apps.get_model("github_sync", "IngestRun")
    waiting = IngestRun.objects.filter(status="queued", not_before__isnull=False)
    waiting.update(lease_until=models.F("not_before"), not_before=None)


class Migration(migrations.Migration):
    dependencies = [
        ("github_sync", "0006_schedules"),
    ]

    operations = [
        migrations.AddField(
            model_name="ingestrun",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="ingestrun",
            name="not_before",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="ingestrun",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(move_waits, move_waits_back),
    ]
