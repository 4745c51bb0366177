"""The /sandbox/manage/ pages that change the live simulated Confluence during `make run`."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sandbox.store import world_for_request

pytestmark = pytest.mark.django_db


def page_now(page_id):
    with world_for_request() as world:
        return world.atlassian.pages.get(page_id)


def test_it_lists_sites_and_spaces(client, live):
    response = client.get("/sandbox/manage/")
    assert response.status_code == 200
    assert b"Acme Sandbox" in response.content and b"ENG" in response.content


def test_it_shows_the_page_tree(client, live):
    response = client.get(f"/sandbox/manage/atlassian/spaces/{live['space'].id}/")
    assert response.status_code == 200
    assert b"Runbook" in response.content


def test_it_edits_a_page_and_sends_the_event(client, live):
    client.post(f"/sandbox/manage/atlassian/sites/{live['site'].cloud_id}/", {"action": "install"})
    page_id = live["page"].id
    response = client.post(
        f"/sandbox/manage/atlassian/pages/{page_id}/actions/",
        {"action": "edit", "title": "Runbook v2", "body": "<p>y</p>", "emit": "1"},
    )
    assert response.status_code == 302
    assert page_now(page_id).version.number == 2 and page_now(page_id).title == "Runbook v2"
    assert [e["eventType"] for e in live["posted"]] == ["avi:forge:installed:app", "avi:confluence:updated:page"]
    with world_for_request() as world:
        assert world.atlassian.deliveries[-1]["status"] == 200


def test_it_changes_pages_without_events_when_unticked(client, live):
    client.post(f"/sandbox/manage/atlassian/sites/{live['site'].cloud_id}/", {"action": "install"})
    page_id = live["page"].id
    client.post(f"/sandbox/manage/atlassian/pages/{page_id}/actions/", {"action": "trash"})
    assert page_now(page_id).status == "trashed"
    client.post(f"/sandbox/manage/atlassian/pages/{page_id}/actions/", {"action": "restore", "emit": "1"})
    assert [e["eventType"] for e in live["posted"]][1:] == ["avi:confluence:restored:page"]


def test_it_attaches_files_and_purges(client, live):
    page_id = live["page"].id
    upload = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    client.post(f"/sandbox/manage/atlassian/pages/{page_id}/actions/", {"action": "attach", "file": upload})
    assert len(page_now(page_id).attachment_ids) == 1
    response = client.post(f"/sandbox/manage/atlassian/pages/{page_id}/actions/", {"action": "purge"})
    assert response.status_code == 302
    assert page_now(page_id) is None


def test_it_creates_spaces_and_pages(client, live):
    cloud_id = live["site"].cloud_id
    client.post(
        f"/sandbox/manage/atlassian/sites/{cloud_id}/", {"action": "create_space", "key": "ops", "name": "Operations"}
    )
    with world_for_request() as world:
        ops = world.atlassian.space_by_key(cloud_id, "OPS")
    response = client.post(
        f"/sandbox/manage/atlassian/spaces/{ops.id}/pages/", {"title": "Pager duty", "body": "<p>z</p>"}
    )
    assert response.status_code == 302
    with world_for_request() as world:
        assert {p.title for p in world.atlassian.pages.values()} >= {"Operations", "Pager duty"}


def test_it_revokes_grants(client, live):
    with world_for_request() as world:
        world.atlassian.connect()
        account_id = world.atlassian.default_user().account_id
    client.post("/sandbox/manage/atlassian/grants/revoke/", {"account_id": account_id})
    with world_for_request() as world:
        assert all(g.revoked for g in world.atlassian.grants.values())


def test_it_serves_the_simulator_live(client, live):
    jwks = client.get("/sandbox/atlassian/forge/jwks.json")
    assert jwks.status_code == 200 and jwks.json()["keys"][0]["kty"] == "RSA"
    consent = client.get(
        "/sandbox/atlassian/auth/authorize",
        {
            "client_id": "sandbox-atlassian-client-id",
            "response_type": "code",
            "scope": "read:me",
            "redirect_uri": "http://testserver/accounts/atlassian/login/callback/",
            "state": "x",
        },
    )
    assert consent.status_code == 200 and b"Acme Sandbox" in consent.content


def test_it_restricts_and_unrestricts_a_page_and_sends_the_events(client, live):
    client.post(f"/sandbox/manage/atlassian/sites/{live['site'].cloud_id}/", {"action": "install"})
    page_id = live["page"].id
    with world_for_request() as world:
        me = world.atlassian.default_user().account_id
        group = world.atlassian.create_group("leads", members=[me])
    actions = f"/sandbox/manage/atlassian/pages/{page_id}/actions/"
    client.post(actions, {"action": "restrict", "operation": "read", "user": [me], "group": [group.id], "emit": "1"})
    assert page_now(page_id).restrictions == {"read": {"user": [me], "group": [group.id]}}
    shown = client.get(f"/sandbox/manage/atlassian/pages/{page_id}/")
    assert b"View</strong> only" in shown.content and b"leads" in shown.content
    tree = client.get(f"/sandbox/manage/atlassian/spaces/{live['space'].id}/")
    assert b"view restricted" in tree.content
    client.post(actions, {"action": "unrestrict", "emit": "1"})
    assert page_now(page_id).restrictions == {}
    assert [e["eventType"] for e in live["posted"]][1:] == ["avi:confluence:permissions_updated:page"] * 2


def test_it_refuses_a_restriction_that_names_nobody(client, live):
    page_id = live["page"].id
    response = client.post(f"/sandbox/manage/atlassian/pages/{page_id}/actions/", {"action": "restrict"}, follow=True)
    assert b"Could not restrict" in response.content
    assert page_now(page_id).restrictions == {}


def test_it_removes_and_gives_back_space_access(client, live):
    client.post(f"/sandbox/manage/atlassian/sites/{live['site'].cloud_id}/", {"action": "install"})
    with world_for_request() as world:
        me = world.atlassian.default_user().account_id
    access = f"/sandbox/manage/atlassian/spaces/{live['space'].id}/access/"
    client.post(access, {"action": "revoke", "account_id": me, "emit": "1"})
    with world_for_request() as world:
        assert world.atlassian.spaces[live["space"].id].denied_account_ids == [me]
    client.post(access, {"action": "grant", "account_id": me})
    with world_for_request() as world:
        assert world.atlassian.spaces[live["space"].id].denied_account_ids == []
    assert [e["eventType"] for e in live["posted"]][1:] == ["avi:confluence:permissions_updated:space:V2"]


def test_it_closes_and_updates_accounts_and_creates_groups(client, live):
    with world_for_request() as world:
        other = world.atlassian.create_user(name="Grace Hopper").account_id
        me = world.atlassian.default_user().account_id
    client.post(f"/sandbox/manage/atlassian/accounts/{me}/", {"action": "update", "name": "Sandy User"})
    client.post(f"/sandbox/manage/atlassian/accounts/{other}/", {"action": "close"})
    client.post("/sandbox/manage/atlassian/groups/", {"name": "leads", "member": [me]})
    with world_for_request() as world:
        users = world.atlassian.users
        assert users[me].name == "Sandy User" and users[me].profile_updated_at > 0
        assert users[other].closed and users[other].name == "Former user"
        assert [(g.name, g.member_ids) for g in world.atlassian.groups.values()] == [("leads", [me])]
    index = client.get("/sandbox/manage/")
    assert b"Former user" in index.content and b"closed" in index.content and b"leads" in index.content
