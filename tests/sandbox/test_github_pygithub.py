"""PyGithub, unmodified, against the simulated GitHub: the App flow and a one-commit sync over the Git Data API."""

from __future__ import annotations

import subprocess

import pytest
from github import Auth, GithubException, GithubIntegration, InputGitAuthor, InputGitTreeElement

from sandbox import credentials

BASE = "http://testserver/sandbox/github"


@pytest.fixture
def installed(github_sim):
    github_sim.create_user("alice", name="Alice", email="alice@example.com")
    github_sim.create_repository("alice", "docs")
    installation_id = github_sim.install_app("alice", repositories=["docs"])
    return github_sim, installation_id


def integration(github_sim) -> GithubIntegration:
    auth = Auth.AppAuth(credentials.GITHUB_APP_ID, github_sim.app_private_key_path.read_text())
    return GithubIntegration(
        auth=auth, base_url=github_sim.api_url, retry=None, seconds_between_requests=0, seconds_between_writes=0
    )


def repo_client(github_sim, installation_id, name="alice/docs"):
    return integration(github_sim).get_github_for_installation(installation_id).get_repo(name)


def commit_files(repo, branch, elements, message="Sync from Confluence"):
    ref = repo.get_git_ref(f"heads/{branch}")
    head = repo.get_git_commit(ref.object.sha)
    tree = repo.create_git_tree(elements, base_tree=head.tree)
    commit = repo.create_git_commit(message, tree, [head], author=InputGitAuthor("ctx", "ctx@example.com"))
    ref.edit(commit.sha, force=False)
    return commit.sha


