"""The simulated GitHub serves repository archives as GitHub documents them: a 302 from the API to a codeload URL
(with a five-minute token for a private repository), then a gzip'd tar under `<owner>-<repo>-<short sha>/`.
Checked with plain `requests` and with PyGithub, unmodified."""

from __future__ import annotations

import io
import tarfile
from urllib.parse import urlsplit

import pytest
import requests
import responses
from github import Auth, GithubIntegration

from sandbox import credentials, store
from sandbox.github import GitHubSimulator, gitstore, trees
from sandbox.store import world_for_request
from sandbox.testing import serve_with_responses

BASE = "http://testserver/sandbox/github"
FILES = {"README.md": "# Docs\n", "guide/deploy.md": "Deploy it.\n", "tools/run.sh": "#!/bin/sh\n"}


@pytest.fixture
def simulated_github(tmp_path):
    sim = GitHubSimulator(base_url=BASE, root=tmp_path / "github", site_url="http://testserver")
    sim.deliver = lambda url, body, headers: 200
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_with_responses(rsps, sim, sim.base_url)
        serve_with_responses(rsps, sim, "http://testserver:80/sandbox/github")  # PyGithub writes the port
        yield sim


@pytest.fixture
def docs_repo(simulated_github):
    """alice/docs, private, with one commit; the App installed on it. (sim, installation token, commit sha)"""
    sim = simulated_github
    sim.create_user("alice")
    sim.create_repository("alice", "docs")
    sha = sim.push_outside_commit("alice", "docs", files=FILES, message="Add docs")
    sim.installation_id = sim.install_app("alice", repositories=["docs"])
    return sim, sim.issue_installation_token(sim.installation_id), sha


