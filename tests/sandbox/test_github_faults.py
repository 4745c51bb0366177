"""Fault injection and request recording in the simulated GitHub, and the speed of a large one-tree commit."""

from __future__ import annotations

import time

import pytest
import requests
import responses
from github import Auth, Github, GithubException, InputGitTreeElement

from sandbox.core import FaultPlan
from sandbox.github import GitHubSimulator
from sandbox.testing import serve_with_responses

BASE = "http://testserver/sandbox/github"
REPO = f"{BASE}/api/repos/alice/docs"


@pytest.fixture
def github_with_token(tmp_path):
    github_with_token = GitHubSimulator(base_url=BASE, root=tmp_path / "github", site_url="http://testserver")
    github_with_token.deliver = lambda url, body, headers: 200
    github_with_token.create_user("alice")
    github_with_token.create_repository("alice", "docs")
    github_with_token.token = github_with_token.issue_installation_token(github_with_token.install_app("alice"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve_with_responses(rsps, github_with_token, github_with_token.base_url)
        serve_with_responses(rsps, github_with_token, "http://testserver:80/sandbox/github")
        yield github_with_token


def get(github_with_token, path=""):
    return requests.get(f"{REPO}{path}", headers={"Authorization": f"token {github_with_token.token}"}, timeout=5)


def test_it_answers_a_secondary_rate_limit_with_retry_after(github_with_token):
    github_with_token.inject_faults(FaultPlan(on_nth={1: "429"}, retry_after=7))

    response = get(github_with_token)

    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert "secondary rate limit" in response.json()["message"]
    assert response.json()["documentation_url"].startswith("https://docs.github.com/")
    assert int(response.headers["x-ratelimit-remaining"]) > 0


def test_it_answers_a_primary_rate_limit_without_retry_after(github_with_token):
    github_with_token.rate_limit_fault_status = 403
    github_with_token.inject_faults(FaultPlan(on_nth={1: "429-no-retry-after"}, retry_after=30))

    response = get(github_with_token)

    assert response.status_code == 403
    assert "retry-after" not in response.headers
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert 0 < int(response.headers["x-ratelimit-reset"]) - time.time() <= 31
    assert get(github_with_token).status_code == 200


@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_it_answers_server_errors(github_with_token, kind):
    github_with_token.inject_faults(FaultPlan(on_nth={1: kind}))

    response = get(github_with_token)

    assert response.status_code == int(kind)
    assert response.json()["message"] == "Server Error"


def test_it_drops_connections_and_times_out(github_with_token):
    github_with_token.inject_faults(FaultPlan(on_nth={1: "drop", 2: "timeout"}))

    with pytest.raises(requests.ConnectionError):
        get(github_with_token)
    with pytest.raises(requests.ReadTimeout):
        get(github_with_token)
    assert [(r.status, r.fault) for r in github_with_token.requests] == [(0, "drop"), (0, "timeout")]


def test_it_injects_the_same_faults_for_the_same_seed(github_with_token):
    def run(seed):
        github_with_token.inject_faults(FaultPlan(rate=0.5, kinds=("500", "503"), seed=seed))
        return [get(github_with_token).status_code for _ in range(20)]

    first, second = run(3), run(3)

    assert first == second
    assert {500, 503, 200} >= set(first) and len(set(first)) > 1


def test_it_limits_faults_to_matching_paths(github_with_token):
    github_with_token.inject_faults(FaultPlan(rate=1.0, kinds=("503",), path_pattern=r"/git/"))

    assert get(github_with_token).status_code == 200
    assert get(github_with_token, "/git/refs").status_code == 503


def test_it_surfaces_faults_to_pygithub(github_with_token):
    gh = Github(
        auth=Auth.Token(github_with_token.token),
        base_url=github_with_token.api_url,
        retry=None,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )
    github_with_token.inject_faults(FaultPlan(on_nth={2: "502"}))
    repo = gh.get_repo("alice/docs")

    with pytest.raises(GithubException) as error:
        repo.create_file("a.md", "m", "a")

    assert error.value.status == 502
    assert repo.create_file("a.md", "m", "a")["commit"].sha == github_with_token.head_sha("alice", "docs")


def test_it_records_requests(github_with_token):
    get(github_with_token)
    requests.get(f"{BASE}/api/repos/alice/docs/git/trees/main", params={"recursive": "1"}, timeout=5)

    assert [(r.method, r.path, r.query, r.status) for r in github_with_token.requests] == [
        ("GET", "/api/repos/alice/docs", "", 200),
        ("GET", "/api/repos/alice/docs/git/trees/main", "recursive=1", 404),
    ]
    assert github_with_token.count("GET", r"/git/trees/") == 1
    github_with_token.reset_log()
    assert github_with_token.requests == []


@pytest.mark.slow
def test_it_commits_ten_thousand_files_in_one_tree_in_seconds(github_with_token):
    gh = Github(
        auth=Auth.Token(github_with_token.token),
        base_url=github_with_token.api_url,
        retry=None,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )
    repo = gh.get_repo("alice/docs")
    repo.create_file("README.md", "init", "hello\n")
    head = repo.get_git_commit(github_with_token.head_sha("alice", "docs"))
    elements = [
        InputGitTreeElement(f"space-{n % 25}/page-{n}.md", "100644", "blob", content=f"# Page {n}\n" * 40)
        for n in range(10_000)
    ]

    started = time.perf_counter()
    tree = repo.create_git_tree(elements, base_tree=head.tree)
    elapsed = time.perf_counter() - started

    print(f"create_git_tree with 10,000 files: {elapsed:.2f}s")
    assert elapsed < 30
    listing = repo.get_git_tree(tree.sha, recursive=True)
    assert len(listing.tree) == 10_000 + 25 + 1
