"""`sandbox_demo` after the wizard was used: it reuses its own organization and takes nothing from another one."""

from __future__ import annotations

import pytest
import responses
from django.core.management import CommandError, call_command

from confluence.models import AtlassianSite, SyncRun
from connectors.models import Connection, Organization
from github_sync.models import Installation
from sandbox import demo
from sandbox.seed import seed_world
from sandbox.store import world_for_request
from sandbox.testing import serve_with_responses

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_world(tmp_path, settings, monkeypatch):
    """The on-disk world `sandbox_demo` works on, seeded as `make run` seeds it."""
    from sandbox import store

    settings.SANDBOX_DIR = tmp_path / "sandbox"
    settings.GITHUB_APP_PRIVATE_KEY_FILE = str(tmp_path / "sandbox/github/app-private-key.pem")
    monkeypatch.setattr(store, "_cache", {})
    with served_world() as world:
        seed_world(world, pages=12)


class served_world:
    """The live world under its lock, with the site's calls to the sandbox answered in-process."""

    def __enter__(self):
        self.world_cm = world_for_request()
        world = self.world_cm.__enter__()
        self.rsps = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.rsps.__enter__()
        for simulator in world.simulators().values():
            serve_with_responses(self.rsps, simulator, simulator.base_url)
        return world

    def __exit__(self, *exc):
        self.rsps.__exit__(*exc)
        return self.world_cm.__exit__(*exc)


def wizard_connection(org, user, *, account_id=None) -> Connection:
    """What someone who followed the README set up: the default Atlassian account, the App on acme-sandbox."""
    with served_world() as world:
        site = next(iter(world.atlassian.sites.values()))
        return demo.connect(
            world,
            org=org,
            user=user,
            cloud_id=site.cloud_id,
            space_keys=["ENG"],
            repository="acme-sandbox/confluence-docs",
            account_id=account_id,
        )


def test_it_runs_after_the_wizard_and_takes_nothing_from_that_organization(live_world, globex, charlie, capsys):
    theirs = wizard_connection(globex, charlie)

    call_command("sandbox_demo", "--pages", "12")

    assert "git clone" in capsys.readouterr().out
    theirs.refresh_from_db()
    assert AtlassianSite.objects.get(connection=theirs).grant_status == AtlassianSite.Grant.ACTIVE
    assert theirs.status == Connection.Status.ACTIVE
    assert Installation.objects.get(account_login="acme-sandbox").org == globex
    demo_connection = Connection.objects.get(org__name=demo.DEMO_ORG_NAME)
    assert demo_connection.sync_target.repository.full_name == demo.DEMO_REPOSITORY
    assert demo_connection.atlassian_site.account_id == demo.DEMO_ATLASSIAN_ACCOUNT_ID
    assert demo_connection.sync_runs.filter(status=SyncRun.Status.SUCCEEDED).exists()
    with served_world() as world:
        tree = world.github.read_tree(*demo.DEMO_REPOSITORY.split("/"), "main")
    assert any(path.startswith("confluence/ENG/blog/2025/") for path in tree)  # the demo opts in to blog posts


def test_a_rerun_reuses_the_demo_organization_and_connection(live_world):
    call_command("sandbox_demo", "--pages", "12")
    call_command("sandbox_demo", "--pages", "12")

    assert Organization.objects.filter(name=demo.DEMO_ORG_NAME).count() == 1
    connection = Connection.objects.get(org__name=demo.DEMO_ORG_NAME)
    assert connection.sync_runs.filter(status=SyncRun.Status.SUCCEEDED).count() == 2


def test_it_finishes_a_connection_an_interrupted_run_left_half_set_up(live_world):
    call_command("sandbox_demo", "--pages", "12")
    connection = Connection.objects.get(org__name=demo.DEMO_ORG_NAME)
    connection.sync_target.delete()
    connection.tasks.filter(kind="select_repository").update(state="pending")

    call_command("sandbox_demo", "--pages", "12")

    assert Connection.objects.filter(org__name=demo.DEMO_ORG_NAME).count() == 1
    connection.refresh_from_db()
    assert connection.is_ready and connection.sync_target.repository.full_name == demo.DEMO_REPOSITORY


def test_it_stops_instead_of_taking_the_demo_account_from_another_organization(live_world, globex, charlie):
    with served_world() as world:
        demo.ensure_demo_accounts(world)
    theirs = wizard_connection(globex, charlie, account_id=demo.DEMO_ATLASSIAN_ACCOUNT_ID)

    with pytest.raises(CommandError, match=r"Stopped before taking anything.*Atlassian account"):
        call_command("sandbox_demo", "--pages", "12")

    assert AtlassianSite.objects.get(connection=theirs).grant_status == AtlassianSite.Grant.ACTIVE
    assert not Connection.objects.filter(org__name=demo.DEMO_ORG_NAME).exists()


def test_it_stops_instead_of_claiming_an_installation_another_organization_uses(live_world, globex, charlie):
    with served_world() as world:
        demo.ensure_demo_accounts(world)
        site = next(iter(world.atlassian.sites.values()))
        demo.connect(
            world, org=globex, user=charlie, cloud_id=site.cloud_id, space_keys=["ENG"], repository=demo.DEMO_REPOSITORY
        )

    with pytest.raises(CommandError, match="installation on ctx-demo"):
        call_command("sandbox_demo", "--pages", "12")

    assert Installation.objects.get(account_login=demo.DEMO_GITHUB_LOGIN).org == globex
