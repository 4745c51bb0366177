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

Reference: https://developer.atlassian.com/cloud/confluence/user-privacy-developer-guide/ ("Personal data
reporting API"): report each stored account once a cycle, with when its data was last retrieved (`updatedAt`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import requests
from allauth.socialaccount.models import SocialAccount
from django.utils import timezone

from confluence.auth import access_token, mark_revoked
from confluence.client import (
    REPORT_MAX_ACCOUNTS,
    AuthRevoked,
    ConfluenceError,
    ConfluenceUnavailable,
    ReportRateLimited,
    account_profile,
    report_accounts,
)
from confluence.convert.links import FORMER_USER
from confluence.index import Index, parse_index
from confluence.models import (
    AtlassianSite,
    KnownPerson,
    PendingAtlassianLink,
    PersonalDataReport,
    ReportedAccount,
    SyncRun,
    SyncState,
)
from confluence.sync_queue import NotReady, enqueue_sync
from connectors.models import Connection, SetupTask

logger = logging.getLogger(__name__)

PROVIDER = "atlassian"
# Cycle-Period is read as seconds (the guide names the header, not its unit); anything outside these bounds is
# taken to be a misreading and clamped, so a report is neither sent every hour nor forgotten for months.
MIN_CYCLE = timedelta(days=1)
MAX_CYCLE = timedelta(days=30)
# Waits when Atlassian does not say how long: a 429 without Retry-After, a refusal that needs an operator.
RATE_LIMITED_WAIT = timedelta(hours=1)
REFUSED_WAIT = timedelta(days=1)
CLOSED_DETAIL = (
    "The Atlassian account that linked this site was closed. Link an Atlassian account again to resume syncing."
)


# What the sync engine asks ---------------------------------------------------------------------------------


def closed_account_ids() -> frozenset[str]:
    """Accounts Atlassian said are closed: their people are shown as "Former user" in every rendering."""
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
        reporter = Reporter(report.cloud_id)
        ids = sorted(pending)
        for start in range(0, len(ids), REPORT_MAX_ACCOUNTS):
            batch = {account_id: pending[account_id] for account_id in ids[start : start + REPORT_MAX_ACCOUNTS]}
            answer = reporter.report(batch)
            closed.update(answer.closed)
            updated.update(answer.updated)
            answered.update(batch)
            report.cycle_seconds = cycle_seconds(answer.cycle_period, default=report.cycle_seconds)
    except ReportRateLimited as error:
        # Bounded: Atlassian has been seen asking for Retry-After: 9223372036854775807.
        asked = min(error.retry_after, MAX_CYCLE.total_seconds()) if error.retry_after is not None else None
        wait = timedelta(seconds=asked) if asked is not None else RATE_LIMITED_WAIT
        report.retry_at = now + wait
        report.error = f"Atlassian asked to wait {int(wait.total_seconds())} s before reporting again (429)."
    except (ConfluenceUnavailable, requests.RequestException) as error:
        report.retry_at, report.error = now + RATE_LIMITED_WAIT, f"Atlassian is unreachable or failing: {error}"
    except (AuthRevoked, ConfluenceError) as error:
        report.retry_at, report.error = now + REFUSED_WAIT, f"No grant of this site could report: {error}"
    erase_closed(closed, now=now)
    refresh_updated(updated - closed, now=now)
    if not report.error:
        report.reported_at, report.retry_at = now, None
        report.accounts, report.closed, report.updated = len(accounts), len(closed), len(updated - closed)
    report.save()
    logger.info(
        "personal data report of %s: %d accounts, %d closed, %d updated%s",
        report.cloud_id,
        len(accounts),
        len(closed),
        len(updated - closed),
        f"; {report.error}" if report.error else "",
    )
    return {
        "accounts": len(accounts),
        "closed": len(closed),
        "updated": len(updated - closed),
        "failed": bool(report.error),
    }


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


# Closed accounts: erase --------------------------------------------------------------------------------------


def erase_closed(account_ids: Iterable[str], *, now: datetime) -> None:
    """Erase the accounts' names and ids everywhere ctx| holds them, and queue the repositories' erasure."""
    account_ids = sorted(set(account_ids))
    if not account_ids:
        return
    for account_id in account_ids:
        ReportedAccount.objects.update_or_create(account_id=account_id, defaults={"closed_at": now})
    words = known_words(account_ids)
    # Only the connections these accounts were linked to (a taken-over site keeps its account id) name them.
    linked = list(AtlassianSite.objects.filter(account_id__in=account_ids).values_list("connection_id", flat=True))
    for site in AtlassianSite.objects.filter(account_id__in=account_ids).select_related("connection"):
        # The person's grant closed with the account: the connection needs someone else to link the site.
        mark_revoked(site, detail=CLOSED_DETAIL)
        site.account_id, site.account_name, site.account_email = "", FORMER_USER, ""
        site.save(update_fields=["account_id", "account_name", "account_email"])
    PendingAtlassianLink.objects.filter(account_id__in=account_ids).delete()
    SocialAccount.objects.filter(provider=PROVIDER, uid__in=account_ids).delete()
    KnownPerson.objects.filter(account_id__in=account_ids).delete()
    scrub_details(words, connection_ids=linked)
    erase_mentions(set(account_ids))


