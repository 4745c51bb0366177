"""The "Link GitHub" step (shared by every connection kind that has one) and the App's setup URL."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from connectors.access import get_connection, org_admin_required, org_member_required
from connectors.models import Connection, Membership, SetupTask
from connectors.setup_views import next_step_url, remember_setup_step
from github_sync import errors
from github_sync.installations import (
    InstallationClaimError,
    InstallationInUse,
    complete_link_step_if_installed,
    install_url,
    pending_request,
    read_state,
    record_installation,
    record_request,
    remove_installation,
    verify_claim,
)
from github_sync.models import GitHubIdentity, Installation

GITHUB_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,38}")


@org_admin_required
def link_step(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    connection = get_connection(request, connection_id)
    task = connection.tasks.filter(kind="link_github").first()
    if task is None:
        return redirect("connection-setup", slug=slug, connection_id=connection.id)
    if request.GET.get("oauth_error"):
        messages.error(request, "GitHub access was not granted, so nothing changed. Try again when you are ready.")
        return redirect("github-link", slug=slug, connection_id=connection.id)
    remember_setup_step(request, connection, "link_github")
    installed = complete_link_step_if_installed(connection, user=request.user)
    task.refresh_from_db()
    identity = GitHubIdentity.objects.filter(user=request.user).first()
    context = {
        "connection": connection,
        "task": task,
        "installed": installed,
        "installations": connection.org.github_installations.all(),
        "identity": identity if identity and identity.token_usable else None,
        "github_login_url": github_login_url(connection),
        "continue_url": next_step_url(connection),
        "pending_request": None if installed else pending_request(connection),
    }
    return render(request, "github_sync/step_link.html", context)


def github_login_url(connection: Connection) -> str:
    """allauth's GitHub flow, coming back to this connection's step (also to link a different account)."""
    here = reverse("github-link", args=[connection.org.slug, connection.id])
    return reverse("github_login") + "?" + urlencode({"process": "connect", "next": here})


@org_member_required
def link_step_status(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    """The waiting part of the step, polled by the page: it completes by itself when an owner approves."""
    connection = get_connection(request, connection_id)
    task = connection.tasks.filter(kind="link_github").first()
    if task is None:
        raise Http404("No GitHub step")
    context = {
        "connection": connection,
        "task": task,
        "pending_request": pending_request(connection) if task.state != task.State.DONE else None,
        "continue_url": next_step_url(connection),
    }
    return render(request, "github_sync/_request_status.html", context)


@require_POST
@org_admin_required
def request_account(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    """The member names the GitHub account they asked for (GitHub's redirect does not say), so the page can say
    whose owners must approve and the approval is matched to this request."""
    connection = get_connection(request, connection_id)
    pending = pending_request(connection)
    account = request.POST.get("account", "").strip().lstrip("@")
    if pending is not None and GITHUB_LOGIN.fullmatch(account):
        pending.account_login = account
        pending.save(update_fields=["account_login"])
        connection.tasks.get(kind="link_github").mark(SetupTask.State.WAITING, waiting_detail(pending))
    elif pending is not None:
        messages.error(request, "That is not a GitHub account name: letters, digits and hyphens.")
    return redirect("github-link", slug=slug, connection_id=connection.id)


def waiting_detail(pending) -> str:
    owners = f"an owner of {pending.account_login}" if pending.account_login else "an owner of the GitHub organization"
    return f"Waiting for {owners} to approve the installation request {pending.requester_login} sent on GitHub."


@require_POST
@org_admin_required
def installation_remove(request: HttpRequest, slug: str, connection_id: int, installation_id: int) -> HttpResponse:
    """Remove an installation from the organization (the wrong account, say); the App stays on GitHub."""
    connection = get_connection(request, connection_id)
    installation = get_object_or_404(Installation, pk=installation_id, org=request.org)
    login = installation.account_login
    try:
        remove_installation(installation)
    except InstallationInUse as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request,
            f"Removed {login} from {request.org.name}. The App stays installed on GitHub until an owner of {login} "
            "uninstalls it there.",
        )
    return redirect("github-link", slug=slug, connection_id=connection.id)


@require_POST
@org_admin_required
def install_start(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    """Send the user to GitHub's install page with a signed state bound to them and this connection."""
    connection = get_connection(request, connection_id)
    return redirect(install_url(user=request.user, connection=connection))


@require_GET
@login_required
def setup_callback(request: HttpRequest) -> HttpResponse:
    """GitHub's setup URL: /integrations/github/setup?installation_id=…&setup_action=install|update|request&state=…"""
    if not request.GET.get("state") and request.GET.get("setup_action") in ("install", "update"):
        # An owner installed the App from GitHub (approving a member's request, say), not from a ctx| step.
        return render(request, "github_sync/setup_done_elsewhere.html", {"home_url": reverse("home")})
    try:
        connection = read_state(request.GET.get("state", ""), user=request.user)
    except (signing.BadSignature, Connection.DoesNotExist):
        reason = (
            "This installation link is invalid, has expired, or was started by another ctx| user, so nothing was "
            "recorded. Start the installation again from the connection's “Link GitHub” step."
        )
        return setup_failed(request, reason, status=400)
    membership = Membership.objects.filter(org=connection.org, user=request.user).first()
    if membership is None or not membership.can_manage:
        reason = "Only owners and admins of the organization can change this connection, so nothing was recorded."
        return setup_failed(request, reason, status=403)
    step_url = reverse("github-link", args=[connection.org.slug, connection.id])
    task = connection.tasks.get(kind="link_github")
    if request.GET.get("setup_action") == "request":
        identity = GitHubIdentity.objects.filter(user=request.user).first()
        if identity is None:
            messages.error(request, "Link your GitHub account first, so ctx| knows whose request to wait for.")
            return redirect(step_url)
        pending = record_request(connection=connection, user=request.user, identity=identity)
        task.mark(SetupTask.State.WAITING, waiting_detail(pending))
        messages.info(request, "Request sent. A GitHub organization owner must approve it; this step completes then.")
        return redirect(step_url)
    return _record(request, connection, task, step_url)


def setup_failed(request: HttpRequest, reason: str, *, status: int, connection: Connection | None = None, **extra):
    """Why the installation was not recorded, and the ways back: the step, or home when there is no step."""
    context = {"reason": reason, "connection": connection, **extra}
    if connection is not None:
        context["step_url"] = reverse("github-link", args=[connection.org.slug, connection.id])
        context["github_login_url"] = github_login_url(connection)
    return render(request, "github_sync/setup_failed.html", context, status=status)


def _record(request: HttpRequest, connection: Connection, task: SetupTask, step_url: str) -> HttpResponse:
    identity = GitHubIdentity.objects.filter(user=request.user).first()
    installation_id = request.GET.get("installation_id", "")
    if not installation_id.isdigit():
        return setup_failed(
            request, "GitHub sent no installation, so nothing was recorded.", status=400, connection=connection
        )
    if identity is None or not identity.token_usable:
        messages.error(request, "Link your GitHub account first, so ctx| can check the installation is yours.")
        return redirect(step_url)
    try:
        info = verify_claim(user_token=identity.access_token, installation_id=int(installation_id))
        installation = record_installation(connection=connection, info=info, user=request.user)
    except InstallationClaimError as error:
        return setup_failed(request, str(error), status=403, connection=connection, identity=identity)
    except errors.BadCredentials:
        messages.error(request, "Your GitHub authorization expired. Link your GitHub account again.")
        return redirect(step_url)
    except errors.GitHubError as error:
        messages.error(request, f"GitHub could not be reached to check the installation ({error}). Try again.")
        return redirect(step_url)
    task.mark(SetupTask.State.DONE, f"GitHub App installed on {installation.account_login}", by=request.user)
    messages.success(request, f"GitHub App installed on {installation.account_login}.")
    return redirect("connection-setup", slug=connection.org.slug, connection_id=connection.id)
