"""Step 1 of the Confluence setup against the sandbox: linking an Atlassian account through OAuth."""

import pytest
from django.urls import reverse

from confluence.models import AtlassianSite, PendingAtlassianLink
from connectors.models import Connection
from tests.flows import atlassian_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def wiki_site(sandbox):
    return sandbox.atlassian.create_site(name="Acme Wiki", url="https://acme.atlassian.net")


def step_url(connection):
    return reverse("confluence-step-atlassian", args=[connection.org.slug, connection.id])


def test_it_links_the_only_site(as_user, alice, confluence_connection, wiki_site):
    response = atlassian_consent(as_user(alice), confluence_connection)
    linked = AtlassianSite.objects.get(connection=confluence_connection)
    assert (linked.cloud_id, linked.name, linked.url) == (wiki_site.cloud_id, "Acme Wiki", "https://acme.atlassian.net")
    assert linked.access_token and linked.refresh_token
    task = confluence_connection.tasks.get(kind="link_atlassian")
    assert task.state == "done" and task.completed_by == alice
    # Next step: the Forge app.
    assert response["Location"] == reverse("confluence-step-forge", args=["acme", confluence_connection.id])
    assert not PendingAtlassianLink.objects.exists()


def test_it_stores_the_grant_encrypted(as_user, alice, confluence_connection, wiki_site):
    from django.db import connection as db

    atlassian_consent(as_user(alice), confluence_connection)
    linked = AtlassianSite.objects.get(connection=confluence_connection)
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM confluence_atlassiansite WHERE id = %s", [linked.id])
        raw_access, raw_refresh = cursor.fetchone()
    assert linked.access_token not in raw_access and linked.refresh_token not in raw_refresh
    assert raw_access.startswith("gAAAA")


def test_it_lets_the_user_choose_among_several_sites(as_user, alice, confluence_connection, wiki_site, sandbox):
    other = sandbox.atlassian.create_site(name="Acme Labs", url="https://acme-labs.atlassian.net")
    client = as_user(alice)
    response = atlassian_consent(client, confluence_connection, sites=[wiki_site.cloud_id, other.cloud_id])
    assert response.status_code == 200
    assert b"Acme Labs" in response.content and b"Acme Wiki" in response.content
    complete = reverse("confluence-step-atlassian-complete", args=["acme", confluence_connection.id])
    client.post(complete, {"cloud_id": other.cloud_id, "action": "choose"})
    assert AtlassianSite.objects.get(connection=confluence_connection).cloud_id == other.cloud_id


def test_a_choice_never_links_an_account_another_tab_granted_since(
    as_user, alice, acme, confluence_connection, wiki_site, sandbox
):
    other = sandbox.atlassian.create_site(name="Acme Labs", url="https://acme-labs.atlassian.net")
    sandbox.atlassian.create_user(account_id="acct-two", name="Second Account", email="two@example.com")
    second = Connection.create_with_tasks(org=acme, kind="confluence", created_by=alice, name="Second wiki")
    client = as_user(alice)
    sites = [wiki_site.cloud_id, other.cloud_id]
    first_page = atlassian_consent(client, confluence_connection, sites=sites)  # tab 1: the default account
    atlassian_consent(client, second, sites=sites, account_id="acct-two")  # tab 2, another account, meanwhile
    grant = first_page.context["pending"].id

    complete = reverse("confluence-step-atlassian-complete", args=["acme", confluence_connection.id])
    response = client.post(complete, {"grant": grant, "cloud_id": wiki_site.cloud_id, "action": "choose"}, follow=True)

    # The grant tab 1 showed was replaced by tab 2's (one pending grant a user): nothing is linked, tab 1 says why.
    assert not AtlassianSite.objects.exists()
    assert b"expired or was already used" in response.content
    assert PendingAtlassianLink.objects.get().account_id == "acct-two"  # tab 2 can still choose


