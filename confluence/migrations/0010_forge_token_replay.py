import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("confluence", "0009_syncrun_warnings"),
    ]

    operations = [
        migrations.CreateModel(
            name="ForgeTokenUse",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token_id", models.CharField(max_length=255, unique=True)),
                ("body_sha256", models.CharField(max_length=64)),
                ("expires_at", models.DateTimeField(db_index=True)),
                ("used_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
    ]
