import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from connectors.models import Connection, Invitation, Membership, Organization, SetupTask

pytestmark = pytest.mark.django_db


def connectors_url(org):
    return reverse("connectors", args=[org.slug])


def test_it_shows_the_connectors_page_to_the_owner(as_user, alice, confluence_connection):
    response = as_user(alice).get(connectors_url(confluence_connection.org))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Atlassian Confluence" in body
    assert "0 of 5 steps done" in body
    assert "Link your Atlassian account" in body
    assert "Add connection" in body


def test_it_shows_the_connectors_page_to_a_member_without_admin_actions(as_user, bob, confluence_connection):
    response = as_user(bob).get(connectors_url(confluence_connection.org))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Atlassian Confluence" in body
    assert "Add connection" not in body
    assert reverse("connection-pause", args=["acme", confluence_connection.id]) not in body


def test_it_hides_the_organization_from_a_non_member(as_user, charlie, acme):
    assert as_user(charlie).get(connectors_url(acme)).status_code == 404


def test_it_answers_404_for_an_unknown_organization(as_user, alice):
    assert as_user(alice).get(reverse("connectors", args=["nope"])).status_code == 404


def test_it_sends_anonymous_users_to_login(client, acme):
    response = client.get(connectors_url(acme))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_asks_a_user_without_organization_to_create_one(as_user, charlie):
    assert as_user(charlie).get("/")["Location"] == reverse("org-create")
    response = as_user(charlie).post(reverse("org-create"), {"name": "Initech"})
    org = Organization.objects.get(name="Initech")
    assert response["Location"] == connectors_url(org)
    assert org.memberships.get(user=charlie).role == Membership.Role.OWNER


def test_it_sends_a_user_with_an_organization_to_its_connectors(as_user, alice, acme):
    assert as_user(alice).get("/")["Location"] == connectors_url(acme)


def test_it_adds_a_confluence_connection_and_lands_on_its_setup(as_user, alice, acme):
    client = as_user(alice)
    response = client.post(reverse("connection-add", args=[acme.slug]), {"kind": "confluence", "name": ""})
    connection = Connection.objects.get(org=acme)
    assert response["Location"] == reverse("connection-setup", args=[acme.slug, connection.id])
    page = client.get(response["Location"]).content.decode()
    for title in [
        "Link your Atlassian account",
        "Install the ctx| Forge app",
        "Link GitHub",
        "Select the sync repository",
        "Configure the Confluence scope",
    ]:
        assert title in page
    assert page.index("Link your Atlassian account") < page.index("Configure the Confluence scope")


def test_it_lets_an_admin_add_a_connection(as_user, carol, acme):
    response = as_user(carol).post(reverse("connection-add", args=[acme.slug]), {"kind": "github"})
    assert response.status_code == 302
    assert Connection.objects.get(org=acme).kind == "github"


def test_it_forbids_a_member_from_adding_a_connection(as_user, bob, acme):
    response = as_user(bob).post(reverse("connection-add", args=[acme.slug]), {"kind": "confluence"})
    assert response.status_code == 403
    assert not Connection.objects.exists()


def test_it_rejects_an_unknown_kind(as_user, alice, acme):
    response = as_user(alice).post(reverse("connection-add", args=[acme.slug]), {"kind": "jira"})
    assert response.status_code == 200
    assert not Connection.objects.exists()


def test_it_hides_another_organizations_connection(as_user, charlie, globex, confluence_connection):
    # Charlie is an owner, but of Globex: Acme's connection does not exist under Globex's slug.
    url = reverse("connection-setup", args=[globex.slug, confluence_connection.id])
    assert as_user(charlie).get(url).status_code == 404


def test_it_shows_the_setup_page_to_a_member(as_user, bob, confluence_connection):
    url = reverse("connection-setup", args=["acme", confluence_connection.id])
    assert as_user(bob).get(url).status_code == 200


def test_it_pauses_and_resumes_a_connection(as_user, alice, confluence_connection):
    url = reverse("connection-pause", args=["acme", confluence_connection.id])
    as_user(alice).post(url)
    confluence_connection.refresh_from_db()
    assert confluence_connection.paused
    as_user(alice).post(url)
    confluence_connection.refresh_from_db()
    assert not confluence_connection.paused


def test_it_forbids_a_member_from_pausing(as_user, bob, confluence_connection):
    url = reverse("connection-pause", args=["acme", confluence_connection.id])
    assert as_user(bob).post(url).status_code == 403


def test_it_renames_and_deletes_a_connection(as_user, carol, confluence_connection):
    client = as_user(carol)
    client.post(reverse("connection-settings", args=["acme", confluence_connection.id]), {"name": "Wiki"})
    confluence_connection.refresh_from_db()
    assert confluence_connection.name == "Wiki"
    client.post(reverse("connection-delete", args=["acme", confluence_connection.id]))
    assert not Connection.objects.exists()


def test_it_forbids_a_member_from_deleting(as_user, bob, confluence_connection):
    response = as_user(bob).post(reverse("connection-delete", args=["acme", confluence_connection.id]))
    assert response.status_code == 403
    assert Connection.objects.exists()


