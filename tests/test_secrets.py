"""Secrets never appear in a rendered page, an admin page, an error response or a log record."""

import logging

import pytest
from django.contrib import admin
from django.urls import reverse

from confluence.models import AtlassianSite, PendingAtlassianLink, SyncScope
from github_sync.models import ApiKey, GitHubIdentity, Installation, Repository

pytestmark = pytest.mark.django_db

SECRETS = {
    "access": "atlassian-access-SECRET-6a1f",
    "refresh": "atlassian-refresh-SECRET-7b2e",
    "pending_access": "pending-access-SECRET-8c3d",
    "pending_refresh": "pending-refresh-SECRET-9d4c",
    "github_user": "ghu_SECRET0123456789abcdef",
    "client_secret": "client-secret-SECRET-0e5b",
    "webhook_secret": "webhook-secret-SECRET-1f6a",
    "private_key": "-----BEGIN RSA PRIVATE KEY-----SECRETKEYMATERIAL",
}


@pytest.fixture
def secret_world(settings, confluence_connection, alice, acme, django_user_model):
    settings.ATLASSIAN_CLIENT_SECRET = SECRETS["client_secret"]
    settings.GITHUB_APP_CLIENT_SECRET = SECRETS["client_secret"]
    settings.GITHUB_WEBHOOK_SECRET = SECRETS["webhook_secret"]
    settings.GITHUB_APP_PRIVATE_KEY = SECRETS["private_key"]
    AtlassianSite.objects.create(
        connection=confluence_connection,
        cloud_id="cloud-1",
        url="https://acme.atlassian.net",
        name="Acme Wiki",
        account_id="acct-1",
        access_token=SECRETS["access"],
        refresh_token=SECRETS["refresh"],
    )
    PendingAtlassianLink.objects.create(
        user=alice,
        account_id="acct-1",
        access_token=SECRETS["pending_access"],
        refresh_token=SECRETS["pending_refresh"],
    )
    GitHubIdentity.objects.create(user=alice, login="alice-gh", github_user_id=1, access_token=SECRETS["github_user"])
    installation = Installation.objects.create(org=acme, installation_id=5, account_login="acme-inc")
    Repository.objects.create(installation=installation, github_id=1, full_name="acme-inc/wiki")
    SyncScope.objects.create(connection=confluence_connection, spaces=[{"id": "1", "key": "ENG", "name": "Eng"}])
    _, raw_key = ApiKey.issue(org=acme, name="agents", by=alice)
    SECRETS["api_key"] = raw_key
    staff = django_user_model.objects.create_superuser("ops", "ops@example.com", "password")
    return staff


def assert_clean(text: str, where: str) -> None:
    for name, value in SECRETS.items():
        assert value not in text, f"{name} leaked in {where}"


@pytest.mark.slow
def test_it_never_renders_secrets_in_the_admin(client, secret_world):
    client.force_login(secret_world)
    for model in admin.site._registry:
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert_clean(client.get(changelist).content.decode(), changelist)
        for instance in model._default_manager.all()[:3]:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[instance.pk])
            assert_clean(client.get(change).content.decode(), change)


def test_it_never_renders_secrets_in_the_app(client, secret_world, alice, confluence_connection):
    client.force_login(alice)
    pages = [
        reverse("connectors", args=["acme"]),
        reverse("connection-setup", args=["acme", confluence_connection.id]),
        reverse("confluence-step-atlassian", args=["acme", confluence_connection.id]),
        reverse("confluence-step-forge", args=["acme", confluence_connection.id]),
        reverse("github-link", args=["acme", confluence_connection.id]),
        reverse("confluence-step-repository", args=["acme", confluence_connection.id]),
        reverse("confluence-runs", args=["acme", confluence_connection.id]),
        reverse("api-keys", args=["acme"]),
        reverse("members", args=["acme"]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_clean(response.content.decode(), url)


def test_it_never_puts_secrets_in_error_responses_or_logs(client, secret_world, caplog):
    caplog.set_level(logging.DEBUG)
    bearer = f"Bearer {SECRETS['access']}"
    responses = [
        client.post("/integrations/forge/events", b"{}", content_type="application/json", HTTP_AUTHORIZATION=bearer),
        client.post(
            "/integrations/github/webhook",
            b"{}",
            content_type="application/json",
            HTTP_X_GITHUB_EVENT="push",
            HTTP_X_HUB_SIGNATURE_256="sha256=" + "0" * 64,
        ),
        client.get("/api/v1/orgs/acme/search", {"q": "x"}, HTTP_AUTHORIZATION=f"Bearer {SECRETS['api_key']}x"),
    ]
    for response in responses:
        assert response.status_code in (400, 401, 403, 404)
        assert_clean(response.content.decode(), response.wsgi_request.path)
    assert_clean("\n".join(record.getMessage() for record in caplog.records), "logs")
    assert_clean(caplog.text, "formatted logs")
