"""A sync that must wait for Confluence or GitHub waits in the queue (`not_before`) instead of in a one-off
django-q2 schedule; queued rows note when the broker last took them (`sent_at`: the sweeper's clock).

The retry schedules still pending become queued runs that wait until the schedule's time, merged into the
connection's queued run when it has one, as `confluence.tasks.retry_sync` would have done then."""

import ast

from django.db import migrations, models

RETRY = "confluence.tasks.retry_sync"


def schedules_to_queued_runs(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for retry in Schedule.objects.filter(func=RETRY):
        if retry.repeats != 0:  # a one-off schedule that ran is kept with no repeats left
            connection_id, page_ids, full = ast.literal_eval(retry.args)  # as outcome.schedule_retry wrote them
            queue_retry(apps, connection_id, page_ids=page_ids, full=full, not_before=retry.next_run)
        retry.delete()


def queue_retry(apps, connection_id, *, page_ids, full, not_before):
    SyncRun = apps.get_model("confluence", "SyncRun")
    if not apps.get_model("connectors", "Connection").objects.filter(pk=connection_id).exists():
        return
    queued = SyncRun.objects.filter(connection_id=connection_id, status="queued").first()
    if queued is None:
        SyncRun.objects.create(
            connection_id=connection_id,
            trigger="recovery",
            page_ids=None if full else page_ids,
            full=full,
            not_before=not_before,
        )
        return
    queued.full = queued.full or full
    if queued.full or queued.page_ids is None or page_ids is None:
        queued.page_ids = None
    else:
        queued.page_ids = sorted(set(queued.page_ids) | set(page_ids))
    queued.save(update_fields=["full", "page_ids"])


class Migration(migrations.Migration):
    dependencies = [
        ("confluence", "0013_known_people"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="syncrun",
            name="not_before",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(schedules_to_queued_runs, migrations.RunPython.noop),
    ]
