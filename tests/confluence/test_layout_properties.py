"""Property tests for the path layout: any titles, any tree, any filename give safe, unique, stable paths."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from confluence.layout import MAX_COMPONENT_BYTES, Node, attachment_path, is_safe, page_paths

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
        "   ",
        "\t\n",
        "...",
        "page-1",
        "Page 1",
        "a--2",
        "x" * 10_000,
        "é" * 5_000,
        "😀" * 3_000,
    ]
)
titles = st.one_of(nasty, st.text(max_size=60), st.text(alphabet="aA-. _/", max_size=8))
# Confluence space keys: letters and digits, or "~" + an account id for personal spaces.
space_keys = st.sampled_from(["ENG", "DOCS", "~5570584cc8b9d2", "A1"])


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
def test_it_makes_page_paths_unique(nodes):
    paths = page_paths(nodes)

    assert len(set(paths.values())) == len(paths)
    assert len({path.casefold() for path in paths.values()}) == len(paths)


@BOUNDED
@given(trees())
def test_it_keeps_every_component_within_255_bytes(nodes):
    paths = page_paths(nodes)

    assert all(len(part.encode()) <= MAX_COMPONENT_BYTES for path in paths.values() for part in components(path))


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


@BOUNDED
@given(st.one_of(nasty, st.text(max_size=300)), space_keys, st.one_of(st.integers(1, 10**12).map(str), nasty))
def test_it_makes_every_attachment_path_safe(filename, space_key, page_id):
    path = attachment_path(space_key=space_key, page_id=page_id, filename=filename)

    assert is_safe(path), path
    assert all(len(part.encode()) <= MAX_COMPONENT_BYTES for part in components(path))


@BOUNDED
@given(st.one_of(nasty, st.text(max_size=300)), space_keys)
def test_it_gives_the_same_attachment_path_for_the_same_file(filename, space_key):
    first = attachment_path(space_key=space_key, page_id="42", filename=filename)

    assert attachment_path(space_key=space_key, page_id="42", filename=filename) == first
