"""Ingestion against real git repositories in the simulated GitHub."""

from __future__ import annotations

import pytest

from github_sync.models import Document, IngestRun, Section

pytestmark = pytest.mark.django_db

GUIDE = """---
title: Deploy guide
page_id: "123456"
space_key: ENG
version: 7
source_url: https://acme.atlassian.net/wiki/spaces/ENG/pages/123456/Deploy+guide
labels: [ops, deploy]
---
Intro paragraph.

# Deploying

Run the deploy script.

## Rollback

Use `deploy --rollback`.

```sh
# not a heading
```
"""


def docs(repository):
    return dict(Document.objects.filter(repository=repository).values_list("path", "blob_sha"))


def test_it_ingests_every_text_file_on_first_ingest(push, ingest_now, repository, github):
    sha = push({"README.md": "# Docs\n\nHello.", "guide/deploy.md": GUIDE, "src/app.py": "print('hi')\n"})

    run = ingest_now(sha)

    assert run.status == IngestRun.Status.SUCCEEDED, run.error
    assert (run.added, run.changed, run.removed, run.unchanged) == (3, 0, 0, 0)
    assert run.blobs_fetched == 3
    assert run.commit_sha == sha and repository.ingested_sha == sha
    assert run.github_requests >= 4  # token, tree, three blobs
    assert set(docs(repository)) == {"README.md", "guide/deploy.md", "src/app.py"}
    assert set(Document.objects.values_list("commit_sha", flat=True)) == {sha}


def test_it_fetches_only_the_changed_blob(push, ingest_now, repository):
    files = {f"docs/page-{n}.md": f"# Page {n}\n\nText {n}." for n in range(20)}
    ingest_now(push(files))

    run = ingest_now(push({"docs/page-7.md": "# Page 7\n\nNew text."}))

    assert (run.added, run.changed, run.removed, run.unchanged) == (0, 1, 0, 19)
    assert run.blobs_fetched == 1
    assert Document.objects.get(path="docs/page-7.md").sections.get().text == "New text."
    # every document now says it is current at the new commit
    assert set(Document.objects.values_list("commit_sha", flat=True)) == {repository.ingested_sha}


def test_it_deletes_documents_whose_files_are_gone(push, ingest_now):
    ingest_now(push({"a.md": "# A", "b.md": "# B"}))

    run = ingest_now(push({"b.md": None}))

    assert (run.added, run.removed, run.unchanged, run.blobs_fetched) == (0, 1, 1, 0)
    assert list(Document.objects.values_list("path", flat=True)) == ["a.md"]


def test_it_reuses_stored_text_for_a_rename(push, ingest_now):
    ingest_now(push({"old/name.md": "# Moved page\n\nSame text."}))

    run = ingest_now(push({"old/name.md": None, "new/name.md": "# Moved page\n\nSame text."}))

    assert (run.added, run.removed, run.blobs_fetched) == (1, 1, 0)
    assert Document.objects.get().path == "new/name.md"
    assert Section.objects.get().heading == "Moved page"


def test_it_walks_subtrees_when_the_tree_is_truncated(push, ingest_now, github):
    files = {f"{d}/{n}.md": f"# {d} {n}" for d in ("a", "b", "c") for n in range(4)}
    sha = push({**files, "top.md": "# Top"})
    github.tree_entry_limit = 6  # the whole tree has 16 entries; each directory has 4

    run = ingest_now(sha)

    assert run.status == IngestRun.Status.SUCCEEDED, run.error
    assert run.added == 13
    assert Document.objects.count() == 13


def test_it_skips_binary_vendored_generated_and_oversized_files(push, ingest_now, settings, monkeypatch):
    monkeypatch.setattr("github_sync.file_types.MAX_FILE_BYTES", 1000)
    sha = push(
        {
            "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00binary",
            "node_modules/lib/index.js": "module.exports = 1;",
            "package-lock.json": "{}",
            "big.md": "# Big\n\n" + "x" * 2000,
            "notes.txt": "not really text \x00 at all",
            "keep.md": "# Keep",
        }
    )

    run = ingest_now(sha)

    assert list(Document.objects.values_list("path", flat=True)) == ["keep.md"]
    assert run.skipped == 5
    assert run.skipped_by_reason == {"binary": 2, "vendored": 1, "generated": 1, "too_large": 1}
    assert run.blobs_fetched == 2  # keep.md and notes.txt (whose content turned out binary)


def test_it_keeps_front_matter_as_metadata(push, ingest_now):
    ingest_now(push({"confluence/ENG/deploy-guide.md": GUIDE}))

    document = Document.objects.get()
    assert document.title == "Deploy guide"
    assert document.metadata["page_id"] == "123456"
    assert document.metadata["space_key"] == "ENG"
    assert document.metadata["version"] == 7
    assert document.metadata["labels"] == ["ops", "deploy"]
    assert document.source_url == "https://acme.atlassian.net/wiki/spaces/ENG/pages/123456/Deploy+guide"


def test_it_splits_sections_by_heading(push, ingest_now):
    ingest_now(push({"guide.md": GUIDE}))

    sections = list(Document.objects.get().sections.order_by("position"))
    assert [(s.heading, s.headings, s.anchor) for s in sections] == [
        ("", [], ""),
        ("Deploying", ["Deploying"], "deploying"),
        ("Rollback", ["Deploying", "Rollback"], "rollback"),
    ]
    assert sections[0].text == "Intro paragraph."
    assert "# not a heading" in sections[2].text


def test_it_does_nothing_for_a_commit_already_ingested(push, ingest_now):
    sha = push({"a.md": "# A"})
    ingest_now(sha)

    run = ingest_now(sha)

    assert (run.added, run.unchanged, run.blobs_fetched, run.github_requests) == (0, 1, 0, 0)


def test_it_checks_every_file_again_when_staff_force_it(push, ingest_now):
    sha = push({"a.md": "# A"})
    ingest_now(sha)
    Document.objects.update(title="tampered")

    run = ingest_now(None, trigger="admin")

    assert run.commit_sha == sha
    assert (run.unchanged, run.blobs_fetched) == (1, 0)


def test_it_ingests_the_branch_tip_when_no_commit_is_given(push, ingest_now):
    push({"a.md": "# A"})
    sha = push({"b.md": "# B"})

    run = ingest_now(None)

    assert run.commit_sha == sha and run.added == 2


def test_it_records_a_failure_readably(ingest_now, github, repository):
    github.uninstall_app(repository.installation.installation_id)

    run = ingest_now("0" * 40)

    assert run.status == IngestRun.Status.FAILED
    assert "InstallationGone" in run.error
    repository.refresh_from_db()
    assert "can no longer read" in repository.status_detail
