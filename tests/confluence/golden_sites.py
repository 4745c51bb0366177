"""The synced tree a golden converter case is rendered in: `site.yml` beside the cases, one row a page
(id: [title, space key, parent id, labels, modified at])."""

from pathlib import Path

import yaml

from confluence.convert import SitePage, SiteTree


def site_tree(fixtures: Path) -> SiteTree:
    rows = yaml.safe_load((fixtures / "site.yml").read_text(encoding="utf-8"))
    pages = {
        pid: SitePage(id=pid, title=title, space_key=space, parent_id=parent, labels=tuple(labels), modified_at=when)
        for pid, (title, space, parent, labels, when) in rows.items()
    }
    return SiteTree(pages)
