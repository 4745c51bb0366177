"""Secrets at rest: Fernet encryption with key rotation, and a model field that uses it.

FIELD_ENCRYPTION_KEY holds one or more Fernet keys (comma-separated): the first encrypts, every key decrypts,
so an operator rotates by putting a new key first and running `manage.py rotate_encryption_keys`.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEY holds an invalid Fernet key: {error}") from None


def _keys() -> tuple[str, ...]:
    keys = tuple(key.strip() for key in settings.FIELD_ENCRYPTION_KEY if key.strip())
    if keys:
        return keys
    if not settings.DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set when DEBUG is off.")
    # Development only: a key derived from the dev secret key, so `make run` needs no configuration.
    return (base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest()).decode(),)


def encrypt(plaintext: str) -> str:
    return _fernet(_keys()).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(_keys()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A secret could not be decrypted: was FIELD_ENCRYPTION_KEY changed without rotation?"
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt with the first key (what rotation does to every stored secret)."""
    return _fernet(_keys()).rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column stored Fernet-encrypted; Python code sees plaintext. Empty stays empty."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value
