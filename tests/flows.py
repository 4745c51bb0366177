"""Drive the OAuth and installation round trips of the setup wizard against the sandbox, as a browser would."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import requests
from django.urls import reverse


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def atlassian_consent(client, connection, *, decision: str = "accept", sites=None, account_id=None):
    """Press "Link Atlassian account", answer the sandbox consent page, and follow the callback back to ctx|."""
    step = client.get(reverse("confluence-step-atlassian", args=[connection.org.slug, connection.id]))
    login_url = step.context["login_url"]
    to_atlassian = client.post(login_url)
    assert to_atlassian.status_code == 302, to_atlassian
    if sites is None:
        # What a browser submits: the sites the consent page ticks by default.
        page = requests.get(to_atlassian["Location"], timeout=5).text
        sites = re.findall(r'name="site" value="([^"]+)" checked', page)
    form = {"decision": decision, "site": sites}
    if account_id is not None:
        form["as"] = account_id
    consent = requests.post(to_atlassian["Location"], data=form, allow_redirects=False, timeout=5)
    assert consent.status_code == 302, consent.text
    callback = client.get(path_of(consent.headers["Location"]))
    assert callback.status_code == 302, callback
    # allauth's callback hands over to the step's completion view, which links or asks a question.
    return client.get(callback["Location"])


def github_identity(client, connection, *, login: str | None = None, decision: str = "authorize"):
    """Link the user's GitHub account through the sandbox OAuth page."""
    step = client.get(reverse("github-link", args=[connection.org.slug, connection.id]))
    to_github = client.post(step.context["github_login_url"])
    assert to_github.status_code == 302, to_github
    form = {"decision": decision}
    if login:
        form["as"] = login
    answer = requests.post(to_github.headers["Location"], data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return client.get(path_of(answer.headers["Location"]))


def github_install(client, connection, *, account: str, repositories="all", login: str | None = None):
    """Press "Install the ctx| GitHub App", submit the sandbox's install page, and follow the setup callback."""
    to_github = client.post(reverse("github-install", args=[connection.org.slug, connection.id]))
    assert to_github.status_code == 302, to_github
    state = parse_qs(urlsplit(to_github["Location"]).query).get("state", [""])[0]
    form = {"account": account, "state": state, "repository_selection": "all" if repositories == "all" else "selected"}
    if repositories != "all":
        form["repositories"] = repositories
    if login:
        form["as"] = login
    answer = requests.post(to_github["Location"], data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return client.get(path_of(answer.headers["Location"]))


def scope_selection(*, spaces=(), pages=None, labels=()) -> str:
    """The scope step's one `selection` field, as static/confluence/scope_editor.js writes it.

    `pages` maps a space key to {page id: mode}, mode one of include, include_only, exclude, exclude_only.
    """
    return json.dumps({"spaces": list(spaces), "pages": pages or {}, "excluded_labels": list(labels)})
