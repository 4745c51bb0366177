"""A GitHub connection of Acme that ingests acme-gh/docs, a real git repository in the simulated GitHub."""

from __future__ import annotations

import pytest


@pytest.fixture
def github(sandbox):
    github = sandbox.github
    github.create_org("acme-gh", owners=["octo-sandbox"])
    return github


@pytest.fixture
def installation(github, acme, alice):
    from github_sync.models import Installation

    github.create_repository("acme-gh", "docs")
    github.create_repository("acme-gh", "site")
    installation_id = github.install_app("acme-gh", repositories=["docs", "site"])
    return Installation.objects.create(
        org=acme,
        installation_id=installation_id,
        account_login="acme-gh",
        account_type="Organization",
        created_by=alice,
    )


@pytest.fixture
def repository(installation, github):
    from github_sync.models import Repository

    for name in ("docs", "site"):
        repo = github.get_repository("acme-gh", name)
        Repository.objects.create(
            installation=installation,
            github_id=repo.id,
            full_name=f"acme-gh/{name}",
            default_branch="main",
            html_url=f"https://github.example/acme-gh/{name}",
        )
    return Repository.objects.get(full_name="acme-gh/docs")


@pytest.fixture
def github_connection(acme, alice, repository):
    from connectors.models import Connection
    from github_sync.models import Source

    connection = Connection.create_with_tasks(org=acme, kind="github", created_by=alice)
    Source.connect(connection, repository, by=alice)
    return connection


@pytest.fixture
def push(github):
    """Commit files to acme-gh/docs as an outside push; returns the commit sha."""

    def push(files, message="change"):
        return github.push_outside_commit("acme-gh", "docs", files=files, message=message)

    return push


@pytest.fixture
def ingest_now(repository):
    """Ingest acme-gh/docs at a commit, the way the task does, and return the finished run."""
    from github_sync.models import IngestRun
    from github_sync.tasks import enqueue_ingest, run_ingest

    def ingest_now(sha, *, trigger="test"):
        run = enqueue_ingest(repository, sha, trigger=trigger)
        run_ingest(run.id)
        repository.refresh_from_db()
        return IngestRun.objects.get(id=run.id)

    return ingest_now
