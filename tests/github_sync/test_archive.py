"""Reading GitHub's repository archive as hostile input: only regular files at plainly named, listed paths whose
bytes hash to the listed blob sha come out; everything else is passed over, within size bounds."""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from github_sync import archive
from github_sync.archive import ArchiveUnreadable, read_files, repository_path
from github_sync.client import TreeEntry
from github_sync.commit import git_blob_sha

TOP = "acme-docs-1a2b3c4"
FILES = {"README.md": b"# Docs\n", "guide/deploy.md": b"Deploy it.\n", "guide/rollback.md": b"Roll back.\n"}


def entry(path: str, data: bytes) -> TreeEntry:
    return TreeEntry(path, "100644", "blob", git_blob_sha(data), len(data))


WANTED = {path: entry(path, data) for path, data in FILES.items()}


def member(name: str, data: bytes = b"", *, kind: bytes = tarfile.REGTYPE, linkname: str = "", pax=None):
    """A tar member of any type, its header claiming the size of `data` and `data` following it, as a hostile
    archive may have a link or a device carry data."""
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname, info.pax_headers = kind, len(data), linkname, pax or {}
    return info, data


def tar_gz(*members, format=tarfile.PAX_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=format) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def honest(files: dict[str, bytes] = FILES) -> bytes:
    """An archive laid out as git archive (GitHub) lays it out: the top folder, directories, then files."""
    directories = sorted({p.rsplit("/", 1)[0] for p in files if "/" in p})
    return tar_gz(
        member(f"{TOP}/", kind=tarfile.DIRTYPE),
        *(member(f"{TOP}/{d}/", kind=tarfile.DIRTYPE) for d in directories),
        *(member(f"{TOP}/{p}", data) for p, data in files.items()),
    )


def read(body: bytes, wanted=WANTED, *, max_bytes: int = 1 << 20, max_file_bytes: int = 1000) -> dict[str, bytes]:
    stream = io.BytesIO(body)
    return {e.path: data for e, data in read_files(stream, wanted, max_bytes=max_bytes, max_file_bytes=max_file_bytes)}


class Counting:
    """A source stream that counts what is read from it."""

    def __init__(self, body: bytes):
        self.stream, self.consumed = io.BytesIO(body), 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.consumed += len(data)
        return data


def test_it_takes_every_listed_file_of_an_honest_archive():
    assert read(honest()) == FILES


def test_it_takes_only_the_files_asked_for():
    assert read(honest(), {"README.md": WANTED["README.md"]}) == {"README.md": FILES["README.md"]}


@pytest.mark.parametrize(
    "name",
    [
        "README.md",  # no top folder: the name is taken as the top folder, nothing is left
        f"/{TOP}/README.md",
        f"{TOP}/../README.md",
        f"{TOP}/./README.md",
        f"{TOP}//README.md",
        f"{TOP}/guide/../README.md",
        f"{TOP}\\README.md",
        f"{TOP}/guide\\..\\README.md",
    ],
)
def test_a_name_that_is_not_plainly_top_folder_and_path_is_passed_over(name):
    assert read(tar_gz(member(name, FILES["README.md"]))) == {}


@pytest.mark.parametrize(
    "kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE, tarfile.DIRTYPE]
)
def test_links_devices_fifos_and_directories_are_never_content(kind):
    body = tar_gz(member(f"{TOP}/guide/deploy.md", FILES["guide/deploy.md"], kind=kind, linkname="/etc/passwd"))
    assert read(body) == {}


def test_content_that_is_not_the_listed_blob_is_passed_over():
    body = tar_gz(member(f"{TOP}/README.md", b"# Docs!\n"), member(f"{TOP}/guide/deploy.md", b"Deploy it.\n"))
    assert read(body) == {"guide/deploy.md": b"Deploy it.\n"}


def test_a_member_over_the_file_limit_or_of_another_size_is_not_read():
    big = b"x" * 2000
    wanted = {"big.md": entry("big.md", big), "README.md": TreeEntry("README.md", "100644", "blob", "0" * 40, 99)}
    assert read(tar_gz(member(f"{TOP}/big.md", big), member(f"{TOP}/README.md", FILES["README.md"])), wanted) == {}


def test_a_gzip_bomb_stops_at_the_size_bound_long_before_its_end():
    bomb = tar_gz(member(f"{TOP}/zeros.bin", bytes(50_000_000)), member(f"{TOP}/README.md", FILES["README.md"]))
    source = Counting(bomb)

    with pytest.raises(ArchiveUnreadable, match="bound"):
        list(read_files(source, WANTED, max_bytes=1_000_000, max_file_bytes=1000))

    assert source.consumed < len(bomb) / 2


def test_a_header_larger_than_any_real_one_is_refused_whatever_the_size_bound():
    huge_pax = member(f"{TOP}/README.md", FILES["README.md"], pax={"comment": "x" * (3 * archive.HEADER_BYTES)})
    body = tar_gz(member(f"{TOP}/guide/deploy.md", FILES["guide/deploy.md"]), huge_pax)

    found = {}
    with pytest.raises(ArchiveUnreadable, match="bound"):
        for item, data in read_files(io.BytesIO(body), WANTED, max_bytes=100_000_000, max_file_bytes=1000):
            found[item.path] = data

    assert found == {"guide/deploy.md": FILES["guide/deploy.md"]}  # what came before is good


