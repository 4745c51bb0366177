"""Accepting an invitation, from the emailed link to joining the organization.

The emailed link carries the token in its path, so the first request moves it into the session (as its hash) and
redirects to a token-free page: sign-in redirects, "next" parameters, later requests and their Referer headers
never carry it. A token that leaks anyway (an access log of that first request) is of no use alone: only a
signed-in user with the invited address verified can accept.
"""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.internal.flows.email_verification import send_verification_email_to_address
from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connectors.models import Invitation

INVITATION_SESSION_KEY = "invitation_hashed_token"


@require_GET
def invitation_open(request: HttpRequest, token: str) -> HttpResponse:
    invitation = Invitation.find(token)
    if invitation is None:
        return render(request, "connectors/invitation.html", {"state": "unknown"}, status=404)
    request.session[INVITATION_SESSION_KEY] = invitation.hashed_token
    return redirect("invitation-accept")


def invitation_in_session(request: HttpRequest) -> Invitation | None:
    hashed_token = request.session.get(INVITATION_SESSION_KEY)
    if not hashed_token:
        return None
    return Invitation.objects.select_related("org", "invited_by").filter(hashed_token=hashed_token).first()


def invited_address_standing(invitation: Invitation, user) -> str:
    """How `user` stands to the invited address: "verified", "unverified" (theirs, not yet verified) or "other"."""
    addresses = EmailAddress.objects.filter(user=user, email__iexact=invitation.email)
    if addresses.filter(verified=True).exists():
        return "verified"
    # Users made outside sign-up (the admin, createsuperuser) may have user.email and no EmailAddress row yet.
    if addresses.exists() or invitation.is_for_email(user.email):
        return "unverified"
    return "other"


def invitation_state(request: HttpRequest, invitation: Invitation | None) -> str:
    if invitation is None:
        return "unknown"
    if invitation.accepted_at is not None:
        return "used"
    if invitation.is_expired:
        return "expired"
    if not request.user.is_authenticated:
        return "anonymous"
    return invited_address_standing(invitation, request.user)


STATUS_OF_STATE = {"unknown": 404, "used": 410, "expired": 410}


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest) -> HttpResponse:
    """The invitation page: says what is needed before joining (sign in, verify the address, switch account),
    and joins on POST once the signed-in user has verified the invited address."""
    invitation = invitation_in_session(request)
    state = invitation_state(request, invitation)
    if request.method == "POST" and state == "verified":
        if invitation.accept(request.user) is not None:
            del request.session[INVITATION_SESSION_KEY]
            messages.success(request, f"Welcome to {invitation.org.name}.")
            return redirect("connectors", slug=invitation.org.slug)
        state = "used"  # someone accepted it (or it expired) between the page and the click
    status = STATUS_OF_STATE.get(state, 403 if request.method == "POST" else 200)
    next_query = urlencode({"next": reverse("invitation-accept")})
    context = {
        "state": state,
        "invitation": invitation,
        "login_url": f"{reverse('account_login')}?{next_query}",
        "signup_url": f"{reverse('account_signup')}?{next_query}",
    }
    return render(request, "connectors/invitation.html", context, status=status)


@require_POST
@login_required
def invitation_verify_email(request: HttpRequest) -> HttpResponse:
    """Send the verification email for the invited address, when it is the signed-in user's and unverified."""
    invitation = invitation_in_session(request)
    if invitation_state(request, invitation) == "unverified":
        address, _ = EmailAddress.objects.get_or_create(
            user=request.user, email__iexact=invitation.email, defaults={"email": invitation.email.lower()}
        )
        # allauth's own "re-send verification" step: rate limited per address, and it says that it sent.
        send_verification_email_to_address(request, address)
    return redirect("invitation-accept")


@require_POST
def invitation_switch_account(request: HttpRequest) -> HttpResponse:
    """Sign out, keeping the invitation for whoever signs in next (signing out empties the session)."""
    hashed_token = request.session.get(INVITATION_SESSION_KEY)
    get_account_adapter(request).logout(request)
    if hashed_token:
        request.session[INVITATION_SESSION_KEY] = hashed_token
    return redirect(f"{reverse('account_login')}?{urlencode({'next': reverse('invitation-accept')})}")
