"""The scope editor's selection: what the person picked (`Picks`: whole spaces, pages with a mode, excluded labels)
and `parse_selection`, which reads the one `selection` field the page sends and checks its shape, types and size,
not yet against the site (`confluence.setup.scope_editor.ScopeForm` does that)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from confluence.sync.index import page_order
from confluence.sync.scope import ScopeSpec

# mode → (excluded, with descendants); the labels are what the page's choice menus say.
MODES = {
    "include": (False, True),
    "include_only": (False, False),
    "exclude": (True, True),
    "exclude_only": (True, False),
}
MODE_LABELS = (
    ("include", "Include with descendants"),
    ("include_only", "Include this page only"),
    ("exclude", "Exclude with descendants"),
    ("exclude_only", "Exclude this page only"),
)
# Far beyond what a person picks one page at a time (they pick trees), and well inside
# DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) once a browser has percent-encoded the JSON (20,000 picks: about 750 KB).
MAX_PAGE_PICKS = 20_000
MAX_SELECTION_CHARS = 1_000_000
MAX_SPACES = 10_000
MAX_LABELS = 200
MAX_KEY_LENGTH = 255  # space keys and labels: Confluence's own limit for both
CONFLUENCE_ID = re.compile(r"[0-9]{1,20}")  # page and space ids


class InvalidSelection(ValueError):
    """The selection field is not what the scope editor sends: a form error, never a crash."""


@dataclass(frozen=True)
class PagePick:
    id: str
    space_key: str
    mode: str

    @property
    def excluded(self) -> bool:
        return MODES[self.mode][0]

    @property
    def descendants(self) -> bool:
        return MODES[self.mode][1]


@dataclass(frozen=True)
class Picks:
    """What the person chose, in the editor's terms (pages keep their space key and mode)."""

    spaces: tuple[str, ...] = ()
    pages: tuple[PagePick, ...] = ()
    excluded_labels: tuple[str, ...] = ()
    # Whole spaces whose blog posts are synced too: the form's "Include blog posts" boxes, not the JSON field.
    blogs: tuple[str, ...] = ()

    @classmethod
    def from_scope(cls, scope) -> Picks:
        """A saved scope, as the editor shows it. When staff listed one page as included and excluded, the
        exclusion wins: the editor holds one choice a page, and excluding is the safer reading."""
        chosen: dict[str, PagePick] = {}
        for entries, excluded in ((scope.pages, False), (scope.excluded_pages, True)):
            for entry in entries:
                page_id = str(entry.get("id", ""))
                if not CONFLUENCE_ID.fullmatch(page_id):
                    continue  # not a Confluence id (staff typed it): it could never select a page
                descendants = bool(entry.get("descendants", True))
                mode = next(m for m, flags in MODES.items() if flags == (excluded, descendants))
                chosen[page_id] = PagePick(id=page_id, space_key=str(entry.get("space_key", "")), mode=mode)
        picks = cls.build(
            spaces=[s["key"] for s in scope.spaces], pages=chosen.values(), excluded_labels=scope.excluded_labels
        )
        return picks.with_blogs(s["key"] for s in scope.spaces if s.get("blog"))

    @classmethod
    def build(cls, *, spaces, pages, excluded_labels) -> Picks:
        """Sorted and without duplicates, so equal choices give equal JSON and equal stored scopes."""
        return cls(
            spaces=tuple(sorted(set(spaces))),
            pages=tuple(sorted(pages, key=lambda p: (p.space_key, page_order(p.id)))),
            excluded_labels=tuple(sorted(set(excluded_labels))),
        )

    def with_blogs(self, keys) -> Picks:
        """These picks syncing the blog posts of those spaces, as far as they are whole spaces."""
        return replace(self, blogs=tuple(sorted(set(keys) & set(self.spaces))))

    def to_json(self) -> str:
        pages: dict[str, dict[str, str]] = {}
        for pick in self.pages:
            pages.setdefault(pick.space_key, {})[pick.id] = pick.mode
        data = {"spaces": list(self.spaces), "pages": pages, "excluded_labels": list(self.excluded_labels)}
        return json.dumps(data, separators=(",", ":"))

    def spec(self) -> ScopeSpec:
        return ScopeSpec(
            spaces=self.spaces,
            pages=tuple((p.id, p.descendants) for p in self.pages if not p.excluded),
            excluded_pages=tuple((p.id, p.descendants) for p in self.pages if p.excluded),
            excluded_labels=self.excluded_labels,
            blogs=self.blogs,
        )

    def space_keys(self) -> set[str]:
        """Every space the picks touch: whole spaces, and the spaces of picked pages."""
        return set(self.spaces) | {p.space_key for p in self.pages}

    def page_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for pick in self.pages:
            counts[pick.space_key] = counts.get(pick.space_key, 0) + 1
        return counts


