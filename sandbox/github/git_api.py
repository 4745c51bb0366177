"""The Git Data API (refs, commits, trees, blobs) as PyGithub uses it, over the bare repository on disk.

Errors follow GitHub's: 409 "Git Repository is empty." before the first commit, 422 "Update is not a fast
forward" when a branch moved under a non-forced update, 422 "GitRPC::BadObjectState" when a tree deletes a path
its base tree does not have, 422 for a blob over GitHub's 100 MiB file size limit.

# Reference: https://docs.github.com/en/rest/git
"""

from __future__ import annotations

import base64
import binascii

from sandbox.core import SimRequest, SimResponse
from sandbox.github import auth, gitstore, shapes, tree_api, webhooks
from sandbox.github.repos import REPO, git_dir_with_commits, repo_for, signature_for
from sandbox.github.tree_api import create_tree, get_tree

_SHA = r"(?P<sha>[0-9a-fA-F]{40})"


def register(sim) -> None:
    sim.route_handlers(
        [
            ("GET", REPO + r"/git/refs", list_refs),
            ("GET", REPO + r"/git/(?:ref|refs|matching-refs)/(?P<ref>.+)", get_ref),
            ("POST", REPO + r"/git/refs", create_ref),
            ("PATCH", REPO + r"/git/refs?/(?P<ref>.+)", update_ref),
            ("DELETE", REPO + r"/git/refs?/(?P<ref>.+)", delete_ref),
            ("POST", REPO + r"/git/commits", create_commit),
            ("GET", REPO + rf"/git/commits/{_SHA}", get_commit),
            ("POST", REPO + r"/git/trees", create_tree),
            ("GET", REPO + r"/git/trees/(?P<sha>[^/]+)", get_tree),
            ("POST", REPO + r"/git/blobs", create_blob),
            ("GET", REPO + rf"/git/blobs/{_SHA}", get_blob),
        ]
    )


# Refs ------------------------------------------------------------------------------------------------------


def list_refs(sim, request: SimRequest, owner: str, name: str) -> SimResponse:
    repo, _ = repo_for(sim, request, owner, name)
    git = git_dir_with_commits(sim, repo)
    refs = gitstore.list_refs(git)
    items = [shapes.ref(sim, repo, n, sha) for n, sha in refs.items()]
    chunk, headers = shapes.page(request, items, f"{shapes.repo_api_url(sim, repo)}/git/refs")
    return SimResponse.json(chunk, headers=headers)


def get_ref(sim, request: SimRequest, owner: str, name: str, ref: str) -> SimResponse:
    """`/git/ref/{ref}` is one ref; `/git/refs/{prefix}` is the ref, or a list when it is a prefix of several."""
    repo, _ = repo_for(sim, request, owner, name)
    git = git_dir_with_commits(sim, repo)
    full = "refs/" + ref.strip("/")
    sha = gitstore.read_ref(git, full) if gitstore.valid_ref_name(full) else None
    if sha and "/matching-refs/" not in request.path:
        return SimResponse.json(shapes.ref(sim, repo, full, sha))
    matches = [shapes.ref(sim, repo, n, s) for n, s in gitstore.list_refs(git, full).items()]
    if "/git/ref/" in request.path or (not matches and "/matching-refs/" not in request.path):
        raise shapes.error(404, "Not Found")
    return SimResponse.json(matches)


def create_ref(sim, request: SimRequest, owner: str, name: str) -> SimResponse:
    repo, caller = repo_for(sim, request, owner, name, write=True)
    git = git_dir_with_commits(sim, repo)
    body = request.json() or {}
    ref, sha = str(body.get("ref", "")), str(body.get("sha", ""))
    if not gitstore.valid_ref_name(ref):
        raise shapes.error(422, "Reference name must start with 'refs/' and have at least two slashes.")
    if gitstore.read_commit(git, sha) is None:
        raise shapes.error(422, "Object does not exist")
    _write_ref(git, ref, sha, expected=None, lost="Reference already exists")
    _pushed(sim, repo, caller, ref, None, sha)
    return SimResponse.json(shapes.ref(sim, repo, ref, sha), 201)


def update_ref(sim, request: SimRequest, owner: str, name: str, ref: str) -> SimResponse:
    """Move a ref; without `force` only forward, as `git push` without `--force`."""
    repo, caller = repo_for(sim, request, owner, name, write=True)
    git = git_dir_with_commits(sim, repo)
    body = request.json() or {}
    full = "refs/" + ref.strip("/")
    current = gitstore.read_ref(git, full) if gitstore.valid_ref_name(full) else None
    if current is None:
        raise shapes.error(422, "Reference does not exist")
    sha = str(body.get("sha", ""))
    if gitstore.read_commit(git, sha) is None:
        raise shapes.error(422, "Object does not exist")
    if not body.get("force") and not gitstore.is_ancestor(git, current, sha):
        raise shapes.error(422, "Update is not a fast forward")
    # Someone pushing between our read and our write is a lost race, answered like a push that is not forward.
    _write_ref(git, full, sha, expected=current, lost="Update is not a fast forward")
    _pushed(sim, repo, caller, full, current, sha)
    return SimResponse.json(shapes.ref(sim, repo, full, sha))


