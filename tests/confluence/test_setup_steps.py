"""Steps 2, 4 and 5 of the Confluence setup: the Forge app, the repository and the scope."""

import pytest
from django.urls import reverse

from confluence.models import AtlassianSite, SyncScope, SyncTarget
from confluence.setup import steps
from github_sync.models import Installation, Repository
from tests.flows import atlassian_consent, scope_selection

pytestmark = pytest.mark.django_db


@pytest.fixture
def consented_site(sandbox, as_user, alice, confluence_connection):
    wiki = sandbox.atlassian.create_site(name="Acme Wiki", url="https://acme.atlassian.net")
    atlassian_consent(as_user(alice), confluence_connection)
    return wiki


@pytest.fixture
def repos(acme):
    installation = Installation.objects.create(org=acme, installation_id=7, account_login="acme-inc")
    private = Repository.objects.create(installation=installation, github_id=1, full_name="acme-inc/wiki")
    public = Repository.objects.create(
        installation=installation, github_id=2, full_name="acme-inc/handbook", private=False, default_branch="trunk"
    )
    return private, public


def url(name, connection):
    return reverse(name, args=[connection.org.slug, connection.id])


# Forge -----------------------------------------------------------------------------------------------------


def test_it_waits_for_the_forge_app(as_user, alice, confluence_connection, consented_site, settings):
    response = as_user(alice).get(url("confluence-step-forge", confluence_connection))
    assert response.status_code == 200
    assert settings.CONFLUENCE_FORGE_INSTALL_URL.encode() in response.content
    assert b"Copy link for your admin" in response.content
    assert b"site admin" in response.content
    assert confluence_connection.tasks.get(kind="install_forge").state == "waiting"


def test_it_prefers_the_connections_install_link(as_user, alice, confluence_connection, consented_site):
    AtlassianSite.objects.filter(connection=confluence_connection).update(
        forge_install_url="https://example.com/install"
    )
    response = as_user(alice).get(url("confluence-step-forge", confluence_connection))
    assert b"https://example.com/install" in response.content


def test_it_explains_a_missing_install_link(as_user, alice, confluence_connection, consented_site, settings):
    settings.CONFLUENCE_FORGE_INSTALL_URL = ""
    response = as_user(alice).get(url("confluence-step-forge", confluence_connection))
    assert b"CONFLUENCE_FORGE_INSTALL_URL" in response.content
    assert b"docs/self-hosting.md" in response.content


def test_it_completes_the_forge_step_on_the_installed_event(as_user, alice, confluence_connection, consented_site):
    steps.record_forge_installed(
        cloud_id=consented_site.cloud_id, installation_id="ari:cloud:ecosystem::installation/1"
    )
    task = confluence_connection.tasks.get(kind="install_forge")
    assert task.state == "done"
    assert "confirmed" in task.detail
    response = as_user(alice).get(url("confluence-step-forge", confluence_connection))
    assert b"Installed" in response.content


def test_it_waits_again_and_warns_when_the_app_is_uninstalled(as_user, alice, confluence_connection, consented_site):
    steps.record_forge_installed(cloud_id=consented_site.cloud_id, installation_id="i-1")
    steps.record_forge_uninstalled(cloud_id=consented_site.cloud_id)
    assert confluence_connection.tasks.get(kind="install_forge").state == "waiting"
    confluence_connection.refresh_from_db()
    assert confluence_connection.status == "attention"
    assert "Forge app removed" in confluence_connection.status_detail


def test_it_knows_the_app_is_already_installed_in_a_site(sandbox, as_user, alice, acme, confluence_connection):
    wiki = sandbox.atlassian.create_site(name="Acme Wiki", url="https://acme.atlassian.net")
    steps.record_forge_installed(cloud_id=wiki.cloud_id, installation_id="i-1")
    atlassian_consent(as_user(alice), confluence_connection)
    assert confluence_connection.tasks.get(kind="install_forge").state == "done"


# Repository ------------------------------------------------------------------------------------------------


def test_it_selects_a_private_repository(as_user, alice, confluence_connection, repos):
    private, _ = repos
    page = as_user(alice).get(url("confluence-step-repository", confluence_connection))
    assert b"acme-inc/wiki" in page.content and b"trunk" in page.content
    as_user(alice).post(url("confluence-step-repository", confluence_connection), {"repository": private.pk})
    assert SyncTarget.objects.get(connection=confluence_connection).repository == private
    assert confluence_connection.tasks.get(kind="select_repository").state == "done"


