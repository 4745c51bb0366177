"""What a file name or path must be to check out on Windows, macOS and Linux. Pure: no Django, no I/O.

- unique ignoring case and Unicode normalisation. NTFS and APFS/HFS+ (the defaults on Windows and macOS) fold
  case, and macOS does not tell NFC from NFD, so two paths equal after `casefold` and NFC are one file there and
  a checkout loses one of them. Paths are written in NFC.
- within 180 UTF-16 code units for the whole repository-relative path (MAX_PATH_UNITS). Windows without
  `core.longpaths` refuses a path of 260 units or more (MAX_PATH, counted in UTF-16 units including the drive and
  the terminating NUL), and the clone's own folder comes first: 180 leaves 79 units for it, enough for
  `C:\\Users\\<name>\\source\\repos\\<repository>\\` with a long user and repository name. The same cap keeps a path
  under 540 UTF-8 bytes, far below macOS's PATH_MAX of 1,024 bytes and Linux's 4,096, whatever the clone folder.
- each component within 255 UTF-8 bytes (ext4, APFS, most Linux file systems) and within 255 UTF-16 units once
  decomposed to NFD (HFS+ stores names decomposed; NTFS counts 255 UTF-16 units, which the byte cap implies).
- no component Windows refuses or rewrites: no `<>:"/\\|?*`, control or format characters, no trailing dot or
  space, no leading dot (no hidden files, no `.git`), not a device name (CON, PRN, AUX, NUL, COM0-9, LPT0-9 and
  their superscript forms, CONIN$, CONOUT$, with any extension) nor `git~1`, the short name git refuses for `.git`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable

MAX_PATH_UNITS = 180
MAX_COMPONENT_BYTES = 255
WINDOWS_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    "conin$",
    "conout$",
    "git~1",
    *(f"com{i}" for i in range(10)),
    *(f"lpt{i}" for i in range(10)),
}
FORBIDDEN = re.compile(r'[/\\:*?"<>|]+')


# Measures ------------------------------------------------------------------------------------------------------


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fits_component(name: str) -> bool:
    """Within 255 UTF-8 bytes as written (NFC) and 255 UTF-16 units decomposed (HFS+)."""
    return (
        len(name.encode("utf-8")) <= MAX_COMPONENT_BYTES
        and utf16_units(unicodedata.normalize("NFD", name)) <= MAX_COMPONENT_BYTES
    )


def collision_key(path: str) -> str:
    """Two paths with the same key are one file on a case-insensitive, normalisation-insensitive file system."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", path).casefold())


def clip(text: str, fits: Callable[[str], bool]) -> str:
    """The longest prefix of `text` that `fits` (every limit here is at least one unit per character)."""
    if fits(text):
        return text
    text = text[: MAX_COMPONENT_BYTES + 1]
    while text and not fits(text):
        text = text[:-1]
    return text


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()[:10]


# Names ---------------------------------------------------------------------------------------------------------


def is_reserved(name: str) -> bool:
    """A Windows device name, with or without an extension (`CON`, `con.txt`, `Nul .tar.gz`)."""
    return name.split(".")[0].rstrip(" ").casefold() in WINDOWS_RESERVED


def clean_name(name: str) -> str:
    """A file name as close to the original as is safe to write: NFKC, no control or format characters, none
    that Windows refuses, no leading or trailing dots and spaces. Reserved names are left to the caller."""
    name = unicodedata.normalize("NFKC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return FORBIDDEN.sub("-", name).strip(" .")


def safe_component(name: str, *, fallback: str) -> str:
    """A folder name kept close to the original (space keys, page ids), but safe everywhere."""
    name = clean_name(name)
    name = clip(name, fits_component).rstrip(" .")
    if not name or is_reserved(name):
        return fallback
    return name


def is_safe(path: str) -> bool:
    """What every path we write must satisfy (the property tests check it for any title and file name)."""
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        return False
    if utf16_units(path) > MAX_PATH_UNITS or unicodedata.normalize("NFC", path) != path:
        return False
    return all(
        part not in ("", ".", "..")
        and not part.startswith(".")
        and not part.endswith((".", " "))
        and not FORBIDDEN.search(part)
        and not is_reserved(part)
        and fits_component(part)
        and not any(unicodedata.category(ch)[0] == "C" for ch in part)
        for part in path.split("/")
    )
