"""Repositories over REST: the repository, branches, commits, compare, and the contents API.

The contents API matters because GitHub's Git Data API refuses to work on an empty repository (409), so the
first commit into a new repository has to come through `PUT /contents/{path}`.

# Reference: https://docs.github.com/en/rest/repos/contents , https://docs.github.com/en/rest/commits/commits
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from sandbox.core import SimRequest, SimResponse
from sandbox.github import auth, gitstore, shapes, trees, webhooks
from sandbox.github.gitstore import CommitInfo, Signature
from sandbox.github.models import Repo

REPO = r"/api/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
MAX_FILES = 300  # GitHub lists at most 300 files of a commit or comparison


def register(sim) -> None:
    sim.route_handlers(
        [
            ("GET", REPO, get_repo),
            ("GET", REPO + r"/branches/(?P<branch>.+)", get_branch),
            ("GET", REPO + r"/commits/(?P<ref>[^/]+)", get_commit),
            ("GET", REPO + r"/compare/(?P<base>.+?)\.\.\.(?P<head>.+)", compare),
            ("GET", REPO + r"/contents/?(?P<path>.*)", get_contents),
            ("PUT", REPO + r"/contents/(?P<path>.+)", put_contents),
        ]
    )


def repo_for(sim, request: SimRequest, owner: str, name: str, *, write: bool = False) -> tuple[Repo, auth.Caller]:
    """The repository the caller may see (404 otherwise, as GitHub hides private ones); 301 after a rename. A
    `write` needs a caller that may write and a repository that is not archived (403 either way)."""
    caller = auth.identify(sim, request)
    repo = sim.find_repository(owner, name)
    if repo is None:
        moved = sim.state.redirects.get(f"{owner}/{name}".lower())
        if moved in sim.state.repos:
            raise _moved(sim, request, owner, name, sim.state.repos[moved])
        raise shapes.error(404, "Not Found")
    if not auth.can_read(sim, caller, repo):
        raise shapes.error(404, "Not Found")
    if write and not auth.can_write(caller):
        raise shapes.error(403, "Resource not accessible by integration")
    if write and repo.archived:
        raise shapes.error(403, shapes.ARCHIVED_MESSAGE, docs=shapes.ARCHIVED_DOCS)
    return repo, caller


def _moved(sim, request: SimRequest, owner: str, name: str, repo: Repo):
    rest = request.path[len(f"/api/repos/{owner}/{name}") :]
    query = urlencode([(k, v) for k, values in request.query.items() for v in values])
    location = shapes.repo_api_url(sim, repo) + rest + (f"?{query}" if query else "")
    error = shapes.error(301, "Moved Permanently", headers={"Location": location})
    error.body["url"] = location
    return error


def git_dir_with_commits(sim, repo: Repo) -> Path:
    """The repository's bare git directory, for a call that reads or writes commits: GitHub answers those with
    409 "Git Repository is empty." before the first commit."""
    git = sim.repository_path(repo.owner, repo.name)
    if not gitstore.list_refs(git, "refs/heads/"):
        raise shapes.error(409, "Git Repository is empty.")
    return git


def resolve(sim, repo: Repo, ref: str) -> str | None:
    """A branch, tag or commit sha to a commit sha."""
    path = sim.repository_path(repo.owner, repo.name)
    for name in (ref, f"refs/heads/{ref}", f"refs/tags/{ref}"):
        if gitstore.valid_ref_name(name) and (sha := gitstore.read_ref(path, name)):
            return sha
    return ref if gitstore.read_commit(path, ref) else None


def get_repo(sim, request: SimRequest, owner: str, name: str) -> SimResponse:
    repo, _ = repo_for(sim, request, owner, name)
    return SimResponse.json(shapes.repository(sim, repo))


def get_branch(sim, request: SimRequest, owner: str, name: str, branch: str) -> SimResponse:
    repo, _ = repo_for(sim, request, owner, name)
    sha = gitstore.read_ref(sim.repository_path(repo.owner, repo.name), f"refs/heads/{branch}")
    if sha is None:
        raise shapes.error(404, "Branch not found")
    commit = gitstore.read_commit(sim.repository_path(repo.owner, repo.name), sha)
    return SimResponse.json({"name": branch, "commit": shapes.rest_commit(sim, repo, sha, commit), "protected": False})


def get_commit(sim, request: SimRequest, owner: str, name: str, ref: str) -> SimResponse:
    repo, _ = repo_for(sim, request, owner, name)
    path = git_dir_with_commits(sim, repo)
    sha = resolve(sim, repo, ref)
    if sha is None:
        raise shapes.error(422, f"No commit found for SHA: {ref}")
    commit = gitstore.read_commit(path, sha)
    files = _files(trees.commit_changes(path, commit))
    return SimResponse.json(shapes.rest_commit(sim, repo, sha, commit, files))


def compare(sim, request: SimRequest, owner: str, name: str, base: str, head: str) -> SimResponse:
    repo, _ = repo_for(sim, request, owner, name)
    path = git_dir_with_commits(sim, repo)
    base_sha, head_sha = resolve(sim, repo, base), resolve(sim, repo, head)
    if not base_sha or not head_sha:
        raise shapes.error(404, "Not Found")
    ahead = gitstore.commits_between(path, base_sha, head_sha, limit=250)
    forward, backward = gitstore.is_ancestor(path, base_sha, head_sha), gitstore.is_ancestor(path, head_sha, base_sha)
    status = "identical" if base_sha == head_sha else "ahead" if forward else "behind" if backward else "diverged"
    changes = trees.diff(path, gitstore.read_commit(path, base_sha).tree, gitstore.read_commit(path, head_sha).tree)
    return SimResponse.json(
        {
            "status": status,
            "ahead_by": len(ahead) if forward else 0,
            "behind_by": 0 if forward else len(ahead),
            "total_commits": len(ahead),
            "commits": [shapes.rest_commit(sim, repo, s, c) for s, c in ahead],
            "files": _files(changes),
        }
    )


def _files(changes: dict[str, str]) -> list[dict]:
    return [
        {"filename": p, "status": s, "additions": 0, "deletions": 0, "changes": 0}
        for p, s in list(changes.items())[:MAX_FILES]
    ]


# Contents --------------------------------------------------------------------------------------------------


def get_contents(sim, request: SimRequest, owner: str, name: str, path: str) -> SimResponse:
    repo, _ = repo_for(sim, request, owner, name)
    git = sim.repository_path(repo.owner, repo.name)
    ref = request.arg("ref") or repo.default_branch
    if not gitstore.list_refs(git, "refs/heads/"):
        raise shapes.error(404, "This repository is empty.")
    sha = resolve(sim, repo, ref)
    if sha is None:
        raise shapes.error(404, f"No commit found for the ref {ref}")
    path = path.strip("/")
    tree = gitstore.read_commit(git, sha).tree
    entry = trees.Entry(trees.TREE_MODE, tree) if not path else _lookup(git, tree, path)
    if entry is None:
        raise shapes.error(404, "Not Found")
    if entry.mode == trees.TREE_MODE:
        listing = trees.read_tree(git, entry.sha)
        items = [_content(sim, repo, ref, f"{path}/{n}".lstrip("/"), e, None) for n, e in sorted(listing.items())]
        return SimResponse.json(items)
    data = gitstore.read_blob(git, entry.sha)
    return SimResponse.json(_content(sim, repo, ref, path, entry, data))


def _lookup(git, tree: str, path: str) -> trees.Entry | None:
    entry = None
    for part in path.split("/"):
        if entry is not None and entry.mode != trees.TREE_MODE:
            return None
        entry = trees.read_tree(git, entry.sha if entry else tree).get(part)
        if entry is None:
            return None
    return entry


def _content(sim, repo: Repo, ref: str, path: str, entry: trees.Entry, data: bytes | None) -> dict:
    api = shapes.repo_api_url(sim, repo)
    kind = {"tree": "dir", "commit": "submodule"}.get(entry.kind, "file")
    item = {
        "type": kind,
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": entry.sha,
        "size": len(data) if data is not None else 0,
        "url": f"{api}/contents/{path}?ref={ref}",
        "git_url": f"{api}/git/{'trees' if kind == 'dir' else 'blobs'}/{entry.sha}",
        "html_url": f"{sim.web_url}/{repo.full_name}/blob/{ref}/{path}",
        "download_url": f"{sim.web_url}/{repo.full_name}/raw/{ref}/{path}" if kind == "file" else None,
    }
    item["_links"] = {"self": item["url"], "git": item["git_url"], "html": item["html_url"]}
    if data is not None:
        item.update(content=base64.encodebytes(data).decode(), encoding="base64")
    return item


def put_contents(sim, request: SimRequest, owner: str, name: str, path: str) -> SimResponse:
    """Create or update one file in one commit; on an empty repository this makes the first commit."""
    repo, caller = repo_for(sim, request, owner, name, write=True)
    body = request.json() or {}
    for field in ("message", "content"):
        if field not in body:
            raise shapes.error(422, f'Invalid request.\n\n"{field}" wasn\'t supplied.')
    try:
        content = base64.b64decode(body["content"], validate=True)
    except (binascii.Error, ValueError):
        raise shapes.error(422, "content is not valid Base64") from None
    git = sim.repository_path(repo.owner, repo.name)
    branch = body.get("branch") or repo.default_branch
    head = gitstore.read_ref(git, f"refs/heads/{branch}")
    if head is None and gitstore.list_refs(git, "refs/heads/"):
        raise shapes.error(404, f"Branch {branch} not found")
    path = path.strip("/")
    existing = _lookup(git, gitstore.read_commit(git, head).tree, path) if head else None
    if existing is not None and not body.get("sha"):
        raise shapes.error(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
    if existing is not None and body["sha"] != existing.sha:
        raise shapes.error(409, f"{path} does not match {body['sha']}")
    who = auth.actor_login(sim, caller)
    try:
        sha = commit_files(
            sim,
            repo,
            files={path: content},
            message=body["message"],
            branch=branch,
            author=who,
            author_info=body.get("author") or body.get("committer"),
            api=True,
        )
    except (gitstore.RefMoved, gitstore.RefLocked):
        # A push with the git CLI landed between our read and our write.
        raise shapes.error(409, f"{branch} was updated while this file was being written; try again") from None
    commit = gitstore.read_commit(git, sha)
    entry = _lookup(git, commit.tree, path)
    return SimResponse.json(
        {
            "content": _content(sim, repo, branch, path, entry, content),
            "commit": shapes.git_commit(sim, repo, sha, commit),
        },
        200 if existing else 201,
    )


# Writing ---------------------------------------------------------------------------------------------------


def commit_files(
    sim,
    repo: Repo,
    *,
    files: dict[str, str | bytes | None],
    message: str,
    branch: str,
    author: str,
    author_info: dict | None = None,
    api: bool = False,
) -> str:
    """One commit of `files` (None deletes) on top of `branch`; sends `push` as GitHub would."""
    git = sim.repository_path(repo.owner, repo.name)
    ref = f"refs/heads/{branch}"
    head = gitstore.read_ref(git, ref)
    base_tree = gitstore.read_commit(git, head).tree if head else None
    changes = [
        trees.Change(path) if value is None else trees.Change(path, content=_bytes(value))
        for path, value in files.items()
    ]
    tree = trees.apply_changes(git, base_tree, changes)
    signature = signature_for(sim, author, author_info)
    commit = CommitInfo(tree, (head,) if head else (), signature, signature, message)
    sha = gitstore.write_commit(git, commit)
    gitstore.update_ref(git, ref, sha, expected=head)
    repo.pushed_at = sim.now()
    if sim.emit_push_on_api_update or not api:
        webhooks.push_event(sim, repo, ref=ref, before=head, after=sha, pusher=author)
    return sha


def signature_for(sim, login: str, info: dict | None = None) -> Signature:
    """A git signature from an API `author`/`committer` object, else from the simulated account."""
    timestamp = int(sim.now())
    if info and info.get("date"):
        timestamp = parse_date(info["date"])
    user = sim.state.users.get(login.lower())
    name = (info or {}).get("name") or (user.name if user and user.name else login)
    email = (info or {}).get("email") or (user.email if user and user.email else f"{login}@users.noreply.sandbox")
    return Signature(name, email, timestamp)


def parse_date(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value