def test_it_requires_confirmation_for_a_public_repository(as_user, alice, confluence_connection, repos):
    _, public = repos
    response = as_user(alice).post(url("confluence-step-repository", confluence_connection), {"repository": public.pk})
    assert response.status_code == 400
    assert b"confirm" in response.content
    assert not SyncTarget.objects.exists()
    as_user(alice).post(
        url("confluence-step-repository", confluence_connection), {"repository": public.pk, "confirm_public": "1"}
    )
    target = SyncTarget.objects.get()
    assert (target.repository, target.public_confirmed_by) == (public, alice)


def test_it_refuses_an_archived_repository(as_user, alice, confluence_connection, repos, monkeypatch):
    private, _ = repos
    Repository.objects.filter(pk=private.pk).update(archived=True)
    monkeypatch.setattr("github_sync.installations.refresh_repository", lambda pk: None)  # GitHub says: still archived
    page = as_user(alice).get(url("confluence-step-repository", confluence_connection))
    assert b"archived</strong> (read-only)" in page.content

    response = as_user(alice).post(url("confluence-step-repository", confluence_connection), {"repository": private.pk})

    assert response.status_code == 400
    assert b"acme-inc/wiki is archived on GitHub (read-only)" in response.content
    assert not SyncTarget.objects.exists()


def test_it_offers_only_the_orgs_repositories(as_user, alice, globex, confluence_connection, repos):
    foreign_installation = Installation.objects.create(org=globex, installation_id=8, account_login="globex")
    foreign = Repository.objects.create(installation=foreign_installation, github_id=3, full_name="globex/secret")
    page = as_user(alice).get(url("confluence-step-repository", confluence_connection))
    assert b"globex/secret" not in page.content
    response = as_user(alice).post(url("confluence-step-repository", confluence_connection), {"repository": foreign.pk})
    assert response.status_code == 404
    assert not SyncTarget.objects.exists()


def test_it_forbids_a_plain_member_to_select(as_user, bob, confluence_connection, repos):
    response = as_user(bob).post(url("confluence-step-repository", confluence_connection), {"repository": repos[0].pk})
    assert response.status_code == 403


# Scope -----------------------------------------------------------------------------------------------------


@pytest.fixture
def content(sandbox, consented_site):
    a = sandbox.atlassian
    eng = a.create_space(consented_site.cloud_id, key="ENG", name="Engineering", emit=False)
    a.create_space(consented_site.cloud_id, key="OPS", name="Operations", emit=False)
    home = a.create_page(consented_site.cloud_id, space_key="ENG", title="Home", body="<p>hi</p>", emit=False)
    guide = a.create_page(
        consented_site.cloud_id, space_key="ENG", title="Guide", body="<p>g</p>", parent_id=home.id, emit=False
    )
    a.create_page(
        consented_site.cloud_id,
        space_key="ENG",
        title="Draft",
        body="<p>d</p>",
        parent_id=guide.id,
        labels=["draft"],
        emit=False,
    )
    a.create_page(consented_site.cloud_id, space_key="OPS", title="Runbook", body="<p>r</p>", emit=False)
    return {"eng": eng, "home": home, "guide": guide}


def test_it_lists_spaces_and_searches_them(as_user, alice, confluence_connection, content):
    page = as_user(alice).get(url("confluence-step-scope", confluence_connection))
    assert b"Engineering" in page.content and b"Operations" in page.content
    page = as_user(alice).get(url("confluence-step-scope", confluence_connection), {"q": "oper"})
    assert b"Engineering" not in page.content and b"Operations" in page.content


def test_it_loads_page_trees_lazily(as_user, alice, confluence_connection, content):
    children_url = url("confluence-scope-children", confluence_connection)
    roots = as_user(alice).get(children_url, {"space": content["eng"].id, "key": "ENG"})
    assert b"Home" in roots.content and b"Guide" not in roots.content
    children = as_user(alice).get(children_url, {"page": content["home"].id, "key": "ENG"})
    assert b"Guide" in children.content


def test_it_previews_before_saving(as_user, alice, confluence_connection, content):
    response = as_user(alice).post(
        url("confluence-step-scope", confluence_connection),
        {"selection": scope_selection(spaces=["ENG", "OPS"], labels=["draft"]), "action": "preview"},
    )
    # Each space's home page counts too: ENG home, Home, Guide; OPS home, Runbook (Draft is excluded by label).
    assert b"5 pages in 2 spaces will be synced; 1 excluded" in response.content
    assert not SyncScope.objects.exists()


