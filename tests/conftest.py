"""Fixtures shared by the whole suite: personas, organizations, and a fresh simulated world per test."""

from __future__ import annotations

import pytest
import responses
from django.conf import settings as django_settings
from django.test import Client


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` run where DATABASE_URL points at PostgreSQL (CI's second run of the suite); on SQLite
    they are deselected rather than skipped, since there is nothing they could test there."""
    if "postgresql" in django_settings.DATABASES["default"]["ENGINE"]:
        return
    wanted = [item for item in items if item.get_closest_marker("postgres") is None]
    if len(wanted) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker("postgres")])
        items[:] = wanted


def forget_other_worlds() -> None:
    """What the site caches per process belongs to one simulated world, and each test's world has keys and ids of
    its own: the Forge JWKS (another world's signing keys) and GitHub installation tokens (ids repeat)."""
    from confluence.forge import tokens
    from github_sync import app_auth

    tokens.jwks.clear()
    app_auth.forget_all_tokens()


@pytest.fixture(autouse=True)
def no_cache_from_another_test():
    forget_other_worlds()
    yield
    forget_other_worlds()


@pytest.fixture
def sandbox(tmp_path, settings):
    """A fresh simulated Atlassian + GitHub, answering every `requests` call to the sandbox URLs in-process.

    Webhook deliveries from the simulators (Forge events, GitHub webhooks) are posted to the site through
    Django's test client. Any request to another host fails, so no test can reach the network.
    """
    from sandbox.testing import serve_with_responses
    from sandbox.world import World

    settings.SANDBOX_DIR = tmp_path / "sandbox"
    world = World(
        root=settings.SANDBOX_DIR,
        sandbox_url=f"{django_settings.PUBLIC_BASE_URL}/sandbox",
        site_url=django_settings.PUBLIC_BASE_URL,
    )
    settings.GITHUB_APP_PRIVATE_KEY_FILE = str(world.github.app_private_key_path)
    client = Client()

    def deliver(url: str, body: bytes, headers: dict[str, str]) -> int:
        path = url.removeprefix(django_settings.PUBLIC_BASE_URL)
        extra = {
            f"HTTP_{name.upper().replace('-', '_')}": value
            for name, value in headers.items()
            if name.lower() != "content-type"
        }
        response = client.generic(
            "POST", path, body, content_type=headers.get("Content-Type", "application/json"), **extra
        )
        return response.status_code

    for simulator in world.simulators().values():
        simulator.deliver = deliver
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for simulator in world.simulators().values():
            serve_with_responses(rsps, simulator, simulator.base_url)
        yield world


# Personas (as in healthchecks): Alice owns Acme, Bob is a plain member of Acme, Carol is an Acme admin,
# Charlie owns Globex and has no access to Acme.


def make_user(email: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=email.split("@")[0], email=email, password="password")


@pytest.fixture
def alice(db):
    return make_user("alice@example.com")


@pytest.fixture
def bob(db):
    return make_user("bob@example.com")


@pytest.fixture
def carol(db):
    return make_user("carol@example.com")


@pytest.fixture
def charlie(db):
    return make_user("charlie@example.com")


@pytest.fixture
def acme(alice, bob, carol):
    from connectors.models import Membership, Organization

    org = Organization.create_with_owner(name="Acme", owner=alice)
    Membership.objects.create(org=org, user=bob, role=Membership.Role.MEMBER)
    Membership.objects.create(org=org, user=carol, role=Membership.Role.ADMIN)
    return org


@pytest.fixture
def globex(charlie):
    from connectors.models import Organization

    return Organization.create_with_owner(name="Globex", owner=charlie)


@pytest.fixture
def confluence_connection(acme, alice):
    from connectors.models import Connection

    return Connection.create_with_tasks(org=acme, kind="confluence", created_by=alice)


@pytest.fixture
def as_user(client):
    """Sign the test client in as a user: `as_user(alice)`."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def staff_client(client, django_user_model):
    """A test client signed in as a superuser: the operators' console."""
    client.force_login(django_user_model.objects.create_superuser("ops", "ops@example.com", "password"))
    return client
