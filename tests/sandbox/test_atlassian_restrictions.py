"""Page view restrictions: what each account sees through v1 and v2, the restriction endpoints and expansions, the
CQL page-size caps, and the permissions_updated events."""

from __future__ import annotations

import json

import pytest
import requests

from sandbox.atlassian.oauth import DEFAULT_SCOPE

BASE = "http://testserver/sandbox/atlassian"
ALAN = "557058:0c0ffee0-2222-4000-8000-000000000003"
EXPAND_READ = "restrictions.read.restrictions.user,restrictions.read.restrictions.group"


@pytest.fixture
def restricted_site(atlassian_sim):
    restricted_site = atlassian_sim.create_site(name="Acme Sandbox", url="https://acme-sandbox.atlassian.net")
    atlassian_sim.default_user()
    atlassian_sim.create_user(account_id=ALAN, name="Alan Turing")
    atlassian_sim.create_space(restricted_site.cloud_id, key="ENG", name="Engineering")
    return restricted_site


@pytest.fixture
def tree(atlassian_sim, restricted_site):
    """home ─ hr (view: Alan) ─ salaries;  home ─ mine (view: the default user) ─ notes;  home ─ open"""
    space = atlassian_sim.space_by_key(restricted_site.cloud_id, "ENG")
    pages = {"home": atlassian_sim.pages[space.homepage_id]}
    for name, parent in (("hr", "home"), ("salaries", "hr"), ("mine", "home"), ("notes", "mine"), ("open", "home")):
        pages[name] = atlassian_sim.create_page(
            restricted_site.cloud_id, space_key="ENG", title=name.title(), body="<p>x</p>", parent_id=pages[parent].id
        )
    atlassian_sim.add_attachment(pages["salaries"].id, filename="pay.csv", data=b"a,b\n", media_type="text/csv")
    atlassian_sim.restrict_page(pages["hr"].id, users=[ALAN])
    atlassian_sim.restrict_page(pages["mine"].id, users=[atlassian_sim.default_user().account_id])
    return pages


def client(atlassian_sim, restricted_site, account_id=None, scope=DEFAULT_SCOPE):
    token = atlassian_sim.connect(account_id=account_id, scope=scope)["access_token"]
    root = f"{BASE}/api/ex/confluence/{restricted_site.cloud_id}/wiki"

    def call(method, path, **kwargs):
        headers = {"Authorization": f"Bearer {token}"}
        return requests.request(method, root + path, headers=headers, timeout=5, **kwargs)

    return call


def ids(results):
    return {item["id"] for item in results}


def test_pages_an_account_may_not_read_are_missing_everywhere(atlassian_sim, restricted_site, tree):
    call = client(atlassian_sim, restricted_site)
    hidden = {tree["hr"].id, tree["salaries"].id}
    readable = {tree[name].id for name in ("home", "mine", "notes", "open")}
    space_id = atlassian_sim.space_by_key(restricted_site.cloud_id, "ENG").id
    assert ids(call("GET", f"/api/v2/spaces/{space_id}/pages", params={"limit": 250}).json()["results"]) == readable
    all_ids = ",".join(p.id for p in tree.values())
    assert ids(call("GET", "/api/v2/pages", params={"id": all_ids}).json()["results"]) == readable
    children = call("GET", f"/api/v2/pages/{tree['home'].id}/children").json()["results"]
    assert ids(children) == {tree["mine"].id, tree["open"].id}
    assert ids(call("GET", "/rest/api/content", params={"spaceKey": "ENG"}).json()["results"]) == readable
    found = call("GET", "/rest/api/content/search", params={"cql": "space = ENG", "limit": 100}).json()
    assert ids(found["results"]) == readable
    attachments = call("GET", "/rest/api/content/search", params={"cql": "type = attachment"}).json()
    assert attachments["results"] == []
    for page_id in hidden:
        for path in (f"/api/v2/pages/{page_id}", f"/api/v2/pages/{page_id}/ancestors", f"/rest/api/content/{page_id}"):
            assert call("GET", path).status_code == 404, path
    attachment_id = tree["salaries"].attachment_ids[0]
    assert call("GET", f"/api/v2/attachments/{attachment_id}").status_code == 404
    assert call("GET", f"/rest/api/content/{tree['salaries'].id}/child/attachment").status_code == 404


def test_each_account_sees_what_its_restrictions_allow(atlassian_sim, restricted_site, tree):
    alan = client(atlassian_sim, restricted_site, account_id=ALAN)
    assert alan("GET", f"/api/v2/pages/{tree['salaries'].id}").status_code == 200
    assert alan("GET", f"/api/v2/pages/{tree['notes'].id}").status_code == 404
    atlassian_sim.unrestrict_page(tree["mine"].id)
    assert alan("GET", f"/api/v2/pages/{tree['notes'].id}").status_code == 200


