"""github_sync's periodic jobs, created with the schema so every deployment has them: ingestions are recovered and
GitHub's history pruned by the app that owns them."""

from django.db import migrations

SCHEDULES = [
    # name, function, schedule type, minutes between runs (interval schedules only)
    ("ctx: github sweep", "github_sync.tasks.sweep", "I", 1),
    ("ctx: github prune history", "github_sync.tasks.prune_history", "D", None),
]


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, schedule_type, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": schedule_type, "minutes": minutes, "repeats": -1}
        )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=[name for name, *_ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("github_sync", "0005_installation_request"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]
