"""A small simulated Confluence site and GitHub account for sync tests, and helpers to run syncs inline."""

from __future__ import annotations

import yaml

from confluence import tasks
from confluence.models import SyncRun
from confluence.sync import queue

SITE = {"name": "Acme Wiki", "url": "https://acme.atlassian.net"}


def build_site(world):
    """ENG (a tree with links, an image and a label) and OPS (one page), plus the GitHub org and an empty repo."""
    a = world.atlassian
    site = a.create_site(**SITE)
    a.create_space(site.cloud_id, key="ENG", name="Engineering", emit=False, homepage=False)
    a.create_space(site.cloud_id, key="OPS", name="Operations", emit=False, homepage=False)
    home = a.create_page(
        site.cloud_id, space_key="ENG", title="Home", body="<p>Welcome to <strong>ENG</strong>.</p>", emit=False
    )
    guide = a.create_page(
        site.cloud_id,
        space_key="ENG",
        title="Deploy Guide",
        parent_id=home.id,
        labels=["howto"],
        body=(
            '<p>Back to <ac:link><ri:page ri:content-title="Home" /></ac:link>.</p>'
            '<p><ac:image ac:alt="diagram"><ri:attachment ri:filename="flow.png" /></ac:image></p>'
            '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">bash</ac:parameter>'
            "<ac:plain-text-body><![CDATA[make deploy]]></ac:plain-text-body></ac:structured-macro>"
        ),
        emit=False,
    )
    a.add_attachment(
        guide.id, filename="flow.png", data=b"\x89PNG\r\n\x1a\nfake-image", media_type="image/png", emit=False
    )
    a.create_page(
        site.cloud_id,
        space_key="OPS",
        title="Runbook",
        body='<p>See <ac:link><ri:page ri:space-key="ENG" ri:content-title="Deploy Guide" /></ac:link>.</p>',
        emit=False,
    )
    world.github.create_user("alice-gh", name="Alice", email="alice@example.com")
    world.github.create_org("acme-inc", owners=["alice-gh"])
    world.github.create_repository("acme-inc", "wiki", private=True)
    return site, {"home": home, "guide": guide}


def sync_now(connection, *, trigger: str = SyncRun.Trigger.MANUAL, page_ids=None, full: bool = False) -> SyncRun:
    run = queue.enqueue_sync(connection, trigger=trigger, page_ids=page_ids, full=full)
    tasks.run_sync(run.id)
    run.refresh_from_db()
    return run


def tree(world, repo: str = "wiki") -> dict[str, bytes]:
    """Every file on the default branch of acme-inc/<repo>."""
    return world.github.read_tree("acme-inc", repo, "main")


def front_matter(content: bytes) -> dict:
    text = content.decode()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])
