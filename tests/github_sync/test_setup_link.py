"""The "Link GitHub" step against the sandbox: identity, installation, the setup URL's checks."""

import pytest
from django.core import signing
from django.urls import reverse

from github_sync.installations import STATE_SALT
from github_sync.models import GitHubIdentity, Installation, Repository
from tests.flows import github_identity, github_install

pytestmark = pytest.mark.django_db


@pytest.fixture
def github(sandbox):
    gh = sandbox.github
    gh.create_user("alice-gh", name="Alice", email="alice@example.com")
    gh.create_user("bob-gh", name="Bob", email="bob@example.com")
    gh.create_org("acme-inc", owners=["alice-gh"], members=["bob-gh"])
    gh.create_repository("acme-inc", "wiki", private=True)
    gh.create_repository("acme-inc", "handbook", private=False)
    return gh


def step(connection):
    return reverse("github-link", args=[connection.org.slug, connection.id])


def test_it_installs_the_app_and_records_repositories(as_user, alice, confluence_connection, github):
    client = as_user(alice)
    github_identity(client, confluence_connection, login="alice-gh")
    assert GitHubIdentity.objects.get(user=alice).login == "alice-gh"
    response = github_install(client, confluence_connection, account="acme-inc", login="alice-gh")
    assert response["Location"] == reverse("connection-setup", args=["acme", confluence_connection.id])
    installation = Installation.objects.get()
    assert (installation.org, installation.account_login, installation.status) == (
        confluence_connection.org,
        "acme-inc",
        "active",
    )
    repos = {r.full_name: r.private for r in Repository.objects.all()}
    assert repos == {"acme-inc/wiki": True, "acme-inc/handbook": False}
    task = confluence_connection.tasks.get(kind="link_github")
    assert (task.state, task.completed_by) == ("done", alice)


def test_it_stores_the_user_token_encrypted(as_user, alice, confluence_connection, github):
    from django.db import connection as db

    github_identity(as_user(alice), confluence_connection, login="alice-gh")
    identity = GitHubIdentity.objects.get(user=alice)
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token FROM github_sync_githubidentity WHERE id = %s", [identity.id])
        assert identity.access_token not in cursor.fetchone()[0]


def test_it_is_done_at_once_when_the_org_has_an_installation(as_user, alice, confluence_connection, github, acme):
    Installation.objects.create(org=acme, installation_id=99, account_login="acme-inc")
    response = as_user(alice).get(step(confluence_connection))
    assert response.status_code == 200
    assert confluence_connection.tasks.get(kind="link_github").state == "done"


def test_it_waits_for_an_owner_when_a_member_requests(as_user, alice, confluence_connection, github):
    client = as_user(alice)
    github_identity(client, confluence_connection, login="bob-gh")
    response = github_install(client, confluence_connection, account="acme-inc", login="bob-gh")
    assert response["Location"] == step(confluence_connection)
    task = confluence_connection.tasks.get(kind="link_github")
    assert task.state == "waiting"
    assert "approve" in task.detail
    assert not Installation.objects.exists()


def test_it_rejects_a_forged_state(as_user, alice, confluence_connection, github):
    github_identity(as_user(alice), confluence_connection, login="alice-gh")
    installation_id = github.install_app("acme-inc", repositories="all")
    response = as_user(alice).get(
        "/integrations/github/setup", {"installation_id": installation_id, "setup_action": "install", "state": "forged"}
    )
    assert response.status_code == 400
    assert not Installation.objects.exists()


def test_it_rejects_an_expired_state(as_user, alice, confluence_connection, github, monkeypatch):
    github_identity(as_user(alice), confluence_connection, login="alice-gh")
    installation_id = github.install_app("acme-inc", repositories="all")
    state = signing.dumps({"u": alice.pk, "c": confluence_connection.pk}, salt=STATE_SALT)
    monkeypatch.setattr("github_sync.installations.STATE_MAX_AGE", -1)
    response = as_user(alice).get(
        "/integrations/github/setup", {"installation_id": installation_id, "setup_action": "install", "state": state}
    )
    assert response.status_code == 400


def test_it_rejects_a_state_made_for_another_user(as_user, alice, carol, confluence_connection, github):
    github_identity(as_user(carol), confluence_connection, login="alice-gh")
    installation_id = github.install_app("acme-inc", repositories="all")
    state = signing.dumps({"u": alice.pk, "c": confluence_connection.pk}, salt=STATE_SALT)
    response = as_user(carol).get(
        "/integrations/github/setup", {"installation_id": installation_id, "setup_action": "install", "state": state}
    )
    assert response.status_code == 400


def test_it_rejects_a_spoofed_installation_id(as_user, alice, confluence_connection, github):
    github.create_user("mallory-gh")
    github.create_repository("mallory-gh", "loot")
    foreign = github.install_app("mallory-gh", repositories="all")
    client = as_user(alice)
    github_identity(client, confluence_connection, login="alice-gh")
    state = signing.dumps({"u": alice.pk, "c": confluence_connection.pk}, salt=STATE_SALT)
    response = client.get(
        "/integrations/github/setup", {"installation_id": foreign, "setup_action": "install", "state": state}
    )
    assert response.status_code == 403
    assert b"does not list that installation" in response.content
    assert not Installation.objects.exists()


def test_it_refuses_an_installation_of_another_org(as_user, alice, charlie, globex, confluence_connection, github):
    installation_id = github.install_app("acme-inc", repositories="all")
    Installation.objects.create(org=globex, installation_id=installation_id, account_login="acme-inc")
    client = as_user(alice)
    github_identity(client, confluence_connection, login="alice-gh")
    state = signing.dumps({"u": alice.pk, "c": confluence_connection.pk}, salt=STATE_SALT)
    response = client.get(
        "/integrations/github/setup", {"installation_id": installation_id, "setup_action": "install", "state": state}
    )
    assert response.status_code == 403
    assert Installation.objects.get().org == globex


def test_it_hides_the_step_from_a_non_member(as_user, charlie, confluence_connection):
    assert as_user(charlie).get(step(confluence_connection)).status_code == 404


def test_it_forbids_installing_to_a_plain_member(as_user, bob, confluence_connection):
    response = as_user(bob).post(reverse("github-install", args=["acme", confluence_connection.id]))
    assert response.status_code == 403