def test_it_saves_spaces_pages_and_exclusions(as_user, alice, confluence_connection, content):
    home, guide = content["home"], content["guide"]
    as_user(alice).post(
        url("confluence-step-scope", confluence_connection),
        {
            "selection": scope_selection(spaces=["OPS"], pages={"ENG": {home.id: "include", guide.id: "exclude_only"}}),
            "action": "save",
        },
    )
    scope = SyncScope.objects.get(connection=confluence_connection)
    assert [s["key"] for s in scope.spaces] == ["OPS"]
    assert scope.pages == [{"id": home.id, "title": "Home", "space_key": "ENG", "descendants": True}]
    assert scope.excluded_pages == [{"id": guide.id, "title": "Guide", "space_key": "ENG", "descendants": False}]
    task = confluence_connection.tasks.get(kind="configure_scope")
    # OPS home and Runbook; Home and Draft (Guide alone is excluded).
    assert task.state == "done" and task.detail == "4 pages in 2 spaces will be synced; 1 excluded"


def test_it_rejects_an_empty_scope(as_user, alice, confluence_connection, content):
    response = as_user(alice).post(
        url("confluence-step-scope", confluence_connection), {"selection": scope_selection(), "action": "save"}
    )
    assert response.status_code == 400
    assert b"empty scope" in response.content
    assert not SyncScope.objects.exists()


def test_it_rejects_an_unknown_space(as_user, alice, confluence_connection, content):
    response = as_user(alice).post(
        url("confluence-step-scope", confluence_connection),
        {"selection": scope_selection(spaces=["NOPE"]), "action": "save"},
    )
    assert response.status_code == 400
    assert b"Unknown space: NOPE" in response.content
    assert not SyncScope.objects.exists()


def test_it_rejects_a_page_from_another_site(as_user, alice, confluence_connection, content, sandbox):
    other = sandbox.atlassian.create_site(name="Elsewhere", url="https://elsewhere.atlassian.net")
    sandbox.atlassian.create_space(other.cloud_id, key="X", name="X", emit=False)
    stranger = sandbox.atlassian.create_page(other.cloud_id, space_key="X", title="Secret", body="<p/>", emit=False)
    response = as_user(alice).post(
        url("confluence-step-scope", confluence_connection),
        {"selection": scope_selection(pages={"ENG": {stranger.id: "include"}}), "action": "save"},
    )
    assert response.status_code == 400
    assert b"not in this Confluence site" in response.content
    assert not SyncScope.objects.exists()


def test_it_rejects_malformed_page_values(as_user, alice, confluence_connection, content):
    response = as_user(alice).post(
        url("confluence-step-scope", confluence_connection),
        {"selection": scope_selection(pages={"ENG": {"abc": "include"}}), "action": "save"},
    )
    assert response.status_code == 400
    assert not SyncScope.objects.exists()


def test_it_forbids_a_plain_member_to_change_the_scope(as_user, bob, confluence_connection, content):
    response = as_user(bob).post(
        url("confluence-step-scope", confluence_connection),
        {"selection": scope_selection(spaces=["ENG"]), "action": "save"},
    )
    assert response.status_code == 403


def test_it_activates_the_connection_when_every_step_is_done(as_user, alice, confluence_connection, content, repos):
    steps.record_forge_installed(cloud_id=AtlassianSite.objects.get().cloud_id, installation_id="i-1")
    as_user(alice).get(reverse("github-link", args=["acme", confluence_connection.id]))
    as_user(alice).post(url("confluence-step-repository", confluence_connection), {"repository": repos[0].pk})
    response = as_user(alice).post(
        url("confluence-step-scope", confluence_connection),
        {"selection": scope_selection(spaces=["ENG"]), "action": "save"},
    )
    assert response["Location"] == reverse("connectors", args=["acme"])
    confluence_connection.refresh_from_db()
    assert confluence_connection.status == "active"


# Issue 18: where "Continue" goes, and step 4 before GitHub is linked ------------------------------------


def test_continue_after_the_forge_app_goes_to_the_next_step(as_user, alice, confluence_connection, consented_site):
    steps.record_forge_installed(cloud_id=consented_site.cloud_id, installation_id="forge-1")
    response = as_user(alice).get(url("confluence-step-forge", confluence_connection))
    assert response.context["continue_url"] == url("github-link", confluence_connection)
    assert f'href="{url("github-link", confluence_connection)}">Continue'.encode() in response.content


def test_the_repository_step_asks_to_link_github_first(as_user, alice, confluence_connection):
    response = as_user(alice).get(url("confluence-step-repository", confluence_connection))
    page = response.content.decode()
    assert "Link GitHub first" in page and url("github-link", confluence_connection) in page
    assert "reaches no repository yet" not in page


def test_the_repository_step_says_when_the_installation_reaches_nothing(as_user, alice, acme, confluence_connection):
    Installation.objects.create(org=acme, installation_id=7, account_login="acme-inc")
    page = as_user(alice).get(url("confluence-step-repository", confluence_connection)).content.decode()
    assert "reaches no repository yet" in page and "Link GitHub first" not in page
