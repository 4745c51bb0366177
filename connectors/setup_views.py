"""A connection's setup page, and where each setup step's screen is: every kind's step screens lead on with
`next_step_url` and tell the "linking did not finish" page where to lead back to with `remember_setup_step`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from connectors.access import get_connection, org_member_required
from connectors.models import Connection, SetupTask


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


def next_step_url(connection: Connection) -> str:
    """The screen of the first step not done yet, or the Connectors page when none is left."""
    task = connection.next_task()
    if task is None:
        return reverse("connectors", args=[connection.org.slug])
    return step_url(connection, task)


def remember_setup_step(request: HttpRequest, connection: Connection, kind: str) -> None:
    """The step that sends people to an OAuth page: where the "linking did not finish" page (a reloaded OAuth
    callback) leads back to."""
    request.session["setup_step_url"] = request.path
    request.session["setup_step_title"] = f"{connection.spec.step(kind).title} · {connection.name}"
