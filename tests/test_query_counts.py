"""Query budgets: the Connectors page and the history changelists cost a fixed number of queries, however many
sync runs and webhook events have piled up.

Measured on SQLite and PostgreSQL alike: the Connectors page costs 11 queries with 1 Confluence connection and
with 10 (`confluence.setup.card.card_contexts` reads the cards of all connections at once). The number of runs and
events adds nothing. The changelists cost 7 (sync runs) and 10 (webhook events) queries on any page.
"""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from confluence.models import SyncRun, WebhookEvent
from connectors.models import Connection

ROWS = 100_000  # about 19 s to create on SQLite
ADMIN_ROWS = 5_000  # 50 changelist pages; the query count does not depend on it
BATCH = 5_000
PAGE_BUDGET = 11
SYNC_RUN_ADMIN_BUDGET, WEBHOOK_EVENT_ADMIN_BUDGET = 7, 10

pytestmark = pytest.mark.django_db


def add_connections(org, user, count: int) -> list[Connection]:
    return [
        Connection.create_with_tasks(org=org, kind="confluence", created_by=user, name=f"Wiki {n}")
        for n in range(count)
    ]


def add_history(connections: list[Connection], rows: int) -> None:
    """`rows` finished sync runs and `rows` processed webhook events, spread over the connections."""
    now = timezone.now()
    for start in range(0, rows, BATCH):
        numbers = range(start, min(start + BATCH, rows))
        SyncRun.objects.bulk_create(
            SyncRun(
                connection=connections[n % len(connections)],
                trigger=SyncRun.Trigger.FORGE,
                status=SyncRun.Status.SUCCEEDED if n % 7 else SyncRun.Status.FAILED,
                created_at=now,
                finished_at=now,
            )
            for n in numbers
        )
        WebhookEvent.objects.bulk_create(
            WebhookEvent(
                event_type="avi:confluence:updated:page",
                cloud_id="cloud-1",
                content_id=str(n),
                dedupe_key=f"forge:{n}",
                status=WebhookEvent.Status.PROCESSED,
            )
            for n in numbers
        )


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(db) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.fixture
def connectors_url(client, acme, alice):
    client.force_login(alice)
    return reverse("connectors", args=[acme.slug])


@pytest.mark.slow
def test_it_renders_the_connectors_page_within_budget_with_100000_runs_and_events(
    client, connectors_url, acme, alice, django_assert_max_num_queries
):
    add_history(add_connections(acme, alice, 10), ROWS)

    with django_assert_max_num_queries(PAGE_BUDGET):
        response = client.get(connectors_url)

    assert response.status_code == 200


@pytest.mark.slow
def test_it_makes_no_more_queries_as_runs_and_events_pile_up(client, connectors_url, acme, alice):
    connections = add_connections(acme, alice, 1)
    before = count_queries(client, connectors_url)

    add_history(connections, 2 * BATCH)

    assert count_queries(client, connectors_url) == before


@pytest.mark.parametrize("connections", [1, 10])
def test_it_costs_the_same_queries_for_one_connection_or_ten(
    client, connectors_url, acme, alice, connections, django_assert_max_num_queries
):
    add_history(add_connections(acme, alice, connections), 1_000)

    with django_assert_max_num_queries(PAGE_BUDGET):
        response = client.get(connectors_url)

    assert response.status_code == 200


@pytest.mark.parametrize("page", ["", "?p=49", "?status=failed", "?q=Wiki"])
def test_it_lists_sync_runs_in_the_admin_within_budget(admin_client, acme, alice, page, django_assert_max_num_queries):
    add_history(add_connections(acme, alice, 10), ADMIN_ROWS)

    with django_assert_max_num_queries(SYNC_RUN_ADMIN_BUDGET):
        response = admin_client.get(reverse("admin:confluence_syncrun_changelist") + page)

    assert response.status_code == 200


@pytest.mark.parametrize("page", ["", "?p=49", "?status=processed"])
def test_it_lists_webhook_events_in_the_admin_within_budget(
    admin_client, acme, alice, page, django_assert_max_num_queries
):
    add_history(add_connections(acme, alice, 10), ADMIN_ROWS)

    with django_assert_max_num_queries(WEBHOOK_EVENT_ADMIN_BUDGET):
        response = admin_client.get(reverse("admin:confluence_webhookevent_changelist") + page)

    assert response.status_code == 200
