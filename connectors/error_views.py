"""The site's error pages: what happened, in words, and a link back to where the person was.

Django calls these for 400 (a malformed request, or a form with more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS),
403, 404 and 500 when DEBUG is off (with DEBUG on it shows its own pages for 404, 400 and 500, for developers).
The link back is the page the person came from when it is on this site, else their organization's Connectors page
when the address names one they belong to, else home: it never reveals an organization to a non-member.
"""

from __future__ import annotations

import re

from django.core.exceptions import DisallowedHost, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

ORG_PATH = re.compile(r"^/orgs/(?P<slug>[-a-zA-Z0-9_]+)/")


def back_link(request: HttpRequest) -> tuple[str, str]:
    """(url, words) of the way back from an error on this request."""
    referer = request.META.get("HTTP_REFERER", "")
    if (
        referer
        and (host := allowed_host(request))
        and url_has_allowed_host_and_scheme(referer, allowed_hosts={host})
        # A failed GET's own address would only fail again; a form that posted to itself is worth going back to.
        and (request.method != "GET" or not referer.endswith(request.get_full_path()))
    ):
        return referer, "Back to the previous page"
    match = ORG_PATH.match(request.path)
    user = getattr(request, "user", None)
    if match and user is not None and user.is_authenticated:
        membership = user.memberships.select_related("org").filter(org__slug=match["slug"]).first()
        if membership is not None:
            return reverse("connectors", args=[membership.org.slug]), f"Back to {membership.org.name}'s connectors"
    return reverse("home"), "Back to your connectors"


def allowed_host(request: HttpRequest) -> str:
    """The request's host, or "" when it is not an allowed one (the 400 for a bad Host must not fail again)."""
    try:
        return request.get_host()
    except DisallowedHost:
        return ""


def error_page(request: HttpRequest, *, status: int, title: str, explanation: str) -> HttpResponse:
    url, words = back_link(request)
    context = {"status": status, "title": title, "explanation": explanation, "back_url": url, "back_words": words}
    return render(request, "error.html", context, status=status)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if isinstance(exception, TooManyFieldsSent):
        explanation = (
            "The form sent more fields than this site accepts at once, so nothing was saved. Go back, choose "
            "fewer items (or a whole space instead of its pages one by one), and send it again."
        )
        return error_page(request, status=400, title="Too many fields in one form", explanation=explanation)
    explanation = "The request could not be understood, so nothing was changed. Go back and try again."
    return error_page(request, status=400, title="Bad request", explanation=explanation)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    # Our PermissionDenied messages are written for people ("Only owners and admins can change connections.").
    reason = str(exception or "").strip() or "Your role does not allow this."
    explanation = f"{reason} Nothing was changed. An owner of the organization can change your role."
    return error_page(request, status=403, title="You cannot do this", explanation=explanation)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    explanation = (
        "There is no page at this address, or it belongs to an organization you are not a member of. "
        "If someone sent you the link, ask them to invite you."
    )
    return error_page(request, status=404, title="Page not found", explanation=explanation)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context (its processors query the database, which may be what failed).
    explanation = "Something went wrong on our side and the error was logged. Try again in a moment."
    context = {
        "status": 500,
        "title": "Server error",
        "explanation": explanation,
        "back_url": "/",
        "back_words": "Home",
    }
    return HttpResponse(render_to_string("error_plain.html", context), status=500)