def api(path: str, token: str = "", **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{BASE}/api{path}", headers=headers, allow_redirects=False, timeout=5, **kwargs)


def members(body: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        return {m.name: m for m in tar.getmembers()}


def test_the_api_redirects_to_a_codeload_url_carrying_its_own_token(docs_repo):
    _, token, sha = docs_repo

    response = api(f"/repos/alice/docs/tarball/{sha}", token)

    assert response.status_code == 302 and response.content == b""
    location = response.headers["Location"]
    assert location.startswith(f"{BASE}/codeload/alice/docs/legacy.tar.gz/{sha}?token=")
    assert token not in location


def test_the_download_needs_no_authorization_and_holds_the_commit_under_one_top_folder(docs_repo):
    _, token, sha = docs_repo
    location = api(f"/repos/alice/docs/tarball/{sha}", token).headers["Location"]

    download = requests.get(location, timeout=5)  # no Authorization header

    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/x-gzip"
    folder = f"alice-docs-{sha[:7]}"
    assert download.headers["Content-Disposition"] == f"attachment; filename={folder}.tar.gz"
    found = members(download.content)
    assert {name for name, m in found.items() if m.isfile()} == {f"{folder}/{path}" for path in FILES}
    with tarfile.open(fileobj=io.BytesIO(download.content), mode="r:gz") as tar:
        assert tar.pax_headers["comment"] == sha  # git archive's global header, as in GitHub's archives
        assert tar.extractfile(f"{folder}/guide/deploy.md").read() == b"Deploy it.\n"


def test_a_client_that_simply_follows_the_redirect_gets_the_archive(docs_repo):
    _, token, sha = docs_repo

    url, headers = f"{BASE}/api/repos/alice/docs/tarball/{sha}", {"Authorization": f"token {token}"}
    response = requests.get(url, headers=headers, timeout=5)

    assert response.status_code == 200 and [r.status_code for r in response.history] == [302]
    assert f"alice-docs-{sha[:7]}/README.md" in members(response.content)


def test_without_a_ref_it_is_the_default_branch(docs_repo):
    _, token, sha = docs_repo
    location = api("/repos/alice/docs/tarball", token).headers["Location"]

    assert "/legacy.tar.gz/refs/heads/main?token=" in location
    assert f"alice-docs-{sha[:7]}/README.md" in members(requests.get(location, timeout=5).content)


def test_a_private_link_expires_after_five_minutes_and_cannot_be_forged(docs_repo):
    sim, token, sha = docs_repo
    location = api(f"/repos/alice/docs/tarball/{sha}", token).headers["Location"]
    sim.advance_clock(290)
    assert requests.get(location, timeout=5).status_code == 200

    assert requests.get(location.split("?")[0], timeout=5).status_code == 404
    assert requests.get(location[:-1] + ("0" if location[-1] != "0" else "1"), timeout=5).status_code == 404
    other_ref = location.replace(f"/legacy.tar.gz/{sha}", "/legacy.tar.gz/main")
    assert requests.get(other_ref, timeout=5).status_code == 404
    sim.advance_clock(11)
    assert requests.get(location, timeout=5).status_code == 404


def test_a_public_repository_downloads_without_a_token(simulated_github):
    sim = simulated_github
    sim.create_user("bob")
    sim.create_repository("bob", "open", private=False)
    sha = sim.push_outside_commit("bob", "open", files={"a.md": "A"}, message="A")

    location = api("/repos/bob/open/tarball/main").headers["Location"]

    assert location == f"{BASE}/codeload/bob/open/legacy.tar.gz/main"
    assert f"bob-open-{sha[:7]}/a.md" in members(requests.get(location, timeout=5).content)


def test_a_caller_who_cannot_read_the_repository_gets_404(docs_repo):
    sim, token, sha = docs_repo
    sim.create_repository("alice", "secret")
    sim.push_outside_commit("alice", "secret", files={"a.md": "A"}, message="A")

    assert api(f"/repos/alice/secret/tarball/{sha}", token).status_code == 404
    assert api(f"/repos/alice/docs/tarball/{sha}").status_code == 404  # anonymous, private repository


def test_an_empty_repository_or_an_unknown_ref_redirects_then_404s(docs_repo):
    sim, token, _ = docs_repo
    sim.create_repository("alice", "empty")
    sim.add_installation_repositories(sim.installation_id, ["empty"])

    for path in ("/repos/alice/empty/tarball", "/repos/alice/docs/tarball/no-such-branch"):
        response = api(path, token)
        assert response.status_code == 302
        assert requests.get(response.headers["Location"], timeout=5).status_code == 404


def test_symlinks_and_submodules_are_archived_as_git_archive_writes_them(docs_repo):
    sim, token, _ = docs_repo
    sha = commit_tree_changes(
        sim,
        [trees.Change("link.md", "120000", content=b"README.md"), trees.Change("vendor/lib", "160000", "1" * 40)],
    )

    found = members(requests.get(api("/repos/alice/docs/tarball", token).headers["Location"], timeout=5).content)

    folder = f"alice-docs-{sha[:7]}"
    assert found[f"{folder}/link.md"].issym() and found[f"{folder}/link.md"].linkname == "README.md"
    assert found[f"{folder}/vendor/lib"].isdir()


def test_pygithub_gets_the_archive_link_and_requests_follows_it(docs_repo):
    sim, _, sha = docs_repo
    auth = Auth.AppAuth(credentials.GITHUB_APP_ID, sim.app_private_key_path.read_text())
    integration = GithubIntegration(auth=auth, base_url=sim.api_url, retry=None, seconds_between_requests=0)
    repo = integration.get_github_for_installation(sim.installation_id).get_repo("alice/docs")

    link = repo.get_archive_link("tarball", sha)
    default_branch = repo.get_archive_link("tarball")

    assert f"alice-docs-{sha[:7]}/guide/deploy.md" in members(requests.get(link, timeout=5).content)
    assert f"alice-docs-{sha[:7]}/README.md" in members(requests.get(default_branch, timeout=5).content)


def test_only_the_api_request_counts_against_the_rate_limit(docs_repo):
    _, token, sha = docs_repo
    response = api(f"/repos/alice/docs/tarball/{sha}", token)
    used = int(response.headers["x-ratelimit-used"])

    requests.get(response.headers["Location"], timeout=5)

    assert int(api("/repos/alice/docs", token).headers["x-ratelimit-used"]) == used + 1


def commit_tree_changes(sim, changes: list[trees.Change]) -> str:
    """Commit tree entries `push_outside_commit` does not write (a symbolic link, a submodule) on alice/docs."""
    git = sim.repository_path("alice", "docs")
    head = gitstore.read_ref(git, "refs/heads/main")
    parent = gitstore.read_commit(git, head)
    tree = trees.apply_changes(git, parent.tree, changes)
    commit = gitstore.CommitInfo(tree, (head,), parent.author, parent.committer, "Add a link and a submodule")
    sha = gitstore.write_commit(git, commit)
    gitstore.update_ref(git, "refs/heads/main", sha)
    return sha


@pytest.mark.django_db
def test_the_live_sandbox_serves_the_redirect_and_the_archive_over_django(client, settings, tmp_path, monkeypatch):
    settings.SANDBOX_DIR = tmp_path / "live"
    monkeypatch.setattr(store, "_cache", {"world": None, "mtime": None})
    with world_for_request() as world:
        world.github.deliver = lambda url, body, headers: 200
        world.github.create_user("alice")
        world.github.create_repository("alice", "docs")
        sha = world.github.push_outside_commit("alice", "docs", files=FILES, message="Add docs")
        token = world.github.issue_installation_token(world.github.install_app("alice", repositories=["docs"]))

    response = client.get(f"/sandbox/github/api/repos/alice/docs/tarball/{sha}", HTTP_AUTHORIZATION=f"Bearer {token}")
    location = urlsplit(response["Location"])
    download = client.get(location.path, QUERY_STRING=location.query)

    assert response.status_code == 302 and download.status_code == 200
    assert download["Content-Type"] == "application/x-gzip"
    assert f"alice-docs-{sha[:7]}/guide/deploy.md" in members(download.content)
