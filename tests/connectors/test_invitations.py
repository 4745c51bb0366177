"""Issue 13, item 6: an invitation joins only the invited address, verified, and its token is never stored.

Each test plays the attack or the mistake and checks what the fix does about it. Alice owns Acme, Bob is a
member, Carol an admin; Charlie owns Globex and is the "other account" that got hold of a link.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from connectors.invitation_views import INVITATION_SESSION_KEY
from connectors.models import Invitation
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

INVITED = "xavier@example.com"
PASSWORD = "correct-horse-battery-staple-42"
ACCEPT = reverse("invitation-accept")


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    # allauth rate-limits verification emails per address in the cache, which outlives a test.
    cache.clear()


@pytest.fixture
def xavier(db):
    """The invited person, signed up with the invited address and verified it."""
    user = make_user(INVITED)
    EmailAddress.objects.create(user=user, email=INVITED, verified=True, primary=True)
    return user


def invite(client, org, email=INVITED, role="admin") -> str:
    """Invite `email` as the owner signed in on `client`; returns the path of the emailed link.

    Follows the redirect to the members page, as the owner's browser does, so the flash message showing the link
    is consumed: the test client keeps one cookie jar whoever it signs in next.
    """
    from django.core import mail

    client.post(reverse("member-invite", args=[org.slug]), {"email": email, "role": role}, follow=True)
    return emailed_link(mail.outbox[-1].body)


def emailed_link(body: str) -> str:
    return re.search(r"http://testserver(/invitations/[\w-]+/)", body).group(1)


def token_of(link: str) -> str:
    return link.split("/")[2]


def open_link(client, link):
    """Open the emailed link the way a browser does: it redirects to the token-free invitation page."""
    return client.get(link, follow=True)


def sign_in_with_form(client, email):
    return client.post(f"{reverse('account_login')}?next={ACCEPT}", {"login": email, "password": "password"})


# Who may accept


def test_it_refuses_an_admin_invitation_to_an_account_with_another_email(client, alice, acme, charlie, xavier):
    client.force_login(alice)
    link = invite(client, acme)
    EmailAddress.objects.create(user=charlie, email=charlie.email, verified=True, primary=True)
    client.force_login(charlie)

    page = open_link(client, link)
    refused = client.post(ACCEPT)

    assert "This invitation is for another email address" in page.content.decode()
    assert refused.status_code == 403
    assert not acme.memberships.filter(user=charlie).exists()
    assert Invitation.objects.get(org=acme).accepted_at is None
    client.force_login(xavier)
    open_link(client, link)
    client.post(ACCEPT)
    assert acme.memberships.get(user=xavier).role == "admin"


def test_it_tells_another_account_only_a_masked_invited_address(client, alice, acme, charlie):
    client.force_login(alice)
    link = invite(client, acme)
    client.force_login(charlie)

    body = open_link(client, link).content.decode()

    assert "x…@example.com" in body
    assert INVITED not in body
    assert reverse("invitation-switch-account") in body


def test_it_refuses_the_invited_address_while_it_is_unverified(client, alice, acme):
    client.force_login(alice)
    link = invite(client, acme)
    unverified = make_user(INVITED)
    EmailAddress.objects.create(user=unverified, email=INVITED, verified=False, primary=True)
    client.force_login(unverified)

    page = open_link(client, link)
    refused = client.post(ACCEPT)

    assert "Verify your email address" in page.content.decode()
    assert reverse("invitation-verify-email") in page.content.decode()
    assert refused.status_code == 403
    assert not acme.memberships.filter(user=unverified).exists()


def test_it_accepts_after_the_invited_address_is_verified(client, alice, acme, mailoutbox):
    client.force_login(alice)
    link = invite(client, acme)
    unverified = make_user(INVITED)  # no EmailAddress row: made outside sign-up, as the admin does
    client.force_login(unverified)
    open_link(client, link)

    client.post(reverse("invitation-verify-email"))
    confirm = re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", mailoutbox[-1].body).group(1)
    client.post(confirm)
    client.post(ACCEPT)

    assert mailoutbox[-1].to == [INVITED]
    assert acme.memberships.get(user=unverified).role == "admin"


def test_it_returns_to_the_invitation_after_confirming_the_address(client, alice, acme, mailoutbox):
    client.force_login(alice)
    link = invite(client, acme)
    unverified = make_user(INVITED)
    client.force_login(unverified)
    open_link(client, link)
    client.post(reverse("invitation-verify-email"))
    confirm = re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", mailoutbox[-1].body).group(1)

    landed = client.post(confirm, follow=True)

    assert landed.redirect_chain[-1][0] == reverse("invitation-accept")
    assert "Join" in landed.content.decode()


def test_it_accepts_a_verified_invited_address_once_with_the_invited_role(client, alice, acme, xavier):
    client.force_login(alice)
    link = invite(client, acme, role="admin")
    client.force_login(xavier)
    open_link(client, link)

    accepted = client.post(ACCEPT)
    again = open_link(client, link)

    assert accepted.url == reverse("connectors", args=[acme.slug])
    assert acme.memberships.get(user=xavier).role == "admin"
    assert Invitation.objects.get(org=acme).accepted_by == xavier
    assert again.status_code == 410
    assert "already used" in again.content.decode()


def test_it_lets_only_one_of_two_simultaneous_accepts_through(alice, acme, xavier, charlie):
    invitation, _ = Invitation.issue(org=acme, email=INVITED, role="admin", by=alice)
    first, second = Invitation.objects.get(pk=invitation.pk), Invitation.objects.get(pk=invitation.pk)

    assert first.accept(xavier) is not None
    assert second.accept(charlie) is None
    assert not acme.memberships.filter(user=charlie).exists()


def test_it_matches_the_invited_address_case_insensitively(client, alice, acme, xavier):
    client.force_login(alice)
    link = invite(client, acme, email="Xavier@Example.COM")
    client.force_login(xavier)
    open_link(client, link)

    client.post(ACCEPT)

    assert acme.memberships.filter(user=xavier).exists()


def test_it_refuses_an_expired_invitation_and_points_to_a_reissue(client, alice, acme, xavier):
    client.force_login(alice)
    link = invite(client, acme)
    Invitation.objects.update(issued_at=timezone.now() - timedelta(days=Invitation.VALID_DAYS))
    client.force_login(xavier)

    page = open_link(client, link)
    refused = client.post(ACCEPT)

    assert page.status_code == 410
    assert "has expired" in page.content.decode()
    assert "re-issue" in page.content.decode()
    assert refused.status_code == 410
    assert not acme.memberships.filter(user=xavier).exists()


# The anonymous visitor


def test_it_brings_an_anonymous_visitor_back_to_accept_after_signing_in(client, alice, acme, xavier):
    client.force_login(alice)
    link = invite(client, acme)
    client.logout()

    page = open_link(client, link)
    signed_in = sign_in_with_form(client, INVITED)
    client.post(ACCEPT)

    assert f"{reverse('account_login')}?next=%2Finvitations%2Faccept%2F" in page.content.decode()
    assert signed_in.url == ACCEPT
    assert acme.memberships.get(user=xavier).role == "admin"


def test_it_lets_a_new_user_sign_up_verify_and_accept(client, alice, acme, mailoutbox):
    client.force_login(alice)
    link = invite(client, acme)
    client.logout()
    open_link(client, link)

    signed_up = client.post(
        f"{reverse('account_signup')}?next={ACCEPT}", {"email": INVITED, "password1": PASSWORD, "password2": PASSWORD}
    )
    before_verifying = client.post(ACCEPT)
    client.post(reverse("invitation-verify-email"))
    client.post(re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", mailoutbox[-1].body).group(1))
    client.post(ACCEPT)

    assert signed_up.url == ACCEPT
    assert before_verifying.status_code == 403
    assert acme.memberships.get(user__email=INVITED).role == "admin"


def test_it_keeps_the_invitation_through_signing_out_to_switch_account(client, alice, acme, charlie, xavier):
    client.force_login(alice)
    link = invite(client, acme)
    client.force_login(charlie)
    open_link(client, link)

    switched = client.post(reverse("invitation-switch-account"))
    sign_in_with_form(client, INVITED)
    client.post(ACCEPT)

    assert switched.url == f"{reverse('account_login')}?next=%2Finvitations%2Faccept%2F"
    assert acme.memberships.get(user=xavier).role == "admin"
    assert not acme.memberships.filter(user=charlie).exists()


# The token


def test_it_stores_only_a_hash_of_the_token(alice, acme):
    invitation, token = Invitation.issue(org=acme, email=INVITED, role="admin", by=alice)

    stored = Invitation.objects.filter(pk=invitation.pk).values().get()

    assert not any(token in str(value) for value in stored.values())
    assert stored["hashed_token"] == hashlib.sha256(token.encode()).hexdigest()
    assert Invitation.find(token) == invitation
    assert Invitation.find(token[:-1]) is None


def test_it_moves_the_token_out_of_the_url_after_the_first_request(client, alice, acme):
    client.force_login(alice)
    link = invite(client, acme)
    client.logout()

    opened = client.get(link)
    page = client.get(opened.url)

    assert opened.url == ACCEPT
    assert token_of(link) not in page.content.decode()
    assert not any(token_of(link) in str(value) for value in client.session.values())


def test_it_answers_404_for_an_unknown_token(client, xavier):
    client.force_login(xavier)

    page = client.get(reverse("invitation-open", args=["not-a-token"]))

    assert page.status_code == 404
    assert INVITATION_SESSION_KEY not in client.session


def test_it_makes_the_old_link_useless_when_an_owner_reissues(client, alice, acme, xavier, mailoutbox):
    client.force_login(alice)
    old_link = invite(client, acme)
    invitation = Invitation.objects.get(org=acme)

    client.post(reverse("invitation-reissue", args=[acme.slug, invitation.id]))
    new_link = emailed_link(mailoutbox[-1].body)
    client.force_login(xavier)
    old = open_link(client, old_link)

    assert mailoutbox[-1].to == [INVITED]
    assert old.status_code == 404
    assert client.post(ACCEPT).status_code == 404
    open_link(client, new_link)
    client.post(ACCEPT)
    assert acme.memberships.get(user=xavier).role == "admin"


def test_it_stops_a_link_already_opened_when_the_invitation_is_reissued(client, alice, acme, xavier):
    client.force_login(alice)
    link = invite(client, acme)
    invitation = Invitation.objects.get(org=acme)
    client.force_login(xavier)
    open_link(client, link)

    invitation.reissue()

    assert client.post(ACCEPT).status_code == 404
    assert not acme.memberships.filter(user=xavier).exists()


def test_it_gives_a_reissued_invitation_a_fresh_validity(client, alice, acme, xavier, mailoutbox):
    client.force_login(alice)
    invite(client, acme)
    invitation = Invitation.objects.get(org=acme)
    Invitation.objects.update(issued_at=timezone.now() - timedelta(days=Invitation.VALID_DAYS + 1))

    client.post(reverse("invitation-reissue", args=[acme.slug, invitation.id]))
    client.force_login(xavier)
    open_link(client, emailed_link(mailoutbox[-1].body))
    client.post(ACCEPT)

    assert acme.memberships.filter(user=xavier).exists()


def test_it_makes_a_revoked_invitation_link_useless(client, alice, acme, xavier):
    client.force_login(alice)
    link = invite(client, acme)
    client.post(reverse("invitation-revoke", args=[acme.slug, Invitation.objects.get(org=acme).id]))
    client.force_login(xavier)

    assert open_link(client, link).status_code == 404
    assert not acme.memberships.filter(user=xavier).exists()


# The members page


def test_it_shows_the_link_to_the_owner_only_once(client, alice, acme, mailoutbox):
    client.force_login(alice)

    first = client.post(
        reverse("member-invite", args=[acme.slug]), {"email": INVITED, "role": "member"}, follow=True
    ).content.decode()
    link = emailed_link(mailoutbox[-1].body)
    second = client.get(reverse("members", args=[acme.slug])).content.decode()

    assert link in first
    assert token_of(link) not in second
    assert Invitation.objects.get(org=acme).hashed_token not in second
    assert INVITED in second


@pytest.mark.parametrize("action", ["invitation-reissue", "invitation-revoke"])
def test_it_hides_invitations_from_non_members(client, alice, acme, charlie, action):
    invitation, _ = Invitation.issue(org=acme, email=INVITED, role="admin", by=alice)
    before = invitation.hashed_token
    client.force_login(charlie)

    response = client.post(reverse(action, args=[acme.slug, invitation.id]))

    assert response.status_code == 404
    assert Invitation.objects.get(pk=invitation.pk).hashed_token == before


@pytest.mark.parametrize("persona", ["bob", "carol"])
@pytest.mark.parametrize("action", ["invitation-reissue", "invitation-revoke"])
def test_it_lets_only_owners_reissue_or_revoke(request, client, alice, acme, persona, action):
    invitation, _ = Invitation.issue(org=acme, email=INVITED, role="admin", by=alice)
    before = invitation.hashed_token
    client.force_login(request.getfixturevalue(persona))

    response = client.post(reverse(action, args=[acme.slug, invitation.id]))

    assert response.status_code == 403
    assert Invitation.objects.get(pk=invitation.pk).hashed_token == before


def test_it_hides_open_invitations_from_a_plain_member(client, alice, acme, bob):
    Invitation.issue(org=acme, email=INVITED, role="admin", by=alice)
    client.force_login(bob)

    body = client.get(reverse("members", args=[acme.slug])).content.decode()

    assert INVITED not in body
    assert "Re-issue" not in body


# Operators and existing data


def test_it_never_shows_the_token_hash_in_the_admin(client, alice, acme, django_user_model):
    invitation, _ = Invitation.issue(org=acme, email=INVITED, role="admin", by=alice)
    client.force_login(django_user_model.objects.create_superuser("ops", "ops@example.com", "password"))

    change = client.get(reverse("admin:connectors_invitation_change", args=[invitation.pk]))
    add = client.get(reverse("admin:connectors_invitation_add"))

    assert change.status_code == 200
    assert invitation.hashed_token not in change.content.decode()
    assert add.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_it_hashes_the_tokens_of_existing_invitations_when_migrating():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("connectors", "0001_initial")], [("connectors", "0002_invitation_token_hash")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old_apps = executor.loader.project_state(before).apps
        org = old_apps.get_model("connectors", "Organization").objects.create(name="Acme", slug="acme")
        old = old_apps.get_model("connectors", "Invitation").objects.create(
            org=org, email=INVITED, token="a-token-from-an-email-sent-before-the-fix"
        )
        executor.loader.build_graph()
        executor.migrate(after)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    stored = Invitation.objects.filter(pk=old.pk).values().get()
    assert not any("a-token-from-an-email-sent-before-the-fix" in str(value) for value in stored.values())
    assert Invitation.find("a-token-from-an-email-sent-before-the-fix").pk == old.pk
    assert stored["issued_at"] == old.created_at
