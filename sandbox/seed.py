"""Fill a simulated world with a realistic Confluence site and a GitHub account to sync it into.

Deterministic under `seed`: the same arguments give the same spaces, trees, titles, bodies and attachments.
"""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass, field

from sandbox.content import WORDS, PageContext, render_body
from sandbox.seed_blog import seed_blog
from sandbox.seed_boards import seed_boards
from sandbox.seed_inclusions import seed_inclusions

SITE_NAME = "Acme Sandbox"
SITE_URL = "https://acme-sandbox.atlassian.net"
DEFAULT_ACCOUNT_ID = "557058:00000000-0000-4000-8000-000000000001"
COLLEAGUES = (
    ("557058:0c0ffee0-1111-4000-8000-000000000002", "Grace Hopper", "grace@example.com"),
    ("557058:0c0ffee0-2222-4000-8000-000000000003", "Alan Turing", "alan@example.com"),
    ("557058:0c0ffee0-3333-4000-8000-000000000004", "Ada Lovelace", "ada@example.com"),
)
# The demo's Atlassian account (sandbox.demo.DEMO_ATLASSIAN_ACCOUNT_ID): a member of the group that restricted pages
# name, so they stay readable to the demo connection as to the wizard's (the default account).
DEMO_ACCOUNT_ID = "557058:00000000-0000-4000-8000-00000000de70"
LEADS_GROUP = "engineering-leads"
# Smaller sites (the ones tests seed to count pages) get no restrictions.
RESTRICTIONS_MIN_PAGES = 20
SPACES = (
    ("ENG", "Engineering"),
    ("OPS", "Operations"),
    ("PROD", "Product"),
    ("HR", "People"),
    ("SEC", "Security"),
    ("DATA", "Data Platform"),
    ("MKT", "Marketing"),
    ("FIN", "Finance"),
)
# Every space has these, so titles collide across spaces as they do on real sites.
SHARED_TITLES = ("Onboarding", "Release process", "FAQ", "Meeting notes")
ODD_TITLES = (
    "Release 2.0 / Q3 plan",
    "v1.2.3",
    "..",
    "🚀 Launch checklist",
    "What's new? (2026)",
    "C:\\Program Files\\Tool",
    "Ünïcödé naïve café",
    "<script>alert(1)</script>",
    "Ends with a dot.",
    "#hash & ampersand",
    "a/b/c",
    "100% done",
    "Title  with  double  spaces",
    "Very long title " + "x" * 284,
)
LABELS = ("runbook", "architecture", "how-to", "decision", "draft", "security", "faq", "meeting-notes")
TOPICS = ("Billing", "Search", "Auth", "Payments", "Gateway", "Scheduler", "Notifications", "Storage", "Reports")
FORMS = (
    "{topic} architecture",
    "Runbook: {topic}",
    "How to {word} the {topic} {word2}",
    "{topic} postmortem {n}",
    "{topic} design review {n}",
    "ADR-{n:03d} {topic} {word}",
    "{topic} dashboard",
    "Meeting notes {n}",
)


@dataclass
class SeedSummary:
    cloud_id: str
    site_url: str
    spaces: list[str] = field(default_factory=list)
    pages: int = 0
    attachments: int = 0
    github_repositories: list[str] = field(default_factory=list)
    # Pages the default account can read but that carry a view restriction, their own or an ancestor's.
    restricted_pages: list[str] = field(default_factory=list)
    # Pages the default account cannot read at all.
    unreadable_pages: list[str] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)  # blog posts, restricted ones included
    restricted_posts: list[str] = field(default_factory=list)  # readable by the default account, restricted


