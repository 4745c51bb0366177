"""The Connectors page, the setup page frame, organizations and members."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlencode

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.internal.flows.email_verification import send_verification_email_to_address
from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.mail import send_mail
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connectors import kinds
from connectors.access import get_connection, org_admin_required, org_member_required, org_owner_required
from connectors.forms import AddConnectionForm, InviteForm, OrganizationForm, RenameConnectionForm
from connectors.models import Connection, Invitation, Membership, Organization, SetupTask

logger = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 otherwise; for load balancers and uptime checks."""
    try:
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not healthy"; the reason goes to the log, not the probe
        logger.exception("healthz: database check failed")
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    # Back from verifying the invited address (allauth confirms it and sends people home): finish joining.
    invitation = invitation_in_session(request)
    if invitation is not None and invitation.is_usable:
        return redirect("invitation-accept")
    membership = request.user.memberships.select_related("org").order_by("created_at").first()
    if membership is None:
        return redirect("org-create")
    return redirect("connectors", slug=membership.org.slug)


@login_required
def org_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        org = Organization.create_with_owner(name=form.cleaned_data["name"], owner=request.user)
        messages.success(request, f"Created {org.name}. Next, add a connection.")
        return redirect("connectors", slug=org.slug)
    return render(request, "connectors/org_create.html", {"form": form})


@org_member_required
def connectors_page(request: HttpRequest, slug: str) -> HttpResponse:
    connections = request.org.connections.prefetch_related(
        Prefetch("tasks", queryset=SetupTask.objects.order_by("position"))
    ).select_related("org")
    return render(request, "connectors/connectors.html", {"cards": cards_for(list(connections))})


def cards_for(connections: list[Connection]) -> list[dict]:
    """Cards: the generic part plus what each kind adds (its template, its context read for all its
    connections at once, "Sync now")."""
    extras: dict[int, dict] = {}
    for kind in {connection.kind for connection in connections}:
        spec = kinds.get(kind)
        if spec.card_contexts:
            extras.update(spec.card_contexts([c for c in connections if c.kind == kind]))
    return [
        {
            "connection": connection,
            "template": connection.spec.card_template,
            "extra": extras.get(connection.id, {}),
            "can_sync": connection.spec.sync_now is not None,
        }
        for connection in connections
    ]


# A second "Add connection" post this soon after the first, for the same kind and name by the same person, is the
# same click twice (a double click, a resent form): it opens the connection the first one made.
DUPLICATE_ADD_SECONDS = 30


@org_admin_required
def connection_add(request: HttpRequest, slug: str) -> HttpResponse:
    form = AddConnectionForm(request.POST or None, initial={"kind": request.GET.get("kind")})
    if request.method == "POST" and form.is_valid():
        connection = add_connection_once(
            org=request.org, kind=form.cleaned_data["kind"], name=form.cleaned_data["name"], user=request.user
        )
        return redirect("connection-setup", slug=slug, connection_id=connection.id)
    return render(request, "connectors/connection_add.html", {"form": form})


def add_connection_once(*, org: Organization, kind: str, name: str, user) -> Connection:
    """A new connection, unless this user just made the same one; then that one.

    The organization's row is locked while checking and creating, so two posts arriving together are serialized
    (PostgreSQL's row lock; SQLite's transactions are IMMEDIATE, one writer at a time) and the second finds the
    first's connection."""
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=org.pk).first()
        recent = (
            org.connections.filter(
                kind=kind,
                name=name or kinds.get(kind).label,
                created_by=user,
                created_at__gte=timezone.now() - timedelta(seconds=DUPLICATE_ADD_SECONDS),
            )
            .order_by("-created_at")
            .first()
        )
        if recent is not None:
            return recent
        return Connection.create_with_tasks(org=org, kind=kind, name=name, created_by=user)


@org_member_required
def connection_card(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    """One card of the Connectors page, polled by the page (static/live.js) so it follows syncs as they run."""
    card = cards_for([get_connection(request, connection_id)])[0]
    context = {
        "connection": card["connection"],
        "card_template": card["template"],
        "extra": card["extra"],
        "can_sync": card["can_sync"],
    }
    return render(request, "connectors/_card.html", context)


@org_member_required
def connection_setup(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    return render(request, "connectors/connection_setup.html", setup_context(get_connection(request, connection_id)))


@org_member_required
def connection_setup_steps(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    """The setup page's status and steps, polled by the page: a step waiting on someone else completes live."""
    return render(request, "connectors/_setup_steps.html", setup_context(get_connection(request, connection_id)))


def setup_context(connection: Connection) -> dict:
    tasks = list(connection.tasks.order_by("position").select_related("completed_by"))
    steps = [
        {"task": task, "step": connection.spec.step(task.kind), "url": step_url(connection, task)} for task in tasks
    ]
    return {"connection": connection, "steps": steps, "next_task": connection.next_task()}


def step_url(connection: Connection, task: SetupTask) -> str:
    """The step's own screen when its kind provides one, else the setup page."""
    url_name = connection.spec.step(task.kind).url_name
    if not url_name:
        return reverse("connection-setup", args=[connection.org.slug, connection.id])
    return reverse(url_name, args=[connection.org.slug, connection.id])


@org_admin_required
def connection_settings(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    connection = get_connection(request, connection_id)
    form = RenameConnectionForm(request.POST or None, initial={"name": connection.name})
    if request.method == "POST" and form.is_valid():
        connection.name = form.cleaned_data["name"]
        connection.save(update_fields=["name", "updated_at"])
        messages.success(request, "Saved.")
        return redirect("connectors", slug=slug)
    return render(request, "connectors/connection_settings.html", {"connection": connection, "form": form})


@require_POST
@org_admin_required
def connection_pause(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    connection = get_connection(request, connection_id)
    if connection.paused:
        connection.resume()
        # Catch up on whatever changed while paused.
        caught_up = connection.spec.sync_now(connection) if connection.spec.sync_now else None
        messages.success(request, f"{connection.name} resumed." + (" A sync is queued." if caught_up else ""))
    else:
        connection.pause()
        messages.success(request, f"{connection.name} paused: no syncs run until you resume it.")
    return redirect("connectors", slug=slug)


@require_POST
@org_admin_required
def connection_sync(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    connection = get_connection(request, connection_id)
    run = connection.spec.sync_now(connection) if connection.spec.sync_now else None
    if run is None:
        messages.error(request, f"{connection.name} cannot sync now: finish its setup or resume it first.")
    else:
        messages.success(request, f"Sync of {connection.name} queued.")
    return redirect("connectors", slug=slug)


@require_POST
@org_admin_required
def connection_delete(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    connection = get_connection(request, connection_id)
    name = connection.name
    connection.delete()
    messages.success(request, f"Deleted {name}. The repository and its history stay on GitHub.")
    return redirect("connectors", slug=slug)


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
    membership = get_object_or_404(Membership, id=membership_id, org=request.org)
    action = request.POST.get("action")
    owners = request.org.memberships.filter(role=Membership.Role.OWNER)
    if membership.role == Membership.Role.OWNER and owners.count() == 1:
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


# Accepting an invitation. The emailed link carries the token in its path, so the first request moves it into
# the session (as its hash) and redirects to a token-free page: sign-in redirects, "next" parameters, later
# requests and their Referer headers never carry it. A token that leaks anyway (an access log of that first
# request) is of no use alone: only a signed-in user with the invited address verified can accept.

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
