"""Attachment and page paths through a real sync: names that collide once made safe, or ignoring case, get paths of
their own; deep trees and long names stay within the length limit; every link serves the right bytes."""

import json
import posixpath
import re

import pytest

from confluence.sync.layout import slugify
from confluence.sync.safe_names import MAX_PATH_UNITS, collision_key, is_safe, utf16_units
from tests.confluence.sync_world import front_matter, sync_now, tree

pytestmark = pytest.mark.django_db

LINK = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")


def body_linking(*filenames: str) -> str:
    """A page body with one link per attachment, the link text naming it by position (`file0`, `file1`, …)."""
    return "".join(
        f'<p><ac:link><ri:attachment ri:filename="{name}" />'
        f"<ac:plain-text-link-body><![CDATA[file{n}]]></ac:plain-text-link-body></ac:link></p>"
        for n, name in enumerate(filenames)
    )


def page_with_attachments(world, *filenames: str, title: str = "Files", parent_id: str | None = None):
    """A page under ENG's home that links to each of `filenames`, attached with bytes of their own (oldest first)."""
    page = world.atlassian.create_page(
        world.site.cloud_id,
        space_key="ENG",
        title=title,
        body=body_linking(*filenames),
        parent_id=parent_id or world.pages["home"].id,
        emit=False,
    )
    for n, name in enumerate(filenames):
        world.atlassian.add_attachment(page.id, filename=name, data=contents(n), media_type="text/plain", emit=False)
    return page


def contents(n: int) -> bytes:
    return f"the bytes of attachment {n}\n".encode()


def index_of(world) -> dict:
    return json.loads(tree(world)[".ctx/confluence-index.json"])


def linked_files(world, page_id: str) -> dict[str, bytes | None]:
    """Link text → the bytes the repository holds at the link's target (None: no such file)."""
    files = tree(world)
    path = index_of(world)["pages"][page_id]["path"]
    links = LINK.finditer(files[path].decode())
    return {
        link["text"]: files.get(posixpath.normpath(posixpath.join(posixpath.dirname(path), link["target"])))
        for link in links
    }


def assert_checks_out_everywhere(world):
    paths = [path for path in tree(world) if path.startswith("confluence/")]
    assert all(is_safe(path) for path in paths), [p for p in paths if not is_safe(p)]
    assert len({collision_key(path) for path in paths}) == len(paths)


def test_it_gives_a_device_name_and_dot_dot_files_of_their_own(world, connection):
    page = page_with_attachments(world, "CON.png", "..")

    run = sync_now(connection)

    assert run.status == "succeeded", run.error
    assert linked_files(world, page.id) == {"file0": contents(0), "file1": contents(1)}
    attachments = index_of(world)["pages"][page.id]["attachments"]
    assert attachments[f"{page.id}/CON.png"]["path"].endswith(".png")
    assert attachments[f"{page.id}/CON.png"]["path"] != attachments[f"{page.id}/.."]["path"]
    assert_checks_out_everywhere(world)


def test_it_keeps_a_name_that_becomes_another_once_made_safe_apart(world, connection):
    page = page_with_attachments(world, "report:v1.txt", "report-v1.txt")

    sync_now(connection)

    assert linked_files(world, page.id) == {"file0": contents(0), "file1": contents(1)}
    attachments = index_of(world)["pages"][page.id]["attachments"]
    assert attachments[f"{page.id}/report-v1.txt"]["path"] == f"confluence/ENG/_attachments/{page.id}/report-v1.txt"
    assert attachments[f"{page.id}/report:v1.txt"]["path"].endswith(".txt")
    assert_checks_out_everywhere(world)


def test_it_keeps_names_that_differ_only_by_case_apart(world, connection):
    page = page_with_attachments(world, "Report-V1.txt", "report-v1.txt")

    sync_now(connection)

    assert linked_files(world, page.id) == {"file0": contents(0), "file1": contents(1)}
    attachments = index_of(world)["pages"][page.id]["attachments"]
    older = world.atlassian.pages[page.id].attachment_ids[0]
    younger = world.atlassian.pages[page.id].attachment_ids[1]
    folder = f"confluence/ENG/_attachments/{page.id}"
    assert attachments[f"{page.id}/Report-V1.txt"]["path"] == f"{folder}/Report-V1.txt"
    assert attachments[f"{page.id}/report-v1.txt"]["path"] == f"{folder}/report-v1--{younger}.txt"
    assert attachments[f"{page.id}/Report-V1.txt"]["id"] == older
    assert_checks_out_everywhere(world)


