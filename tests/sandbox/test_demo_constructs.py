"""The demo's construct tour synced through the sandbox: every construct of real pages arrives as Markdown, with the
people named, the page lists listed, the embedded files in the repository and no storage markup left over."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote

import pytest

from confluence.models import SyncRun
from confluence.sync.queue import enqueue_sync
from confluence.tasks import run_sync
from sandbox import construct_pages, demo
from sandbox.seed import COLLEAGUES, DEFAULT_ACCOUNT_ID, seed_world
from sandbox.seed_constructs import DEACTIVATED_COLLEAGUE, FORMER_COLLEAGUE, seed_constructs

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

LEFTOVERS = re.compile(r"<ac:|</ac:|<ri:|CDATA\[|@user-")
LOCAL_LINK = re.compile(r"\]\((?!https?://|#)([^)\s]+)\)|<img src=\"(?!https?://)([^\"]+)\"")


@pytest.fixture
def synced(sandbox, alice):
    """The demo world at test size, set up by `build_demo` (which seeds the tour) and synced once."""
    seed_world(sandbox, pages=30, spaces=3)
    connection = demo.build_demo(sandbox, user=alice)
    run = enqueue_sync(connection, trigger=SyncRun.Trigger.COMMAND)
    run_sync(run.pk)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    owner, name = demo.DEMO_REPOSITORY.split("/")
    files = sandbox.github.read_tree(owner, name, "main")
    return sandbox, files


def tour_files(files: dict[str, bytes]) -> dict[str, tuple[str, str]]:
    """The tour's Markdown files, (path, text) by title (front matter `title:`)."""
    pages = {}
    for path, data in files.items():
        text = data.decode() if path.endswith(".md") else ""
        title = re.search(r"^title: ['\"]?(.*?)['\"]?$", text, re.M)
        if title and (title.group(1).startswith("Tour") or title.group(1) == construct_pages.TOUR):
            pages[title.group(1)] = (path, text)
    return pages


def test_it_seeds_the_tour_once(sandbox):
    seed_world(sandbox, pages=5, spaces=2)
    cloud_id = next(iter(sandbox.atlassian.sites))

    assert seed_constructs(sandbox.atlassian, cloud_id) is not None
    assert seed_constructs(sandbox.atlassian, cloud_id) is None
    titles = [page.title for page in sandbox.atlassian.pages.values()]
    assert titles.count(construct_pages.TOUR) == 1


def test_it_leaves_no_storage_markup_or_raw_account_id_in_the_repository(synced):
    _, files = synced
    markdown = {path: data.decode() for path, data in files.items() if path.endswith(".md")}
    assert [path for path, text in markdown.items() if LEFTOVERS.search(text)] == []
    assert [path for path, text in markdown.items() if "listed in Confluence" in text] == []


def test_it_names_every_person_the_tour_mentions_and_not_the_closed_account(synced):
    world, files = synced
    people = tour_files(files)[construct_pages.PEOPLE][1]
    for name in _colleague_names(world):
        assert f"[@{name}](" in people
    assert "Former user" in people and FORMER_COLLEAGUE[1] not in people
    assert "unknown user" not in people


def test_the_closed_account_leaves_no_id_anywhere_in_the_repository(synced):
    _, files = synced
    people = tour_files(files)[construct_pages.PEOPLE][1]
    assert "Since left the company: Former user." in people
    closed_uuid = FORMER_COLLEAGUE[0].split(":")[1].encode()  # the id's colon is percent-encoded in links
    assert [path for path, content in files.items() if closed_uuid in content] == []


def test_the_deactivated_person_keeps_a_name_that_says_so_linked_to_the_profile(synced):
    _, files = synced
    people = tour_files(files)[construct_pages.PEOPLE][1]
    account_id, name, _ = DEACTIVATED_COLLEAGUE
    profile = "/wiki/people/" + account_id.replace(":", "%3A")
    assert f"[@{name} (deactivated)](" in people and profile in people
    assert f"[@{name}](" not in people


def test_it_lists_the_in_scope_pages_the_page_lists_name(synced):
    _, files = synced
    tour = tour_files(files)
    lists = tour[construct_pages.LISTS][1]
    for title in (*construct_pages.LIST_ITEMS, construct_pages.LIST_DETAIL):
        assert f"[{title}](" in lists
    assert f"[{construct_pages.PEOPLE}](" in tour[construct_pages.TOUR][1]


def test_each_embedded_file_is_linked_and_in_the_repository(synced):
    _, files = synced
    tour = tour_files(files)
    embedded = [name for _, name in construct_pages.EMBEDDED] + list(construct_pages.GALLERY)
    embedded += [f"{construct_pages.DRAWIO}.png", f"{construct_pages.GLIFFY}.png"]
    path, text = tour[construct_pages.EMBEDS]
    linked = _local_targets(path, text)
    for name in [*embedded, *construct_pages.SHARED_FILES]:
        held = [target for target in linked if posixpath.basename(target) == name]
        assert held, f"{name} is not linked into the repository"
        assert all(target in files for target in held), f"{name} is linked but not in the repository"


def test_it_shows_each_emoticon_as_a_character_and_an_unknown_one_by_name(synced):
    _, files = synced
    emoticons = tour_files(files)[construct_pages.EMOTICONS][1]
    shown = [f":{name}:" for name in construct_pages.DOCUMENTED_EMOTICONS if f":{name}:" in emoticons]
    assert shown == []
    assert "👍" in emoticons and "🚀" in emoticons and ":rocket-dance:" in emoticons


def _local_targets(path: str, text: str) -> list[str]:
    targets = [a or b for a, b in LOCAL_LINK.findall(text)]
    folder = posixpath.dirname(path)
    return [posixpath.normpath(posixpath.join(folder, unquote(target.split("#")[0]))) for target in targets]


def _colleague_names(world) -> list[str]:
    ids = [account_id for account_id, _, _ in COLLEAGUES] + [DEFAULT_ACCOUNT_ID]
    return [world.atlassian.users[account_id].name for account_id in ids]


def test_a_folder_is_a_directory_and_boards_are_listed_on_their_page(synced):
    _, files = synced
    pages = tour_files(files)
    in_folder, _ = pages[construct_pages.IN_FOLDER]
    tour_path, tour_text = pages[construct_pages.TOUR]
    folder_dir = posixpath.dirname(in_folder)
    assert posixpath.basename(folder_dir) == "tour-folder-team-handbook"
    assert posixpath.dirname(folder_dir) == tour_path.removesuffix(".md")  # below the tour, like its pages
    assert f"{folder_dir}.md" not in files  # a folder has no file of its own
    listed = tour_text.split("## In Confluence", 1)[1]
    assert all(title in listed for _, title in construct_pages.BOARDS)
