"""Confluence Cloud REST v2 bulk user lookup: `POST /wiki/api/v2/users-bulk` with `{"accountIds": [...]}`, and the
account deactivation it reports.

Reference: https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-user/ ("Create bulk user lookup using
ids", scope read:user:confluence). The answer lists the accounts it knows, with `displayName`, `publicName`,
`accountStatus` and `accountType`; ids it does not know are simply absent. `accountStatus` is "active", "inactive"
(a deactivated account: it keeps its name, and "doesn't have access to any resources") or "closed" (shown as
"Former user").
"""

from __future__ import annotations

from functools import partial

from sandbox.atlassian.confluence_v2 import PREFIX, site_for
from sandbox.atlassian.pagination import v2_error
from sandbox.core import SimRequest, SimResponse


def register(sim) -> None:
    sim.route("POST", PREFIX + "/users-bulk", partial(users_bulk, sim))


def deactivate_account(sim, account_id: str) -> None:
    """An admin deactivated the account: the lookup says "inactive", the name stays, and its grants stop working
    (an inactive account reaches nothing). The personal data reporting API has nothing to say about it."""
    with sim.lock:
        user = sim.users[account_id]
        if user.closed:
            raise ValueError("a closed account cannot be deactivated")
        user.deactivated = True
        sim.revoke_grant(account_id)


def users_bulk(sim, request: SimRequest, cloud_id: str) -> SimResponse:
    site_for(sim, request, cloud_id)
    try:
        body = request.json()
    except ValueError:
        body = None
    ids = body.get("accountIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise v2_error(400, "INVALID_REQUEST_PARAMETER", "accountIds must be a non-empty list of account ids")
    results = [user_shape(sim.users[account_id]) for account_id in dict.fromkeys(ids) if account_id in sim.users]
    return SimResponse.json({"results": results, "_links": {"base": sim.sites[cloud_id].url + "/wiki"}})


def account_status(user) -> str:
    if user.closed:
        return "closed"
    return "inactive" if user.deactivated else "active"


def user_shape(user) -> dict:
    return {
        "accountId": user.account_id,
        "accountType": "atlassian",
        "accountStatus": account_status(user),
        "displayName": user.name,
        "publicName": user.name,
        "email": "",  # hidden unless the person chose to show it
        "timeZone": "",
        "isExternalCollaborator": False,
        "profilePicture": {"path": "/wiki/aa-avatar/default.png", "isDefault": True},
    }
