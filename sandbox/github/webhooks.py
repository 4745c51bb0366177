"""Webhook deliveries to the site: payloads shaped like GitHub's, signed with the App's webhook secret.

Events raised while the simulator answers a request are queued and sent once the answer is ready (see
`GitHubSimulator.handle`): the site's webhook view may call the API again, and must see the finished state.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import requests

from sandbox.github import gitstore, shapes, trees
from sandbox.github.auth import installation_repo_ids
from sandbox.github.models import Delivery, Installation, Org, Repo, User


def signature_256(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_guid(seed: int, number: int) -> str:
    # Derived from the seed and a counter, so runs are reproducible and the counter survives snapshot/restore.
    digest = hashlib.sha256(f"github-delivery:{seed}:{number}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def emit(sim, event: str, payload: dict) -> Delivery:
    """Queue one delivery; it is sent now, or when the request being answered is finished."""
    sim.state.deliveries_sent += 1
    delivery = Delivery(
        guid=delivery_guid(sim.seed, sim.state.deliveries_sent),
        event=event,
        action=payload.get("action", ""),
        url=sim.webhook_url,
        payload=payload,
    )
    sim.deliveries.append(delivery)
    sim.outbox.append(delivery)
    return delivery


def send(sim, delivery: Delivery) -> None:
    body = json.dumps(delivery.payload).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/sandbox",
        "X-GitHub-Event": delivery.event,
        "X-GitHub-Delivery": delivery.guid,
        "X-GitHub-Hook-ID": "1",
        "X-GitHub-Hook-Installation-Target-Type": "integration",
        "X-GitHub-Hook-Installation-Target-ID": sim.app_id,
        "X-Hub-Signature": "sha1=" + hmac.new(sim.webhook_secret.encode(), body, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": signature_256(sim.webhook_secret, body),
    }
    try:
        if sim.deliver is not None:
            delivery.status = sim.deliver(delivery.url, body, headers)
        else:
            delivery.status = requests.post(delivery.url, data=body, headers=headers, timeout=10).status_code
    except (requests.RequestException, OSError) as exc:
        # GitHub records a failed delivery and moves on; so does the simulator.
        delivery.status, delivery.error = 0, str(exc)


def installation_event(sim, inst: Installation, action: str, *, sender: str | None = None) -> Delivery:
    payload = {
        "action": action,
        "installation": shapes.installation(sim, inst),
        "repositories": [shapes.repo_summary(sim.state.repos[i]) for i in installation_repo_ids(sim, inst)],
        "sender": _sender(sim, sender or inst.account),
    }
    if action == "created":
        # GitHub's `requester`: the member whose request an owner approved; null for a direct installation.
        payload["requester"] = _sender(sim, inst.requested_by) if inst.requested_by else None
    return emit(sim, "installation", payload)


def installation_repositories_event(
    sim, inst: Installation, *, added: list[Repo], removed: list[Repo], sender: str | None = None
) -> Delivery:
    return emit(
        sim,
        "installation_repositories",
        {
            "action": "added" if added else "removed",
            "installation": shapes.installation(sim, inst),
            "repository_selection": inst.repository_selection,
            "repositories_added": [shapes.repo_summary(r) for r in added],
            "repositories_removed": [shapes.repo_summary(r) for r in removed],
            "requester": None,
            "sender": _sender(sim, sender or inst.account),
        },
    )


def push_event(sim, repo: Repo, *, ref: str, before: str | None, after: str, pusher: str) -> Delivery | None:
    """A push to `ref`, sent only when the App is installed on the repository (GitHub sends it to installed Apps)."""
    inst = _active_installation(sim, repo)
    if inst is None:
        return None
    path = sim.repository_path(repo.owner, repo.name)
    commits = [
        _push_commit(sim, repo, path, sha, commit) for sha, commit in gitstore.commits_between(path, before, after)
    ]
    before = before or gitstore.ZERO_SHA
    return emit(
        sim,
        "push",
        {
            "ref": ref,
            "before": before,
            "after": after,
            "created": before == gitstore.ZERO_SHA,
            "deleted": after == gitstore.ZERO_SHA,
            "forced": before != gitstore.ZERO_SHA and not gitstore.is_ancestor(path, before, after),
            "base_ref": None,
            "compare": f"{sim.web_url}/{repo.full_name}/compare/{before[:12]}...{after[:12]}",
            "commits": commits,
            "head_commit": commits[-1] if commits else None,
            "repository": shapes.repository(sim, repo),
            "pusher": {"name": pusher, "email": _email(sim, pusher)},
            "installation": _installation_ref(inst),
            "sender": _sender(sim, pusher),
        },
    )


def repository_event(
    sim, repo: Repo, action: str, *, changes: dict | None = None, sender: str | None = None
) -> Delivery | None:
    """A change to the repository itself (renamed, deleted, publicized, archived, edited, ...), sent like `push`
    only when the App is installed on it. `repository` is the repository as it is now; call before a deletion."""
    inst = _active_installation(sim, repo)
    if inst is None:
        return None
    payload: dict = {"action": action}
    if changes is not None:
        payload["changes"] = changes
    payload["repository"] = shapes.repository(sim, repo)
    owner = sim.account(repo.owner)
    if isinstance(owner, Org):
        payload["organization"] = shapes.organization(sim, owner)
    payload["installation"] = _installation_ref(inst)
    payload["sender"] = _sender(sim, sender or sim.admin_of(repo.owner))
    return emit(sim, "repository", payload)


def _active_installation(sim, repo: Repo) -> Installation | None:
    # A suspended installation gets no events until it is unsuspended.
    inst = sim.installation_for_repo(repo)
    return inst if inst is not None and inst.suspended_at is None else None


def _installation_ref(inst: Installation) -> dict:
    return {"id": inst.id, "node_id": shapes.node_id("Installation", inst.id)}


def _push_commit(sim, repo: Repo, path, sha: str, commit: gitstore.CommitInfo) -> dict:
    changes = trees.commit_changes(path, commit)
    return {
        "id": sha,
        "tree_id": commit.tree,
        "distinct": True,
        "message": commit.message,
        "timestamp": shapes.iso(commit.committer.timestamp),
        "url": f"{sim.web_url}/{repo.full_name}/commit/{sha}",
        "author": {**shapes.person(commit.author), "username": commit.author.name},
        "committer": {**shapes.person(commit.committer), "username": commit.committer.name},
        "added": [p for p, kind in changes.items() if kind == "added"],
        "removed": [p for p, kind in changes.items() if kind == "removed"],
        "modified": [p for p, kind in changes.items() if kind == "modified"],
    }


def _sender(sim, login: str) -> dict:
    # Someone pushing "from outside" need not have an account in the simulated world.
    acct = sim.state.users.get(login.lower()) or sim.state.orgs.get(login.lower()) or User(login=login, id=0)
    return shapes.account(sim, acct)


def _email(sim, login: str) -> str:
    user = sim.state.users.get(login.lower())
    return (user.email if user else None) or f"{login}@users.noreply.sandbox.github"
