"""Web pages: the "Choose repositories" step, the search page and the API keys page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connectors.models import Connection
from github_sync.models import ApiKey, Document, IngestRun, Repository, Source

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked_connection(acme, alice, repository):
    linked_connection = Connection.create_with_tasks(org=acme, kind="github", created_by=alice)
    linked_connection.tasks.get(kind="link_github").mark("done", by=alice)
    return linked_connection


def step_url(linked_connection):
    return reverse("github-repositories", args=[linked_connection.org.slug, linked_connection.id])


def test_the_setup_page_links_to_the_step(as_user, alice, linked_connection):
    body = as_user(alice).get(reverse("connection-setup", args=["acme", linked_connection.id])).content.decode()
    assert step_url(linked_connection) in body


def test_it_lists_the_repositories_the_app_reaches(as_user, alice, linked_connection):
    body = as_user(alice).get(step_url(linked_connection)).content.decode()
    assert "acme-gh/docs" in body and "acme-gh/site" in body


def test_it_saves_the_choice_and_starts_ingesting(
    as_user, carol, linked_connection, repository, github, django_capture_on_commit_callbacks
):
    github.push_outside_commit("acme-gh", "docs", files={"a.md": "# A"}, message="init")
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(carol).post(step_url(linked_connection), {"repository": [repository.id]})

    assert response.status_code == 302
    assert list(Source.objects.values_list("repository", flat=True)) == [repository.id]
    task = linked_connection.tasks.get(kind="select_repositories")
    assert (task.state, task.detail, task.completed_by) == ("done", "1 repository chosen", carol)
    linked_connection.refresh_from_db()
    assert linked_connection.status == Connection.Status.ACTIVE
    run = IngestRun.objects.get()
    assert (run.trigger, run.status) == ("connected", "succeeded")  # tasks run inline in the suite
    assert Document.objects.get().path == "a.md"


def test_it_forgets_documents_of_a_repository_nobody_uses_any_more(
    as_user, alice, linked_connection, repository, push, ingest_now
):
    Source.connect(linked_connection, repository)
    ingest_now(push({"a.md": "# A"}))
    site = Repository.objects.get(full_name="acme-gh/site")

    as_user(alice).post(step_url(linked_connection), {"repository": [site.id]})

    assert list(linked_connection.sources.values_list("repository", flat=True)) == [site.id]
    assert not Document.objects.filter(repository=repository).exists()


def test_it_requires_a_choice(as_user, alice, linked_connection):
    response = as_user(alice).post(step_url(linked_connection), {}, follow=True)
    assert "Choose at least one repository" in response.content.decode()
    assert linked_connection.tasks.get(kind="select_repositories").state == "pending"


def test_it_ignores_repositories_of_other_organizations(as_user, charlie, globex, alice, linked_connection, repository):
    other = Connection.create_with_tasks(org=globex, kind="github", created_by=charlie)
    response = as_user(charlie).post(step_url(other), {"repository": [repository.id]}, follow=True)
    assert "Choose at least one repository" in response.content.decode()
    assert not Source.objects.exists()


def test_the_step_is_for_admins_only(as_user, bob, charlie, linked_connection):
    assert as_user(bob).get(step_url(linked_connection)).status_code == 403
    assert as_user(charlie).get(step_url(linked_connection)).status_code == 404


def test_it_says_when_no_repository_is_reachable(as_user, alice, acme):
    linked_connection = Connection.create_with_tasks(org=acme, kind="github", created_by=alice)
    body = as_user(alice).get(step_url(linked_connection)).content.decode()
    assert "No repository is reachable yet" in body


# Search page -----------------------------------------------------------------------------------------------


def test_members_search(as_user, bob, github_connection, push, ingest_now):
    ingest_now(push({"guide.md": "# Deploying\n\nRun the <b>deploy</b> script."}))

    response = as_user(bob).get(reverse("search", args=["acme"]), {"q": "deploy"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "guide.md" in body and "<mark>" in body
    assert "<b>deploy</b>" not in body


def test_search_is_for_members_only(as_user, charlie, acme):
    assert as_user(charlie).get(reverse("search", args=["acme"]), {"q": "x"}).status_code == 404


# API keys --------------------------------------------------------------------------------------------------


def keys_url():
    return reverse("api-keys", args=["acme"])


def test_admins_create_a_key_shown_once(as_user, carol, acme):
    response = as_user(carol).post(keys_url(), {"name": "support agent"})

    key = ApiKey.objects.get()
    body = response.content.decode()
    shown = body.split('<code id="new-key">')[1].split("</code>")[0]
    assert ApiKey.find(shown) == key
    assert key.created_by == carol and key.name == "support agent"
    assert response["Cache-Control"].startswith("max-age=0")
    assert shown not in as_user(carol).get(keys_url()).content.decode()


def test_members_see_keys_without_secrets_and_cannot_create(as_user, bob, alice, acme):
    ApiKey.issue(org=acme, name="agent", by=alice)
    body = as_user(bob).get(keys_url()).content.decode()
    assert "agent" in body and "Create a key" not in body and "Revoke" not in body
    assert as_user(bob).post(keys_url(), {"name": "mine"}).status_code == 403


def test_admins_revoke_a_key(as_user, alice, acme):
    key, _ = ApiKey.issue(org=acme, name="agent", by=alice)
    response = as_user(alice).post(reverse("api-key-revoke", args=["acme", key.id]))
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_members_cannot_revoke(as_user, bob, alice, acme):
    key, _ = ApiKey.issue(org=acme, name="agent", by=alice)
    assert as_user(bob).post(reverse("api-key-revoke", args=["acme", key.id])).status_code == 403


def test_keys_of_other_organizations_stay_hidden(as_user, charlie, globex, alice, acme):
    key, _ = ApiKey.issue(org=acme, name="acme-agent", by=alice)
    assert as_user(charlie).post(reverse("api-key-revoke", args=[globex.slug, key.id])).status_code == 404
    assert "acme-agent" not in as_user(charlie).get(reverse("api-keys", args=[globex.slug])).content.decode()
    assert as_user(charlie).get(keys_url()).status_code == 404