# Parsing ---------------------------------------------------------------------------------------------------


def parse_selection(raw: str) -> Picks:
    """The `selection` field's JSON, checked for shape, types and size; not yet against the site."""
    if not raw:
        raise InvalidSelection(
            "Nothing was chosen: the scope editor sends your choices with JavaScript. Enable it and reload the page."
        )
    if len(raw) > MAX_SELECTION_CHARS:
        raise InvalidSelection(
            f"The selection is too large ({len(raw):,} characters; at most {MAX_SELECTION_CHARS:,}). "
            "Include whole spaces or page trees instead of single pages."
        )
    try:
        data = json.loads(raw, object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise InvalidSelection("The selection could not be read. Reload the page and choose again.") from None
    if not isinstance(data, dict) or not set(data) <= {"spaces", "pages", "excluded_labels"}:
        raise InvalidSelection("The selection could not be read: unexpected fields. Reload the page and choose again.")
    return Picks.build(
        spaces=_space_keys(data.get("spaces", [])),
        pages=_page_picks(data.get("pages", {})),
        excluded_labels=_labels(data.get("excluded_labels", [])),
    )


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    # A page listed twice would have two modes; JSON parsers silently keep the last one.
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _space_key(value) -> str:
    # Empty and unknown keys pass here and fail against the site's spaces, keeping the picks on the page.
    if not isinstance(value, str) or len(value) > MAX_KEY_LENGTH:
        raise InvalidSelection("The selection could not be read: a space key is not text.")
    return value


def _space_keys(values) -> list[str]:
    if not isinstance(values, list):
        raise InvalidSelection("The selection could not be read: spaces must be a list.")
    if len(values) > MAX_SPACES:
        raise InvalidSelection(f"Too many spaces: at most {MAX_SPACES:,}.")
    return [_space_key(value) for value in values]


def _page_picks(values) -> list[PagePick]:
    if not isinstance(values, dict):
        raise InvalidSelection("The selection could not be read: pages must be grouped by space.")
    picks: list[PagePick] = []
    for key, modes in values.items():
        if not isinstance(modes, dict):
            raise InvalidSelection("The selection could not be read: pages must map page ids to choices.")
        for page_id, mode in modes.items():
            if not CONFLUENCE_ID.fullmatch(page_id):
                raise InvalidSelection(f"Unrecognised page id {page_id[:40]!r}: Confluence page ids are digits.")
            if mode not in MODES:
                raise InvalidSelection(f"Unrecognised choice {str(mode)[:40]!r} for page {page_id}.")
            picks.append(PagePick(id=page_id, space_key=_space_key(key), mode=mode))
            if len(picks) > MAX_PAGE_PICKS:
                raise InvalidSelection(
                    f"Too many single page choices: at most {MAX_PAGE_PICKS:,}. "
                    "Include whole spaces or page trees instead."
                )
    if len({p.id for p in picks}) != len(picks):
        raise InvalidSelection("The selection could not be read: a page is listed under two spaces.")
    return picks


def _labels(values) -> list[str]:
    if not isinstance(values, list) or len(values) > MAX_LABELS:
        raise InvalidSelection(f"Excluded labels must be a list of at most {MAX_LABELS} labels.")
    labels = []
    for value in values:
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_KEY_LENGTH:
            raise InvalidSelection(f"Labels are text of 1 to {MAX_KEY_LENGTH} characters.")
        if re.search(r"[\s,]", value.strip()):
            raise InvalidSelection(f"A label cannot contain spaces or commas: {value[:40]!r}.")
        # Confluence stores labels in lower case.
        labels.append(value.strip().lower())
    return labels
