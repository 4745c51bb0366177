"""The simulated GitHub's git store: git's own object ids, and refs that move only by compare-and-swap."""

from __future__ import annotations

import subprocess

import pytest

from sandbox.github import GitHubSimulator, gitstore, trees


@pytest.fixture
def github_with_docs(tmp_path):
    github_with_docs = GitHubSimulator(
        base_url="http://testserver/sandbox/github", root=tmp_path, site_url="http://testserver"
    )
    github_with_docs.deliver = lambda url, body, headers: 200
    github_with_docs.create_user("alice")
    github_with_docs.create_repository("alice", "docs")
    return github_with_docs


def git(repo, *args) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def test_objects_have_the_ids_git_gives_them(github_with_docs):
    repo = github_with_docs.repository_path("alice", "docs")
    sha = github_with_docs.push_outside_commit(
        "alice", "docs", files={"a.md": "one\n", "d/b.md": "two\n"}, message="init"
    )

    assert gitstore.write_blob(repo, b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
    assert git(repo, "rev-parse", "main:a.md") == "5626abf0f72e58d7a153368ba57db4c673c0e171"
    assert git(repo, "rev-parse", "main^{tree}") == gitstore.read_commit(repo, sha).tree
    assert [path for path, _ in trees.flatten(repo, gitstore.read_commit(repo, sha).tree)[0]] == git(
        repo, "ls-tree", "-r", "-t", "--name-only", "main"
    ).splitlines()
    git(repo, "fsck", "--strict")


def test_a_ref_moves_only_from_where_the_caller_saw_it(github_with_docs):
    repo = github_with_docs.repository_path("alice", "docs")
    first = github_with_docs.push_outside_commit("alice", "docs", files={"a.md": "one"}, message="one")
    second = github_with_docs.push_outside_commit("alice", "docs", files={"a.md": "two"}, message="two")

    with pytest.raises(gitstore.RefMoved):
        gitstore.update_ref(repo, "refs/heads/main", first, expected=first)
    with pytest.raises(gitstore.RefMoved):
        gitstore.update_ref(repo, "refs/heads/main", first, expected=None)
    gitstore.update_ref(repo, "refs/heads/main", first, expected=second)
    assert gitstore.read_ref(repo, "refs/heads/main") == first


def test_a_ref_locked_by_git_is_left_alone(github_with_docs):
    repo = github_with_docs.repository_path("alice", "docs")
    head = github_with_docs.push_outside_commit("alice", "docs", files={"a.md": "one"}, message="one")
    lock = repo / "refs" / "heads" / "main.lock"
    lock.write_text("")

    with pytest.raises(gitstore.RefLocked):
        github_with_docs.push_outside_commit("alice", "docs", files={"a.md": "two"}, message="two")

    assert lock.exists() and github_with_docs.head_sha("alice", "docs") == head
    lock.unlink()
    assert github_with_docs.push_outside_commit("alice", "docs", files={"a.md": "two"}, message="two") != head


def test_a_repository_made_again_at_the_same_path_starts_empty(github_with_docs):
    old = github_with_docs.push_outside_commit("alice", "docs", files={"a.md": "one"}, message="one")
    github_with_docs.delete_repository("alice", "docs")
    github_with_docs.create_repository("alice", "docs")

    assert github_with_docs.head_sha("alice", "docs") is None
    assert gitstore.read_commit(github_with_docs.repository_path("alice", "docs"), old) is None