def test_it_invites_a_member_by_link(as_user, alice, charlie, acme, mailoutbox):
    as_user(alice).post(reverse("member-invite", args=[acme.slug]), {"email": "charlie@example.com", "role": "admin"})
    link = re.search(r"http://testserver(/invitations/[\w-]+/)", mailoutbox[0].body).group(1)
    assert Invitation.find(link.split("/")[2]) == Invitation.objects.get(org=acme)
    EmailAddress.objects.create(user=charlie, email=charlie.email, verified=True, primary=True)
    client = as_user(charlie)
    assert client.get(link, follow=True).status_code == 200
    client.post(reverse("invitation-accept"))
    assert acme.memberships.get(user=charlie).role == "admin"
    assert client.get(link, follow=True).status_code == 410
    assert client.post(reverse("invitation-accept")).status_code == 410


def test_it_lets_only_owners_invite(as_user, carol, acme):
    response = as_user(carol).post(reverse("member-invite", args=[acme.slug]), {"email": "x@example.com"})
    assert response.status_code == 403


def test_it_keeps_the_last_owner(as_user, alice, acme):
    membership = acme.memberships.get(user=alice)
    as_user(alice).post(reverse("member-change", args=[acme.slug, membership.id]), {"action": "remove"})
    assert acme.memberships.filter(user=alice, role="owner").exists()


def test_it_changes_a_role(as_user, alice, bob, acme):
    membership = acme.memberships.get(user=bob)
    as_user(alice).post(reverse("member-change", args=[acme.slug, membership.id]), {"action": "admin"})
    membership.refresh_from_db()
    assert membership.role == "admin"


def test_it_hides_members_from_a_non_member(as_user, charlie, acme):
    assert as_user(charlie).get(reverse("members", args=[acme.slug])).status_code == 404


def test_two_quick_add_posts_make_one_connection(as_user, alice, acme):
    client = as_user(alice)
    add = reverse("connection-add", args=[acme.slug])
    first = client.post(add, {"kind": "confluence", "name": ""})
    second = client.post(add, {"kind": "confluence", "name": ""})
    assert acme.connections.count() == 1
    assert first["Location"] == second["Location"]
    # Another kind, or another name, is another connection.
    client.post(add, {"kind": "confluence", "name": "Second wiki"})
    assert acme.connections.count() == 2


def test_the_empty_states_confluence_button_preselects_confluence(as_user, alice, acme):
    client = as_user(alice)
    page = client.get(connectors_url(acme)).content.decode()
    link = re.search(r'href="([^"]+)">Add a Confluence connection', page).group(1)
    form = client.get(link).content.decode()
    assert re.search(r'<input[^>]*value="confluence"[^>]*checked', form)


def cards_url(org):
    return reverse("connectors-cards", args=[org.slug])


def test_the_page_polls_its_cards_as_one_fragment(as_user, alice, acme, confluence_connection):
    Connection.create_with_tasks(org=acme, kind="confluence", name="Second wiki", created_by=alice)
    body = as_user(alice).get(connectors_url(acme)).content.decode()
    assert re.findall(r'data-live="([^"]*)"', body) == [cards_url(acme)]
    fragment = as_user(alice).get(cards_url(acme)).content.decode()
    assert fragment.strip().startswith('<div class="cards"') and f'data-live="{cards_url(acme)}"' in fragment
    assert fragment.count('<article class="card"') == 2 and "Second wiki" in fragment


def test_the_cards_fragment_reads_every_card_in_one_pass(as_user, alice, acme, confluence_connection):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    client = as_user(alice)
    client.get(cards_url(acme))  # the session and the membership are read the same way every time
    with CaptureQueriesContext(db) as one_card:
        client.get(cards_url(acme))
    for n in range(3):
        Connection.create_with_tasks(org=acme, kind="confluence", name=f"Wiki {n}", created_by=alice)
    with CaptureQueriesContext(db) as four_cards:
        body = client.get(cards_url(acme)).content.decode()
    assert body.count('<article class="card"') == 4
    assert len(four_cards) == len(one_card)


def test_the_cards_fragment_is_hidden_from_non_members(as_user, charlie, acme, confluence_connection):
    assert as_user(charlie).get(cards_url(acme)).status_code == 404


def test_every_kind_leads_on_to_its_first_step_not_done(rf, alice, confluence_connection):
    from connectors.setup_views import next_step_url, remember_setup_step

    connection = confluence_connection
    assert next_step_url(connection) == reverse("confluence-step-atlassian", args=["acme", connection.id])
    connection.tasks.get(kind="link_atlassian").mark(SetupTask.State.DONE)
    assert next_step_url(connection) == reverse("confluence-step-forge", args=["acme", connection.id])
    for task in connection.tasks.all():
        task.mark(SetupTask.State.DONE)
    assert next_step_url(connection) == reverse("connectors", args=["acme"])

    request = rf.get("/orgs/acme/somewhere/")
    request.session = {}
    remember_setup_step(request, connection, "link_atlassian")
    assert request.session == {
        "setup_step_url": "/orgs/acme/somewhere/",
        "setup_step_title": f"Link your Atlassian account · {connection.name}",
    }
