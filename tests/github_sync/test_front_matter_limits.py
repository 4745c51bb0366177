"""Front matter pushed by outsiders cannot explode: each test performs an attack on ingestion and checks the defence.

The bomb fixture reconstructs what the audit pushed (issue 13): 426 bytes of YAML anchors `a0`…`a6`, each a list
of ten aliases of the previous one. Read naively it became 58 MB of metadata after 21 s of ingestion.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml
from django.urls import reverse

from confluence.convert import PageMeta, render_front_matter
from github_sync import search
from github_sync.front_matter import FrontMatterLimits, read_front_matter
from github_sync.models import Document, IngestRun

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "github"
BOMB = (FIXTURES / "front_matter_bomb.md").read_text()


class Constructed(Exception):
    """Raised by the patched YAML constructor: some front matter got as far as building Python objects."""


def refuse_construction(*args, **kwargs):
    raise Constructed


def reasons(run: IngestRun) -> dict[str, str]:
    return {warning["path"]: warning["reason"] for warning in run.warnings}


def test_it_refuses_the_bomb_before_constructing_anything(monkeypatch):
    monkeypatch.setattr(yaml.constructor.BaseConstructor, "construct_document", refuse_construction)

    front = read_front_matter(BOMB, FrontMatterLimits())

    assert front.metadata == {}
    assert "anchors or aliases" in front.problem
    # The patch does catch construction: plain front matter reaches it.
    with pytest.raises(Constructed):
        read_front_matter("---\ntitle: Plain\n---\nBody\n", FrontMatterLimits())


def test_it_ingests_the_bomb_as_text_without_metadata(github_connection, push, ingest_now, acme):
    assert len(BOMB.encode()) == 426

    run = ingest_now(push({"notes/bomb.md": BOMB}))

    assert run.status == IngestRun.Status.SUCCEEDED, run.error
    document = Document.objects.get(path="notes/bomb.md")
    assert (document.metadata, document.title, document.source_url) == ({}, "Notes", "")
    assert [hit.path for hit in search.search(acme, "quarterly")] == ["notes/bomb.md"]
    assert "anchors or aliases" in reasons(run)["notes/bomb.md"]


def test_it_refuses_a_single_anchor_or_alias_however_small(push, ingest_now):
    files = {
        "anchor.md": "---\ntitle: &t Roadmap\n---\n# Anchor\n",
        "alias.md": "---\nowner: &o ops\nreviewer: *o\n---\n# Alias\n",
    }

    run = ingest_now(push(files))

    assert dict(Document.objects.values_list("path", "metadata")) == {"anchor.md": {}, "alias.md": {}}
    assert Document.objects.get(path="anchor.md").title == "Anchor"  # not "Roadmap" from the refused front matter
    assert set(reasons(run)) == {"anchor.md", "alias.md"}
    assert all("anchors or aliases" in reason for reason in reasons(run).values())


def test_it_does_not_parse_front_matter_over_the_size_cap(push, ingest_now, settings, monkeypatch):
    monkeypatch.setattr(yaml.constructor.BaseConstructor, "construct_document", refuse_construction)
    filler = "x" * (settings.FRONT_MATTER_MAX_BYTES + 1)
    text = f"---\ntitle: Huge\ndescription: {filler}\n---\n# Still here\n\nFindable body.\n"

    run = ingest_now(push({"huge.md": text}))

    assert run.status == IngestRun.Status.SUCCEEDED, run.error
    document = Document.objects.get()
    assert (document.metadata, document.title) == ({}, "Still here")
    assert f"over the {settings.FRONT_MATTER_MAX_BYTES}-byte limit" in reasons(run)["huge.md"]


def test_it_does_not_store_metadata_whose_json_is_over_the_cap(push, ingest_now, settings):
    settings.DOCUMENT_METADATA_MAX_BYTES = 200
    labels = ", ".join(f"label-{n}" for n in range(30))  # well under FRONT_MATTER_MAX_BYTES, over 200 bytes as JSON

    run = ingest_now(push({"labelled.md": f"---\ntitle: Labelled\nlabels: [{labels}]\n---\n# Body\n"}))

    document = Document.objects.get()
    assert (document.metadata, document.title) == ({}, "Body")
    assert "over the 200-byte limit" in reasons(run)["labelled.md"]


def test_it_keeps_our_confluence_front_matter_exactly(push, ingest_now):
    meta = PageMeta(
        title='Déploiement: "blue/green" # 2',
        page_id="123456",
        space_key="ENG",
        version=7,
        last_modified=datetime(2025, 6, 1, 9, 30),
        source_url="https://acme.atlassian.net/wiki/spaces/ENG/pages/123456",
        labels=("ops", "deploy"),
        ancestors=("Engineering", "Runbooks"),
        parent_id="123400",
    )
    front_matter = render_front_matter(meta)

    run = ingest_now(push({"confluence/ENG/deploy.md": front_matter + "\n# Deploy\n\nSteps.\n"}))

    document = Document.objects.get()
    assert document.metadata == yaml.safe_load(front_matter.removeprefix("---\n").removesuffix("---\n"))
    assert document.metadata["ancestors"] == ["Engineering", "Runbooks"]
    assert (document.title, document.source_url) == (meta.title, meta.source_url)
    assert run.warnings == []


def test_it_ingests_malformed_or_unmapped_front_matter_without_metadata(push, ingest_now):
    files = {
        "malformed.md": "---\ntitle: [unclosed\n---\n# Malformed\n",
        "list.md": "---\n- a\n- b\n---\n# List\n",
    }

    run = ingest_now(push(files))

    assert dict(Document.objects.values_list("path", "metadata")) == {"malformed.md": {}, "list.md": {}}
    assert "not valid YAML (line 3)" in reasons(run)["malformed.md"]
    assert "not a YAML mapping" in reasons(run)["list.md"]


def test_it_survives_front_matter_that_used_to_fail_the_whole_run(push, ingest_now):
    files = {
        "date.md": "---\nlast_modified: 2025-02-30\n---\n# Date\n",
        "digits.md": f"---\nversion: {'9' * 5000}\n---\n# Digits\n",
        "deep.md": f"---\nnested: {'[' * 2000}{']' * 2000}\n---\n# Deep\n",
        "fine.md": "---\ntitle: Fine\n---\n# Fine\n",
    }

    run = ingest_now(push(files))

    assert run.status == IngestRun.Status.SUCCEEDED, run.error
    assert Document.objects.get(path="fine.md").metadata == {"title": "Fine"}
    assert set(reasons(run)) == {"date.md", "digits.md", "deep.md"}
    assert "nests deeper than" in reasons(run)["deep.md"]


def test_it_stores_yaml_infinity_as_text(push, ingest_now):
    run = ingest_now(push({"odd.md": "---\nratio: .inf\nscore: .nan\n---\n# Odd\n"}))

    assert run.status == IngestRun.Status.SUCCEEDED, run.error
    assert Document.objects.get().metadata == {"ratio": "inf", "score": "nan"}


def test_it_caps_the_warnings_a_run_keeps(push, ingest_now, monkeypatch):
    monkeypatch.setattr(IngestRun, "MAX_WARNINGS", 2)

    run = ingest_now(push({f"bad-{n}.md": "---\n- not a mapping\n---\n" for n in range(3)}))

    assert Document.objects.count() == 3
    assert len(run.warnings) == 2


def test_it_shows_the_warnings_on_the_ingest_run_admin_page(push, ingest_now, admin_client):
    run = ingest_now(push({"notes/bomb.md": BOMB}))

    response = admin_client.get(reverse("admin:github_sync_ingestrun_change", args=[run.id]))

    assert response.status_code == 200
    assert "<code>notes/bomb.md</code>: front matter uses YAML anchors or aliases" in response.content.decode()


def test_it_counts_the_warnings_in_the_ingest_run_list(push, ingest_now, admin_client):
    ingest_now(push({"notes/bomb.md": BOMB, "fine.md": "# Fine\n"}))

    response = admin_client.get(reverse("admin:github_sync_ingestrun_changelist"))

    assert '<td class="field-warning_count">1</td>' in response.content.decode()
