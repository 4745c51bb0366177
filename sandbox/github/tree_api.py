"""`POST /git/trees` and `GET /git/trees/{sha}`: the heart of a one-commit sync.

Each element of `tree` sets a path to inline `content`, to an existing object's `sha`, or deletes it with
`"sha": null`. GitHub rejects an element with both `content` and `sha`, and a deletion of a path its base tree
does not have ("GitRPC::BadObjectState").

Size: GitHub documents no limit for a create-tree request, but gives up on large ones with 422 "your input was
too large to process" (reported from about 2.5 MB of inline content under load to 7 MB); the simulator refuses a
body over TREE_REQUEST_LIMIT (7 MB, the top of that range) the same way. No file may exceed GitHub's documented
100 MiB (FILE_SIZE_LIMIT), inline or as a blob. Tests lower either limit with monkeypatch.

# Reference: https://docs.github.com/en/rest/git/trees
# Reference: https://docs.github.com/en/repositories/working-with-files/managing-large-files/about-large-files-on-github
"""

from __future__ import annotations

from sandbox.core import SimRequest, SimResponse
from sandbox.github import gitstore, shapes, trees
from sandbox.github.repos import git_dir_with_commits, repo_for, resolve

MODES = {"100644": "blob", "100755": "blob", "120000": "blob", "040000": "tree", "160000": "commit"}
# GitHub's answer to a tree request it cannot process in time (the message as its API sends it).
TOO_LARGE = (
    "Sorry, your request timed out.  It's likely that your input was too large to process.  Consider building the "
    "tree incrementally, or building the commits you need in a local clone of the repository and then pushing "
    "them to GitHub."
)
TREE_DOCS = "https://docs.github.com/rest/git/trees#create-a-tree"
TREE_REQUEST_LIMIT = 7_000_000
FILE_SIZE_LIMIT = 100 * 1024 * 1024


def create_tree(sim, request: SimRequest, owner: str, name: str) -> SimResponse:
    repo, _ = repo_for(sim, request, owner, name, write=True)
    git = git_dir_with_commits(sim, repo)
    if len(request.body) > TREE_REQUEST_LIMIT:
        raise shapes.error(422, TOO_LARGE, docs=TREE_DOCS)
    body = request.json() or {}
    elements = body.get("tree")
    if not isinstance(elements, list):
        raise shapes.error(422, 'Invalid request.\n\n"tree" wasn\'t supplied.')
    changes = [_change(git, element) for element in elements]
    base_tree = body.get("base_tree")
    if base_tree is not None and gitstore.kind_of(git, str(base_tree)) != "tree":
        raise shapes.error(422, f"base_tree {base_tree} is not a valid tree")
    try:
        sha = trees.apply_changes(git, base_tree, changes)
    except trees.MissingPath:
        raise shapes.error(422, "GitRPC::BadObjectState") from None
    top_level = sorted(trees.read_tree(git, sha).items())
    return SimResponse.json(_tree_json(sim, repo, sha, top_level, recursive=False), 201)


def _change(git, element) -> trees.Change:
    if not isinstance(element, dict):
        raise shapes.error(422, "Invalid tree info")
    path, mode, kind = element.get("path"), str(element.get("mode", "")), element.get("type")
    if not isinstance(path, str) or not _valid_path(path):
        raise shapes.error(422, f"tree.path {path!r} contains a malformed path component")
    if mode not in MODES or (kind is not None and kind != MODES[mode]):
        raise shapes.error(422, f"tree.mode {mode!r} or tree.type {kind!r} is invalid for {path}")
    git_mode = mode.lstrip("0")
    if "content" in element and element.get("sha") is not None:
        raise shapes.error(
            422, "Must supply either tree.sha or tree.content. Request will be rejected if both are present."
        )
    if "content" in element:
        if not isinstance(element["content"], str) or MODES[mode] != "blob":
            raise shapes.error(422, f"tree.content must be text for a blob at {path}")
        content = element["content"].encode()
        if len(content) > FILE_SIZE_LIMIT:
            raise shapes.error(422, file_too_large(path, len(content)))
        return trees.Change(path, git_mode, content=content)
    if "sha" not in element:
        raise shapes.error(422, "Must supply either tree.sha or tree.content.")
    sha = element["sha"]
    if sha is None:
        return trees.Change(path, git_mode)
    sha = str(sha).lower()
    # Submodule entries point at commits in another repository; GitHub does not check them.
    if MODES[mode] != "commit" and gitstore.kind_of(git, sha) != MODES[mode]:
        raise shapes.error(422, f"tree.sha {sha} is not a valid {MODES[mode]}")
    return trees.Change(path, git_mode, sha=sha)


def file_too_large(name: str, size: int) -> str:
    """GitHub's refusal of a file over its size limit, worded as its push hook words it."""
    limit = FILE_SIZE_LIMIT / 1048576
    return f"File {name} is {size / 1048576:.2f} MB; this exceeds GitHub's file size limit of {limit:.2f} MB"


def _valid_path(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and all(p and p not in (".", "..", ".git") and "\x00" not in p for p in parts)


def get_tree(sim, request: SimRequest, owner: str, name: str, sha: str) -> SimResponse:
    """A tree; with `recursive` every entry below it, truncated past `sim.tree_entry_limit` like GitHub's 100,000."""
    repo, _ = repo_for(sim, request, owner, name)
    git = git_dir_with_commits(sim, repo)
    tree = resolve_tree(sim, repo, sha)
    if tree is None:
        raise shapes.error(404, "Not Found")
    recursive = request.arg("recursive") not in (None, "", "0", "false")
    if recursive:
        listing, truncated = trees.flatten(git, tree, limit=sim.tree_entry_limit)
    else:
        listing, truncated = sorted(trees.read_tree(git, tree).items()), False
    return SimResponse.json(_tree_json(sim, repo, tree, listing, recursive=recursive, truncated=truncated))


def resolve_tree(sim, repo, value: str) -> str | None:
    """A tree sha, or the tree of a commit or branch (GitHub accepts both as `{tree_sha}`)."""
    git = sim.repository_path(repo.owner, repo.name)
    if gitstore.kind_of(git, value.lower()) == "tree":
        return value.lower()
    commit_sha = resolve(sim, repo, value)
    return gitstore.read_commit(git, commit_sha).tree if commit_sha else None


def _tree_json(sim, repo, sha: str, listing, *, recursive: bool, truncated: bool = False) -> dict:
    if not recursive:
        listing = [(p, e) for p, e in listing if "/" not in p]
    git = sim.repository_path(repo.owner, repo.name)
    sizes = gitstore.blob_sizes(git, [e.sha for _, e in listing if e.kind == "blob"])
    url = f"{shapes.repo_api_url(sim, repo)}/git"
    entries = []
    for path, entry in listing:
        item = {"path": path, "mode": entry.mode.rjust(6, "0"), "type": entry.kind, "sha": entry.sha}
        if entry.kind == "blob":
            item.update(size=sizes.get(entry.sha, 0), url=f"{url}/blobs/{entry.sha}")
        elif entry.kind == "tree":
            item["url"] = f"{url}/trees/{entry.sha}"
        entries.append(item)
    return {"sha": sha, "url": f"{url}/trees/{sha}", "tree": entries, "truncated": truncated}
