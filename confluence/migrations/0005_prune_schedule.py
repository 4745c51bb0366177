from django.db import migrations


def create(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name="ctx: prune history",
        defaults={"func": "confluence.tasks.prune_history", "schedule_type": "D", "repeats": -1},
    )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="ctx: prune history").delete()


class Migration(migrations.Migration):
    dependencies = [("confluence", "0004_schedules")]

    operations = [migrations.RunPython(create, remove)]
