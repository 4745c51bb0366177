"""Blog posts in the seeded site: a few posts per space over the last months of 2025, linking to pages of their
space and to each other (by title and posting day, as Confluence's editor writes `ri:blog-post` links), one
labelled `draft` (the label tests exclude) and one restricted, in the first space.

Chosen without the seed's random numbers and after every page exists, so the rest of the site stays the same.
Posts are backdated (`posted_at`), so their posting months are fixed whatever the simulated clock says.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

# (title, posting day, label) of each space's posts, oldest first; "{space}" is the space's name.
POSTS = (
    ("{space} kick-off", (2025, 9, 15), ""),
    ("What {space} shipped in October", (2025, 10, 31), ""),
    ("{space} incident review", (2025, 11, 12), "postmortem"),
    ("{space} plans for next year", (2025, 12, 8), "draft"),
)
RESTRICTED_TITLE = "{space} reorganisation (confidential)"
RESTRICTED_DAY = (2025, 12, 19)
LEADS_GROUP = "engineering-leads"


def seed_blog(atlassian, cloud_id: str, keys: list[str], *, restricted: bool = True) -> list[str]:
    """Post to each space's blog; returns the ids of the posts, the restricted one last (`restricted`: whether to
    add it; small sites, which tests seed to count what syncs, have no restrictions)."""
    ids: list[str] = []
    for number, key in enumerate(keys):
        space = atlassian.space_by_key(cloud_id, key)
        pages = [atlassian.pages[str(i)] for i in atlassian.space_page_ids[space.id]][:3]
        previous = None
        for title, day, label in POSTS if number == 0 else POSTS[:2]:
            post = atlassian.create_blogpost(
                cloud_id,
                space_key=key,
                title=title.format(space=space.name),
                body=_body(pages, previous),
                labels=[label] if label else [],
                posted_at=_moment(day),
                emit=False,
            )
            ids.append(post.id)
            previous = post
    if keys and restricted:
        ids.append(_restricted_post(atlassian, cloud_id, keys[0]))
    return ids


def _restricted_post(atlassian, cloud_id: str, key: str) -> str:
    """A post only the default account (and the leads group, where the site has it) may read."""
    space = atlassian.space_by_key(cloud_id, key)
    post = atlassian.create_blogpost(
        cloud_id,
        space_key=key,
        title=RESTRICTED_TITLE.format(space=space.name),
        body="<p>Not for everyone yet.</p>",
        posted_at=_moment(RESTRICTED_DAY),
        emit=False,
    )
    groups = [LEADS_GROUP] if atlassian.group_named(LEADS_GROUP) else []
    atlassian.restrict_page(post.id, users=[atlassian.default_user().account_id], groups=groups, emit=False)
    return post.id


def _body(pages: list, previous) -> str:
    parts = ["<p>News from the team.</p>"]
    if pages:
        links = "".join(
            f'<li><ac:link><ri:page ri:content-title="{escape(page.title)}" /></ac:link></li>' for page in pages
        )
        parts.append(f"<p>Read more:</p><ul>{links}</ul>")
    if previous is not None:
        day = datetime.fromtimestamp(previous.created_at / 1000, tz=UTC).strftime("%Y/%m/%d")
        parts.append(
            f'<p>Follows <ac:link><ri:blog-post ri:content-title="{escape(previous.title)}" '
            f'ri:posting-day="{day}" /></ac:link>.</p>'
        )
    return "".join(parts)


def _moment(day: tuple[int, int, int]) -> int:
    return int(datetime(*day, 10, tzinfo=UTC).timestamp() * 1000)
