"""Search ranking sanity on whichever database the suite runs on (SQLite locally, PostgreSQL in CI)."""

from __future__ import annotations

import pytest
from django.db import connection

from github_sync import search
from github_sync.models import Source

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(github_connection, push, ingest_now):
    ingest_now(
        push(
            {
                "kubernetes.md": "# Kubernetes deployment\n\nHow we run the cluster.\n\n## Scaling\n\nAdd nodes.",
                "handbook.md": "# Handbook\n\n## Onboarding\n\nYour first week. We mention kubernetes once here.",
                "ops/runbook.md": "# Runbook\n\n## Kubernetes upgrades\n\nDrain each node, then upgrade.",
                "src/server.py": "def serve():\n    return 'pager duty rotation'\n",
                "guide.md": (
                    "---\ntitle: Incident guide\nsource_url: https://acme.atlassian.net/wiki/x/1\n---\n"
                    "# Paging\n\nEscalate <script>alert(1)</script> incidents fast."
                ),
            }
        )
    )


def paths(hits):
    """Documents in rank order (a document can match in several sections)."""
    return list(dict.fromkeys(hit.path for hit in hits))


def test_title_beats_heading_beats_body(corpus, acme):
    hits = search.search(acme, "kubernetes")

    assert paths(hits)[:3] == ["kubernetes.md", "ops/runbook.md", "handbook.md"]


def test_all_words_must_match(corpus, acme):
    assert paths(search.search(acme, "drain upgrade")) == ["ops/runbook.md"]
    assert search.search(acme, "drain onboarding") == []


def test_stemming_or_substrings_find_word_forms(corpus, acme):
    word = "upgrading" if connection.vendor == "postgresql" else "upgrade"
    assert "ops/runbook.md" in paths(search.search(acme, word))


def test_hits_carry_provenance(corpus, acme, repository):
    hit = search.search(acme, "escalate")[0]
    repository.refresh_from_db()

    assert (hit.repository, hit.path) == ("acme-gh/docs", "guide.md")
    assert (hit.title, hit.heading) == ("Incident guide", "Paging")
    assert hit.commit == repository.ingested_sha
    assert hit.source_url == "https://acme.atlassian.net/wiki/x/1"
    assert hit.url == f"{repository.html_url}/blob/{repository.ingested_sha}/guide.md#paging"


def test_snippets_highlight_matches_and_escape_html(corpus, acme):
    snippet = search.search(acme, "escalate")[0].snippet

    assert "<mark>Escalate</mark>" in snippet
    assert "<script>" not in snippet  # escaped (FTS5, LIKE) or dropped as a tag (PostgreSQL's ts_headline)


def test_highlight_escapes_everything_but_the_marks():
    marked = f"a <b>{search.START}x{search.STOP} & y"
    assert search.highlight(marked) == "a &lt;b&gt;<mark>x</mark> &amp; y"


def test_it_searches_source_code(corpus, acme):
    hit = search.search(acme, "pager rotation")[0]
    assert (hit.path, hit.anchor) == ("src/server.py", "L1")


def test_it_limits_results(corpus, acme):
    assert len(search.search(acme, "kubernetes", limit=1)) == 1


def test_it_only_searches_the_organizations_used_repositories(corpus, acme, globex, github_connection):
    assert search.search(globex, "kubernetes") == []
    Source.objects.filter(connection=github_connection).delete()
    assert search.search(acme, "kubernetes") == []


def test_it_ignores_query_syntax(corpus, acme):
    assert search.search(acme, '"kubernetes" OR NEAR( * -') is not None
    assert search.search(acme, "   ") == []


def test_it_forgets_deleted_files(corpus, acme, push, ingest_now):
    ingest_now(push({"ops/runbook.md": None}))
    assert "ops/runbook.md" not in paths(search.search(acme, "kubernetes"))


def test_changed_files_are_searched_by_their_new_text(corpus, acme, push, ingest_now):
    ingest_now(push({"handbook.md": "# Handbook\n\nNothing about containers now."}))
    assert "handbook.md" not in paths(search.search(acme, "kubernetes"))
    assert paths(search.search(acme, "containers")) == ["handbook.md"]


def test_the_like_fallback_ranks_the_same_way(corpus, acme, monkeypatch):
    # The fallback is plain ORM, so it is tested on every database, as if neither FTS were there.
    monkeypatch.setattr(search, "engine", lambda: "like")

    hits = search.search(acme, "kubernetes")

    assert paths(hits)[:3] == ["kubernetes.md", "ops/runbook.md", "handbook.md"]
    assert "<mark>" in search.search(acme, "escalate")[0].snippet


@pytest.fixture
def crowded(github_connection, push, ingest_now):
    """300 strong matches in ENG and one weak match in OPS, which an unnarrowed top 250 would crowd out."""
    files = {
        f"confluence/ENG/page-{n}.md": f"---\ntitle: Deploy {n}\nspace_key: ENG\n---\n# Deploy\n\ndeploy deploy deploy"
        for n in range(300)
    }
    weak = "---\ntitle: Runbook\nspace_key: OPS\n---\n# Notes\n\n" + "word " * 300 + "deploy"
    files["confluence/OPS/runbook.md"] = weak
    ingest_now(push(files))


def test_it_narrows_by_space_and_path_before_ranking(acme, crowded):
    assert paths(search.search(acme, "deploy", space="ops")) == ["confluence/OPS/runbook.md"]
    assert paths(search.search(acme, "deploy", path_prefix="/confluence/OPS/")) == ["confluence/OPS/runbook.md"]
    assert search.search(acme, "deploy", space="ENG", path_prefix="confluence/OPS/") == []
    assert len(search.search(acme, "deploy", space="ENG", limit=50)) == 50