def _write_ref(git, ref: str, sha: str, *, expected: str | None, lost: str) -> None:
    """Point the ref at the commit if it still points where the caller read it (`expected`; None: nowhere); GitHub
    answers 422 with `lost` when it does not, or when another write holds the ref."""
    try:
        gitstore.update_ref(git, ref, sha, expected=expected)
    except (gitstore.RefMoved, gitstore.RefLocked):
        raise shapes.error(422, lost) from None


def delete_ref(sim, request: SimRequest, owner: str, name: str, ref: str) -> SimResponse:
    repo, _ = repo_for(sim, request, owner, name, write=True)
    git = sim.repository_path(repo.owner, repo.name)
    full = "refs/" + ref.strip("/")
    if not gitstore.valid_ref_name(full) or gitstore.read_ref(git, full) is None:
        raise shapes.error(422, "Reference does not exist")
    try:
        gitstore.delete_ref(git, full)
    except gitstore.RefLocked:
        raise shapes.error(422, "Reference update failed") from None
    return SimResponse(204)


def _pushed(sim, repo, caller, ref: str, before: str | None, after: str) -> None:
    repo.pushed_at = sim.now()
    if sim.emit_push_on_api_update and ref.startswith("refs/heads/"):
        webhooks.push_event(sim, repo, ref=ref, before=before, after=after, pusher=auth.actor_login(sim, caller))


# Commits and blobs -----------------------------------------------------------------------------------------


def create_commit(sim, request: SimRequest, owner: str, name: str) -> SimResponse:
    repo, caller = repo_for(sim, request, owner, name, write=True)
    git = git_dir_with_commits(sim, repo)
    body = request.json() or {}
    if "message" not in body:
        raise shapes.error(422, 'Invalid request.\n\n"message" wasn\'t supplied.')
    tree = str(body.get("tree", ""))
    if gitstore.kind_of(git, tree) != "tree":
        raise shapes.error(422, "Tree SHA does not exist")
    parents = [str(p) for p in body.get("parents") or []]
    if any(gitstore.read_commit(git, p) is None for p in parents):
        raise shapes.error(422, "Parent SHA does not exist or is not a commit object")
    login = auth.actor_login(sim, caller)
    author = signature_for(sim, login, body.get("author"))
    committer = signature_for(sim, login, body.get("committer") or body.get("author"))
    commit = gitstore.CommitInfo(tree, tuple(parents), author, committer, str(body["message"]))
    sha = gitstore.write_commit(git, commit)
    return SimResponse.json(shapes.git_commit(sim, repo, sha, commit), 201)


def get_commit(sim, request: SimRequest, owner: str, name: str, sha: str) -> SimResponse:
    repo, sha, commit = _read_object(sim, request, owner, name, sha, gitstore.read_commit)
    return SimResponse.json(shapes.git_commit(sim, repo, sha, commit))


def _read_object(sim, request: SimRequest, owner: str, name: str, sha: str, read):
    """The repository, the SHA and the object `read` (a commit or a blob reader of gitstore) finds by it; 404 if
    there is no such object."""
    repo, _ = repo_for(sim, request, owner, name)
    sha = sha.lower()
    found = read(git_dir_with_commits(sim, repo), sha)
    if found is None:
        raise shapes.error(404, "Not Found")
    return repo, sha, found


def create_blob(sim, request: SimRequest, owner: str, name: str) -> SimResponse:
    repo, _ = repo_for(sim, request, owner, name, write=True)
    git = git_dir_with_commits(sim, repo)
    body = request.json() or {}
    content, encoding = body.get("content"), body.get("encoding", "utf-8")
    if not isinstance(content, str):
        raise shapes.error(422, 'Invalid request.\n\n"content" wasn\'t supplied.')
    if encoding not in ("utf-8", "base64"):
        raise shapes.error(422, f"encoding must be one of utf-8 or base64, not {encoding}")
    try:
        data = base64.b64decode(content) if encoding == "base64" else content.encode()
    except (binascii.Error, ValueError):
        raise shapes.error(422, "content is not valid Base64") from None
    if len(data) > tree_api.FILE_SIZE_LIMIT:
        raise shapes.error(422, tree_api.file_too_large("content", len(data)))
    sha = gitstore.write_blob(git, data)
    return SimResponse.json({"sha": sha, "url": f"{shapes.repo_api_url(sim, repo)}/git/blobs/{sha}"}, 201)


def get_blob(sim, request: SimRequest, owner: str, name: str, sha: str) -> SimResponse:
    repo, sha, data = _read_object(sim, request, owner, name, sha, gitstore.read_blob)
    return SimResponse.json(shapes.blob(sim, repo, sha, data))