def seed_world(world, *, pages: int = 200, spaces: int = 3, seed: int = 0) -> SeedSummary:
    """A site with `spaces` spaces (the first holds about half the pages) and `pages` pages besides homepages."""
    rng = random.Random(seed)
    atlassian = world.atlassian
    if any(site.url == SITE_URL for site in atlassian.sites.values()):
        raise ValueError(f"{SITE_URL} is seeded already; reset the sandbox first")
    _create_people(atlassian)
    site = atlassian.create_site(name=SITE_NAME, url=SITE_URL)
    summary = SeedSummary(cloud_id=site.cloud_id, site_url=site.url)
    keys = [key for key, _ in SPACES[: max(1, min(spaces, len(SPACES)))]]
    for key, name in SPACES[: len(keys)]:
        atlassian.create_space(site.cloud_id, key=key, name=name, emit=False)
    summary.spaces = keys
    for key, count in zip(keys, _split(pages, len(keys)), strict=True):
        _seed_space(atlassian, rng, site.cloud_id, key, count, summary)
    _restrict_pages(atlassian, site.cloud_id, keys[0], summary)
    seed_inclusions(atlassian, site.cloud_id, keys, restricted=summary.restricted_pages + summary.unreadable_pages)
    summary.posts = seed_blog(atlassian, site.cloud_id, keys, restricted=bool(summary.restricted_pages))
    summary.restricted_posts = summary.posts[-1:] if summary.restricted_pages else []
    seed_boards(atlassian, site.cloud_id, keys)
    summary.github_repositories = _seed_github(world.github)
    return summary


def _create_people(atlassian) -> None:
    if DEFAULT_ACCOUNT_ID not in atlassian.users:
        atlassian.create_user(account_id=DEFAULT_ACCOUNT_ID, name="Sandbox User", email="sandbox.user@example.com")
    for account_id, name, email in COLLEAGUES:
        if account_id not in atlassian.users:
            atlassian.create_user(account_id=account_id, name=name, email=email)


