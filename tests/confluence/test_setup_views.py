"""The wizard's screens themselves: what a step that works on the linked Atlassian site does before one is linked."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("step", "why"),
    [
        ("confluence-step-forge", "the Forge app is installed in its site"),
        ("confluence-step-scope", "the scope is chosen from its site"),
    ],
)
def test_it_sends_a_step_on_the_site_back_to_linking_one_first(as_user, alice, confluence_connection, step, why):
    args = [confluence_connection.org.slug, confluence_connection.id]
    client = as_user(alice)

    response = client.get(reverse(step, args=args))

    assert response.status_code == 302
    assert response["Location"] == reverse("confluence-step-atlassian", args=args)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"Link an Atlassian account first: {why}."]
