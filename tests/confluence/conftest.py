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
