"""The "Link GitHub" step (shared by every connection kind that has one) and the App's setup URL."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from connectors.access import get_connection, org_admin_required
from connectors.models import Connection, Membership, SetupTask
from github_sync import client
from github_sync.installations import (
    InstallationClaimError,
    complete_link_step_if_installed,
    install_url,
    read_state,
    record_installation,
    verify_claim,
)
from github_sync.models import GitHubIdentity


@org_admin_required
def link_step(request: HttpRequest, slug: str, connection_id: int) -> HttpResponse:
    connection = get_connection(request, connection_id)
    task = connection.tasks.filter(kind="link_github").first()
    if task is None:
        return redirect("connection-setup", slug=slug, connection_id=connection.id)
    if request.GET.get("oauth_error"):
        messages.error(request, "GitHub access was not granted, so nothing changed. Try again when you are ready.")
        return redirect("github-link", slug=slug, connection_id=connection.id)
    installed = complete_link_step_if_installed(connection, user=request.user)
    identity = GitHubIdentity.objects.filter(user=request.user).first()
    here = reverse("github-link", args=[slug, connection.id])
    context = {
        "connection": connection,
        "task": task,
        "installed": installed,
        "installations": connection.org.github_installations.all(),
        "identity": identity if identity and identity.token_usable else None,
        "github_login_url": reverse("github_login") + "?" + urlencode({"process": "connect", "next": here}),
        "continue_url": reverse("connection-setup", args=[slug, connection.id]),
    }
    return render(request, "github_sync/step_link.html", context)


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
    try:
        connection = read_state(request.GET.get("state", ""), user=request.user)
    except (signing.BadSignature, Connection.DoesNotExist):
        return render(
            request, "github_sync/setup_failed.html", {"reason": "This link is invalid or has expired."}, status=400
        )
    membership = Membership.objects.filter(org=connection.org, user=request.user).first()
    if membership is None or not membership.can_manage:
        return render(
            request, "github_sync/setup_failed.html", {"reason": "You cannot change this connection."}, status=403
        )
    step_url = reverse("github-link", args=[connection.org.slug, connection.id])
    task = connection.tasks.get(kind="link_github")
    if request.GET.get("setup_action") == "request":
        task.mark(
            SetupTask.State.WAITING,
            "Waiting for an owner of the GitHub organization to approve the installation request.",
        )
        messages.info(request, "Request sent. A GitHub organization owner must approve it; this step completes then.")
        return redirect(step_url)
    return _record(request, connection, task, step_url)


def _record(request: HttpRequest, connection: Connection, task: SetupTask, step_url: str) -> HttpResponse:
    identity = GitHubIdentity.objects.filter(user=request.user).first()
    installation_id = request.GET.get("installation_id", "")
    if not installation_id.isdigit():
        return render(request, "github_sync/setup_failed.html", {"reason": "GitHub sent no installation."}, status=400)
    if identity is None or not identity.token_usable:
        messages.error(request, "Link your GitHub account first, so ctx| can check the installation is yours.")
        return redirect(step_url)
    try:
        info = verify_claim(user_token=identity.access_token, installation_id=int(installation_id))
        installation = record_installation(connection=connection, info=info, user=request.user)
    except InstallationClaimError as error:
        return render(request, "github_sync/setup_failed.html", {"reason": str(error)}, status=403)
    except client.BadCredentials:
        messages.error(request, "Your GitHub authorization expired. Link your GitHub account again.")
        return redirect(step_url)
    except client.GitHubError as error:
        messages.error(request, f"GitHub could not be reached to check the installation ({error}). Try again.")
        return redirect(step_url)
    task.mark(SetupTask.State.DONE, f"GitHub App installed on {installation.account_login}", by=request.user)
    messages.success(request, f"GitHub App installed on {installation.account_login}.")
    return redirect("connection-setup", slug=connection.org.slug, connection_id=connection.id)