def known_words(account_ids: list[str]) -> set[str]:
    """The names, emails and ids ctx| holds of these accounts: what may appear in texts written about them."""
    words = set(account_ids)
    for name, email in AtlassianSite.objects.filter(account_id__in=account_ids).values_list(
        "account_name", "account_email"
    ):
        words |= {name, email}
    for name, email in PendingAtlassianLink.objects.filter(account_id__in=account_ids).values_list(
        "account_name", "account_email"
    ):
        words |= {name, email}
    for social in SocialAccount.objects.filter(provider=PROVIDER, uid__in=account_ids):
        data = social.extra_data if isinstance(social.extra_data, dict) else {}
        words |= {str(data.get("name") or ""), str(data.get("email") or ""), str(data.get("nickname") or "")}
    return {word for word in words if word and word != FORMER_USER}


def scrub_details(words: set[str], *, connection_ids: list[int], replacement: str = FORMER_USER) -> None:
    """Replace the words in the texts that name a linking person: the link step's detail ("… as <name>"), and the
    "re-link needed" details of connections whose account was taken over (`confluence.setup.link_site`). Only in
    the connections the person was linked to: another organization's "Annette" is not this "Ann"."""
    texts = [
        (SetupTask.objects.filter(kind="link_atlassian", connection_id__in=connection_ids), "detail"),
        (Connection.objects.filter(kind=Connection.Kind.CONFLUENCE, id__in=connection_ids), "status_detail"),
        (AtlassianSite.objects.filter(connection_id__in=connection_ids), "grant_detail"),
    ]
    for word in sorted(words, key=len, reverse=True):  # an email before the name it may contain
        for rows, field in texts:
            for row in rows.filter(**{f"{field}__contains": word}):
                setattr(row, field, getattr(row, field).replace(word, replacement))
                row.save(update_fields=[field])


def erase_mentions(account_ids: set[str]) -> None:
    """One targeted run per connection whose repository mentions a closed account: its pages are rendered again
    (`sync.plan_with_bodies` forces them) with "Former user", and the index forgets the ids, in one commit.
    A connection that cannot sync now (paused, setup unfinished) does the same at its next run."""
    states = SyncState.objects.exclude(index_file="").select_related("connection")
    for state in states:
        index = parse_index(state.index_file.encode())
        pages = sorted(pid for pid, entry in index.pages.items() if account_ids.intersection(entry.mentions))
        if not pages:
            continue
        try:
            enqueue_sync(state.connection, trigger=SyncRun.Trigger.SCHEDULE, page_ids=pages)
        except NotReady as error:
            logger.info("%s; its next run erases the closed accounts' mentions", error)


# Updated accounts: refresh -----------------------------------------------------------------------------------


def refresh_updated(account_ids: Iterable[str], *, now: datetime) -> None:
    """Read again the profile of each account whose profile changed, wherever ctx| holds its name and email."""
    for account_id in sorted(set(account_ids)):
        # A mentioned person's cached name is out of date: the next run over the whole scope reads it again.
        KnownPerson.objects.filter(account_id=account_id).update(read_at=now - KnownPerson.NAME_LIFETIME * 2)
        profile = read_profile(account_id)
        if profile is None:
            continue  # no grant of that person works now: the next report asks again
        name = str(profile.get("name") or profile.get("nickname") or "")
        email = str(profile.get("email") or "")
        for site in AtlassianSite.objects.filter(account_id=account_id):
            rename_in_details(site, old=site.account_name, new=name)
        AtlassianSite.objects.filter(account_id=account_id).update(account_name=name, account_email=email)
        PendingAtlassianLink.objects.filter(account_id=account_id).update(account_name=name, account_email=email)
        for social in SocialAccount.objects.filter(provider=PROVIDER, uid=account_id):
            social.extra_data = profile
            social.save(update_fields=["extra_data"])
        ReportedAccount.objects.update_or_create(account_id=account_id, defaults={"profile_read_at": now})


def read_profile(account_id: str) -> dict | None:
    """The account's current profile through a grant it gave (`/me` answers for the grant's owner only)."""
    for site in AtlassianSite.objects.filter(account_id=account_id, grant_status=AtlassianSite.Grant.ACTIVE):
        try:
            profile = account_profile(token=lambda force=False, site=site: access_token(site, force=force))
        except (AuthRevoked, ConfluenceError) as error:
            logger.info("could not read the profile of %s through site %s: %s", account_id, site.pk, error)
            continue
        if profile.get("account_id") == account_id:
            return profile
    return None


def rename_in_details(site: AtlassianSite, *, old: str, new: str) -> None:
    """The link step says whose account the site was linked as; keep that name current."""
    if not old or old == new:
        return
    for task in SetupTask.objects.filter(connection_id=site.connection_id, kind="link_atlassian"):
        if old in task.detail:
            task.detail = task.detail.replace(old, new)
            task.save(update_fields=["detail"])
