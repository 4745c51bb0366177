"""The default simulated site for sync tests (test modules that need more pages override `world`)."""

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
