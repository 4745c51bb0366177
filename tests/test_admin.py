"""Every admin changelist and change form loads for staff, with data in it."""

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
