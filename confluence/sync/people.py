"""The names mentions show: read from Confluence's bulk user lookup (100 a request) and cached per site.

A storage-format body names people by account id only. Before rendering, a run asks about the people its pages
mention that the site's cache (KnownPerson) does not hold, and a run over the whole scope also about those whose
cached name expired; the pages that show a changed name are rendered again. Closed accounts are never asked about:
they show as "Former user" (confluence.privacy). An account the lookup itself says is closed is erased at once, as
the personal data report would have it (`confluence.account_changes.erase_closed`): the run that learns it already
writes "Former user", unlinked, and no account id. A deactivated account ("inactive") keeps its name, marked
"(deactivated)", and its profile link: Confluence still shows that profile and what the person wrote.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

from django.utils import timezone

from confluence import account_changes, privacy
from confluence.client import ConfluenceClient
from confluence.content import Person
from confluence.gateway import ConfluenceError
from confluence.models import KnownPerson
from confluence.sync.index import Index

logger = logging.getLogger(__name__)

# A mention in storage format: <ri:user ri:account-id="…"/>. Read from the bodies before rendering, so all the people
# of all the pages a run renders are looked up together.
# The lookup's `accountStatus` of a closed account.
CLOSED = "closed"
ACCOUNT_ID = re.compile(r"""ri:account-id\s*=\s*["']\s*([^"'<>\s]+)\s*["']""")


def mentioned_in(body: str) -> set[str]:
    """The account ids a storage-format body mentions (a cheap scan: no parsing)."""
    if "ri:account-id" not in body:
        return set()
    return set(ACCOUNT_ID.findall(body))


def mentioned_in_pages(bodies: Mapping[str, str], page_ids: Iterable[str]) -> set[str]:
    """The account ids the bodies of those pages mention (pages without a body in hand mention nobody here)."""
    return {account_id for pid in page_ids if pid in bodies for account_id in mentioned_in(bodies[pid])}


def known_names(cloud_id: str) -> dict[str, str]:
    """Account id → the name its mentions show, for the people of the site that the lookup named."""
    names = {}
    for row in KnownPerson.objects.filter(cloud_id=cloud_id):
        shown = as_person(row).shown_name
        if shown:
            names[row.account_id] = shown
    return names


def as_person(row: KnownPerson) -> Person:
    return Person(row.account_id, row.display_name, row.account_status, row.account_type)


def look_up_people(
    client: ConfluenceClient, cloud_id: str, account_ids: Iterable[str], *, refresh_expired: bool = True
) -> set[str]:
    """Ask about the people the site's cache does not hold, and those whose entry expired when `refresh_expired`;
    store the answers. Returns the ids whose shown name is not what it was (new people included)."""
    wanted = set(account_ids) - privacy.closed_account_ids()
    if not wanted:
        return set()
    rows = {row.account_id: row for row in KnownPerson.objects.filter(cloud_id=cloud_id)}
    # Rows cached as closed before the lookup's word was acted on at once: erased now, without asking again.
    cached_closed = {
        account_id for account_id in wanted if account_id in rows and rows[account_id].account_status == CLOSED
    }
    expired_before = timezone.now() - KnownPerson.NAME_LIFETIME
    stale = sorted(
        account_id
        for account_id in wanted - cached_closed
        if account_id not in rows or (refresh_expired and rows[account_id].read_at < expired_before)
    )
    people = ask(client, cloud_id, stale) if stale else {}
    # Closed is for good: erased as the personal data report would (this run then shows "Former user", unlinked).
    closed = cached_closed | {account_id for account_id, person in people.items() if person.account_status == CLOSED}
    remember(cloud_id, {account_id: person for account_id, person in people.items() if account_id not in closed})
    account_changes.erase_closed(closed, now=timezone.now())
    renamed = {
        account_id
        for account_id, person in people.items()
        if account_id not in rows or as_person(rows[account_id]).shown_name != person.shown_name
    }
    return renamed | cached_closed


def ask(client: ConfluenceClient, cloud_id: str, account_ids: list[str]) -> dict[str, Person]:
    try:
        return client.people(account_ids)
    except ConfluenceError as error:
        if error.status != 403:
            raise
        # A grant given before ctx| asked for read:user:confluence: mentions show "@unknown user" until re-linked.
        logger.warning("site %s refused the user lookup (%s): mentions keep their fallback", cloud_id, error)
        return {}


def remember(cloud_id: str, people: Mapping[str, Person]) -> None:
    now = timezone.now()
    KnownPerson.objects.bulk_create(
        [
            KnownPerson(
                cloud_id=cloud_id,
                account_id=person.account_id,
                # A closed account's name is not kept, whatever the lookup says.
                display_name="" if person.account_status == CLOSED else person.display_name[:255],
                account_status=person.account_status[:32],
                account_type=person.account_type[:32],
                read_at=now,
            )
            for person in people.values()
        ],
        update_conflicts=True,
        unique_fields=["cloud_id", "account_id"],
        update_fields=["display_name", "account_status", "account_type", "read_at"],
    )


def pages_with_renamed_people(client: ConfluenceClient, cloud_id: str, index: Index) -> frozenset[str]:
    """For a run over the whole scope: ask again about the people the repository's pages mention whose names
    expired (or were never read); the pages that mention someone whose shown name changed are rendered again."""
    mentioned = {account_id for entry in index.pages.values() for account_id in entry.mentions}
    changed = look_up_people(client, cloud_id, mentioned)
    if not changed:
        return frozenset()
    return frozenset(pid for pid, entry in index.pages.items() if changed.intersection(entry.mentions))
