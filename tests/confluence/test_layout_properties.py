"""Property tests for the path layout: any titles, any tree, any filename give safe, unique, stable paths that
check out on Windows, macOS and Linux (unique ignoring case and normalisation, within the length limits)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confluence.sync.layout import Node, attachment_path, attachment_paths, page_paths
from confluence.sync.safe_names import MAX_COMPONENT_BYTES, MAX_PATH_UNITS, collision_key, is_safe, utf16_units

# Each property runs hundreds of examples: seconds a test.
pytestmark = pytest.mark.slow

BOUNDED = settings(max_examples=200, deadline=None)

nasty = st.sampled_from(
    [
        "..",
        ".",
        "/",
        "\\",
        "a/../../etc/passwd",
        "\x00",
        "nul\x00.md",
        "\u202etxt.exe",
        "\u200f\u05e9\u05dc\u05d5\u05dd",  # RLM + Hebrew
        "😀🚀",
        "CON",
        "nul.txt",
        "Lpt1",
        "COM¹",
        "CONIN$",
        "   ",
        "\t\n",
        "...",
        "page-1",
        "Page 1",
        "a--2",
        "x" * 10_000,
        "é" * 5_000,
        "😀" * 3_000,
        "ǖ" * 200,  # two UTF-8 bytes, three UTF-16 units once decomposed (HFS+)
        "한" * 200,
    ]
)
titles = st.one_of(
    nasty,
    st.text(max_size=60),
    st.text(alphabet="aA-. _/", max_size=8),
    st.text(alphabet="aAéÉ\u0301ßSsǖ한글 ", max_size=120),  # case, NFD, ß/SS, long decompositions, Hangul
    st.integers(2, 30).map(lambda n: "Long title " * n),
)
# Confluence space keys: letters and digits, or "~" + an account id for personal spaces.
space_keys = st.sampled_from(["ENG", "DOCS", "~5570584cc8b9d2", "~557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", "A1"])


@st.composite
def trees(draw, max_pages: int = 25, loops: bool = False):
    """Pages with ids 1…n; each page's parent is an earlier page (any space), a missing page, or none; with
    `loops`, any page at all (itself, or one that makes a cycle: stale parent data mixed with fresh)."""
    count = draw(st.integers(1, max_pages))
    nodes = {}
    for number in range(1, count + 1):
        page_id = str(number)
        parent = draw(st.one_of(st.none(), st.integers(1, count if loops else number).map(str), st.just("999999")))
        parent = None if parent == page_id and not loops else parent
        nodes[page_id] = Node(id=page_id, title=draw(titles), space_key=draw(space_keys), parent_id=parent)
    return nodes


@st.composite
def deep_trees(draw):
    """Chains of long titles in one space, with siblings along the way: the paths that outgrow the limit."""
    depth = draw(st.integers(1, 30))
    space_key = draw(space_keys)
    nodes, parent = {}, None
    for number in range(1, depth + 1):
        page_id = str(number)
        nodes[page_id] = Node(id=page_id, title=draw(titles), space_key=space_key, parent_id=parent)
        parent = draw(st.sampled_from([page_id, parent or page_id]))
    return nodes


def components(path: str) -> list[str]:
    return path.split("/")


@BOUNDED
@given(trees())
def test_it_makes_every_page_path_safe(nodes):
    paths = page_paths(nodes)

    assert set(paths) == set(nodes)
    assert all(is_safe(path) for path in paths.values()), paths


@BOUNDED
@given(trees(loops=True))
def test_it_places_every_page_when_parents_loop(nodes):
    paths = page_paths(nodes)

    assert set(paths) == set(nodes)
    assert all(is_safe(path) for path in paths.values())
    assert len(set(paths.values())) == len(paths)


@BOUNDED
@given(trees())
def test_it_makes_page_paths_unique_ignoring_case_and_normalisation(nodes):
    paths = page_paths(nodes)

    assert len({collision_key(path) for path in paths.values()}) == len(paths)


@BOUNDED
@given(trees())
def test_it_keeps_every_component_within_255_bytes(nodes):
    paths = page_paths(nodes)

    assert all(len(part.encode()) <= MAX_COMPONENT_BYTES for path in paths.values() for part in components(path))


@BOUNDED
@given(deep_trees())
def test_it_keeps_deep_trees_within_the_path_limit(nodes):
    paths = page_paths(nodes)

    assert all(utf16_units(path) <= MAX_PATH_UNITS and is_safe(path) for path in paths.values()), paths
    assert len({collision_key(path) for path in paths.values()}) == len(paths)


@BOUNDED
@given(deep_trees())
def test_it_puts_a_page_in_its_parents_folder_or_an_ancestors(nodes):
    paths = page_paths(nodes)

    for node in nodes.values():
        if node.parent_id is not None:
            parent_folder = paths[node.parent_id].removesuffix(".md")
            assert f"{parent_folder}/".startswith(paths[node.id].rsplit("/", 1)[0] + "/")


@BOUNDED
@given(trees(), titles, st.integers(0, 25))
def test_it_keeps_every_page_path_when_a_new_page_arrives(nodes, title, parent):
    before = page_paths(nodes)
    new = Node(id="123456", title=title, space_key=nodes["1"].space_key, parent_id=str(parent) if parent else None)

    after = page_paths({**nodes, new.id: new})

    assert {page_id: after[page_id] for page_id in before} == before


@BOUNDED
@given(trees())
def test_it_gives_the_same_paths_for_the_same_pages(nodes):
    assert page_paths(nodes) == page_paths(dict(reversed(nodes.items())))


@BOUNDED
@given(trees(), titles)
def test_it_keeps_paths_when_a_page_appears_in_another_space(nodes, title):
    before = page_paths(nodes)
    other = Node(id="123456", title=title, space_key="OTHER", parent_id=None)

    after = page_paths({**nodes, other.id: other})

    assert {page_id: after[page_id] for page_id in before} == before


colliding = st.sampled_from(
    [
        "Report-V1.txt",
        "report-v1.txt",
        "REPORT-V1.TXT",
        "report:v1.txt",
        "report-v1--att3.txt",
        "CON.png",
        "con.PNG",
        "CON.tar.gz",
        "..",
        "",
        "café.png",
        "cafe\u0301.png",
        "Straße.pdf",
        "STRASSE.pdf",
        "Architecture.png",
        "x" * 400 + ".pdf",
    ]
)
filenames = st.one_of(colliding, nasty, st.text(max_size=300))
page_ids = st.one_of(st.integers(1, 10**12).map(str), nasty)


@st.composite
def listings(draw):
    """One page's attachments: unique ids ("att" + a number, as Confluence's), any names, repeats included."""
    numbers = draw(st.lists(st.integers(1, 10**9), min_size=1, max_size=12, unique=True))
    return {f"att{number}": draw(filenames) for number in numbers}


def age(attachment_id: str):
    return (len(attachment_id), attachment_id)


@BOUNDED
@given(filenames, space_keys, page_ids)
def test_it_makes_every_attachment_path_safe(filename, space_key, page_id):
    path = attachment_path(space_key=space_key, page_id=page_id, filename=filename)

    assert is_safe(path), path


@BOUNDED
@given(filenames, space_keys)
def test_it_gives_the_same_attachment_path_for_the_same_file(filename, space_key):
    first = attachment_path(space_key=space_key, page_id="42", filename=filename)

    assert attachment_path(space_key=space_key, page_id="42", filename=filename) == first


@BOUNDED
@given(listings(), space_keys, page_ids)
def test_it_gives_a_pages_attachments_safe_paths_unique_ignoring_case(files, space_key, page_id):
    paths = attachment_paths(files, space_key=space_key, page_id=page_id)

    assert set(paths) == set(files)
    assert all(is_safe(path) for path in paths.values()), paths
    assert len({collision_key(path) for path in paths.values()}) == len(files), paths


@BOUNDED
@given(listings())
def test_it_links_an_attachment_by_its_name_unless_an_older_one_holds_that_path(files):
    paths = attachment_paths(files, space_key="ENG", page_id="42")

    for attachment_id, filename in files.items():
        alone = attachment_path(space_key="ENG", page_id="42", filename=filename)
        older = {collision_key(paths[a]) for a in files if age(a) < age(attachment_id)}
        if collision_key(alone) not in older:
            assert paths[attachment_id] == alone


@BOUNDED
@given(listings(), filenames)
def test_it_keeps_every_attachment_path_when_a_new_attachment_arrives(files, filename):
    before = attachment_paths(files, space_key="ENG", page_id="42")

    after = attachment_paths({**files, "att9999999999": filename}, space_key="ENG", page_id="42")

    assert {a: after[a] for a in files} == before


@BOUNDED
@given(st.text(alphabet="abcXYZ-_ é0", min_size=1, max_size=40), st.sampled_from(["png", "PDF", "tar.gz", "md"]))
def test_it_keeps_a_plain_name_and_every_files_extension(stem, extension):
    filename = f"{stem.strip(' -')}x.{extension}"
    files = {"att1": filename, "att2": filename.upper(), "att3": filename.replace("x.", ":x.")}

    paths = attachment_paths(files, space_key="ENG", page_id="42")

    assert paths["att1"] == f"confluence/ENG/_attachments/42/{filename}"
    assert len({collision_key(path) for path in paths.values()}) == 3
    assert all(path.casefold().endswith("." + extension.casefold().rsplit(".", 1)[-1]) for path in paths.values())
