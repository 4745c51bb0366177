"""The Members page: an organization's members and invitations, managed by its owners."""

from __future__ import annotations

from django.contrib import messages
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from connectors.access import org_member_required, org_owner_required
from connectors.forms import InviteForm
from connectors.models import Invitation, Membership


@org_member_required
def members(request: HttpRequest, slug: str) -> HttpResponse:
    form = InviteForm()
    context = {
        "members": request.org.memberships.select_related("user").order_by("created_at"),
        "invitations": request.org.invitations.filter(accepted_at=None).select_related("invited_by"),
        "form": form,
        "roles": Membership.Role.choices,
        "invitation_valid_days": Invitation.VALID_DAYS,
    }
    return render(request, "connectors/members.html", context)


@require_POST
@org_owner_required
def member_invite(request: HttpRequest, slug: str) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a valid email address and role.")
        return redirect("members", slug=slug)
    invitation, token = Invitation.issue(
        org=request.org, email=form.cleaned_data["email"], role=form.cleaned_data["role"], by=request.user
    )
    share_invitation_link(request, invitation, token, f"Invitation created for {invitation.email}.")
    return redirect("members", slug=slug)


@require_POST
@org_owner_required
def invitation_reissue(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, id=invitation_id, org=request.org, accepted_at=None)
    token = invitation.reissue()
    share_invitation_link(
        request, invitation, token, f"New link for {invitation.email}; the previous one no longer works."
    )
    return redirect("members", slug=slug)


def share_invitation_link(request: HttpRequest, invitation: Invitation, token: str, done: str) -> None:
    """Email the link to the invited address and show it to the owner, once: only its hash is kept."""
    link = request.build_absolute_uri(reverse("invitation-open", args=[token]))
    send_invitation_email(invitation, link)
    messages.success(request, f"{done} It was emailed; you can also share this link, shown only now: {link}")


def send_invitation_email(invitation: Invitation, link: str) -> None:
    send_mail(
        subject=f"You are invited to {invitation.org.name} on ctx|",
        message=(
            f"{invitation.invited_by} invited you to join {invitation.org.name} on ctx|.\n\n"
            f"Accept: {link}\n\n"
            f"Sign in or sign up as {invitation.email} to accept. The link works for {Invitation.VALID_DAYS} days.\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
        fail_silently=True,  # the link is also shown to the owner, so a mail outage loses nothing
    )


@require_POST
@org_owner_required
def member_change(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    action = request.POST.get("action")
    with transaction.atomic():
        # The owners' rows stay locked until the change is saved: two owners demoting each other at the same moment
        # would otherwise each see the other and leave the organization with none.
        owners = list(request.org.memberships.select_for_update().filter(role=Membership.Role.OWNER))
        membership = get_object_or_404(Membership.objects.select_for_update(), id=membership_id, org=request.org)
        if membership.role == Membership.Role.OWNER and len(owners) == 1:
            messages.error(request, "An organization needs at least one owner.")
        elif action == "remove":
            membership.delete()
            messages.success(request, f"Removed {membership.user}.")
        elif action in Membership.Role.values:
            membership.role = action
            membership.save(update_fields=["role"])
            messages.success(request, f"{membership.user} is now {membership.get_role_display().lower()}.")
    return redirect("members", slug=slug)


@require_POST
@org_owner_required
def invitation_revoke(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    get_object_or_404(Invitation, id=invitation_id, org=request.org, accepted_at=None).delete()
    messages.success(request, "Invitation revoked.")
    return redirect("members", slug=slug)
