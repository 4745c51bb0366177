"""Issue 18, item 4: error pages say what happened and lead back to where the person was."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_missing_page_leads_a_member_back_to_their_organization(as_user, alice, acme):
    response = as_user(alice).get(reverse("connection-setup", args=[acme.slug, 999]))
    page = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in page and "no page at this address" in page
    assert f'href="{reverse("connectors", args=[acme.slug])}"' in page and "Back to Acme" in page


def test_a_non_member_is_led_home_without_learning_the_organization(as_user, charlie, acme):
    response = as_user(charlie).get(reverse("connectors", args=[acme.slug]))
    page = response.content.decode()
    assert response.status_code == 404
    assert f'href="{reverse("home")}"' in page and "Acme" not in page


def test_a_refusal_says_why_and_leads_back_to_the_previous_page(as_user, bob, acme, confluence_connection):
    came_from = "http://testserver" + reverse("connectors", args=[acme.slug])
    response = as_user(bob).post(
        reverse("connection-pause", args=[acme.slug, confluence_connection.id]), HTTP_REFERER=came_from
    )
    page = response.content.decode()
    assert response.status_code == 403
    assert "Only owners and admins can change connections." in page and "Nothing was changed" in page
    assert f'href="{came_from}"' in page


def test_a_form_with_too_many_fields_is_explained(as_user, alice, acme, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    fields = {f"field{n}": "x" for n in range(20)}
    response = as_user(alice).post(reverse("connection-add", args=[acme.slug]), fields)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Too many fields in one form" in page and "nothing was saved" in page
    assert reverse("connectors", args=[acme.slug]) in page


def test_a_reloaded_oauth_callback_leads_back_to_the_step(as_user, alice, confluence_connection):
    client = as_user(alice)
    step = reverse("confluence-step-atlassian", args=[confluence_connection.org.slug, confluence_connection.id])
    client.get(step)  # the step that sent the person to Atlassian
    # The callback again, once its one-time state is gone from the session (a reload).
    response = client.get(reverse("atlassian_callback"), {"code": "used", "state": "already-used"})
    page = response.content.decode()
    assert "Linking the account did not finish" in page and "Nothing changed" in page
    assert f'href="{step}"' in page and "Link your Atlassian account" in page


def test_a_server_error_page_needs_no_database():
    from django.test import RequestFactory

    from connectors.error_views import server_error

    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and b"Something went wrong on our side" in response.content


def test_a_bad_host_with_a_referer_gets_the_400_page_not_a_500(client):
    response = client.get("/", HTTP_HOST="evil.example", HTTP_REFERER="https://evil.example/")
    assert response.status_code == 400