def _split(total: int, parts: int) -> list[int]:
    """About half to the first (large) space, the rest shared evenly."""
    if parts == 1:
        return [total]
    large = total // 2 if total >= parts * 2 else total // parts
    rest = total - large
    return [large] + [rest // (parts - 1) + (1 if n < rest % (parts - 1) else 0) for n in range(parts - 1)]


def _titles(rng: random.Random, key: str, count: int) -> list[str]:
    """Unique within the space (Confluence requires it), shared titles and odd ones first."""
    titles = list(SHARED_TITLES) + (list(ODD_TITLES) if key == "ENG" else [])
    seen = set(titles)
    while len(titles) < count:
        title = rng.choice(FORMS).format(
            topic=rng.choice(TOPICS), word=rng.choice(WORDS), word2=rng.choice(WORDS), n=rng.randint(1, 999)
        )
        if title not in seen:
            seen.add(title)
            titles.append(title)
    return titles[:count]


def _seed_space(atlassian, rng: random.Random, cloud_id: str, key: str, count: int, summary: SeedSummary) -> None:
    space = atlassian.space_by_key(cloud_id, key)
    others = [
        (s.key, p.title)
        for s in atlassian.site_spaces(cloud_id)
        if s.key != key
        for p in (atlassian.pages[str(i)] for i in atlassian.space_page_ids[s.id][:20])
    ]
    created = [atlassian.pages[space.homepage_id]]
    people = [DEFAULT_ACCOUNT_ID] + [c[0] for c in COLLEAGUES]
    for title in _titles(rng, key, count):
        # Prefer recent parents, so trees grow deep as well as wide.
        parent = rng.choice(created[-8:]) if rng.random() < 0.7 else rng.choice(created)
        images, files = _attachment_names(rng)
        context = PageContext(
            title=title,
            space_key=key,
            same_space_titles=[p.title for p in created[-30:]],
            other_space_pages=others,
            account_ids=people,
            images=images,
            files=files,
        )
        atlassian.clock.advance(minutes=rng.randint(1, 90))
        page = atlassian.create_page(
            cloud_id,
            space_key=key,
            title=title,
            body=render_body(rng, context),
            parent_id=parent.id,
            author_id=rng.choice(people),
            labels=rng.sample(LABELS, k=rng.randint(0, 3)),
            emit=False,
        )
        summary.attachments += _attach(atlassian, rng, page.id, images, files)
        if rng.random() < 0.2:
            atlassian.update_page(
                page.id, body=page.body + "<p>Updated after review.</p>", message="review", emit=False
            )
        created.append(page)
        summary.pages += 1


def _restrict_pages(atlassian, cloud_id: str, key: str, summary: SeedSummary) -> None:
    """View restrictions as a real site has them, in the first space: one page restricted to people and a group (its
    descendants are restricted only through it), one to a group, and one page the default account cannot read.

    Chosen without the seed's random numbers and after every page exists, so the rest of the site stays the same.
    """
    space = atlassian.space_by_key(cloud_id, key)
    pages = [atlassian.pages[str(i)] for i in atlassian.space_page_ids[space.id]]
    if len(pages) < RESTRICTIONS_MIN_PAGES:
        return
    grace, alan = COLLEAGUES[0][0], COLLEAGUES[1][0]
    if atlassian.group_named(LEADS_GROUP) is None:
        atlassian.create_group(LEADS_GROUP, members=[DEFAULT_ACCOUNT_ID, DEMO_ACCOUNT_ID, grace])
    taken: set[str] = set()

    def pick(*, with_children: bool):
        # The newest fitting page outside (and above nothing of) what is restricted already.
        for page in reversed(pages):
            if page.id == space.homepage_id or bool(page.child_ids) != with_children:
                continue
            subtree = {page.id, *(p.id for p in atlassian.descendants(page))}
            if not (subtree | {a.id for a in atlassian.ancestors(page)}) & taken:
                taken.update(subtree)
                return page
        return None

    people = pick(with_children=True)
    if people:
        atlassian.restrict_page(people.id, users=[DEFAULT_ACCOUNT_ID, grace], groups=[LEADS_GROUP], emit=False)
    group = pick(with_children=True)
    if group:
        atlassian.restrict_page(group.id, groups=[LEADS_GROUP], emit=False)
        atlassian.restrict_page(group.id, operation="update", users=[grace], emit=False)
    private = pick(with_children=False)
    if private:
        atlassian.restrict_page(private.id, users=[alan], emit=False)
    for page in atlassian.pages.values():
        if page.cloud_id != cloud_id or not atlassian.restricted_by(page):
            continue
        readable = atlassian.can_read(DEFAULT_ACCOUNT_ID, page)
        (summary.restricted_pages if readable else summary.unreadable_pages).append(page.id)


def _attachment_names(rng: random.Random) -> tuple[list[str], list[str]]:
    if rng.random() > 0.15:
        return [], []
    images = [f"diagram-{rng.randint(1, 9)}.png"]
    files = [rng.choice(["notes.txt", "spec.pdf", "export.csv"])]
    return images, files


def _attach(atlassian, rng: random.Random, page_id: str, images: list[str], files: list[str]) -> int:
    for name in images:
        atlassian.add_attachment(page_id, filename=name, data=png(rng), media_type="image/png", emit=False)
    for name in files:
        data, media_type = {
            "notes.txt": (f"Notes: {' '.join(rng.sample(WORDS, 5))}\n".encode(), "text/plain"),
            "spec.pdf": (pdf(rng), "application/pdf"),
            "export.csv": (b"id,title\n1,alpha\n2,beta\n", "text/csv"),
        }[name]
        atlassian.add_attachment(page_id, filename=name, data=data, media_type=media_type, emit=False)
    if images and rng.random() < 0.3:
        # A second version of the same file, as when someone re-uploads a diagram.
        atlassian.add_attachment(page_id, filename=images[0], data=png(rng), media_type="image/png", emit=False)
    return len(images) + len(files)


def png(rng: random.Random, size: int = 8) -> bytes:
    """A small valid PNG of one random colour."""
    colour = bytes(rng.randrange(256) for _ in range(3))
    raw = b"".join(b"\x00" + colour * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def pdf(rng: random.Random) -> bytes:
    """Enough of a PDF for media-type sniffing and byte-exact round trips."""
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% " + str(rng.random()).encode() + b"\n%%EOF\n"


def _seed_github(github) -> list[str]:
    """The account the site syncs into: a user, their organization, and two empty repositories."""
    github.create_user("sandbox-user", name="Sandbox User", email="sandbox.user@example.com")
    github.create_org("acme-sandbox", owners=["sandbox-user"])
    repositories = [("acme-sandbox", "confluence-docs", True), ("sandbox-user", "notes", False)]
    for owner, name, private in repositories:
        github.create_repository(owner, name, private=private, default_branch="main")
    return [f"{owner}/{name}" for owner, name, _ in repositories]
