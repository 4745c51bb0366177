"""`python manage.py rotate_encryption_keys`: re-encrypt every stored secret with the first FIELD_ENCRYPTION_KEY.

Rotation: put the new key first in FIELD_ENCRYPTION_KEY and keep the old ones after it, restart, run this
command, then drop the old keys. Every `EncryptedTextField` of every installed model is found through the app
registry, so a new encrypted field needs no change here.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import models
from django.db.models.functions import Cast
from django.db.models.lookups import Exact

from connectors.crypto import EncryptedTextField, rotate


def encrypted_fields() -> list[tuple[type[models.Model], str]]:
    return [
        (model, field.attname)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the first FIELD_ENCRYPTION_KEY (run after adding a new key)."

    def handle(self, *args, **options):
        unreadable = 0
        for model, name in encrypted_fields():
            rotated, failed = self.rotate_column(model, name)
            unreadable += failed
            self.stdout.write(f"{model._meta.label}.{name}: {rotated} re-encrypted, {failed} unreadable")
        if unreadable:
            raise CommandError(f"{unreadable} values could not be decrypted with any key in FIELD_ENCRYPTION_KEY.")

    def rotate_column(self, model: type[models.Model], name: str) -> tuple[int, int]:
        # Read and write the ciphertext itself: the field would decrypt on read and encrypt again on write.
        raw = Cast(name, models.TextField())
        rows = model._default_manager.annotate(raw=raw).exclude(raw="").exclude(raw=None).values_list("pk", "raw")
        rotated = failed = 0
        for pk, token in rows.iterator():
            try:
                new = rotate(token)
            except InvalidToken:
                failed += 1
                continue
            # Compare-and-swap: a token refreshed meanwhile was written with the new key already; keep it.
            rotated += model._default_manager.filter(Exact(raw, token), pk=pk).update(
                **{name: models.Value(new, output_field=models.TextField())}
            )
        return rotated, failed
