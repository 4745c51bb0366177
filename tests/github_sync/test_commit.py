"""The commit writer against the simulated GitHub: one commit, nothing when nothing changed, a first commit."""

from __future__ import annotations

import subprocess

import pytest

from github_sync.client import InstallationClient
from github_sync.commit import FileChanges, commit_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(installation):
    return InstallationClient(installation.installation_id)


def git(github, *args: str) -> str:
    path = github.repository_path("acme-gh", "docs")
    return subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, check=True).stdout


def test_it_holds_file_changes_compressed_and_gives_them_back():
    files = FileChanges({"a.md": b"# A\n" * 1000, "gone.md": None})
    assert files["a.md"] == b"# A\n" * 1000 and files["gone.md"] is None
    assert sorted(files) == ["a.md", "gone.md"] and len(files) == 2
    assert len(files._data["a.md"]) < 100


def test_it_starts_an_empty_repository_with_its_smallest_file(client, github):
    files = FileChanges({"big.json": b"x" * 100_000, "small.yml": b"s: 1\n", "doc.md": b"# Doc\n" * 10})
    result = commit_files(client, full_name="acme-gh/docs", branch="main", files=files, message="Sync")
    assert git(github, "log", "--format=%s", "main").splitlines() == ["Sync", "Initialize repository for ctx|"]
    assert git(github, "show", "--name-only", "--format=", "main~1").split() == ["small.yml"]
    assert github.head_sha("acme-gh", "docs") == result.sha
    assert github.read_tree("acme-gh", "docs", "main")["big.json"] == b"x" * 100_000


def test_it_writes_nothing_when_the_branch_already_holds_every_file(client, github):
    files = {"a.md": b"A\n", "b.md": b"B\n"}
    first = commit_files(client, full_name="acme-gh/docs", branch="main", files=files, message="Sync")
    again = commit_files(client, full_name="acme-gh/docs", branch="main", files=FileChanges(files), message="Sync")
    assert first.sha and again.sha is None
    assert again.blob_shas == first.blob_shas
