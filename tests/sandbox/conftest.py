"""The Atlassian simulator alone, served to `requests` in-process (GitHub test modules define their own `sim`)."""

import pytest
import responses

from sandbox.atlassian import AtlassianSimulator
from sandbox.testing import serve_with_responses

BASE = "http://testserver/sandbox/atlassian"


@pytest.fixture
def sim(tmp_path):
    sim = AtlassianSimulator(base_url=BASE, root=tmp_path, site_url="http://testserver")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_with_responses(rsps, sim, sim.base_url)
        yield sim
