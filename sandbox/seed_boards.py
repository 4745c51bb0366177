"""Whiteboards, databases and embeds (smart links) in the seeded site: one of each below the first page of the first
space, which the sync lists after that page's body ("In Confluence"). Chosen without the seed's random numbers and
after every page exists, so the rest of the site stays the same.

sandbox/seed.py calls it right after the blog posts: `seed_boards(atlassian, site.cloud_id, keys)`.
"""

from __future__ import annotations

# (kind, title) of each board, below the same page.
BOARDS = (
    ("whiteboard", "Roadmap board"),
    ("database", "Service catalogue"),
    ("embed", "Architecture diagram"),
)


def seed_boards(atlassian, cloud_id: str, keys: list[str]) -> list[str]:
    """Create the boards below the first page of the first space; returns their ids (none without a page)."""
    if not keys:
        return []
    space = atlassian.space_by_key(cloud_id, keys[0])
    pages = [str(i) for i in atlassian.space_page_ids[space.id] if atlassian.pages[str(i)].type == "page"]
    if not pages:
        return []
    return [
        atlassian.create_board(cloud_id, kind=kind, space_key=keys[0], title=title, parent_id=pages[0], emit=False).id
        for kind, title in BOARDS
    ]
