"""Invitations keep only the SHA-256 of their link's token, and when the current link was issued.

Existing tokens are hashed rather than invalidated: the links already emailed keep working for the rest of
their fourteen days, and a link that leaked (into access logs, say) is no use on its own any more, because
accepting now needs a signed-in user with the invited address verified. Going back gives every invitation a
fresh token (the old links cannot be recovered from their hashes), so owners re-issue open invitations.
"""

import hashlib
import secrets

import django.utils.timezone
from django.db import migrations, models

import connectors.models


def hash_tokens(apps, schema_editor):
    Invitation = apps.get_model("connectors", "Invitation")
    for invitation in Invitation.objects.only("pk", "token", "created_at"):
        invitation.hashed_token = hashlib.sha256(invitation.token.encode()).hexdigest()
        invitation.issued_at = invitation.created_at
        invitation.save(update_fields=["hashed_token", "issued_at"])


def give_fresh_tokens(apps, schema_editor):
    Invitation = apps.get_model("connectors", "Invitation")
    for invitation in Invitation.objects.only("pk"):
        invitation.token = secrets.token_urlsafe()
        invitation.save(update_fields=["token"])


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="hashed_token",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="invitation",
            name="issued_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="invitation",
            name="token",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(hash_tokens, give_fresh_tokens),
        migrations.RemoveField(
            model_name="invitation",
            name="token",
        ),
        migrations.AlterField(
            model_name="invitation",
            name="hashed_token",
            field=models.CharField(
                default=connectors.models.hash_of_a_token_no_one_holds, editable=False, max_length=64, unique=True
            ),
        ),
    ]
