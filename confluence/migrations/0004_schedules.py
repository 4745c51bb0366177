"""The periodic jobs, listed in one place: created with the schema, so every deployment has them."""

from django.db import migrations

SCHEDULES = [
    # name, function, minutes between runs
    ("ctx: sweep", "confluence.tasks.sweep", 1),
    ("ctx: reconcile", "confluence.tasks.reconcile_due", 15),
]


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": "I", "minutes": minutes, "repeats": -1}
        )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=[name for name, _, _ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("confluence", "0003_syncstate_ctx_blobs"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]