def test_it_writes_nothing_on_a_full_sync_after_case_twins(world, connection):
    page_with_attachments(world, "Report-V1.txt", "report-v1.txt")
    first = sync_now(connection)

    again = sync_now(connection, full=True)

    assert again.status == "succeeded", again.error
    assert again.commit_sha == ""
    assert world.github.head_sha("acme-inc", "wiki") == first.commit_sha


def test_it_keeps_a_files_path_when_a_case_twin_arrives(world, connection):
    page = page_with_attachments(world, "Report-V1.txt")
    sync_now(connection)
    world.atlassian.update_page(page.id, body=body_linking("Report-V1.txt", "report-v1.txt"), emit=False)
    world.atlassian.add_attachment(
        page.id, filename="report-v1.txt", data=contents(1), media_type="text/plain", emit=False
    )

    sync_now(connection)

    assert linked_files(world, page.id) == {"file0": contents(0), "file1": contents(1)}
    assert f"confluence/ENG/_attachments/{page.id}/Report-V1.txt" in tree(world)
    assert_checks_out_everywhere(world)


def test_it_keeps_a_plain_name(world, connection):
    page = page_with_attachments(world, "Architecture.png")

    sync_now(connection)

    assert f"confluence/ENG/_attachments/{page.id}/Architecture.png" in tree(world)
    assert linked_files(world, page.id)["file0"] == contents(0)


def test_it_keeps_a_391_character_path_within_the_limit(world, connection):
    titles = [f"Level {n} of the platform architecture decision records and their review notes" for n in range(5)]
    parent = world.pages["home"].id
    for title in titles[:-1]:
        parent = world.atlassian.create_page(
            world.site.cloud_id, space_key="ENG", title=title, body="<p>level</p>", parent_id=parent, emit=False
        ).id
    long_name = "quarterly-capacity-planning-spreadsheet-" * 4 + "final.xlsx"
    deepest = page_with_attachments(world, long_name, title=titles[-1], parent_id=parent)
    slugs = ["home", *(slugify(t, fallback="") for t in titles)]
    assert len("confluence/ENG/" + "/".join(slugs) + ".md") >= 391  # where the old layout put the deepest page

    run = sync_now(connection)

    assert run.status == "succeeded", run.error
    assert max(utf16_units(path) for path in tree(world)) <= MAX_PATH_UNITS
    assert linked_files(world, deepest.id) == {"file0": contents(0)}
    entry = index_of(world)["pages"][deepest.id]
    assert front_matter(tree(world)[entry["path"]])["ancestors"] == ["Home", *titles[:-1]]
    assert entry["attachments"][f"{deepest.id}/{long_name}"]["path"].endswith(".xlsx")
    assert_checks_out_everywhere(world)


def test_it_keeps_shortened_paths_across_syncs(world, connection):
    parent = world.pages["home"].id
    for n in range(6):
        title = f"{n} " + "deep " * 15
        parent = world.atlassian.create_page(
            world.site.cloud_id, space_key="ENG", title=title, body="<p>x</p>", parent_id=parent, emit=False
        ).id
    sync_now(connection)
    before = {pid: entry["path"] for pid, entry in index_of(world)["pages"].items()}

    world.atlassian.update_page(parent, body="<p>edited</p>", emit=False)
    sync_now(connection, full=True)

    assert {pid: entry["path"] for pid, entry in index_of(world)["pages"].items()} == before


def test_it_links_to_confluence_for_a_file_the_repository_does_not_hold(world, connection):
    page = page_with_attachments(world, "kept.txt", "gone.txt")
    sync_now(connection)
    gone = next(a for a in world.atlassian.attachments.values() if a.page_id == page.id and a.title == "gone.txt")
    world.atlassian.trash_attachment(gone.id, emit=False)
    world.atlassian.update_page(page.id, body=body_linking("kept.txt", "gone.txt", "never-attached.txt"), emit=False)

    sync_now(connection)

    markdown = tree(world)[index_of(world)["pages"][page.id]["path"]].decode()
    assert linked_files(world, page.id)["file0"] == contents(0)
    assert "[file1](https://acme.atlassian.net/wiki/" in markdown
    assert "[file2](https://acme.atlassian.net/wiki/" in markdown
