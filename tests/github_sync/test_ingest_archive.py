"""Ingestion through the repository archive: a first ingestion or a large change costs a handful of requests, a
small change stays blob by blob, and whatever the archive does not deliver intact is fetched blob by blob."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest

from github_sync.models import Document, IngestRun
from sandbox.core import FaultPlan
from sandbox.github import archives

pytestmark = pytest.mark.django_db

PAGES = {f"docs/page-{n:02d}.md": f"# Page {n}\n\nText of page {n}.\n" for n in range(30)}


def texts(repository) -> dict[str, str]:
    return dict(Document.objects.filter(repository=repository).values_list("path", "text"))


def requests_to(github, fragment: str) -> int:
    return sum(fragment in r.path for r in github.requests)


def test_a_first_ingestion_costs_four_requests_whatever_the_number_of_files(push, ingest_now, repository, github):
    sha = push({**PAGES, "logo.png": b"\x89PNG binary", "node_modules/x/index.js": "x = 1"})
    github.reset_log()

    run = ingest_now(sha)

    assert run.status == IngestRun.Status.SUCCEEDED, run.error
    assert run.github_requests == 4  # installation token, tree, tarball (302), download
    assert (requests_to(github, "/tarball"), requests_to(github, "/codeload/"), requests_to(github, "/git/blobs/")) == (
        1,
        1,
        0,
    )
    assert run.added == 30 and run.blobs_fetched == 30
    assert run.skipped_by_reason == {"binary": 1, "vendored": 1}
    assert texts(repository) == PAGES


def test_the_download_is_fetched_without_the_installation_token(push, ingest_now, github):
    sha = push(PAGES)
    seen = []
    handle = github.handle
    github.handle = lambda request: seen.append((request.path, request.header("authorization"))) or handle(request)

    ingest_now(sha)

    downloads = [auth for path, auth in seen if path.startswith("/codeload/")]
    tarballs = [auth for path, auth in seen if path.endswith("/tarball/" + sha)]
    assert downloads == [""] and tarballs and tarballs[0].startswith("Bearer ")


def test_a_small_change_is_fetched_blob_by_blob(push, ingest_now, github):
    ingest_now(push(PAGES))
    github.reset_log()

    run = ingest_now(push({"docs/page-07.md": "# Page 7\n\nNew text.\n", "docs/page-08.md": None}))

    assert (run.changed, run.removed, run.blobs_fetched) == (1, 1, 1)
    assert requests_to(github, "/tarball") == 0 and requests_to(github, "/git/blobs/") == 1


def test_a_large_change_goes_through_the_archive_again(push, ingest_now, github):
    ingest_now(push(PAGES))
    github.reset_log()

    run = ingest_now(push({path: text + "Edited.\n" for path, text in list(PAGES.items())[:10]}))

    assert (run.changed, run.unchanged, run.blobs_fetched) == (10, 20, 10)
    assert requests_to(github, "/tarball") == 1 and requests_to(github, "/git/blobs/") == 0


def test_long_paths_and_deep_folders_fit_the_archive_size_bound(push, ingest_now, repository, github):
    long_name = "a-rather-long-folder-name-" * 4
    files = {f"{long_name}/{n}/{long_name}/{'x' * 150}-{n}.md": f"# {n}\n" for n in range(8)}

    run = ingest_now(push(files))

    assert requests_to(github, "/git/blobs/") == 0  # a refused archive would have left them to fetch one by one
    assert run.added == 8 and texts(repository) == files


def hostile(sha: str, folder: str) -> bytes:
    """A tampered archive: traversal names and links carrying the right bytes, one page with the wrong bytes, a
    device, and only two pages as they should be."""
    good = [f"docs/page-{n:02d}.md" for n in (0, 1)]
    members = [(f"{folder}/{path}", tarfile.REGTYPE, PAGES[path].encode(), "") for path in good] + [
        (f"{folder}/../docs/page-02.md", tarfile.REGTYPE, PAGES["docs/page-02.md"].encode(), ""),
        (f"/{folder}/docs/page-03.md", tarfile.REGTYPE, PAGES["docs/page-03.md"].encode(), ""),
        (f"{folder}/docs/page-04.md", tarfile.SYMTYPE, b"", "/etc/passwd"),
        (f"{folder}/docs/page-05.md", tarfile.LNKTYPE, b"", f"{folder}/docs/page-00.md"),
        (f"{folder}/docs/page-06.md", tarfile.REGTYPE, b"# Page 6\n\nSomething else.\n", ""),
        (f"{folder}/docs/page-07.md", tarfile.CHRTYPE, b"", ""),
    ]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data, link in members:
            info = tarfile.TarInfo(name)
            info.type, info.size, info.linkname = kind, len(data), link
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue())


def test_a_tampered_archive_gives_only_intact_files_and_the_rest_come_blob_by_blob(
    push, ingest_now, repository, github, monkeypatch
):
    monkeypatch.setattr(archives, "tarball", lambda sim, repo, sha, *, folder: hostile(sha, folder))
    sha = push(PAGES)
    github.reset_log()

    run = ingest_now(sha)

    assert run.status == IngestRun.Status.SUCCEEDED, run.error
    assert texts(repository) == PAGES
    assert requests_to(github, "/git/blobs/") == 28  # all but the two pages the archive held intact
    assert run.blobs_fetched == 30


def test_an_archive_larger_than_its_tree_is_dropped_and_the_rest_come_blob_by_blob(
    push, ingest_now, repository, github, monkeypatch
):
    real = archives.tarball

    def padded(sim, repo, sha, *, folder):
        # The real archive with 5 MB of incompressible bytes inserted after its first files.
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(real(sim, repo, sha, folder=folder)))) as source:
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for n, info in enumerate(source.getmembers()):
                    tar.addfile(info, source.extractfile(info) if info.isreg() else None)
                    if n == 5:
                        junk = tarfile.TarInfo(f"{folder}/junk.bin")
                        junk.size = 256 * 20_000
                        tar.addfile(junk, io.BytesIO(bytes(range(256)) * (junk.size // 256)))
        return gzip.compress(buffer.getvalue(), compresslevel=1)

    monkeypatch.setattr(archives, "tarball", padded)
    sha = push(PAGES)
    github.reset_log()

    run = ingest_now(sha)

    assert run.status == IngestRun.Status.SUCCEEDED, run.error
    assert texts(repository) == PAGES
    assert 0 < requests_to(github, "/git/blobs/") < 30  # what came before the junk was taken from the archive


def test_an_archive_github_cannot_serve_falls_back_to_blobs(push, ingest_now, repository, github, monkeypatch):
    monkeypatch.setattr(archives, "resolve", lambda sim, repo, ref: None)  # codeload answers 404

    run = ingest_now(push(PAGES))

    assert run.status == IngestRun.Status.SUCCEEDED, run.error
    assert texts(repository) == PAGES and requests_to(github, "/git/blobs/") == 30


@pytest.mark.parametrize("fault", ["502", "drop"])
def test_a_download_that_keeps_failing_makes_the_run_wait_and_never_shows_its_token(
    push, repository, github, monkeypatch, caplog, fault
):
    from github_sync import tasks

    monkeypatch.setattr("connectors.http.sleep", lambda seconds: None)
    sha = push(PAGES)
    github.inject_faults(FaultPlan(rate=1.0, kinds=(fault,), path_pattern="^/codeload/"))

    run = tasks.enqueue_ingest(repository, sha, trigger="push")
    tasks.run_ingest(run.id)

    run.refresh_from_db()
    assert run.status == IngestRun.Status.QUEUED and "Trying again after" in run.error
    assert requests_to(github, "/git/blobs/") == 0  # it waits for GitHub rather than spend 30 requests
    assert requests_to(github, "/codeload/") == 6  # retried like any request
    assert "codeload" in caplog.text and "token=" not in caplog.text and "token=" not in run.error
