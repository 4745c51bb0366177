from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("confluence", "0008_repository_single_writer"),
    ]

    operations = [
        migrations.AddField(
            model_name="syncrun",
            name="warnings",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
