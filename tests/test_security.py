"""No way into another organization: every org-scoped URL answers 404 to a member of a different organization,
and anonymous visitors are sent to sign in (pages) or refused (APIs)."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from connectors.models import Connection

pytestmark = pytest.mark.django_db


def org_scoped_patterns(resolver=None, prefix=""):
    """(route, name) of every URL pattern that takes an organization slug."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from org_scoped_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            if "<slug:slug>" in route:
                yield route, entry.name


def fill(route: str, *, slug: str, connection_id: int) -> str:
    """A concrete URL for a route: the target organization's slug, its connection, made-up ids elsewhere."""
    url = route.replace("<slug:slug>", slug).replace("<int:connection_id>", str(connection_id))
    url = re.sub(r"<int:\w+>", "1", url)
    url = re.sub(r"<path:\w+>", "x/y.md", url)
    url = re.sub(r"<(?:str|slug):\w+>", "x", url)
    return "/" + url.lstrip("^").rstrip("$")


ROUTES = sorted(set(org_scoped_patterns()))
CONNECTION_ROUTES = [(route, name) for route, name in ROUTES if "<int:connection_id>" in route]


def test_it_finds_the_org_scoped_routes():
    names = {name for _, name in ROUTES}
    assert {"connectors", "connection-setup", "confluence-step-scope", "github-link", "members"} <= names


@pytest.mark.parametrize(("route", "name"), ROUTES, ids=[name or route for route, name in ROUTES])
def test_it_hides_every_org_scoped_url_from_other_organizations(client, charlie, globex, acme, alice, route, name):
    target = Connection.create_with_tasks(org=acme, kind="confluence", created_by=alice)
    client.force_login(charlie)  # owner of Globex, stranger to Acme
    url = fill(route, slug="acme", connection_id=target.id)
    is_api = url.startswith("/api/")
    # 405: a view refuses a method it never serves before looking at anything, so it reveals nothing.
    allowed = {401, 404, 405} if is_api else {404, 405}
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code in allowed, f"{method.upper()} {url} → {response.status_code}"
    assert client.get(url).status_code != 405 or client.post(url).status_code != 405


@pytest.mark.parametrize(("route", "name"), CONNECTION_ROUTES, ids=[name for _, name in CONNECTION_ROUTES])
def test_it_hides_another_organizations_connection_under_ones_own_slug(
    client, charlie, globex, acme, alice, route, name
):
    target = Connection.create_with_tasks(org=acme, kind="confluence", created_by=alice)
    client.force_login(charlie)
    url = fill(route, slug="globex", connection_id=target.id)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code in {404, 405, 401}, f"{method.upper()} {url} → {response.status_code}"


@pytest.mark.parametrize(("route", "name"), ROUTES, ids=[name or route for route, name in ROUTES])
def test_it_sends_anonymous_visitors_to_sign_in(client, acme, alice, route, name):
    target = Connection.create_with_tasks(org=acme, kind="confluence", created_by=alice)
    url = fill(route, slug="acme", connection_id=target.id)
    response = client.get(url)
    if url.startswith("/api/"):
        assert response.status_code in {401, 404}
    else:
        assert response.status_code in {302, 405}
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")
