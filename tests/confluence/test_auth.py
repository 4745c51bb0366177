"""Refreshing the rotating Atlassian grant: saved before use, spent once, revocation means "reconnect"."""

from datetime import timedelta

import pytest
from django.utils import timezone

from confluence import auth
from confluence.gateway import AuthRevoked
from confluence.models import AtlassianSite
from tests.flows import atlassian_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(sandbox, as_user, alice, confluence_connection):
    sandbox.atlassian.create_site(name="Acme Wiki", url="https://acme.atlassian.net")
    atlassian_consent(as_user(alice), confluence_connection)
    return AtlassianSite.objects.get(connection=confluence_connection)


def expire(site):
    AtlassianSite.objects.filter(pk=site.pk).update(access_expires_at=timezone.now() - timedelta(seconds=1))
    site.refresh_from_db()


def token_calls(sandbox):
    return sandbox.atlassian.count("POST", r"/oauth/token$")


def test_it_uses_a_valid_token_without_refreshing(linked, sandbox):
    before = token_calls(sandbox)
    assert auth.access_token(linked) == linked.access_token
    assert token_calls(sandbox) == before


def test_it_refreshes_and_saves_the_rotated_pair(linked, sandbox):
    old_access, old_refresh = linked.access_token, linked.refresh_token
    expire(linked)
    new_access = auth.access_token(linked)
    stored = AtlassianSite.objects.get(pk=linked.pk)
    assert new_access != old_access
    assert (stored.access_token, stored.refresh_token != old_refresh) == (new_access, True)
    assert stored.access_expires_at > timezone.now()


def test_it_spends_a_refresh_token_once_when_two_workers_race(linked, sandbox):
    expire(linked)
    stale_copy = AtlassianSite.objects.get(pk=linked.pk)  # what a second worker loaded before the refresh
    first = auth.access_token(linked)
    calls = token_calls(sandbox)
    second = auth.access_token(stale_copy)
    # The second worker saw the row had been refreshed meanwhile and used that token: no reuse of the dead
    # refresh token (which Atlassian answers with invalid_grant and may punish by revoking the grant).
    assert second == first
    assert token_calls(sandbox) == calls
    assert AtlassianSite.objects.get(pk=linked.pk).grant_status == "active"


def test_it_turns_invalid_grant_into_reconnect_needed(linked, sandbox, confluence_connection):
    sandbox.atlassian.revoke_grant(linked.account_id)
    expire(linked)
    with pytest.raises(AuthRevoked):
        auth.access_token(linked)
    site = AtlassianSite.objects.get(pk=linked.pk)
    assert site.grant_status == "revoked" and not site.refresh_token
    task = confluence_connection.tasks.get(kind="link_atlassian")
    assert task.state == "blocked"
    confluence_connection.refresh_from_db()
    assert confluence_connection.status == "attention"
    assert "Link your Atlassian account again" in confluence_connection.status_detail


def test_it_does_not_retry_a_revoked_grant(linked, sandbox):
    sandbox.atlassian.revoke_grant(linked.account_id)
    expire(linked)
    with pytest.raises(AuthRevoked):
        auth.access_token(linked)
    calls = token_calls(sandbox)
    with pytest.raises(AuthRevoked):
        auth.access_token(AtlassianSite.objects.get(pk=linked.pk))
    assert token_calls(sandbox) == calls


def test_it_refreshes_once_when_confluence_rejects_a_token(linked, sandbox):
    sandbox.atlassian.create_space(linked.cloud_id, key="ENG", name="Engineering", emit=False)
    sandbox.atlassian.expire_access_tokens()  # Atlassian considers the token dead; our row still thinks it is valid
    old_token, calls = linked.access_token, token_calls(sandbox)
    spaces = auth.client_for(linked).list_spaces()
    assert [s.key for s in spaces] == ["ENG"]
    assert AtlassianSite.objects.get(pk=linked.pk).access_token != old_token
    assert token_calls(sandbox) == calls + 1


def test_it_relinks_after_revocation(linked, sandbox, as_user, alice, confluence_connection):
    sandbox.atlassian.revoke_grant(linked.account_id)
    expire(linked)
    with pytest.raises(AuthRevoked):
        auth.access_token(linked)
    atlassian_consent(as_user(alice), confluence_connection)
    site = AtlassianSite.objects.get(pk=linked.pk)
    assert site.grant_status == "active"
    confluence_connection.refresh_from_db()
    assert confluence_connection.status == "setup"
    assert confluence_connection.tasks.get(kind="link_atlassian").state == "done"
