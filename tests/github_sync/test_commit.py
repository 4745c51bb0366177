"""The commit writer against the simulated GitHub: one commit, nothing when nothing changed, a first commit, and
files too large for one request (GitHub's limits, as the simulator enforces them)."""

from __future__ import annotations

import subprocess

import pytest

from github_sync.client import InstallationClient
from github_sync.commit import FileChanges, commit_files
from github_sync.errors import InputTooLarge, RepositoryGone
from sandbox.github import tree_api

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


def test_it_never_starts_a_deleted_repository_from_scratch(client, github):
    commit_files(client, full_name="acme-gh/docs", branch="main", files={"a.md": b"A\n"}, message="Start")
    github.delete_repository("acme-gh", "docs")
    github.reset_log()

    with pytest.raises(RepositoryGone):
        commit_files(client, full_name="acme-gh/docs", branch="main", files={"b.md": b"B\n"}, message="Sync")
    assert github.count() == github.count("GET")  # no first commit tried, no write of any kind


def test_it_writes_nothing_when_the_branch_already_holds_every_file(client, github):
    files = {"a.md": b"A\n", "b.md": b"B\n"}
    first = commit_files(client, full_name="acme-gh/docs", branch="main", files=files, message="Sync")
    again = commit_files(client, full_name="acme-gh/docs", branch="main", files=FileChanges(files), message="Sync")
    assert first.sha and again.sha is None
    assert again.blob_shas == first.blob_shas


# Large files ------------------------------------------------------------------------------------------------


def test_it_sends_text_too_large_for_a_tree_request_as_a_blob(client, github):
    # The reported failure: one 10.5 MB page in the tree request, GitHub gives up on the request, nothing is written.
    big = b"| cell | cell |\n" * 656_250  # 10.5 MB of Markdown
    files = {"small.md": b"# Small\n", "big.md": big}
    commit_files(client, full_name="acme-gh/docs", branch="main", files={"a.md": b"A\n"}, message="Start")
    github.reset_log()
    result = commit_files(client, full_name="acme-gh/docs", branch="main", files=files, message="Sync")
    assert result.sha == github.head_sha("acme-gh", "docs")
    assert github.read_tree("acme-gh", "docs", "main")["big.md"] == big
    assert github.read_tree("acme-gh", "docs", "main")["small.md"] == b"# Small\n"
    assert github.count("POST", r"/git/blobs$") == 1 and github.count("POST", r"/git/trees$") == 1
    assert git(github, "log", "--format=%s", "main").splitlines() == ["Sync", "Initialize repository for ctx|"]


def test_it_keeps_ordinary_text_inline(client, github):
    commit_files(client, full_name="acme-gh/docs", branch="main", files={"a.md": b"A\n"}, message="Start")
    github.reset_log()
    files = {f"page-{n}.md": f"# Page {n}\n".encode() * 2_000 for n in range(20)}
    commit_files(client, full_name="acme-gh/docs", branch="main", files=files, message="Sync")
    assert github.count("POST", r"/git/blobs$") == 0 and github.count("POST", r"/git/trees$") == 1


def test_it_measures_inline_text_as_the_request_carries_it(client, github):
    # 600 KB of UTF-8 travels as 1.2 MB of JSON \u escapes: past the inline limit, so it goes as a blob.
    chinese = "汉字" * 100_000
    commit_files(client, full_name="acme-gh/docs", branch="main", files={"a.md": b"A\n"}, message="Start")
    github.reset_log()
    commit_files(client, full_name="acme-gh/docs", branch="main", files={"zh.md": chinese.encode()}, message="Sync")
    assert github.count("POST", r"/git/blobs$") == 1
    assert github.read_tree("acme-gh", "docs", "main")["zh.md"].decode() == chinese


def test_it_splits_a_tree_request_that_github_finds_too_large(client, github, monkeypatch):
    # GitHub's limit is undocumented and varies with its load: a refused request is sent again in halves.
    monkeypatch.setattr(tree_api, "TREE_REQUEST_LIMIT", 250_000)
    commit_files(client, full_name="acme-gh/docs", branch="main", files={"a.md": b"A\n"}, message="Start")
    files = {f"page-{n}.md": f"# Page {n}\n".encode() * 10_000 for n in range(6)}  # about 100 KB each
    github.reset_log()
    result = commit_files(client, full_name="acme-gh/docs", branch="main", files=files, message="Sync")
    assert github.read_tree("acme-gh", "docs", "main")["page-5.md"] == files["page-5.md"]
    assert git(github, "log", "--format=%s", "main").splitlines()[0] == "Sync" and result.attempts == 1
    assert github.count("POST", r"/git/commits$") == 1 and github.count("POST", r"/git/trees$") > 2


def test_it_simulates_githubs_refusal_of_a_large_tree_request(client, github):
    commit_files(client, full_name="acme-gh/docs", branch="main", files={"a.md": b"A\n"}, message="Start")
    head = client.branch_head("acme-gh/docs", "main")
    entry = {"path": "big.md", "mode": "100644", "type": "blob", "content": "x" * 7_000_001}
    with pytest.raises(InputTooLarge, match="too large to process"):
        client.create_tree("acme-gh/docs", [entry], base_tree=head[1])


def test_it_simulates_githubs_file_size_limit(client, github, monkeypatch):
    monkeypatch.setattr(tree_api, "FILE_SIZE_LIMIT", 1_000)
    commit_files(client, full_name="acme-gh/docs", branch="main", files={"a.md": b"A\n"}, message="Start")
    head = client.branch_head("acme-gh/docs", "main")
    with pytest.raises(InputTooLarge, match="exceeds GitHub's file size limit"):
        client.create_blob("acme-gh/docs", b"\x00" * 1_001)
    entry = {"path": "big.md", "mode": "100644", "type": "blob", "content": "x" * 1_001}
    with pytest.raises(InputTooLarge, match="exceeds GitHub's file size limit"):
        client.create_tree("acme-gh/docs", [entry], base_tree=head[1])
    assert client.create_blob("acme-gh/docs", b"\x00" * 1_000)
