"""`manage.py rotate_encryption_keys`: every stored secret ends up encrypted with the first key."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from confluence.models import AtlassianSite
from github_sync.models import GitHubIdentity

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def stored(settings, confluence_connection, alice):
    """An Atlassian grant and a GitHub identity, written under the OLD key."""
    settings.FIELD_ENCRYPTION_KEY = [OLD]
    site = AtlassianSite.objects.create(
        connection=confluence_connection,
        cloud_id="cloud-1",
        url="https://acme.atlassian.net",
        name="Acme",
        account_id="acct-1",
        access_token="access-1",
        refresh_token="refresh-1",
    )
    identity = GitHubIdentity.objects.create(user=alice, github_user_id=7, login="alice-gh", access_token="ghu_1")
    return site, identity


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 (fixed names)
        return cursor.fetchone()[0]


def rotate_to_new_key(settings) -> str:
    settings.FIELD_ENCRYPTION_KEY = [NEW, OLD]
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    return out.getvalue()


def test_it_encrypts_every_secret_with_the_new_key(stored, settings):
    site, identity = stored

    rotate_to_new_key(settings)

    new = Fernet(NEW.encode())
    assert new.decrypt(raw("confluence_atlassiansite", "access_token", site.pk).encode()) == b"access-1"
    assert new.decrypt(raw("confluence_atlassiansite", "refresh_token", site.pk).encode()) == b"refresh-1"
    assert new.decrypt(raw("github_sync_githubidentity", "access_token", identity.pk).encode()) == b"ghu_1"


def test_it_keeps_secrets_readable_without_the_old_key(stored, settings):
    site, identity = stored
    rotate_to_new_key(settings)

    settings.FIELD_ENCRYPTION_KEY = [NEW]

    assert AtlassianSite.objects.get(pk=site.pk).refresh_token == "refresh-1"
    assert GitHubIdentity.objects.get(pk=identity.pk).access_token == "ghu_1"


def test_it_reports_each_encrypted_field(stored, settings):
    output = rotate_to_new_key(settings)

    assert "confluence.AtlassianSite.access_token: 1 re-encrypted" in output
    assert "github_sync.GitHubIdentity.access_token: 1 re-encrypted" in output
    assert "confluence.PendingAtlassianLink.refresh_token: 0 re-encrypted" in output


def test_it_fails_when_a_secret_matches_no_key(stored, settings):
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]

    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_encryption_keys", stdout=StringIO())
