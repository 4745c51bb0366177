"""Every admin changelist and change form loads for staff, with data in it."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


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


def test_what_ctx_keeps_about_people_and_tokens_is_read_only_in_the_admin(staff_client):
    from datetime import timedelta

    from django.utils import timezone

    from confluence.models import ForgeTokenUse, KnownPerson, PersonalDataReport, ReportedAccount

    rows = [
        PersonalDataReport.objects.create(cloud_id="c-1", accounts=3, closed=1),
        ReportedAccount.objects.create(account_id="557058:closed", closed_at=timezone.now()),
        KnownPerson.objects.create(cloud_id="c-1", account_id="557058:grace", display_name="Grace Hopper"),
        ForgeTokenUse.objects.create(token_id="jti-1", body_sha256="0" * 64, expires_at=timezone.now() + timedelta(1)),
    ]
    for row in rows:
        meta = row._meta
        change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[row.pk])
        page = staff_client.get(change)
        assert page.status_code == 200 and 'type="submit" value="Save"' not in page.content.decode()
        assert staff_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add")).status_code == 403
    names = staff_client.get(reverse("admin:confluence_knownperson_changelist"), {"q": "grace"}).content.decode()
    assert "Grace Hopper" in names
