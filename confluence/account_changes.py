"""What ctx| does when Atlassian's personal data reporting answers about an account (`confluence.privacy` asks):
a **closed** account is erased everywhere ctx| holds its name or id (and the pages mentioning it are rendered again
as "Former user"); an **updated** one has its stored name and email read again through a grant it gave. A sync
run's user lookup that finds a closed account erases it the same way (`confluence.sync.people`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from allauth.socialaccount.models import SocialAccount

from confluence.account_api import account_profile
from confluence.auth import access_token, mark_revoked
from confluence.convert.links import FORMER_USER
from confluence.gateway import AuthRevoked, ConfluenceError
from confluence.models import AtlassianSite, KnownPerson, PendingAtlassianLink, ReportedAccount, SyncRun, SyncState
from confluence.sync.index import parse_index
from confluence.sync.queue import NotReady, enqueue_sync
from connectors.models import Connection, SetupTask

logger = logging.getLogger(__name__)

# The allauth provider whose social accounts hold Atlassian accounts.
PROVIDER = "atlassian"
CLOSED_DETAIL = (
    "The Atlassian account that linked this site was closed. Link an Atlassian account again to resume syncing."
)


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
    "re-link needed" details of connections whose account was taken over (`confluence.setup.steps.link_site`). Only in
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
    (`confluence.sync.engine.plan_with_bodies` forces them) with "Former user", and the index forgets the ids, in
    one commit. A connection that cannot sync now (paused, setup unfinished) does the same at its next run."""
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