def test_it_refuses_a_site_outside_the_grant(as_user, alice, confluence_connection, wiki_site, sandbox):
    other = sandbox.atlassian.create_site(name="Acme Labs", url="https://acme-labs.atlassian.net")
    client = as_user(alice)
    atlassian_consent(client, confluence_connection, sites=[wiki_site.cloud_id, other.cloud_id])
    complete = reverse("confluence-step-atlassian-complete", args=["acme", confluence_connection.id])
    response = client.post(complete, {"cloud_id": "not-a-granted-site", "action": "choose"})
    assert response.status_code == 200  # the choice page again
    assert not AtlassianSite.objects.exists()


def test_it_explains_a_denied_consent(as_user, alice, confluence_connection, wiki_site):
    client = as_user(alice)
    response = atlassian_consent(client, confluence_connection, decision="deny")
    assert response.status_code == 302
    page = client.get(response["Location"], follow=True)
    assert b"Access was not granted at Atlassian" in page.content
    assert not AtlassianSite.objects.exists()
    assert confluence_connection.tasks.get(kind="link_atlassian").state == "pending"


def test_it_never_signs_anyone_in_with_atlassian(as_user, alice, confluence_connection, wiki_site):
    from allauth.socialaccount.models import SocialAccount, SocialToken

    atlassian_consent(as_user(alice), confluence_connection)
    assert not SocialAccount.objects.exists() and not SocialToken.objects.exists()


@pytest.fixture
def globex_connection(globex, charlie):
    return Connection.create_with_tasks(org=globex, kind="confluence", created_by=charlie)


def test_it_asks_before_taking_an_account_from_another_org(
    as_user, alice, charlie, confluence_connection, globex_connection, wiki_site
):
    atlassian_consent(as_user(charlie), globex_connection)
    response = atlassian_consent(as_user(alice), confluence_connection)
    assert response.status_code == 200
    assert b"linked elsewhere" in response.content
    assert not AtlassianSite.objects.filter(connection=confluence_connection).exists()

    complete = reverse("confluence-step-atlassian-complete", args=["acme", confluence_connection.id])
    as_user(alice).post(complete, {"cloud_id": wiki_site.cloud_id, "action": "confirm"})
    assert AtlassianSite.objects.get(connection=confluence_connection).grant_status == "active"
    theirs = AtlassianSite.objects.get(connection=globex_connection)
    assert theirs.grant_status == "revoked" and not theirs.refresh_token
    globex_connection.refresh_from_db()
    assert globex_connection.status == "attention"
    assert "Re-link needed" in globex_connection.status_detail
    card = as_user(charlie).get(reverse("connectors", args=["globex"]))
    assert b"Re-link needed" in card.content
    # Globex learns that another organization took the account, never which one (issue 18, item 6).
    assert b"linked to another organization." in card.content
    acme = confluence_connection.org.name
    assert f"organization ({acme})" not in card.content.decode() and acme not in theirs.grant_detail
    step = as_user(charlie).get(reverse("confluence-step-atlassian", args=["globex", globex_connection.id]))
    assert f"({acme})" not in step.content.decode()


def test_it_changes_nothing_when_the_claim_is_cancelled(
    as_user, alice, charlie, confluence_connection, globex_connection, wiki_site
):
    atlassian_consent(as_user(charlie), globex_connection)
    atlassian_consent(as_user(alice), confluence_connection)
    complete = reverse("confluence-step-atlassian-complete", args=["acme", confluence_connection.id])
    as_user(alice).post(complete, {"cloud_id": wiki_site.cloud_id, "action": "cancel"})
    assert not AtlassianSite.objects.filter(connection=confluence_connection).exists()
    assert AtlassianSite.objects.get(connection=globex_connection).grant_status == "active"
    assert not PendingAtlassianLink.objects.exists()


def test_it_hides_the_step_from_a_non_member(as_user, charlie, confluence_connection):
    assert as_user(charlie).get(step_url(confluence_connection)).status_code == 404


def test_it_forbids_the_step_to_a_plain_member(as_user, bob, confluence_connection):
    assert as_user(bob).get(step_url(confluence_connection)).status_code == 403


def test_it_rejects_a_completion_without_a_pending_grant(as_user, alice, confluence_connection):
    complete = reverse("confluence-step-atlassian-complete", args=["acme", confluence_connection.id])
    response = as_user(alice).get(complete)
    assert response["Location"] == step_url(confluence_connection)
