"""Nothing under tests/ or bench/ reaches outside the repository, so a plain clone runs the suite and the benches.

Facts from third-party material live in tests/fixtures/ with their source named in tests/fixtures/SOURCES.md.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("tests", "bench")
NOT_SOURCE = {"__pycache__", ".pytest_cache", ".hypothesis"}

# The patterns use character classes and lookarounds so that this file's own source never matches them: the scan
# covers this file too, with no exception.
OUTSIDE = [
    (re.compile(r"\.\.[/\\]shared\b"), "a path into the folder beside the repository"),
    (re.compile(r"\bshared[/\\](?:corpus|eval)\b"), "a path into the team's corpus or evaluation scripts"),
    # Not preceded by a host or a path ("https://example.com/work/" is a URL, "a/work" is relative).
    (re.compile(r"(?<![\w./-])/work(?=[/\\\s\"'`]|$)"), "an absolute path on the team's machines"),
]
CLIMB = re.compile(r"Path\(__file__\)(?:\.(?:resolve|absolute)\(\))?((?:\.parents?\b(?:\[\d+\])?)+)")
CLIMB_STEP = re.compile(r"\.parents\[(\d+)\]|\.parent\b")
DIRNAME_CLIMB = re.compile(r"((?:os\.path\.dirname\(\s*)+)(?:os\.path\.(?:abspath|realpath)\(\s*)?__file__")


def levels_climbed(chain: str) -> int:
    """How far `.parent` / `.parents[N]` steps go up from the file: `.parent` is one level, `.parents[N]` is N + 1."""
    return sum(int(index) + 1 if index else 1 for index in CLIMB_STEP.findall(chain))


def climbs_in(line: str) -> list[int]:
    found = [levels_climbed(match.group(1)) for match in CLIMB.finditer(line)]
    found += [match.group(1).count("dirname(") for match in DIRNAME_CLIMB.finditer(line)]
    return found


def reasons(line: str, depth: int) -> list[str]:
    """Why `line`, in a file `depth` levels below the repository root, reaches outside the repository."""
    found = [why for pattern, why in OUTSIDE if pattern.search(line)]
    # From tests/x/y.py (depth 3), climbing 3 levels reaches the root; one more leaves the repository.
    found += [
        f"climbs {levels} levels from a file {depth} levels below the repository root"
        for levels in climbs_in(line)
        if levels > depth
    ]
    return found


def outside_references(relative: str, text: str) -> list[str]:
    """Each line of `text`, the file at `relative`, that reaches outside the repository, as "path:line: why: line"."""
    depth = len(Path(relative).parts)
    return [
        f"{relative}:{number}: {why}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), start=1)
        for why in reasons(line, depth)
    ]


def listed_by_git() -> list[str]:
    """Tracked files plus new ones not ignored, so a file is checked before it is committed; [] outside a checkout."""
    try:
        result = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *SCANNED],
            capture_output=True,
            check=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    listed = result.stdout.decode().split("\0")
    # --cached still lists a file deleted from the working tree but not yet from the index.
    return sorted(path for path in listed if path and (ROOT / path).is_file())


def walked() -> list[str]:
    """The files under the scanned folders, for a copy of the repository without its .git folder."""
    return sorted(
        path.relative_to(ROOT).as_posix()
        for folder in SCANNED
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and not NOT_SOURCE & set(path.parts)
    )


def scanned_files() -> list[str]:
    return listed_by_git() or walked()


def text_of(path: Path) -> str | None:
    """The file's text, or None for a binary file."""
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None


def test_it_finds_nothing_under_tests_or_bench_that_reaches_outside_the_repository():
    found = []
    for relative in scanned_files():
        text = text_of(ROOT / relative)
        if text is not None:
            found += outside_references(relative, text)
    assert found == [], "Keep what these need under tests/fixtures/ instead:\n" + "\n".join(found)


def test_it_scans_every_file_under_tests_and_bench():
    files = scanned_files()
    assert {"tests/conftest.py", "tests/test_self_contained.py", "bench/webhook.py"} <= set(files)
    assert "tests/fixtures/atlassian/v2/spaces.json" in files


def test_it_walks_the_same_files_git_lists():
    assert set(listed_by_git()) <= set(walked())
    assert "tests/conftest.py" in walked()


def test_it_flags_a_path_into_the_folder_beside_the_repository():
    line = 'CORPUS = ROOT / "' + "/".join(["..", "shared", "notes.md"]) + '"'
    assert outside_references("tests/test_x.py", line) == [
        f"tests/test_x.py:1: a path into the folder beside the repository: {line}"
    ]


@pytest.mark.parametrize("folder", ["corpus", "eval"])
def test_it_flags_the_corpus_and_evaluation_folders(folder):
    line = "data = " + "/".join(["shared", folder, "api", "x.json"])
    assert outside_references("bench/x.py", line) == [
        f"bench/x.py:1: a path into the team's corpus or evaluation scripts: {line}"
    ]


def test_it_flags_an_absolute_path_on_the_team_machines():
    line = 'open("' + "/".join(["", "work", "main", "x.json"]) + '")'
    assert outside_references("tests/test_x.py", line) == [
        f"tests/test_x.py:1: an absolute path on the team's machines: {line}"
    ]


@pytest.mark.parametrize(
    "line",
    [
        "connections to the shared in-memory SQLite database",
        '"""Fixtures shared by the whole suite."""',
        "see https://example.com/work/shared/x and a/work/y",
        "WORKSPACE = " + "/".join(["", "workspace", "x"]),
        '"a/../../etc/passwd"',
        '"](../_attachments/flow.png)"',
    ],
)
def test_it_allows_words_and_paths_that_stay_inside(line):
    assert outside_references("tests/test_x.py", line) == []


def test_it_reports_the_file_and_line():
    line = "ROOT = Path(__file__).parents[" + "5]"
    found = outside_references("tests/sandbox/test_x.py", "import os\n\n" + line + "\n")
    assert found == [
        f"tests/sandbox/test_x.py:3: climbs 6 levels from a file 3 levels below the repository root: {line}"
    ]


@pytest.mark.parametrize(
    ("relative", "index", "inside"),
    [("tests/x/y.py", 2, True), ("tests/x/y.py", 3, False), ("tests/y.py", 1, True), ("tests/y.py", 2, False)],
)
def test_it_flags_parents_only_above_the_repository_root(relative, index, inside):
    line = "ROOT = Path(__file__).resolve().parents[" + f"{index}]"
    assert (outside_references(relative, line) == []) is inside


@pytest.mark.parametrize(
    ("chain", "inside"),
    [
        (".parent" * 2, True),
        (".parent" * 3, False),
        (".parents[0]" + ".parent", True),
        (".parents[1]" + ".parent", False),
    ],
)
def test_it_counts_chained_parents(chain, inside):
    line = "ROOT = Path(__file__).resolve()" + chain
    assert (outside_references("bench/x.py", line) == []) is inside


@pytest.mark.parametrize(("count", "inside"), [(2, True), (3, False)])
def test_it_counts_nested_dirnames(count, inside):
    line = "ROOT = " + "os.path.dirname(" * count + "os.path.abspath(__file__)" + ")" * (count + 1)
    assert (outside_references("bench/x.py", line) == []) is inside
