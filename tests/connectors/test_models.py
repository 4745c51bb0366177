import pytest
from django.db import IntegrityError, transaction

from connectors.models import Connection, Membership, Organization, SetupTask

pytestmark = pytest.mark.django_db


def test_it_keeps_slugs_unique(alice):
    Organization.objects.create(name="Acme", slug="acme")
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.create(name="Acme again", slug="acme")


def test_it_picks_a_free_slug_for_a_taken_name(alice, bob):
    first = Organization.create_with_owner(name="Acme Corp", owner=alice)
    second = Organization.create_with_owner(name="Acme Corp", owner=bob)
    assert (first.slug, second.slug) == ("acme-corp", "acme-corp-2")


def test_it_makes_the_creator_the_owner(alice):
    org = Organization.create_with_owner(name="Acme", owner=alice)
    assert org.memberships.get().role == Membership.Role.OWNER


def test_it_allows_one_membership_per_user_and_org(acme, bob):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(org=acme, user=bob, role=Membership.Role.ADMIN)


def test_it_creates_the_five_confluence_tasks_in_order(acme, alice):
    connection = Connection.create_with_tasks(org=acme, kind="confluence", created_by=alice)
    tasks = list(connection.tasks.order_by("position").values_list("position", "kind", "state"))
    assert tasks == [
        (1, "link_atlassian", "pending"),
        (2, "install_forge", "pending"),
        (3, "link_github", "pending"),
        (4, "select_repository", "pending"),
        (5, "configure_scope", "pending"),
    ]
    assert connection.status == Connection.Status.SETUP
    assert connection.name == "Atlassian Confluence"


def test_it_rejects_two_tasks_at_one_position(confluence_connection):
    with pytest.raises(IntegrityError), transaction.atomic():
        SetupTask.objects.create(connection=confluence_connection, kind="extra", position=1)


def test_it_rejects_two_tasks_of_one_kind(confluence_connection):
    with pytest.raises(IntegrityError), transaction.atomic():
        SetupTask.objects.create(connection=confluence_connection, kind="link_atlassian", position=9)


def test_it_reports_progress_and_the_next_step(confluence_connection, alice):
    first = confluence_connection.tasks.get(kind="link_atlassian")
    first.mark(SetupTask.State.DONE, "Linked", by=alice)
    confluence_connection.refresh_from_db()
    assert confluence_connection.setup_progress() == (1, 5)
    assert confluence_connection.next_task().kind == "install_forge"
    assert confluence_connection.status_detail == "Next step: Install the ctx| Forge app"
    first.refresh_from_db()
    assert (first.completed_by, first.completed_at is not None) == (alice, True)


def test_it_becomes_active_when_every_step_is_done(confluence_connection, alice):
    for task in confluence_connection.tasks.all():
        task.mark(SetupTask.State.DONE, by=alice)
    confluence_connection.refresh_from_db()
    assert confluence_connection.status == Connection.Status.ACTIVE
    assert confluence_connection.is_ready


def test_it_clears_completion_when_a_step_is_reopened(confluence_connection, alice):
    task = confluence_connection.tasks.get(kind="install_forge")
    task.mark(SetupTask.State.DONE, by=alice)
    task.mark(SetupTask.State.WAITING, "Waiting for a site admin")
    task.refresh_from_db()
    assert (task.completed_at, task.completed_by, task.detail) == (None, None, "Waiting for a site admin")


def test_it_resets_setup(confluence_connection, alice):
    for task in confluence_connection.tasks.all():
        task.mark(SetupTask.State.DONE, by=alice)
    confluence_connection.refresh_from_db()
    confluence_connection.reset_setup(by=alice)
    assert set(confluence_connection.tasks.values_list("state", flat=True)) == {"pending"}
    assert confluence_connection.status == Connection.Status.SETUP


def test_it_pauses_and_resumes(confluence_connection):
    confluence_connection.pause()
    assert Connection.objects.get(id=confluence_connection.id).paused
    confluence_connection.resume()
    assert not Connection.objects.get(id=confluence_connection.id).paused
