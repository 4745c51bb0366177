"""Issue 18, items 1 and 2: a member's install request completes when an owner approves; the wrong account is
not a dead end (link a different GitHub account, remove an installation, refusals that lead back)."""

import pytest
from django.contrib import admin
from django.core import signing
from django.urls import reverse

from confluence.models import SyncTarget
from github_sync.installations import STATE_SALT, InstallationInUse, remove_installation
from github_sync.models import Installation, InstallationRequest, Repository, WebhookDelivery
from tests.flows import github_identity, github_install

pytestmark = pytest.mark.django_db


@pytest.fixture
def github(sandbox):
    gh = sandbox.github
    gh.create_user("alice-gh", name="Alice", email="alice@example.com")
    gh.create_user("bob-gh", name="Bob", email="bob@example.com")
    gh.create_org("acme-inc", owners=["alice-gh"], members=["bob-gh"])
    gh.create_repository("acme-inc", "wiki", private=True)
    return gh


def step(connection):
    return reverse("github-link", args=[connection.org.slug, connection.id])


def status(connection):
    return reverse("github-link-status", args=[connection.org.slug, connection.id])


def request_as_member(client, connection):
    github_identity(client, connection, login="bob-gh")
    return github_install(client, connection, account="acme-inc", login="bob-gh")


# Requests ------------------------------------------------------------------------------------------------


def test_a_request_records_who_asked_from_which_connection(as_user, carol, confluence_connection, github):
    client = as_user(carol)
    request_as_member(client, confluence_connection)

    pending = InstallationRequest.objects.get()
    assert (pending.org, pending.connection, pending.requested_by) == (
        confluence_connection.org,
        confluence_connection,
        carol,
    )
    assert pending.requester_login == "bob-gh" and pending.requester_github_id
    assert pending.is_pending
    page = client.get(step(confluence_connection)).content.decode()
    assert "bob-gh" in page and "Which GitHub organization did you ask?" in page


def test_naming_the_account_says_whose_owners_must_approve(as_user, carol, confluence_connection, github):
    client = as_user(carol)
    request_as_member(client, confluence_connection)
    client.post(reverse("github-request-account", args=["acme", confluence_connection.id]), {"account": "acme-inc"})

    assert InstallationRequest.objects.get().account_login == "acme-inc"
    fragment = client.get(status(confluence_connection)).content.decode()
    assert "owner of acme-inc" in fragment
    assert "owner of acme-inc" in confluence_connection.tasks.get(kind="link_github").detail


def test_the_owners_installation_completes_the_waiting_step(as_user, carol, confluence_connection, github):
    client = as_user(carol)
    request_as_member(client, confluence_connection)

    github.install_app("acme-inc", repositories="all", installed_by="alice-gh")

    installation = Installation.objects.get()
    assert (installation.org, installation.account_login, installation.created_by) == (
        confluence_connection.org,
        "acme-inc",
        carol,
    )
    assert list(Repository.objects.values_list("full_name", flat=True)) == ["acme-inc/wiki"]
    task = confluence_connection.tasks.get(kind="link_github")
    assert (task.state, task.completed_by) == ("done", carol)
    pending = InstallationRequest.objects.get()
    assert pending.installation == installation and pending.account_login == "acme-inc"
    # The waiting part of the page (what the browser polls) now says so, and leads on.
    fragment = client.get(status(confluence_connection)).content.decode()
    assert "data-live-stop" in fragment and "Continue" in fragment


def test_an_installation_nobody_here_requested_stays_unclaimed(as_user, carol, confluence_connection, github):
    client = as_user(carol)
    request_as_member(client, confluence_connection)
    github.create_user("dave-gh")
    github.create_org("other-inc", owners=["alice-gh"], members=["dave-gh"])
    github.request_installation("other-inc", requested_by="dave-gh")

    github.install_app("other-inc", repositories="all", installed_by="alice-gh")

    assert not Installation.objects.exists()
    assert InstallationRequest.objects.get().is_pending
    delivery = WebhookDelivery.objects.filter(event="installation").latest("received_at")
    assert "not claimed" in delivery.detail


def test_a_request_for_another_account_is_not_fulfilled_by_this_one(as_user, carol, confluence_connection, github):
    client = as_user(carol)
    request_as_member(client, confluence_connection)
    InstallationRequest.objects.update(account_login="elsewhere-inc")

    github.install_app("acme-inc", repositories="all", installed_by="alice-gh")

    assert not Installation.objects.exists()
    assert confluence_connection.tasks.get(kind="link_github").state == "waiting"


def test_an_owner_installing_from_github_gets_an_explanation(as_user, alice, confluence_connection, github):
    installation_id = github.install_app("acme-inc", repositories="all")
    response = as_user(alice).get(
        "/integrations/github/setup", {"installation_id": installation_id, "setup_action": "install"}
    )
    assert response.status_code == 200
    assert b"completes by itself" in response.content


def test_the_waiting_fragment_is_hidden_from_non_members(as_user, charlie, confluence_connection):
    assert as_user(charlie).get(status(confluence_connection)).status_code == 404


# The wrong account -------------------------------------------------------------------------------------------


