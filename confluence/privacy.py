"""Atlassian's personal data reporting: which Atlassian accounts ctx| stores data of, and erasing or refreshing it.

What ctx| stores of Atlassian accounts:
- the linking person's account id, name and email (`AtlassianSite`, `PendingAtlassianLink`, and allauth
  `SocialAccount` rows of provider "atlassian" if any exist), and that name in the link step's detail;
- in each connection's repository, the account ids of the people its pages mention (a link to their Confluence
  profile; the index lists them per page as `mentions`), and the display names the bulk user lookup gave for them
  (`KnownPerson`, per site).

`report_due()`, the hourly "ctx: report personal data" schedule, reports every account id stored for each
Confluence site with a working grant, 90 a request, once a cycle (Atlassian's `Cycle-Period`, 7 days by default),
waiting as long as a 429's Retry-After asks. Then, for each account Atlassian answers about:
- **closed**: its name and id are erased from every row (the site link keeps "Former user" and needs a new link:
  the person's grant closed with the account; pending links and social accounts are deleted), and the pages that
  mention it are rendered again with "Former user", unlinked: one targeted sync run, so one commit, per
  connection. `ReportedAccount` keeps the id, so every later rendering keeps it erased;
- **updated**: the stored name and email are read again (`/me` with the grant of a site the person linked).
What is done with those answers lives in `confluence.account_changes`.

Reference: https://developer.atlassian.com/cloud/confluence/user-privacy-developer-guide/ ("Personal data
reporting API"): report each stored account once a cycle, with when its data was last retrieved (`updatedAt`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta

import requests
from allauth.socialaccount.models import SocialAccount
from django.utils import timezone

from confluence.account_api import REPORT_MAX_ACCOUNTS, AccountReport, ReportRateLimited, report_accounts
from confluence.account_changes import PROVIDER, erase_closed, refresh_updated
from confluence.auth import access_token
from confluence.gateway import AuthRevoked, ConfluenceError, ConfluenceUnavailable
from confluence.models import (
    AtlassianSite,
    KnownPerson,
    PendingAtlassianLink,
    PersonalDataReport,
    ReportedAccount,
    SyncState,
)
from confluence.sync.index import Index, parse_index

logger = logging.getLogger(__name__)


# Cycle-Period is read as seconds (the guide names the header, not its unit); anything outside these bounds is
# taken to be a misreading and clamped, so a report is neither sent every hour nor forgotten for months.
MIN_CYCLE = timedelta(days=1)
MAX_CYCLE = timedelta(days=30)
# Waits when Atlassian does not say how long: a 429 without Retry-After, a refusal that needs an operator.
RATE_LIMITED_WAIT = timedelta(hours=1)
REFUSED_WAIT = timedelta(days=1)


# What the sync engine asks ---------------------------------------------------------------------------------


def closed_account_ids() -> frozenset[str]:
    """Accounts Atlassian said are closed, in a report or in a user lookup (`confluence.sync.people`): their people are
    shown as "Former user" in every rendering."""
    return frozenset(ReportedAccount.objects.filter(closed_at__isnull=False).values_list("account_id", flat=True))


def pages_mentioning_closed_accounts(index: Index) -> frozenset[str]:
    """Synced pages that still mention a closed account: rendered again by the next run, whatever their version."""
    if not any(entry.mentions for entry in index.pages.values()):
        return frozenset()
    closed = closed_account_ids()
    return frozenset(pid for pid, entry in index.pages.items() if closed.intersection(entry.mentions))


# The schedule ------------------------------------------------------------------------------------------------


def report_due() -> dict[str, int]:
    """Report the accounts of every site whose cycle is over (or that never reported), and act on the answers."""
    now = timezone.now()
    # A pending link is useless after its lifetime, but holds a name and an email: nothing to report, just erase.
    PendingAtlassianLink.objects.filter(created_at__lt=now - PendingAtlassianLink.LIFETIME).delete()
    totals: Counter[str] = Counter()
    answered: set[str] = set()  # accounts reported in this pass (any site): a person linked twice is sent once
    cloud_ids = (
        AtlassianSite.objects.filter(grant_status=AtlassianSite.Grant.ACTIVE)
        .order_by("cloud_id")
        .values_list("cloud_id", flat=True)
        .distinct()
    )
    for cloud_id in cloud_ids:
        report, _ = PersonalDataReport.objects.get_or_create(cloud_id=cloud_id)
        if report.due_at is not None and report.due_at > now:
            continue
        totals["sites"] += 1
        totals.update(report_site(report, now=now, answered=answered))
    return dict(totals)


def report_site(report: PersonalDataReport, *, now: datetime, answered: set[str]) -> dict[str, int]:
    """One site's report, in batches of 90; what was learnt is acted on even when a later batch fails. Returns
    what this attempt did (accounts stored, closed, updated, and whether it failed)."""
    accounts = stored_accounts(report.cloud_id, now=now)
    pending = {account_id: when for account_id, when in accounts.items() if account_id not in answered}
    closed: set[str] = set()
    updated: set[str] = set()
    report.attempted_at, report.error = now, ""
    try:
        for answer in report_batches(report, pending, answered=answered):
            closed.update(answer.closed)
            updated.update(answer.updated)
    except (ConfluenceUnavailable, requests.RequestException, AuthRevoked, ConfluenceError) as error:
        report.retry_at, report.error = failure(error, now=now)
    updated -= closed
    erase_closed(closed, now=now)
    refresh_updated(updated, now=now)
    if not report.error:
        report.reported_at, report.retry_at = now, None
        report.accounts, report.closed, report.updated = len(accounts), len(closed), len(updated)
    report.save()
    failed = f"; {report.error}" if report.error else ""
    logger.info(
        "personal data report of %s: %d accounts, %d closed, %d updated%s",
        *(report.cloud_id, len(accounts), len(closed), len(updated), failed),
    )
    return {"accounts": len(accounts), "closed": len(closed), "updated": len(updated), "failed": bool(report.error)}


def report_batches(report: PersonalDataReport, pending: Mapping[str, datetime], *, answered: set[str]):
    """Atlassian's answer to each batch of 90 pending accounts, as it comes (the accounts are then `answered`, and the
    report takes the cycle the answer asks for)."""
    reporter = Reporter(report.cloud_id)
    ids = sorted(pending)
    for start in range(0, len(ids), REPORT_MAX_ACCOUNTS):
        batch = {account_id: pending[account_id] for account_id in ids[start : start + REPORT_MAX_ACCOUNTS]}
        answer: AccountReport = reporter.report(batch)
        answered.update(batch)
        report.cycle_seconds = cycle_seconds(answer.cycle_period, default=report.cycle_seconds)
        yield answer


def failure(error: Exception, *, now: datetime) -> tuple[datetime, str]:
    """When to try again after a report failed with `error`, and what to tell the operator."""
    if isinstance(error, ReportRateLimited):
        # Bounded: Atlassian has been seen asking for Retry-After: 9223372036854775807.
        asked = min(error.retry_after, MAX_CYCLE.total_seconds()) if error.retry_after is not None else None
        wait = timedelta(seconds=asked) if asked is not None else RATE_LIMITED_WAIT
        return now + wait, f"Atlassian asked to wait {int(wait.total_seconds())} s before reporting again (429)."
    if isinstance(error, (ConfluenceUnavailable, requests.RequestException)):
        return now + RATE_LIMITED_WAIT, f"Atlassian is unreachable or failing: {error}"
    return now + REFUSED_WAIT, f"No grant of this site could report: {error}"


def cycle_seconds(header: str | None, *, default: int) -> int:
    """The `Cycle-Period` header as seconds within sane bounds; `default` when absent or unreadable."""
    try:
        seconds = int((header or "").strip())
    except ValueError:
        return default
    return int(min(max(timedelta(seconds=seconds), MIN_CYCLE), MAX_CYCLE).total_seconds())


class Reporter:
    """Sends batches with the first grant of the site that works, moving on to the next when one is refused."""

    def __init__(self, cloud_id: str):
        self.sites = list(
            AtlassianSite.objects.filter(cloud_id=cloud_id, grant_status=AtlassianSite.Grant.ACTIVE).order_by("pk")
        )
        if not self.sites:
            raise AuthRevoked("no connection to this site has a working grant")

    def report(self, batch: Mapping[str, datetime]):
        while True:
            site = self.sites[0]
            try:
                return report_accounts(batch, token=lambda force=False, site=site: access_token(site, force=force))
            except AuthRevoked:
                # This grant cannot report (revoked, or granted without report:personal-data): try the next one.
                if len(self.sites) == 1:
                    raise
                self.sites.pop(0)


# What is stored ----------------------------------------------------------------------------------------------


def stored_accounts(cloud_id: str, *, now: datetime) -> dict[str, datetime]:
    """Account id → when the personal data held of it was last read from Atlassian (the oldest copy counts): the
    site's links, pending links that reach the site, social accounts, and the mentions in the repositories of
    every connection reading the site (an id alone, never out of date: reported as read now)."""
    closed = closed_account_ids()
    profiles_read = dict(
        ReportedAccount.objects.filter(profile_read_at__isnull=False).values_list("account_id", "profile_read_at")
    )
    held: dict[str, datetime] = {}

    def hold(account_id: str, retrieved: datetime) -> None:
        if account_id and account_id not in closed:
            retrieved = max(retrieved, profiles_read.get(account_id, retrieved))
            held[account_id] = min(held.get(account_id, retrieved), retrieved)

    sites = list(AtlassianSite.objects.filter(cloud_id=cloud_id))
    for site in sites:
        hold(site.account_id, site.linked_at)
    for link in PendingAtlassianLink.objects.all():
        if any(isinstance(s, dict) and s.get("id") == cloud_id for s in link.sites):
            hold(link.account_id, link.created_at)
    for social in SocialAccount.objects.filter(provider=PROVIDER):
        hold(social.uid, max(filter(None, [social.date_joined, social.last_login])))
    for account_id, read_at in KnownPerson.objects.filter(cloud_id=cloud_id).values_list("account_id", "read_at"):
        hold(account_id, read_at)
    for state in SyncState.objects.filter(connection_id__in=[site.connection_id for site in sites]):
        for account_id in mentions(state):
            hold(account_id, now)
    return held


def mentions(state: SyncState) -> set[str]:
    """Account ids the connection's repository holds (the index's mentions)."""
    if not state.index_file:
        return set()
    return {
        account_id for entry in parse_index(state.index_file.encode()).pages.values() for account_id in entry.mentions
    }
