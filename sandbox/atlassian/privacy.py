"""The personal data reporting API for OAuth 2.0 (3LO) apps, and the account changes it reports.

Reference: https://developer.atlassian.com/cloud/confluence/user-privacy-developer-guide/ (the "Personal data
reporting API"); the Forge helper that wraps the same endpoint documents its shapes too:
https://developer.atlassian.com/platform/forge/runtime-reference/privacy-api/ ("calls the 3LO /report-accounts
endpoint and handles requests with more than 90 accounts").

`POST https://api.atlassian.com/app/report-accounts/` with a user's access token (`Authorization: Bearer`) and
`{"accounts": [{"accountId": "…", "updatedAt": "2018-10-25T23:08:51.382Z"}, …]}` (at most 90) answers:
- 200 `{"accounts": [{"accountId": "…", "status": "closed" | "updated"}]}`, only the accounts that need something
  done: "closed" (erase what you hold) or "updated" (the profile changed after `updatedAt`: refresh it);
- 204 with no body when none does;
- 400 for a malformed body or more than 90 accounts, 401 without a valid token, 429 with `Retry-After` (seconds)
  when reporting too often.
Every answer carries `Cycle-Period`, how often Atlassian expects each account to be reported. The guide names the
header but not its unit; it is sent here in seconds (604800, the 7-day default cycle), as the third-party
implementations we found read it, so a client should accept it as seconds and keep sane bounds.

An account the simulator does not know gets no answer (Atlassian cannot say anything about it either).
"""

from __future__ import annotations

import time
from datetime import datetime
from functools import partial

from sandbox.core import SimError, SimRequest, SimResponse

MAX_ACCOUNTS = 90
CYCLE_PERIOD_SECONDS = 7 * 86400
FORMER_USER = "Former user"


def register(sim) -> None:
    sim.route("POST", r"/api/app/report-accounts/?", partial(report_accounts, sim))


class PrivacyMixin:
    def close_account(self, account_id: str) -> None:
        """The person closed their Atlassian account: they show as "Former user" and their grants stop working."""
        with self.lock:
            user = self.users[account_id]
            user.closed = True
            user.name, user.email = FORMER_USER, ""
            user.profile_updated_at = int(time.time() * 1000)
            self.revoke_grant(account_id)

    def update_account(self, account_id: str, *, name: str | None = None, email: str | None = None) -> None:
        """The person changed their profile: reports with an older `updatedAt` answer "updated"."""
        with self.lock:
            user = self.users[account_id]
            if user.closed:
                raise ValueError("a closed account cannot change")
            user.name = user.name if name is None else name
            user.email = user.email if email is None else email
            user.profile_updated_at = int(time.time() * 1000)

    def rate_limit_reports(self, count: int = 1, *, retry_after: int = 60) -> None:
        """Answer the next `count` reports 429 with this Retry-After."""
        with self.lock:
            self.report_rate_limits, self.report_retry_after = count, retry_after

    def report_status(self, account_id: str, updated_at_ms: int) -> str | None:
        """What the API says of one account reported with this `updatedAt`: "closed", "updated" or None."""
        user = self.users.get(account_id)
        if user is None:
            return None
        if user.closed:
            return "closed"
        return "updated" if user.profile_updated_at > updated_at_ms else None


def report_accounts(sim, request: SimRequest) -> SimResponse:
    token = sim.check_bearer(request)
    if token.kind != "access":
        raise SimError(401, {"code": 401, "message": "Unauthorized"})
    headers = {"Cycle-Period": str(CYCLE_PERIOD_SECONDS)}
    if sim.report_rate_limits > 0:
        sim.report_rate_limits -= 1
        headers["Retry-After"] = str(sim.report_retry_after)
        return SimResponse.json({"code": 429, "message": "Too many requests"}, 429, headers)
    accounts = _reported_accounts(request)
    sim.reports.append({"accounts": [a["accountId"] for a in accounts]})
    answers = []
    for account in accounts:
        status = sim.report_status(account["accountId"], account["updatedAt"])
        if status:
            answers.append({"accountId": account["accountId"], "status": status})
    if not answers:
        return SimResponse(204, b"", headers)
    return SimResponse.json({"accounts": answers}, 200, headers)


def _reported_accounts(request: SimRequest) -> list[dict]:
    """The reported accounts with `updatedAt` as epoch milliseconds; a 400 for anything malformed."""
    try:
        body = request.json()
    except ValueError:
        body = None
    accounts = body.get("accounts") if isinstance(body, dict) else None
    if not isinstance(accounts, list) or not accounts:
        raise _bad_request('The body must be {"accounts": [{"accountId", "updatedAt"}, …]}')
    if len(accounts) > MAX_ACCOUNTS:
        raise _bad_request(f"At most {MAX_ACCOUNTS} accounts can be reported in one request")
    parsed = []
    for account in accounts:
        account_id = account.get("accountId") if isinstance(account, dict) else None
        updated_at = account.get("updatedAt") if isinstance(account, dict) else None
        if not isinstance(account_id, str) or not account_id or not isinstance(updated_at, str):
            raise _bad_request("Each account needs an accountId and an updatedAt")
        try:
            moment = datetime.fromisoformat(updated_at.replace("Z", "+00:00"))
        except ValueError:
            raise _bad_request(f"updatedAt is not an ISO 8601 date-time: {updated_at}") from None
        if moment.tzinfo is None:
            raise _bad_request(f"updatedAt needs a time zone: {updated_at}")
        parsed.append({"accountId": account_id, "updatedAt": int(moment.timestamp() * 1000)})
    return parsed


def _bad_request(message: str) -> SimError:
    return SimError(400, {"code": 400, "message": message})