def git(*args, cwd=None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_it_runs_a_one_commit_sync_end_to_end(installed, tmp_path):
    github_sim, installation_id = installed
    repo = repo_client(github_sim, installation_id)
    assert repo.full_name == "alice/docs" and repo.default_branch == "main" and repo.private

    first = repo.create_file(".ctx/confluence.yml", "Add scope", "spaces: [ENG]\n")
    assert first["commit"].sha == github_sim.head_sha("alice", "docs")

    blob = repo.create_git_blob("aGVsbG8gYmluYXJ5AP8=", "base64")
    sha = commit_files(
        repo,
        "main",
        [
            InputGitTreeElement("eng/index.md", "100644", "blob", content="# Engineering\n"),
            InputGitTreeElement("eng/runbooks/deploy.md", "100644", "blob", content="Deploy it.\n"),
            InputGitTreeElement("eng/attachments/logo.bin", "100644", "blob", sha=blob.sha),
            InputGitTreeElement("tools/run.sh", "100755", "blob", content="#!/bin/sh\n"),
        ],
    )

    assert github_sim.head_sha("alice", "docs") == sha
    assert github_sim.read_tree("alice", "docs", "main") == {
        ".ctx/confluence.yml": b"spaces: [ENG]\n",
        "eng/index.md": b"# Engineering\n",
        "eng/runbooks/deploy.md": b"Deploy it.\n",
        "eng/attachments/logo.bin": b"hello binary\x00\xff",
        "tools/run.sh": b"#!/bin/sh\n",
    }
    bare = github_sim.repository_path("alice", "docs")
    assert bare == tmp_path / "github" / "alice" / "docs.git"
    git("fsck", "--strict", "--no-dangling", cwd=bare)
    git("clone", "--quiet", str(bare), str(tmp_path / "clone"))
    assert (tmp_path / "clone" / "eng" / "runbooks" / "deploy.md").read_text() == "Deploy it.\n"
    assert git("log", "--format=%an|%s", cwd=tmp_path / "clone").splitlines() == [
        "ctx|Sync from Confluence",
        "ctx-sandbox[bot]|Add scope",
    ]
    assert git("ls-files", "-s", "tools/run.sh", cwd=tmp_path / "clone").startswith("100755")


def test_it_reads_back_trees_commits_and_blobs(installed):
    github_sim, installation_id = installed
    repo = repo_client(github_sim, installation_id)
    repo.create_file("README.md", "init", "hello\n")
    sha = commit_files(repo, "main", [InputGitTreeElement("a/b/c.md", "100644", "blob", content="deep\n")])

    commit = repo.get_git_commit(sha)
    assert commit.message == "Sync from Confluence" and commit.author.name == "ctx"
    assert len(commit.parents) == 1
    tree = repo.get_git_tree(commit.tree.sha, recursive=True)
    assert [(e.path, e.type, e.mode) for e in tree.tree] == [
        ("README.md", "blob", "100644"),
        ("a", "tree", "040000"),
        ("a/b", "tree", "040000"),
        ("a/b/c.md", "blob", "100644"),
    ]
    blob = repo.get_git_blob(tree.tree[-1].sha)
    assert blob.size == 5 and blob.encoding == "base64"
    assert repo.get_commit(sha).files[0].filename == "a/b/c.md"
    assert repo.get_contents("a/b/c.md").decoded_content == b"deep\n"


def test_it_deletes_paths_and_drops_empty_directories(installed):
    github_sim, installation_id = installed
    repo = repo_client(github_sim, installation_id)
    repo.create_file("keep.md", "init", "keep\n")
    commit_files(repo, "main", [InputGitTreeElement("old/only.md", "100644", "blob", content="x")])

    commit_files(repo, "main", [InputGitTreeElement("old/only.md", "100644", "blob", sha=None)])

    assert github_sim.read_tree("alice", "docs", "main") == {"keep.md": b"keep\n"}
    git("fsck", "--strict", "--no-dangling", cwd=github_sim.repository_path("alice", "docs"))


def test_it_rejects_a_non_fast_forward_after_an_outside_push(installed):
    github_sim, installation_id = installed
    repo = repo_client(github_sim, installation_id)
    repo.create_file("README.md", "init", "hello\n")
    ref = repo.get_git_ref("heads/main")
    head = repo.get_git_commit(ref.object.sha)
    tree = repo.create_git_tree([InputGitTreeElement("page.md", "100644", "blob", content="v1")], base_tree=head.tree)
    commit = repo.create_git_commit("ours", tree, [head])

    outside = github_sim.push_outside_commit("alice", "docs", files={"theirs.md": "edit"}, message="theirs")

    with pytest.raises(GithubException) as error:
        ref.edit(commit.sha, force=False)
    assert error.value.status == 422
    assert error.value.data["message"] == "Update is not a fast forward"
    assert github_sim.head_sha("alice", "docs") == outside
    ref.edit(commit.sha, force=True)
    assert github_sim.head_sha("alice", "docs") == commit.sha


def test_it_answers_409_on_an_empty_repository(installed):
    github_sim, installation_id = installed
    repo = repo_client(github_sim, installation_id)

    for call in (
        lambda: repo.get_git_ref("heads/main").object,
        lambda: repo.create_git_blob("x", "utf-8"),
        lambda: repo.create_git_tree([InputGitTreeElement("a", "100644", "blob", content="a")]),
    ):
        with pytest.raises(GithubException) as error:
            call()
        assert error.value.status == 409
        assert error.value.data["message"] == "Git Repository is empty."


def test_it_rejects_deleting_a_missing_path(installed):
    github_sim, installation_id = installed
    repo = repo_client(github_sim, installation_id)
    repo.create_file("README.md", "init", "hello\n")

    with pytest.raises(GithubException) as error:
        commit_files(repo, "main", [InputGitTreeElement("nope/missing.md", "100644", "blob", sha=None)])

    assert error.value.status == 422
    assert error.value.data["message"] == "GitRPC::BadObjectState"


def test_it_rejects_content_and_sha_together(installed):
    github_sim, installation_id = installed
    repo = repo_client(github_sim, installation_id)
    repo.create_file("README.md", "init", "hello\n")
    blob = repo.create_git_blob("x", "utf-8")
    element = InputGitTreeElement("a.md", "100644", "blob", content="a")
    element._InputGitTreeElement__sha = blob.sha  # PyGithub itself never sends both; GitHub rejects it

    with pytest.raises(GithubException) as error:
        repo.create_git_tree([element])

    assert error.value.status == 422
    assert "either tree.sha or tree.content" in error.value.data["message"]


def test_it_truncates_recursive_trees_past_the_limit(installed):
    github_sim, installation_id = installed
    github_sim.tree_entry_limit = 3
    repo = repo_client(github_sim, installation_id)
    repo.create_file("README.md", "init", "hello\n")
    sha = commit_files(repo, "main", [InputGitTreeElement(f"d/{n}.md", "100644", "blob", content=n) for n in "abc"])

    tree = repo.get_git_tree(repo.get_git_commit(sha).tree.sha, recursive=True)

    assert len(tree.tree) == 3
    assert tree.raw_data["truncated"] is True


def test_it_reads_objects_that_git_packed(installed, tmp_path):
    github_sim, installation_id = installed
    github_sim.push_outside_commit("alice", "docs", files={"a.md": "one", "sub/b.md": "two"}, message="init")
    bare = github_sim.repository_path("alice", "docs")
    git("repack", "-a", "-d", "-q", cwd=bare)
    git("prune-packed", cwd=bare)

    repo = repo_client(github_sim, installation_id)
    sha = commit_files(repo, "main", [InputGitTreeElement("sub/c.md", "100644", "blob", content="three")])

    assert github_sim.read_tree("alice", "docs", sha) == {"a.md": b"one", "sub/b.md": b"two", "sub/c.md": b"three"}
    git("fsck", "--strict", cwd=bare)


def test_it_sees_a_push_made_with_the_git_cli(installed, tmp_path):
    github_sim, installation_id = installed
    github_sim.push_outside_commit("alice", "docs", files={"a.md": "one"}, message="init")
    clone = tmp_path / "work"
    git("clone", "--quiet", str(github_sim.repository_path("alice", "docs")), str(clone))
    (clone / "b.md").write_text("from the cli")
    git("add", "b.md", cwd=clone)
    git("-c", "user.name=Bob", "-c", "user.email=bob@example.com", "commit", "-qm", "cli", cwd=clone)
    git("push", "-q", "origin", "main", cwd=clone)

    repo = repo_client(github_sim, installation_id)
    head = repo.get_git_commit(repo.get_git_ref("heads/main").object.sha)

    assert head.message.strip() == "cli" and head.author.name == "Bob"
    assert github_sim.read_tree("alice", "docs", "main") == {"a.md": b"one", "b.md": b"from the cli"}


def test_it_creates_and_deletes_branches(installed):
    github_sim, installation_id = installed
    repo = repo_client(github_sim, installation_id)
    first = repo.create_file("README.md", "init", "hello\n")["commit"].sha

    branch = repo.create_git_ref("refs/heads/ctx/sync", first)
    sha = commit_files(repo, "ctx/sync", [InputGitTreeElement("b.md", "100644", "blob", content="b")])

    assert branch.object.sha == first
    assert github_sim.head_sha("alice", "docs", "ctx/sync") == sha
    assert github_sim.head_sha("alice", "docs") == first
    assert [r.ref for r in repo.get_git_refs()] == ["refs/heads/ctx/sync", "refs/heads/main"]
    assert repo.get_branch("ctx/sync").commit.sha == sha
    with pytest.raises(GithubException) as error:
        repo.create_git_ref("refs/heads/ctx/sync", first)
    assert error.value.status == 422
    repo.get_git_ref("heads/ctx/sync").delete()
    assert github_sim.head_sha("alice", "docs", "ctx/sync") is None


def test_it_updates_a_file_through_the_contents_api_only_with_its_sha(installed):
    github_sim, installation_id = installed
    repo = repo_client(github_sim, installation_id)
    created = repo.create_file("a.md", "init", "one")["content"]

    with pytest.raises(GithubException) as error:
        repo.create_file("a.md", "again", "two")
    assert error.value.status == 422

    repo.update_file("a.md", "update", "two", created.sha)
    assert github_sim.read_tree("alice", "docs", "main") == {"a.md": b"two"}
    with pytest.raises(GithubException) as error:
        repo.update_file("a.md", "stale", "three", created.sha)
    assert error.value.status == 409


def test_it_reads_archived_and_private_and_refuses_writes_to_an_archived_repository(installed):
    github_sim, installation_id = installed
    first = repo_client(github_sim, installation_id).create_file("a.md", "init", "one")["commit"].sha
    github_sim.set_repository_private("alice", "docs", False)
    github_sim.archive_repository("alice", "docs")

    repo = repo_client(github_sim, installation_id)
    assert (repo.archived, repo.private) == (True, False)
    with pytest.raises(GithubException) as error:
        repo.create_file("b.md", "late", "two")

    assert error.value.status == 403
    assert error.value.data["message"] == "Repository was archived so is read-only."
    assert github_sim.head_sha("alice", "docs") == first
