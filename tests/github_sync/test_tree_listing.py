"""`InstallationClient.list_files`: one way to list a commit's files when GitHub truncates the recursive listing,
used by ingestion (vendored directories are not walked) and by the commit writer (only the directories it writes)."""

from __future__ import annotations

import re

import pytest

from github_sync.client import InstallationClient
from github_sync.commit import commit_files, current_blobs, git_blob_sha

pytestmark = pytest.mark.django_db

FILES = {
    "top.md": "# Top",
    **{f"docs/{n}.md": f"# Doc {n}" for n in range(3)},
    **{f"docs/deep/{n}.md": f"# Deep {n}" for n in range(3)},
    **{f"node_modules/lib/{n}.js": f"x = {n}" for n in range(3)},
    **{f"confluence/ENG/{n}.md": f"# Page {n}" for n in range(3)},
}


@pytest.fixture
def client(installation):
    return InstallationClient(installation.installation_id)


@pytest.fixture
def tree(push, github):
    """acme-gh/docs holding FILES; the simulator truncates any recursive listing past 6 entries."""
    sha = push(FILES)
    github.tree_entry_limit = 6
    github.reset_log()
    return sha


def tree_requests(github) -> list[str]:
    return [r.path + ("?" + r.query if r.query else "") for r in github.requests if "/git/trees/" in r.path]


def test_an_untruncated_listing_is_one_request(client, push, github):
    sha = push(FILES)
    github.reset_log()

    files = client.list_files("acme-gh/docs", sha)

    assert {f.path for f in files} == set(FILES)
    assert len(tree_requests(github)) == 1


def test_a_truncated_listing_is_split_until_every_file_is_listed_with_its_full_path(client, tree, github):
    files = client.list_files("acme-gh/docs", tree)

    assert {f.path for f in files} == set(FILES)
    by_path = {f.path: f for f in files}
    assert by_path["docs/deep/2.md"].sha == git_blob_sha(b"# Deep 2")
    assert by_path["docs/deep/2.md"].size == len(b"# Deep 2")
    # The whole tree, then its top level; docs/ (7 entries) is too large again and is split the same way, while
    # docs/deep/, node_modules/ and confluence/ are each listed whole.
    requested = tree_requests(github)
    assert len(requested) == 7
    assert sum("recursive=1" in r for r in requested) == 5


def test_directories_the_caller_declines_are_never_read(client, tree, github):
    files = client.list_files("acme-gh/docs", tree, descend=lambda directory: directory != "node_modules")

    assert {f.path for f in files} == {p for p in FILES if not p.startswith("node_modules/")}
    assert len(tree_requests(github)) == 6


def test_the_caller_decides_on_nested_directories_by_their_full_path(client, tree):
    files = client.list_files("acme-gh/docs", tree, descend=lambda directory: directory != "docs/deep")

    assert not any(f.path.startswith("docs/deep/") for f in files)
    assert {"docs/0.md", "top.md", "confluence/ENG/0.md"} <= {f.path for f in files}


def test_the_commit_writer_reads_only_the_directories_it_writes(client, tree, github):
    blobs = current_blobs(client, "acme-gh/docs", tree, ["confluence/ENG/1.md", "confluence/ENG/new.md", "index.md"])

    assert {p for p in blobs if p.startswith("confluence/")} == {f"confluence/ENG/{n}.md" for n in range(3)}
    assert "top.md" in blobs  # the top level is always listed
    assert not any(re.match(r"(docs|node_modules)/", p) for p in blobs)
    assert len(tree_requests(github)) == 3  # the whole tree, its top level, confluence/


def test_a_commit_on_a_truncated_tree_deletes_and_writes_only_what_it_names(client, tree, github):
    result = commit_files(
        client,
        full_name="acme-gh/docs",
        branch="main",
        files={"confluence/ENG/1.md": None, "confluence/ENG/2.md": b"# Page 2, edited", "docs/deep/0.md": None},
        message="Sync",
        known_blobs=None,
    )

    after = github.read_tree("acme-gh", "docs", "main")
    assert result.sha and "confluence/ENG/1.md" not in after and "docs/deep/0.md" not in after
    assert after["confluence/ENG/2.md"] == b"# Page 2, edited"
    assert set(after) == set(FILES) - {"confluence/ENG/1.md", "docs/deep/0.md"}
