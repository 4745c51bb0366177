"""JSON shaped like GitHub's REST API answers: the fields PyGithub and our client read, with absolute URLs.

PyGithub builds follow-up requests from the `url` fields it receives (a repository's `url`, a ref's `url`), so
every URL here is absolute and under the simulator's own `/api` (or `/web` for `html_url`).
"""

from __future__ import annotations

import base64
import time
from urllib.parse import urlencode

from sandbox.core import Fault, SimError, SimRequest, SimResponse
from sandbox.github.gitstore import CommitInfo, Signature
from sandbox.github.models import Installation, Org, Repo, User

DOCS = "https://docs.github.com/rest"
RATE_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
APP_PERMISSIONS = {"contents": "write", "metadata": "read"}
APP_EVENTS = ["push", "repository"]
# What GitHub answers a write to an archived repository with (403).
ARCHIVED_MESSAGE = "Repository was archived so is read-only."
ARCHIVED_DOCS = "https://docs.github.com/repositories/archiving-a-github-repository/archiving-repositories"


def error(status: int, message: str, *, docs: str = DOCS, headers: dict | None = None) -> SimError:
    return SimError(status, {"message": message, "documentation_url": docs, "status": str(status)}, headers)


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def node_id(kind: str, ident: int | str) -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


def account(sim, acct: User | Org) -> dict:
    api, web = sim.api_url, sim.web_url
    return {
        "login": acct.login,
        "id": acct.id,
        "node_id": node_id(acct.type, acct.id),
        "avatar_url": f"{web}/avatars/{acct.login}",
        "url": f"{api}/users/{acct.login}",
        "html_url": f"{web}/{acct.login}",
        "repos_url": f"{api}/users/{acct.login}/repos",
        "type": acct.type,
        "site_admin": False,
    }


def organization(sim, org: Org) -> dict:
    """A webhook's `organization`: GitHub's organization object, with its URLs under `/orgs/`."""
    url = f"{sim.api_url}/orgs/{org.login}"
    return {
        "login": org.login,
        "id": org.id,
        "node_id": node_id(org.type, org.id),
        "url": url,
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events",
        "hooks_url": f"{url}/hooks",
        "issues_url": f"{url}/issues",
        "members_url": f"{url}/members{{/member}}",
        "public_members_url": f"{url}/public_members{{/member}}",
        "avatar_url": f"{sim.web_url}/avatars/{org.login}",
        "description": None,
    }


def user_profile(sim, user: User) -> dict:
    """`GET /user`: the account plus the profile fields allauth reads."""
    return {**account(sim, user), "name": user.name, "email": user.email, "company": None, "blog": "", "bio": None}


def repo_summary(repo: Repo) -> dict:
    return {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
    }


def repo_api_url(sim, repo: Repo) -> str:
    """The repository's `url`, under which every API URL of its contents and git objects lies."""
    return f"{sim.api_url}/repos/{repo.full_name}"


def repository(sim, repo: Repo, *, permissions: dict | None = None) -> dict:
    web = sim.web_url
    url = repo_api_url(sim, repo)
    owner = sim.account(repo.owner)
    return {
        **repo_summary(repo),
        "owner": account(sim, owner),
        "html_url": f"{web}/{repo.full_name}",
        "description": repo.description or None,
        "fork": False,
        "url": url,
        "git_refs_url": f"{url}/git/refs{{/sha}}",
        "trees_url": f"{url}/git/trees{{/sha}}",
        "blobs_url": f"{url}/git/blobs{{/sha}}",
        "commits_url": f"{url}/commits{{/sha}}",
        "git_commits_url": f"{url}/git/commits{{/sha}}",
        "contents_url": f"{url}/contents/{{+path}}",
        "branches_url": f"{url}/branches{{/branch}}",
        "clone_url": f"{web}/{repo.full_name}.git",
        "git_url": f"{web}/{repo.full_name}.git",
        "created_at": iso(repo.created_at),
        "updated_at": iso(repo.pushed_at or repo.created_at),
        "pushed_at": iso(repo.pushed_at),
        "size": 0,
        "visibility": "private" if repo.private else "public",
        "default_branch": repo.default_branch,
        "archived": repo.archived,
        "disabled": False,
        "is_template": False,
        "permissions": permissions or {"admin": False, "maintain": False, "push": True, "triage": False, "pull": True},
    }


def installation(sim, inst: Installation) -> dict:
    acct = sim.account(inst.account)
    return {
        "id": inst.id,
        "account": account(sim, acct),
        "repository_selection": inst.repository_selection,
        "access_tokens_url": f"{sim.api_url}/app/installations/{inst.id}/access_tokens",
        "repositories_url": f"{sim.api_url}/installation/repositories",
        "html_url": f"{sim.web_url}/settings/installations/{inst.id}",
        "app_id": int(sim.app_id),
        "app_slug": sim.app_slug,
        "target_id": acct.id,
        "target_type": acct.type,
        "permissions": dict(APP_PERMISSIONS),
        "events": list(APP_EVENTS),
        "created_at": iso(inst.created_at),
        "updated_at": iso(inst.created_at),
        "single_file_name": None,
        "suspended_at": iso(inst.suspended_at),
        "suspended_by": None,
    }