def test_groups_open_restricted_pages_to_their_members(atlassian_sim, restricted_site, tree):
    group = atlassian_sim.create_group("people-team", members=[ALAN])
    atlassian_sim.restrict_page(tree["open"].id, groups=["people-team"])
    call = client(atlassian_sim, restricted_site)
    assert call("GET", f"/rest/api/content/{tree['open'].id}").status_code == 404
    atlassian_sim.add_group_member(group.id, atlassian_sim.default_user().account_id)
    assert call("GET", f"/rest/api/content/{tree['open'].id}").status_code == 200


def test_the_app_system_token_sees_no_restricted_page(atlassian_sim, restricted_site, tree):
    token = atlassian_sim.issue_system_token(restricted_site.cloud_id)
    response = requests.get(
        f"{BASE}/api/ex/confluence/{restricted_site.cloud_id}/wiki/api/v2/pages/{tree['mine'].id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert response.status_code == 404
    assert atlassian_sim.visible(tree["hr"])  # Python callers see everything


def test_a_lost_space_answers_404(atlassian_sim, restricted_site, tree):
    call = client(atlassian_sim, restricted_site)
    space = atlassian_sim.space_by_key(restricted_site.cloud_id, "ENG")
    atlassian_sim.revoke_space_access(restricted_site.cloud_id, "ENG", atlassian_sim.default_user().account_id)
    assert call("GET", f"/api/v2/spaces/{space.id}").status_code == 404
    assert call("GET", "/api/v2/spaces").json()["results"] == []
    assert call("GET", f"/api/v2/pages/{tree['open'].id}").status_code == 404
    atlassian_sim.grant_space_access(restricted_site.cloud_id, "ENG", atlassian_sim.default_user().account_id)
    assert call("GET", f"/api/v2/spaces/{space.id}").status_code == 200


def test_content_expands_its_own_read_restrictions(atlassian_sim, restricted_site, tree):
    group = atlassian_sim.create_group("leads", members=[atlassian_sim.default_user().account_id])
    atlassian_sim.restrict_page(tree["mine"].id, groups=[group.id])
    call = client(atlassian_sim, restricted_site)
    data = call("GET", f"/rest/api/content/{tree['mine'].id}", params={"expand": EXPAND_READ}).json()
    read = data["restrictions"]["read"]
    assert read["operation"] == "read"
    users = read["restrictions"]["user"]
    assert [u["accountId"] for u in users["results"]] == [atlassian_sim.default_user().account_id]
    assert {"start", "limit", "size", "totalSize"} <= set(users)
    assert read["restrictions"]["group"]["results"] == [
        {
            "type": "group",
            "name": "leads",
            "id": group.id,
            "usageType": "USERBASE_GROUP",
            "managedBy": "ADMINS",
            "_links": {"self": f"https://acme-sandbox.atlassian.net/wiki/rest/api/group/by-id?id={group.id}"},
        }
    ]
    assert data["restrictions"]["_expandable"] == {
        "update": f"/rest/api/content/{tree['mine'].id}/restriction/byOperation/update"
    }
    assert "restrictions" not in data["_expandable"]


def test_a_child_shows_only_its_own_restrictions_and_its_ancestors_show_theirs(atlassian_sim, restricted_site, tree):
    call = client(atlassian_sim, restricted_site)
    expand = f"{EXPAND_READ},ancestors.{EXPAND_READ.replace(',', ',ancestors.')}"
    data = call("GET", f"/rest/api/content/{tree['notes'].id}", params={"expand": expand}).json()
    assert data["restrictions"]["read"]["restrictions"]["user"]["results"] == []
    by_id = {a["id"]: a["restrictions"]["read"]["restrictions"]["user"]["results"] for a in data["ancestors"]}
    assert [u["accountId"] for u in by_id[tree["mine"].id]] == [atlassian_sim.default_user().account_id]
    assert by_id[tree["home"].id] == []


def test_cql_search_expands_restrictions_in_bulk_within_the_documented_caps(atlassian_sim, restricted_site, tree):
    call = client(atlassian_sim, restricted_site)
    found = call(
        "GET", "/rest/api/content/search", params={"cql": "space = ENG", "expand": EXPAND_READ, "limit": 250}
    ).json()
    assert found["limit"] == 200
    restricted = {r["id"] for r in found["results"] if r["restrictions"]["read"]["restrictions"]["user"]["results"]}
    assert restricted == {tree["mine"].id}
    with_body = call(
        "GET", "/rest/api/content/search", params={"cql": "space = ENG", "expand": "body.storage", "limit": 250}
    ).json()
    assert with_body["limit"] == 50
    labels = call(
        "GET", "/rest/api/content/search", params={"cql": "space = ENG", "expand": "metadata.labels", "limit": 250}
    ).json()
    assert labels["limit"] == 250


def test_the_restriction_endpoints_answer_like_the_real_api(atlassian_sim, restricted_site, tree):
    group = atlassian_sim.create_group("leads")
    atlassian_sim.restrict_page(tree["mine"].id, groups=[group.id])
    call = client(atlassian_sim, restricted_site)
    me = atlassian_sim.default_user().account_id
    root = f"/rest/api/content/{tree['mine'].id}/restriction"
    listing = call("GET", root).json()
    assert [r["operation"] for r in listing["results"]] == ["read", "update"]
    assert {"start", "limit", "size", "restrictionsHash", "_links"} <= set(listing)
    assert listing["results"][1]["restrictions"]["user"]["results"] == []
    by_operation = call("GET", f"{root}/byOperation").json()
    assert set(by_operation) == {"read", "update", "_links"}
    assert by_operation["read"]["restrictions"]["user"]["results"][0]["accountId"] == me
    read = call("GET", f"{root}/byOperation/read").json()
    assert read["operation"] == "read" and read["_expandable"] == {"content": f"/rest/api/content/{tree['mine'].id}"}
    assert call("GET", f"{root}/byOperation/read/user", params={"accountId": me}).status_code == 200
    assert call("GET", f"{root}/byOperation/read/user", params={"accountId": ALAN}).status_code == 404
    assert call("GET", f"{root}/byOperation/update/user", params={"accountId": me}).status_code == 404
    assert call("GET", f"{root}/byOperation/read/byGroupId/{group.id}").status_code == 200
    assert call("GET", f"{root}/byOperation/read/group/leads").status_code == 200
    assert call("GET", f"{root}/byOperation/read/byGroupId/nope").status_code == 404
    assert call("GET", f"{root}/byOperation/delete").status_code == 400
    assert call("GET", f"/rest/api/content/{tree['hr'].id}/restriction").status_code == 404
    # Inherited restrictions are not the child's own.
    child = f"/rest/api/content/{tree['notes'].id}/restriction/byOperation/read/user"
    assert call("GET", child, params={"accountId": me}).status_code == 404


def test_writing_restrictions_needs_a_write_scope_and_sends_the_event(atlassian_sim, restricted_site, tree):
    delivered = []
    atlassian_sim.deliver = lambda url, body, headers: delivered.append(json.loads(body)) or 200
    atlassian_sim.install_forge_app(restricted_site.cloud_id)
    page = tree["open"]
    root = f"/rest/api/content/{page.id}/restriction"
    reader = client(atlassian_sim, restricted_site)
    assert reader("PUT", f"{root}/byOperation/read/user", params={"accountId": ALAN}).status_code == 403
    me = atlassian_sim.default_user().account_id
    writer = client(atlassian_sim, restricted_site, scope=f"{DEFAULT_SCOPE} write:confluence-content")
    assert writer("PUT", f"{root}/byOperation/read/user", params={"accountId": me}).status_code == 200
    assert page.restrictions == {"read": {"user": [me], "group": []}}
    assert delivered[-1]["eventType"] == "avi:confluence:permissions_updated:page"
    assert delivered[-1]["content"]["id"] == page.id
    body = {"results": [{"operation": "read", "restrictions": {"user": [{"type": "known", "accountId": ALAN}]}}]}
    replaced = writer("PUT", root, json=body).json()
    assert [u["accountId"] for u in replaced["results"][0]["restrictions"]["user"]["results"]] == [ALAN]
    assert writer("GET", f"/api/v2/pages/{page.id}").status_code == 404  # restricted away from the writer
    assert atlassian_sim.restricted_by(page) == [page]
    atlassian_sim.unrestrict_page(page.id, emit=False)
    assert writer("DELETE", root).status_code == 200 and page.restrictions == {}


def test_restriction_changes_and_space_permissions_send_their_events(atlassian_sim, restricted_site, tree):
    delivered = []
    atlassian_sim.deliver = lambda url, body, headers: delivered.append(json.loads(body)) or 200
    atlassian_sim.install_forge_app(restricted_site.cloud_id)
    atlassian_sim.restrict_page(tree["open"].id, users=[ALAN])
    atlassian_sim.unrestrict_page(tree["open"].id)
    atlassian_sim.restrict_page(tree["open"].id, users=[ALAN], emit=False)
    atlassian_sim.revoke_space_access(restricted_site.cloud_id, "ENG", ALAN)
    types = [event["eventType"] for event in delivered[1:]]
    assert types == [
        "avi:confluence:permissions_updated:page",
        "avi:confluence:permissions_updated:page",
        "avi:confluence:permissions_updated:space:V2",
    ]
    assert {"atlassianId", "eventCreatedDate", "content"} <= set(delivered[1])
    assert delivered[-1]["space"]["key"] == "ENG"


def test_restrictions_survive_a_snapshot(atlassian_sim, restricted_site, tree, tmp_path):
    from sandbox.atlassian import AtlassianSimulator

    copy = AtlassianSimulator(base_url=BASE, root=tmp_path / "copy", site_url="http://testserver")
    copy.restore(json.loads(json.dumps(atlassian_sim.snapshot())))
    salaries = copy.pages[tree["salaries"].id]
    assert [p.id for p in copy.restricted_by(salaries)] == [tree["hr"].id]
    assert not copy.can_read(atlassian_sim.default_user().account_id, salaries)
    assert copy.can_read(ALAN, salaries)
