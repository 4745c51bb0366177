"""Every admin changelist and change form loads for staff, with data in it."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("ops", "ops@example.com", "password")
    client.force_login(user)
    return client


@pytest.fixture
def populated(confluence_connection, globex):
    from connectors.models import Invitation

    Invitation.objects.create(org=confluence_connection.org, email="new@example.com")
    return confluence_connection


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_it_loads_the_changelist_and_change_form(staff_client, populated, model):
    meta = model._meta
    changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    assert staff_client.get(changelist).status_code == 200
    assert staff_client.get(changelist, {"q": "acme"}).status_code == 200
    instance = model._default_manager.first()
    if instance is not None:
        change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[instance.pk])
        assert staff_client.get(change).status_code == 200


def test_it_keeps_the_admin_staff_only(client, alice):
    client.force_login(alice)
    response = client.get(reverse("admin:connectors_connection_changelist"))
    assert response.status_code == 302


def test_it_resets_setup_from_the_admin(staff_client, populated, alice):
    for task in populated.tasks.all():
        task.mark("done", by=alice)
    staff_client.post(
        reverse("admin:connectors_connection_changelist"),
        {"action": "reset_setup", "_selected_action": [populated.id]},
    )
    assert set(populated.tasks.values_list("state", flat=True)) == {"pending"}


def test_it_pauses_from_the_admin(staff_client, populated):
    staff_client.post(
        reverse("admin:connectors_connection_changelist"), {"action": "pause", "_selected_action": [populated.id]}
    )
    populated.refresh_from_db()
    assert populated.paused


def test_connections_name_their_organization_and_repositories_are_plural(staff_client, confluence_connection):
    from confluence.models import SyncScope

    SyncScope.objects.create(connection=confluence_connection)
    page = staff_client.get(reverse("admin:confluence_syncscope_changelist")).content.decode()
    assert "Atlassian Confluence · Acme" in page
    assert "Atlassian Confluence (Atlassian Confluence)" not in page
    index = staff_client.get(reverse("admin:index")).content.decode()
    assert "Repositories" in index and "Repositorys" not in index


def test_the_setup_task_inline_keeps_the_detail_box_narrow(staff_client, confluence_connection):
    change = reverse("admin:connectors_connection_change", args=[confluence_connection.pk])
    page = staff_client.get(change).content.decode()
    assert re.search(r'<textarea[^>]*name="tasks-0-detail"[^>]*cols="40"', page) or re.search(
        r'<textarea[^>]*cols="40"[^>]*name="tasks-0-detail"', page
    )