def person(signature: Signature) -> dict:
    return {"name": signature.name, "email": signature.email, "date": iso(signature.timestamp)}


def git_commit_url(sim, repo: Repo, sha: str) -> str:
    """The git commit's own URL, which a ref pointing at it carries too."""
    return f"{repo_api_url(sim, repo)}/git/commits/{sha}"


def git_commit(sim, repo: Repo, sha: str, commit: CommitInfo) -> dict:
    """`GET /git/commits/{sha}` (PyGithub's GitCommit)."""
    return {
        "sha": sha,
        "node_id": node_id("Commit", sha),
        "url": git_commit_url(sim, repo, sha),
        "html_url": f"{sim.web_url}/{repo.full_name}/commit/{sha}",
        "author": person(commit.author),
        "committer": person(commit.committer),
        "tree": {"sha": commit.tree, "url": f"{repo_api_url(sim, repo)}/git/trees/{commit.tree}"},
        "message": commit.message,
        "parents": [parent_link(sim, repo, parent) for parent in commit.parents],
        "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None},
    }


def parent_link(sim, repo: Repo, sha: str) -> dict:
    return {
        "sha": sha,
        "url": f"{repo_api_url(sim, repo)}/commits/{sha}",
        "html_url": f"{sim.web_url}/{repo.full_name}/commit/{sha}",
    }


def rest_commit(sim, repo: Repo, sha: str, commit: CommitInfo, files: list[dict] | None = None) -> dict:
    """`GET /repos/{o}/{r}/commits/{sha}` (PyGithub's Commit), wrapping the git commit like GitHub does."""
    inner = git_commit(sim, repo, sha, commit)
    data = {
        "sha": sha,
        "node_id": inner["node_id"],
        "url": f"{repo_api_url(sim, repo)}/commits/{sha}",
        "html_url": inner["html_url"],
        "commit": {k: inner[k] for k in ("author", "committer", "message", "tree", "url", "verification")},
        "author": None,
        "committer": None,
        "parents": inner["parents"],
    }
    if files is not None:
        data["files"] = files
    return data


def ref(sim, repo: Repo, name: str, sha: str) -> dict:
    return {
        "ref": name,
        "node_id": node_id("Ref", name),
        "url": f"{repo_api_url(sim, repo)}/git/{name}",
        "object": {"sha": sha, "type": "commit", "url": git_commit_url(sim, repo, sha)},
    }


def blob(sim, repo: Repo, sha: str, data: bytes) -> dict:
    return {
        "sha": sha,
        "node_id": node_id("Blob", sha),
        "size": len(data),
        "url": f"{repo_api_url(sim, repo)}/git/blobs/{sha}",
        "content": base64.encodebytes(data).decode(),
        "encoding": "base64",
    }


def page(request: SimRequest, items: list, url: str) -> tuple[list, dict[str, str]]:
    """One page of `items` by `page`/`per_page` (max 100), with GitHub's `Link` header."""
    per_page = min(max(int(request.arg("per_page", "30")), 1), 100)
    number = max(int(request.arg("page", "1")), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)
    links = []
    for rel, target in (("next", number + 1), ("last", last), ("first", 1), ("prev", number - 1)):
        if (rel in ("next", "last") and number < last) or (rel in ("first", "prev") and number > 1):
            links.append(f'<{url}?{urlencode({"per_page": per_page, "page": target})}>; rel="{rel}"')
    headers = {"Link": ", ".join(links)} if links else {}
    return items[(number - 1) * per_page : number * per_page], headers


def fault(fault: Fault, *, status: int, limit: int, now: float) -> SimResponse:
    """The answer to an injected fault, as GitHub gives it."""
    if fault.kind == "429":
        # A secondary rate limit: GitHub says how long to wait in `retry-after`.
        body = {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            "documentation_url": RATE_DOCS,
        }
        return SimResponse.json(body, status, {"retry-after": str(fault.retry_after)})
    if fault.kind == "429-no-retry-after":
        # The primary limit: nothing left until `x-ratelimit-reset`.
        headers = {
            "x-ratelimit-remaining": "0",
            "x-ratelimit-used": str(limit),
            "x-ratelimit-reset": str(int(now) + fault.retry_after),
        }
        return SimResponse.json(
            {"message": "API rate limit exceeded.", "documentation_url": RATE_DOCS}, status, headers
        )
    return SimResponse.json({"message": "Server Error", "documentation_url": DOCS}, int(fault.kind))
