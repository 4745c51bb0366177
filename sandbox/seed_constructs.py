"""The construct tour in a seeded site: a page tree in the first space whose bodies use every construct the converter
carries (`sandbox.construct_pages`), the files its embeds show, a page of shared files in the second space, and a
colleague who has since closed their account and one whose account was deactivated.

Seeded once (a second call finds the tour and does nothing), without the seed's random numbers, after the rest of
the site exists, and without Forge events: like the rest of the seed, it is there before anything syncs.
"""

from __future__ import annotations

import io
import random
import zipfile
from dataclasses import dataclass, field
from functools import partial

from sandbox import construct_pages as tour_pages
from sandbox.atlassian.users import deactivate_account
from sandbox.seed import COLLEAGUES, DEFAULT_ACCOUNT_ID, pdf, png

# A colleague the tour mentions who has closed their Atlassian account since: mentions show "Former user".
FORMER_COLLEAGUE = ("557058:0c0ffee0-5555-4000-8000-000000000006", "Edsger Dijkstra", "edsger@example.com")
# A colleague the tour mentions whose account an admin deactivated since: mentions show "Barbara Liskov (deactivated)".
DEACTIVATED_COLLEAGUE = ("557058:0c0ffee0-6666-4000-8000-000000000007", "Barbara Liskov", "barbara@example.com")
OFFICE_TYPES = {
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "word/document.xml"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xl/workbook.xml"),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "ppt/presentation.xml"),
}
TOUR_LABELS = ("tour",)


@dataclass
class SeededTour:
    """What the tour holds, for the tests that check a sync of it: page ids by title, files as (page id, name)."""

    pages: dict[str, str] = field(default_factory=dict)
    files: list[tuple[str, str]] = field(default_factory=list)
    people: dict[str, str] = field(default_factory=dict)  # account id → name, of the active people mentioned
    closed: tuple[str, str] = ("", "")  # the closed account's id and its name before it closed
    deactivated: tuple[str, str] = ("", "")  # the deactivated account's id and name


def seed_constructs(atlassian, cloud_id: str) -> SeededTour | None:
    """Seed the tour into the site's first space (and its second, if any); None when it is there already."""
    spaces = atlassian.site_spaces(cloud_id)
    if not spaces or _find(atlassian, spaces[0], tour_pages.TOUR) is not None:
        return None
    first, second = spaces[0], spaces[1] if len(spaces) > 1 else spaces[0]
    seeded = SeededTour(
        people=_people(atlassian),
        closed=_close_former_colleague(atlassian),
        deactivated=_deactivate_colleague(atlassian),
    )
    rng = random.Random(f"{first.key}/{tour_pages.TOUR}")  # the files' bytes only: the rest needs no randomness
    shared = _page(atlassian, seeded, cloud_id, second, tour_pages.SHARED, "<p>Files other spaces show.</p>")
    for name in tour_pages.SHARED_FILES:
        _attach(atlassian, rng, seeded, shared.id, name)
    tour = _page(atlassian, seeded, cloud_id, first, tour_pages.TOUR, "")
    refs = tour_pages.Tour(
        space=first.key,
        other_space=second.key,
        shared_id=shared.id,
        tour_id=tour.id,
        people=tuple(seeded.people),
        closed=seeded.closed[0],
        deactivated=seeded.deactivated[0],
    )
    atlassian.update_page(tour.id, body=tour_pages.tour_body(refs), message="tour", emit=False)
    _seed_children(atlassian, rng, seeded, cloud_id, first, tour.id, refs)
    return seeded


