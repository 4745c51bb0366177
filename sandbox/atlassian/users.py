"""Confluence Cloud REST v2 bulk user lookup: `POST /wiki/api/v2/users-bulk` with `{"accountIds": [...]}`.

Reference: https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-user/ ("Create bulk user lookup using
ids", scope read:user:confluence). The answer lists the accounts it knows, with `displayName`, `publicName`,
`accountStatus` and `accountType`; ids it does not know are simply absent. A closed account shows as "Former user".
"""

from __future__ import annotations

from functools import partial

from sandbox.atlassian.confluence_v2 import PREFIX, site_for
from sandbox.atlassian.pagination import v2_error
from sandbox.core import SimRequest, SimResponse


def register(sim) -> None:
    sim.route("POST", PREFIX + "/users-bulk", partial(users_bulk, sim))


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


def user_shape(user) -> dict:
    return {
        "accountId": user.account_id,
        "accountType": "atlassian",
        "accountStatus": "closed" if user.closed else "active",
        "displayName": user.name,
        "publicName": user.name,
        "email": "",  # hidden unless the person chose to show it
        "timeZone": "",
        "isExternalCollaborator": False,
        "profilePicture": {"path": "/wiki/aa-avatar/default.png", "isDefault": True},
    }