def test_what_is_not_a_tar_gz_is_unreadable():
    for body in (b"", b"not gzip at all", gzip.compress(b"gzip, but not a tar" * 100), honest()[:-40]):
        with pytest.raises(ArchiveUnreadable):
            read(body)


def test_an_archive_cut_short_gives_what_came_before_then_stops():
    body = honest()
    # top/, guide/, README.md and its data, then deploy.md's header without its data
    cut = zlib.decompressobj(wbits=31).decompress(body)[: 512 * 5]
    found = {}
    with pytest.raises(ArchiveUnreadable):
        for item, data in read_files(io.BytesIO(gzip.compress(cut)), WANTED, max_bytes=1 << 20, max_file_bytes=1000):
            found[item.path] = data
    assert found == {"README.md": FILES["README.md"]}


# Properties ---------------------------------------------------------------------------------------------------

PLAIN_TOPS = st.sampled_from([TOP, "other-top"])
HOSTILE_PREFIXES = st.sampled_from(["", "/", "../", f"{TOP}/../", f"{TOP}/./", f"{TOP}//", "/etc/", f"{TOP}\\", "C:"])
PATHS = st.sampled_from([*FILES, "guide", "secret.md", "guide/deploy.md/x", ".git/config", ""])
KINDS = st.sampled_from(
    [tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.FIFOTYPE, tarfile.DIRTYPE]
)
CONTENTS = st.one_of(st.sampled_from(list(FILES.values())), st.binary(max_size=64))


NAMES = st.one_of(
    st.builds(lambda top, path: f"{top}/{path}", PLAIN_TOPS, PATHS),
    st.builds(lambda prefix, path: prefix + path, HOSTILE_PREFIXES, PATHS),
)
LINKS = st.sampled_from(["", "../../etc/passwd", "/etc/shadow", "README.md"])


@st.composite
def members(draw):
    return draw(NAMES), draw(KINDS), draw(CONTENTS), draw(LINKS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(members(), max_size=12), st.sampled_from([tarfile.PAX_FORMAT, tarfile.GNU_FORMAT]))
def test_only_plain_regular_members_with_the_listed_content_ever_come_out(specs, tar_format):
    body = tar_gz(*(member(n, d, kind=k, linkname=link) for n, k, d, link in specs), format=tar_format)
    plain_regular = {(n, d) for n, k, d, _ in specs if k == tarfile.REGTYPE}

    for item, data in read_files(io.BytesIO(body), WANTED, max_bytes=1 << 20, max_file_bytes=1000):
        assert item is WANTED[item.path] and git_blob_sha(data) == item.sha
        assert any((f"{top}/{item.path}", data) in plain_regular for top in (TOP, "other-top")), (
            f"{item.path} came from no plain regular member"
        )


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.lists(st.text("abcdefghij-_.", min_size=1, max_size=90).filter(lambda s: s not in (".", "..")), min_size=1)
        .map("/".join)
        .map(lambda p: p + ".md"),
        st.binary(max_size=3000),
        min_size=1,
        max_size=25,
    ).filter(lambda files: not any(a != b and b.startswith(a + "/") for a in files for b in files))
)
def test_an_honest_archive_of_any_tree_fits_its_size_bound_and_gives_every_file(files):
    tree = [entry(path, data) for path, data in files.items()]
    body = honest(files)

    assert len(zlib.decompressobj(wbits=31).decompress(body)) <= archive.size_limit(tree)
    assert read(body, {e.path: e for e in tree}, max_bytes=archive.size_limit(tree), max_file_bytes=3000) == files


# The path rule and the choice -----------------------------------------------------------------------------------


def test_a_member_name_is_its_repository_path_below_one_plain_top_folder():
    assert repository_path(f"{TOP}/guide/deploy.md") == "guide/deploy.md"
    for name in (TOP, f"{TOP}/", "/abs/path.md", "top/../x.md", "top/./x.md", "top//x.md", "top/a\\b.md", "t/\x00"):
        assert repository_path(name) is None, name


def test_the_archive_is_used_when_the_requests_it_saves_outweigh_the_megabytes_it_brings_unneeded():
    small = [entry(f"{n}.md", b"x" * 1000) for n in range(500)]  # half a megabyte in all
    assert archive.is_cheaper(small, small)  # a first ingestion: 500 requests against 2
    assert not archive.is_cheaper(small[:2], small)  # two files cost what the archive costs
    assert archive.is_cheaper(small[:3], small)
    binaries = [TreeEntry(f"{n}.png", "100644", "blob", "0" * 40, 5_000_000) for n in range(100)]  # 500 MB
    assert not archive.is_cheaper(small, small + binaries)  # 500 requests rather than 500 MB nobody reads
    assert archive.is_cheaper(small * 2, small + binaries[:1])