def _seed_children(atlassian, rng, seeded: SeededTour, cloud_id: str, space, tour_id: str, refs) -> None:
    make = partial(_page, atlassian, seeded, cloud_id, space)
    make(tour_pages.PEOPLE, tour_pages.people_body(refs), parent_id=tour_id)
    lists = make(tour_pages.LISTS, tour_pages.lists_body(refs), parent_id=tour_id)
    items = [
        make(title, f"<p>{title}, listed by the page lists.</p>", parent_id=lists.id) for title in tour_pages.LIST_ITEMS
    ]
    make(tour_pages.LIST_DETAIL, "<p>One level further down.</p>", parent_id=items[-1].id)
    embeds = make(tour_pages.EMBEDS, tour_pages.embeds_body(refs), parent_id=tour_id)
    names = [name for _, name in tour_pages.EMBEDDED] + list(tour_pages.GALLERY)
    names += [tour_pages.DRAWIO, f"{tour_pages.DRAWIO}.png", tour_pages.GLIFFY, f"{tour_pages.GLIFFY}.png"]
    for name in dict.fromkeys(names):
        _attach(atlassian, rng, seeded, embeds.id, name)
    links = make(tour_pages.LINKS, tour_pages.links_body(refs), parent_id=tour_id)
    for name in ("release-notes.txt", "thumb.png"):
        _attach(atlassian, rng, seeded, links.id, name)
    macros = make(tour_pages.MACROS, tour_pages.macros_body(refs), parent_id=tour_id)
    _attach(atlassian, rng, seeded, macros.id, "spec 1.2.pdf")
    make(tour_pages.EMOTICONS, tour_pages.emoticons_body(refs), parent_id=tour_id)
    make(tour_pages.MALFORMED, tour_pages.malformed_body(refs), parent_id=tour_id)
    folder = atlassian.create_folder(cloud_id, space_key=space.key, title=tour_pages.FOLDER, parent_id=tour_id)
    make(tour_pages.IN_FOLDER, "<p>Kept in a Confluence folder: here, a directory.</p>", parent_id=folder.id)
    for kind, title in tour_pages.BOARDS:
        atlassian.create_board(cloud_id, kind=kind, space_key=space.key, title=title, parent_id=tour_id, emit=False)


def _find(atlassian, space, title: str):
    pages = (atlassian.pages[str(pid)] for pid in atlassian.space_page_ids[space.id])
    return next((page for page in pages if page.title == title), None)


def _page(atlassian, seeded: SeededTour, cloud_id: str, space, title: str, body: str, *, parent_id=None):
    atlassian.clock.advance(minutes=5)  # apart in time, so "recently updated" has an order to show
    page = atlassian.create_page(
        cloud_id,
        space_key=space.key,
        title=title,
        body=body,
        parent_id=parent_id or space.homepage_id,
        labels=TOUR_LABELS if title.startswith(("Tour", tour_pages.TOUR)) else (),
        emit=False,
    )
    seeded.pages[title] = page.id
    return page


def _people(atlassian) -> dict[str, str]:
    """The seeded colleagues first, then the sandbox's default account: the people the tour mentions."""
    ids = [account_id for account_id, _, _ in COLLEAGUES] + [DEFAULT_ACCOUNT_ID]
    return {account_id: atlassian.users[account_id].name for account_id in ids if account_id in atlassian.users}


def _close_former_colleague(atlassian) -> tuple[str, str]:
    account_id, name, email = FORMER_COLLEAGUE
    if account_id not in atlassian.users:
        atlassian.create_user(account_id=account_id, name=name, email=email)
        atlassian.close_account(account_id)
    return account_id, name


def _deactivate_colleague(atlassian) -> tuple[str, str]:
    account_id, name, email = DEACTIVATED_COLLEAGUE
    if account_id not in atlassian.users:
        atlassian.create_user(account_id=account_id, name=name, email=email)
        deactivate_account(atlassian, account_id)
    return account_id, name


def _attach(atlassian, rng: random.Random, seeded: SeededTour, page_id: str, name: str) -> None:
    data, media_type = file_content(rng, name)
    atlassian.add_attachment(page_id, filename=name, data=data, media_type=media_type, emit=False)
    seeded.files.append((page_id, name))


def file_content(rng: random.Random, name: str) -> tuple[bytes, str]:
    """Bytes that are what the name says, for media-type sniffing and byte-exact round trips."""
    lowered = name.lower()
    suffix = lowered[lowered.rfind(".") :] if "." in lowered else ""
    if suffix == ".png":
        return png(rng), "image/png"
    if suffix == ".pdf":
        return pdf(rng), "application/pdf"
    if suffix in OFFICE_TYPES:
        media_type, part = OFFICE_TYPES[suffix]
        return office_file(part, name), media_type
    if suffix == ".mp4":
        # An ISO base media file's first box; enough for a player to recognise, not to play.
        return b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "video/mp4"
    if suffix == ".txt":
        return f"{name}: written for the construct tour.\n".encode(), "text/plain"
    # A draw.io or Gliffy diagram's own file (no suffix): the XML its app saves.
    return f'<mxfile><diagram name="{name}"/></mxfile>'.encode(), "application/vnd.jgraph.mxfile"


def office_file(part: str, name: str) -> bytes:
    """A small Office Open XML package: a zip with fixed timestamps, so the bytes are the same every time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for path, text in (("[Content_Types].xml", "<Types/>"), (part, f"<document>{name}</document>")):
            package.writestr(zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()