def test_a_refused_installation_leads_back_to_the_step(as_user, alice, confluence_connection, github):
    github.create_user("mallory-gh")
    github.create_repository("mallory-gh", "loot")
    foreign = github.install_app("mallory-gh", repositories="all")
    client = as_user(alice)
    github_identity(client, confluence_connection, login="alice-gh")
    state = signing.dumps({"u": alice.pk, "c": confluence_connection.pk}, salt=STATE_SALT)
    response = client.get(
        "/integrations/github/setup", {"installation_id": foreign, "setup_action": "install", "state": state}
    )
    page = response.content.decode()
    assert response.status_code == 403
    assert f'href="{step(confluence_connection)}"' in page
    assert "Link a different GitHub account" in page and "alice-gh" in page


def test_an_expired_link_says_where_to_start_again(as_user, alice, confluence_connection, github):
    response = as_user(alice).get(
        "/integrations/github/setup", {"installation_id": "1", "setup_action": "install", "state": "forged"}
    )
    assert response.status_code == 400
    assert b"Link GitHub" in response.content and f'href="{reverse("home")}"'.encode() in response.content


def test_the_step_offers_to_link_a_different_github_account(as_user, alice, confluence_connection, github):
    client = as_user(alice)
    github_identity(client, confluence_connection, login="bob-gh")
    page = client.get(step(confluence_connection)).content.decode()
    assert "Link a different GitHub account" in page
    github_identity(client, confluence_connection, login="alice-gh")
    assert "Linked as <strong>alice-gh</strong>" in client.get(step(confluence_connection)).content.decode()


def test_removing_the_wrong_installation_sends_the_step_back(as_user, alice, acme, confluence_connection, github):
    client = as_user(alice)
    github_identity(client, confluence_connection, login="alice-gh")
    github_install(client, confluence_connection, account="alice-gh", login="alice-gh")
    installation = Installation.objects.get(account_login="alice-gh")
    assert confluence_connection.tasks.get(kind="link_github").state == "done"

    remove = reverse("github-installation-remove", args=["acme", confluence_connection.id, installation.pk])
    response = client.post(remove)

    assert response["Location"] == step(confluence_connection)
    assert not Installation.objects.exists()
    task = confluence_connection.tasks.get(kind="link_github")
    assert task.state == "pending" and "removed from this organization" in task.detail
    # GitHub still has it: installing on the right account works as before.
    github_install(client, confluence_connection, account="acme-inc", login="alice-gh")
    assert Installation.objects.get().account_login == "acme-inc"


def test_an_installation_a_connection_writes_through_is_not_removed(acme, alice, confluence_connection):
    installation = Installation.objects.create(org=acme, installation_id=7, account_login="acme-inc")
    repository = Repository.objects.create(installation=installation, github_id=1, full_name="acme-inc/wiki")
    SyncTarget.objects.create(connection=confluence_connection, repository=repository)
    with pytest.raises(InstallationInUse, match="Choose another repository"):
        remove_installation(installation)
    assert Installation.objects.exists()


def test_only_members_of_its_organization_remove_an_installation(as_user, bob, charlie, globex, confluence_connection):
    installation = Installation.objects.create(org=globex, installation_id=7, account_login="globex-gh")
    remove = reverse("github-installation-remove", args=["acme", confluence_connection.id, installation.pk])
    assert as_user(bob).post(remove).status_code == 403  # a plain member of Acme
    assert as_user(charlie).post(remove).status_code == 404  # not a member of Acme
    assert Installation.objects.exists()


def test_staff_remove_an_installation_in_the_admin(admin_client, acme, confluence_connection):
    installation = Installation.objects.create(org=acme, installation_id=7, account_login="wrong-gh")
    confluence_connection.tasks.get(kind="link_github").mark("done", "installed")
    changelist = reverse("admin:github_sync_installation_changelist")
    admin_client.post(changelist, {"action": "remove_from_organization", "_selected_action": [installation.pk]})
    assert not Installation.objects.exists()
    assert confluence_connection.tasks.get(kind="link_github").state == "pending"


def test_staff_cannot_point_an_installation_at_another_github_account(rf, admin_user, acme):
    installation = Installation.objects.create(org=acme, installation_id=7, account_login="acme-gh")
    request = rf.get("/")
    request.user = admin_user
    form = admin.site._registry[Installation].get_form(request, installation)
    assert {"installation_id", "account_login", "account_type", "repository_selection"}.isdisjoint(form.base_fields)


def test_staff_can_still_add_an_installation_by_its_id(admin_client, admin_user, acme):
    add = reverse("admin:github_sync_installation_add")
    form = {"org": acme.pk, "installation_id": 77, "account_login": "acme-gh", "account_type": "Organization"}
    form |= {"repository_selection": "selected", "status": "active", "created_by": admin_user.pk}
    form |= {"repositories-TOTAL_FORMS": 0, "repositories-INITIAL_FORMS": 0}
    response = admin_client.post(add, form)
    assert response.status_code == 302
    assert Installation.objects.filter(installation_id=77, account_login="acme-gh", org=acme).exists()


# The simulated GitHub ----------------------------------------------------------------------------------------
