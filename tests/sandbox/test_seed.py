"""Seed content: a realistic, deterministic Confluence site and a GitHub account to sync it into."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sandbox import store
from sandbox.seed import DEFAULT_ACCOUNT_ID, DEMO_ACCOUNT_ID, ODD_TITLES, SHARED_TITLES, seed_world
from sandbox.world import World

# Storage constructs that real sites use and that every seeded site must contain somewhere.
CONSTRUCTS = (
    'ac:name="code"',
    'ac:name="language"',
    'ac:name="info"',
    'ac:name="note"',
    'ac:name="warning"',
    'ac:name="tip"',
    'ac:name="expand"',
    'ac:name="status"',
    "rowspan=",
    "colspan=",
    "<ac:task-list>",
    "<ri:user ri:account-id=",
    "<ri:page ri:content-title=",
    "ri:space-key=",
    'ac:name="anchor"',
    "ac:anchor=",
    "<ac:image",
    "<ri:attachment ri:filename=",
    "<ac:layout>",
    "<ac:emoticon",
    "<time datetime=",
    'ac:name="jira"',
    "]]]]><![CDATA[>",
)


def pages_of(world):
    return {p.id: (p.title, p.body, p.parent_id, p.space_id, p.labels) for p in world.atlassian.pages.values()}


def test_it_seeds_a_realistic_site(sandbox):
    summary = seed_world(sandbox, pages=200, spaces=3, seed=0)
    atlassian = sandbox.atlassian
    assert summary.spaces == ["ENG", "OPS", "PROD"]
    kinds = Counter(page.type for page in atlassian.pages.values())
    assert summary.pages == 200 and kinds["page"] == 203  # with the homepages
    assert kinds["blogpost"] == 9  # five in the first space's blog (one restricted), two in each other's
    sizes = {
        key: len(atlassian.space_page_ids[atlassian.space_by_key(summary.cloud_id, key).id]) for key in summary.spaces
    }
    assert sizes["ENG"] > sizes["OPS"] and sizes["ENG"] > sizes["PROD"]
    bodies = "".join(p.body for p in atlassian.pages.values())
    assert [c for c in CONSTRUCTS if c not in bodies] == []
    titles_by_space = {}
    for page in atlassian.pages.values():
        titles_by_space.setdefault(page.space_id, []).append(page.title)
    for titles in titles_by_space.values():
        assert len(titles) == len(set(titles))
        assert set(SHARED_TITLES) <= set(titles)
    all_titles = {p.title for p in atlassian.pages.values()}
    assert set(ODD_TITLES) <= all_titles
    assert any(len(t) >= 300 for t in all_titles)
    assert max(len(atlassian.ancestors(p)) for p in atlassian.pages.values()) >= 4


def test_it_restricts_a_few_pages_the_default_account_can_read_and_one_it_cannot(sandbox):
    summary = seed_world(sandbox, pages=200, spaces=3, seed=0)
    atlassian = sandbox.atlassian
    restricted = [atlassian.pages[i] for i in summary.restricted_pages]
    assert len(restricted) >= 3 and len(summary.unreadable_pages) >= 1
    own = [p for p in restricted if atlassian.read_restricted(p)]
    inherited = [p for p in restricted if not atlassian.read_restricted(p)]
    assert len(own) == 2 and inherited
    for page in restricted:
        assert atlassian.can_read(DEFAULT_ACCOUNT_ID, page) and atlassian.can_read(DEMO_ACCOUNT_ID, page)
    for page_id in summary.unreadable_pages:
        assert not atlassian.can_read(DEFAULT_ACCOUNT_ID, atlassian.pages[page_id])
    unrestricted = [
        p
        for p in atlassian.pages.values()
        if p.id not in summary.restricted_pages + summary.unreadable_pages + summary.restricted_posts
    ]
    assert not any(atlassian.restricted_by(p) for p in unrestricted)


def test_small_sites_have_no_restrictions(sandbox):
    summary = seed_world(sandbox, pages=10, spaces=2)
    assert summary.restricted_pages == summary.unreadable_pages == []
    assert not any(p.restrictions for p in sandbox.atlassian.pages.values())


def test_the_seed_names_the_demo_account(sandbox):
    from sandbox.demo import DEMO_ATLASSIAN_ACCOUNT_ID

    assert DEMO_ACCOUNT_ID == DEMO_ATLASSIAN_ACCOUNT_ID


def test_it_adds_attachments_with_versions(sandbox):
    summary = seed_world(sandbox, pages=120, spaces=2, seed=3)
    attachments = list(sandbox.atlassian.attachments.values())
    assert summary.attachments >= 10
    assert {a.latest.media_type for a in attachments} >= {"image/png"}
    assert any(len(a.versions) > 1 for a in attachments)
    png = sandbox.atlassian.read_media(attachments[0].versions[0].file_id)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_it_is_deterministic_under_the_seed(tmp_path):
    worlds = [
        World(root=tmp_path / str(n), sandbox_url="http://testserver/sandbox", site_url="http://testserver")
        for n in range(3)
    ]
    for world, seed in zip(worlds, (5, 5, 6), strict=True):
        seed_world(world, pages=60, spaces=2, seed=seed)
    assert pages_of(worlds[0]) == pages_of(worlds[1])
    assert pages_of(worlds[0]) != pages_of(worlds[2])


def test_it_creates_the_github_account(sandbox):
    summary = seed_world(sandbox, pages=5, spaces=1)
    assert summary.github_repositories == ["acme-sandbox/confluence-docs", "sandbox-user/notes"]
    repo = sandbox.github.find_repository("acme-sandbox", "confluence-docs")
    assert repo.private and repo.default_branch == "main"


def test_it_refuses_to_seed_twice(sandbox):
    seed_world(sandbox, pages=5, spaces=1)
    with pytest.raises(ValueError, match="seeded already"):
        seed_world(sandbox, pages=5, spaces=1)


def test_it_seeds_the_live_sandbox_from_the_command(settings, tmp_path, monkeypatch, capsys):
    settings.SANDBOX_DIR = tmp_path / "live"
    # The store caches the world per process; start from nothing like a fresh `manage.py` would.
    monkeypatch.setattr(store, "_cache", {"world": None, "mtime": None})
    call_command("sandbox_seed", "--pages", "30", "--spaces", "2", "--seed", "4")
    assert "30 pages" in capsys.readouterr().out
    state = json.loads((tmp_path / "live" / "state.json").read_text())
    pages = [page for page in state["atlassian"]["pages"].values() if page["type"] == "page"]
    assert len(pages) == 32
    with pytest.raises(CommandError):
        call_command("sandbox_seed", "--pages", "3")
    call_command("sandbox_seed", "--pages", "3", "--spaces", "1", "--reset")
    state = json.loads((tmp_path / "live" / "state.json").read_text())
    assert sum(page["type"] == "page" for page in state["atlassian"]["pages"].values()) == 4
