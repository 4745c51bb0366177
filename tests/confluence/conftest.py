"""The default simulated site for sync tests. A module that needs more adds it with an autouse fixture that takes
`world` and extends it (`world` and `connection` mean the same everywhere; other worlds have names of their own)."""

import pytest

from sandbox import demo
from tests.confluence.sync_world import build_site


@pytest.fixture
def world(sandbox):
    site, pages = build_site(sandbox)
    sandbox.site, sandbox.pages = site, pages
    return sandbox


@pytest.fixture
def connection(world, acme, alice):
    """ENG and OPS synced whole into acme-inc/wiki, every setup step done through the wizard's functions."""
    return demo.connect(
        world, org=acme, user=alice, cloud_id=world.site.cloud_id, space_keys=["ENG", "OPS"], repository="acme-inc/wiki"
    )


@pytest.fixture
def eng_connection(world, acme, alice):
    """ENG alone synced into acme-inc/wiki."""
    return demo.connect(
        world, org=acme, user=alice, cloud_id=world.site.cloud_id, space_keys=["ENG"], repository="acme-inc/wiki"
    )


@pytest.fixture
def applied(django_capture_on_commit_callbacks):
    """Run what a change causes (the event's task, the sync it queues) before returning, as the worker would."""

    def applied(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return applied


@pytest.fixture
def lagging_search(monkeypatch):
    """Confluence's search index lags behind content: ids added to the returned set are missing from CQL results."""
    from confluence.client import ConfluenceClient

    hidden: set[str] = set()
    facts = ConfluenceClient.page_facts
    monkeypatch.setattr(
        ConfluenceClient,
        "page_facts",
        lambda self, cql: {pid: fact for pid, fact in facts(self, cql).items() if pid not in hidden},
    )
    return hidden


@pytest.fixture
def me(world):
    """The connector's Atlassian account: a restriction naming it lets it read the page, as its grant reads all."""
    return world.atlassian.default_user().account_id
