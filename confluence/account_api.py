"""Calls about Atlassian accounts rather than a site's content: the personal data reporting API, and `/me` (the
profile of the person who gave a grant)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from confluence.gateway import (
    ConfluenceError,
    ConfluenceUnavailable,
    authorized,
    error_message,
    new_session,
    read_answer,
)
from connectors.http import ApiSession, requested_wait

# Reference: https://developer.atlassian.com/cloud/confluence/user-privacy-developer-guide/ ("Personal data reporting
# API"): at most 90 accounts a request; the grant needs the `report:personal-data` scope.
REPORT_MAX_ACCOUNTS = 90


@dataclass(frozen=True)
class AccountReport:
    """What Atlassian answered about a batch of reported accounts: those to erase and those to refresh (the others
    need nothing), and the `Cycle-Period` header (how often to report each account; None when absent)."""

    closed: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    cycle_period: str | None = None


class ReportRateLimited(ConfluenceUnavailable):
    """429: reported too often. Try again after `retry_after` seconds (None when Atlassian did not say)."""

    def __init__(self, message: str, *, retry_after: float | None):
        super().__init__(message, status=429)
        self.retry_after = retry_after


def report_accounts(
    accounts: Mapping[str, datetime], *, token: Callable[..., str], session: ApiSession | None = None
) -> AccountReport:
    """Report up to 90 stored accounts (account id → when we last read the personal data we hold of it). `token`
    returns an access token of any working grant; `token(force=True)` refreshes it."""
    if not accounts or len(accounts) > REPORT_MAX_ACCOUNTS:
        raise ValueError(f"report 1 to {REPORT_MAX_ACCOUNTS} accounts a request, not {len(accounts)}")
    # No retries in the worker: a 429 here says "report less often", and the schedule is what waits.
    session = session or ApiSession(timeout=(5.0, 60.0), max_retries=0)
    url = f"{settings.ATLASSIAN_API_URL}/app/report-accounts/"
    body = {"accounts": [{"accountId": account_id, "updatedAt": _iso(when)} for account_id, when in accounts.items()]}
    response = authorized(session, "POST", url, token=token, json=body)
    cycle_period = response.headers.get("Cycle-Period")
    if response.status_code == 429:
        raise ReportRateLimited(
            f"Atlassian asks to report accounts less often: {error_message(response)}",
            retry_after=requested_wait(response),
        )
    if response.status_code == 204:
        return AccountReport(cycle_period=cycle_period)
    data = read_answer(response)
    answers = [a for a in (data.get("accounts") or []) if isinstance(a, dict)] if isinstance(data, dict) else []
    return AccountReport(
        closed=tuple(str(a["accountId"]) for a in answers if a.get("status") == "closed" and a.get("accountId")),
        updated=tuple(str(a["accountId"]) for a in answers if a.get("status") == "updated" and a.get("accountId")),
        cycle_period=cycle_period,
    )


def account_profile(*, token: Callable[..., str], session: ApiSession | None = None) -> dict:
    """The profile (`account_id`, `name`, `email`, …) of the person whose grant `token` belongs to: `GET /me`."""
    # Reference: https://developer.atlassian.com/cloud/oauth/getting-started/making-calls-to-api/ (needs read:me)
    session = session or new_session()
    url = f"{settings.ATLASSIAN_API_URL}/me"
    data = read_answer(authorized(session, "GET", url, token=token))
    if not isinstance(data, dict):
        raise ConfluenceError("Atlassian answered /me with something other than a profile")
    return data


def _iso(moment: datetime) -> str:
    """`2018-10-25T23:08:51.382Z`, the form the API documents."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
