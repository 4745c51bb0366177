"""A repository has one writer: two connections cannot target one repository, and no sync removes a file that no
index names. Reading is not exclusive: other connections may ingest the repository."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from confluence.models import SyncState, SyncTarget
from confluence.setup import steps
from connectors.models import Connection
from github_sync.models import Repository, Source
from sandbox import demo
from tests.confluence.sync_world import sync_now, tree

pytestmark = pytest.mark.django_db

OUTSIDE = {
    "README.md": b"# Our wiki\n",
    "docs/steps.md": b"Written by a person.\n",
    "confluence/ENG/notes-by-hand.md": b"Kept next to the synced pages on purpose.\n",
    ".ctx/other-tool.yml": b"owner: another tool\n",
}


@pytest.fixture(autouse=True)
def handbook_repository(world):
    """The default site, and a second repository the GitHub App also reaches."""
    world.github.create_repository("acme-inc", "handbook", private=True)


@pytest.fixture
def wiki(connection) -> Repository:
    return connection.sync_target.repository


@pytest.fixture
def handbook(connection) -> Repository:
    return Repository.objects.get(full_name="acme-inc/handbook")


@pytest.fixture
def other(acme, alice) -> Connection:
    return Connection.create_with_tasks(org=acme, kind=Connection.Kind.CONFLUENCE, created_by=alice, name="Ops wiki")


def step_url(connection) -> str:
    return reverse("confluence-step-repository", args=[connection.org.slug, connection.id])


def connect_ops(world, acme, alice) -> Connection:
    return demo.connect(
        world,
        org=acme,
        user=alice,
        cloud_id=world.site.cloud_id,
        space_keys=["OPS"],
        repository="acme-inc/wiki",
        name="Ops wiki",
    )


# One writer per repository ---------------------------------------------------------------------------------


def test_it_refuses_a_second_connection_on_a_repository(world, connection, acme, alice):
    first = sync_now(connection)
    synced = tree(world)

    with pytest.raises(steps.RepositoryTaken) as refused:
        connect_ops(world, acme, alice)
    again = sync_now(connection)

    assert str(refused.value) == (
        "acme-inc/wiki is written by the connection “Atlassian Confluence”; choose another repository."
    )
    assert SyncTarget.objects.filter(repository__full_name="acme-inc/wiki").count() == 1
    assert first.counts["added"] == len([p for p in synced if p.endswith(".md")])
    assert (again.status, again.commit_sha) == ("succeeded", "")
    assert tree(world) == synced


def test_it_refuses_a_second_target_in_the_database(connection, wiki, other):
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncTarget.objects.create(connection=other, repository=wiki)


def test_it_refuses_a_repository_taken_between_the_check_and_the_write(
    monkeypatch, as_user, alice, connection, wiki, other
):
    real = steps.repository_writer
    calls = []

    def misses_the_first_time(repository, *, other_than):
        calls.append(repository)
        return None if len(calls) == 1 else real(repository, other_than=other_than)

    monkeypatch.setattr(steps, "repository_writer", misses_the_first_time)
    response = as_user(alice).post(step_url(other), {"repository": wiki.pk})

    assert response.status_code == 400
    assert "acme-inc/wiki is written by the connection “Atlassian Confluence”" in response.content.decode()
    assert not SyncTarget.objects.filter(connection=other).exists()
    assert other.tasks.get(kind="select_repository").state == "pending"


def test_it_lets_other_connections_read_the_repository(world, connection, wiki, acme, alice):
    github = Connection.create_with_tasks(org=acme, kind=Connection.Kind.GITHUB, created_by=alice)
    Source.connect(github, wiki, by=alice)

    run = sync_now(connection)

    assert run.status == "succeeded" and run.commit_sha
    assert set(wiki.sources.values_list("connection__kind", flat=True)) == {"confluence", "github"}


# The repository step ---------------------------------------------------------------------------------------


def test_it_shows_which_connection_writes_to_a_repository(as_user, alice, connection, wiki, handbook, other):
    page = as_user(alice).get(step_url(other)).content.decode()

    holder = reverse("connection-setup", args=[connection.org.slug, connection.id])
    assert f'<a href="{holder}">Atlassian Confluence</a> (not available)' in page
    assert f'id="repo-{wiki.pk}" data-public="0" disabled required' in page
    assert f'id="repo-{handbook.pk}" data-public="0"  required' in page


def test_it_shows_its_own_repository_as_selectable(as_user, alice, connection, wiki):
    page = as_user(alice).get(step_url(connection)).content.decode()

    assert f'id="repo-{wiki.pk}" data-public="0" checked required' in page
    assert "this connection" in page and "not available" not in page


def test_it_names_no_connection_of_another_organization(as_user, alice, globex, charlie, connection, wiki, other):
    foreign = Connection.create_with_tasks(org=globex, kind=Connection.Kind.CONFLUENCE, created_by=charlie)
    # Only staff can make this (the wizard offers only the organization's repositories): see the admin.
    SyncTarget.objects.filter(connection=connection).delete()
    SyncTarget.objects.create(connection=foreign, repository=wiki)

    page = as_user(alice).get(step_url(other)).content.decode()

    assert "a connection of another organization (not available)" in page
    assert "Globex" not in page and reverse("connection-setup", args=["globex", foreign.id]) not in page


def test_it_refuses_a_forged_choice_of_a_taken_repository(as_user, alice, connection, wiki, other):
    response = as_user(alice).post(step_url(other), {"repository": wiki.pk})

    assert response.status_code == 400
    assert (
        '<ul class="errorlist" id="repository-error"><li>acme-inc/wiki is written by the connection '
        "“Atlassian Confluence”; choose another repository.</li></ul>" in response.content.decode()
    )
    assert not SyncTarget.objects.filter(connection=other).exists()


def test_it_finds_no_repository_for_a_forged_id(as_user, alice, connection, other):
    response = as_user(alice).post(step_url(other), {"repository": "1 OR 1=1"})

    assert response.status_code == 404


def test_it_frees_a_repository_when_its_connection_moves_away(world, as_user, alice, connection, wiki, handbook, other):
    sync_now(connection)

    moved = as_user(alice).post(step_url(connection), {"repository": handbook.pk})
    taken = as_user(alice).post(step_url(other), {"repository": wiki.pk})

    assert moved.status_code == taken.status_code == 302
    assert SyncTarget.objects.get(connection=connection).repository == handbook
    assert SyncTarget.objects.get(connection=other).repository == wiki
    assert not Source.objects.filter(connection=connection, repository=wiki).exists()
    assert not SyncState.objects.filter(connection=connection).exists()
    assert connection.sync_runs.filter(status="queued", trigger="setup").exists()


# The admin -------------------------------------------------------------------------------------------------


@pytest.fixture
def staff(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("ops", "ops@example.com", "password"))
    return client


def test_it_refuses_staff_a_repository_another_connection_writes_to(staff, alice, connection, wiki, other):
    response = staff.post(
        reverse("admin:confluence_synctarget_add"),
        {
            "connection": other.pk,
            "repository": wiki.pk,
            "selected_by": alice.pk,
            "selected_at_0": "2026-01-05",
            "selected_at_1": "10:00:00",
        },
    )

    assert response.status_code == 200
    assert (
        f"acme-inc/wiki is written by Atlassian Confluence (connection {connection.pk} of Acme). "
        "A repository has one writer" in response.content.decode()
    )
    assert not SyncTarget.objects.filter(connection=other).exists()


def test_a_public_confirmation_does_not_follow_a_target_staff_move(staff, alice, connection, wiki, handbook):
    SyncTarget.objects.filter(connection=connection).update(
        public_confirmed_by=alice, public_confirmed_at=timezone.now()
    )
    target = SyncTarget.objects.get(connection=connection)
    form = {"repository": handbook.pk, "selected_by": alice.pk, "selected_at_0": "2026-01-05", "selected_at_1": "10:00"}
    # The change form shows the confirmation as it stands, and staff leave it so.
    confirmed = timezone.localtime(target.public_confirmed_at)
    form |= {"public_confirmed_by": alice.pk, "public_confirmed_at_0": f"{confirmed:%Y-%m-%d}"}
    form |= {"public_confirmed_at_1": f"{confirmed:%H:%M:%S}"}

    response = staff.post(reverse("admin:confluence_synctarget_change", args=[target.pk]), form)

    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.repository, target.public_confirmed_at, target.public_confirmed_by) == (handbook, None, None)


def test_it_lets_staff_move_a_target_to_a_free_repository(staff, alice, connection, wiki, handbook):
    target = connection.sync_target
    response = staff.post(
        reverse("admin:confluence_synctarget_change", args=[target.pk]),
        {
            "repository": handbook.pk,
            "selected_by": alice.pk,
            "selected_at_0": "2026-01-05",
            "selected_at_1": "10:00:00",
        },
    )

    assert response.status_code == 302
    assert SyncTarget.objects.get(pk=target.pk).repository == handbook
    assert Source.objects.filter(connection=connection, repository=handbook).exists()
    assert not Source.objects.filter(connection=connection, repository=wiki).exists()


# What a sync may remove ------------------------------------------------------------------------------------


def test_it_never_removes_a_file_no_index_names(world, connection):
    world.github.push_outside_commit("acme-inc", "wiki", files=dict(OUTSIDE), message="By hand")
    sync_now(connection)
    scope = connection.sync_scope
    scope.spaces = [s for s in scope.spaces if s["key"] == "OPS"]
    scope.save()

    narrowed = sync_now(connection)
    targeted = sync_now(connection, page_ids=[world.pages["guide"].id])
    full = sync_now(connection, full=True)

    files = tree(world)
    assert narrowed.counts["removed"] == 2
    assert {run.status for run in (narrowed, targeted, full)} == {"succeeded"}
    assert {path: files.get(path) for path in OUTSIDE} == OUTSIDE
    assert not [path for path in files if path.startswith("confluence/ENG/") and path not in OUTSIDE]


def test_it_takes_over_the_pages_a_deleted_connection_left(world, connection, acme, alice):
    sync_now(connection)
    world.github.push_outside_commit("acme-inc", "wiki", files=dict(OUTSIDE), message="By hand")
    connection.delete()

    successor = connect_ops(world, acme, alice)
    run = sync_now(successor)

    files = tree(world)
    # The index the previous writer left names its pages: the new writer keeps the repository to its own selection.
    assert run.counts["removed"] == 2
    assert sorted(p for p in files if p not in OUTSIDE and not p.startswith(".ctx/")) == ["confluence/OPS/runbook.md"]
    assert {path: files.get(path) for path in OUTSIDE} == OUTSIDE


# Existing data ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_first_writer_of_a_shared_repository_when_migrating():
    from django.db import connection as database
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("confluence", "0007_syncrun_worker")], [("confluence", "0008_repository_single_writer")]
    executor = MigrationExecutor(database)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        made = shared_repository_written_by_three(old)
        executor.loader.build_graph()
        executor.migrate(after)
    finally:
        executor = MigrationExecutor(database)
        executor.migrate(executor.loader.graph.leaf_nodes())

    never_synced, first_writer, later_writer = (Connection.objects.get(pk=pk) for pk in made["connections"])
    detail = "acme-inc/wiki is written by the connection “Ops”; choose another repository."
    assert list(SyncTarget.objects.values_list("connection_id", "repository_id")) == [(first_writer.pk, made["wiki"])]
    for detached in (never_synced, later_writer):
        step = detached.tasks.get(kind="select_repository")
        assert (step.state, step.detail, step.completed_at) == ("pending", detail, None)
        assert (detached.status, detached.status_detail) == ("attention", detail)
    assert first_writer.status == "active"
    assert list(Source.objects.values_list("connection_id", flat=True)) == [first_writer.pk]
    assert list(SyncState.objects.values_list("connection_id", flat=True)) == [first_writer.pk]


def shared_repository_written_by_three(apps) -> dict:
    """acme-inc/wiki targeted by a connection that selected it first and never synced, one that synced there first,
    and one that synced there later; each with its source, saved index and every setup step done."""

    def at(hour: int) -> datetime:
        return datetime(2026, 1, 5, hour, tzinfo=UTC)

    org = apps.get_model("connectors", "Organization").objects.create(name="Acme", slug="acme")
    installation = apps.get_model("github_sync", "Installation").objects.create(
        org=org, installation_id=7, account_login="acme-inc"
    )
    wiki = apps.get_model("github_sync", "Repository").objects.create(
        installation=installation, github_id=1, full_name="acme-inc/wiki"
    )
    connections = []
    for name, selected, synced in (("Eng", at(8), None), ("Ops", at(9), at(10)), ("Sales", at(10), at(11))):
        connection = apps.get_model("connectors", "Connection").objects.create(
            org=org, kind="confluence", name=name, status="active"
        )
        for position, kind in enumerate(
            ["link_atlassian", "install_forge", "link_github", "select_repository", "configure_scope"], start=1
        ):
            apps.get_model("connectors", "SetupTask").objects.create(
                connection=connection, kind=kind, position=position, state="done", detail="done", completed_at=at(8)
            )
        apps.get_model("confluence", "SyncTarget").objects.create(
            connection=connection, repository=wiki, selected_at=selected
        )
        apps.get_model("github_sync", "Source").objects.create(connection=connection, repository=wiki)
        apps.get_model("confluence", "SyncState").objects.create(connection=connection, commit_sha="a" * 40)
        if synced:
            apps.get_model("confluence", "SyncRun").objects.create(
                connection=connection, trigger="manual", status="succeeded", started_at=synced, finished_at=synced
            )
        connections.append(connection.pk)
    return {"connections": connections, "wiki": wiki.pk}
