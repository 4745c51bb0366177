"""The scope step's form: spaces and page trees picked in the browser, checked against the site, previewed.

The page sends the whole selection as ONE form field, `selection`, holding JSON that
static/confluence/scope_editor.js keeps in step as the person ticks spaces, chooses what to do with pages and
types labels:

    {"spaces": ["ENG"],
     "pages": {"ENG": {"98304": "exclude"}, "OPS": {"98310": "include"}},
     "excluded_labels": ["draft", "obsolete"]}

A page's mode is `include` or `exclude` (the page and its descendants), or `include_only` or `exclude_only` (the
page alone). One field scales where a form field per ticked page cannot (Django refuses a request of more than
DATA_UPLOAD_MAX_NUMBER_FIELDS fields): 5,000 picks of 10-digit ids are about 130 KB, 190 KB as a browser
encodes the form, far inside DATA_UPLOAD_MAX_MEMORY_SIZE. Preview and Save read it through the same parser, so
what Preview counts and redraws is what Save stores. The editor needs JavaScript (the page says so without it).

The editor's tree is built in the browser from one listing of a space (`SpaceListing`, fetched when the space is
opened): counts per subtree and the search by title need every page, and one body-less listing (250 pages a
request) is what the preview reads anyway. The preview also resolves the saved scope against the same listings, so
it can say which pages Save adds and removes (`ScopeDiff`).

Parsing has two stages. `parse_selection` checks the shape (a form error, and the redraw falls back to the saved
scope, since a malformed field holds nothing to show); `ScopeForm.clean` and `check_preview` check the picks
against the site (form errors that keep the person's picks on the redrawn page, so they can fix them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace

from django import forms
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from confluence.client import ConfluenceClient, ConfluenceError, Page, Space
from confluence.index import page_order
from confluence.scope import ScopeSpec, Selection, fetch_labelled, fetch_listing, fetch_restricted, select_pages

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
MAX_LISTED = 10  # ids named in one error message
MAX_DIFF_LISTED = 100  # pages named under "added" and "removed" in the preview; the rest are counted
CONFLUENCE_ID = re.compile(r"[0-9]{1,20}")  # page and space ids


def _options(chosen: str) -> SafeString:
    choices = (("", "Not chosen"), *MODE_LABELS)
    return format_html_join(
        "", '<option value="{}"{}>{}</option>', ((v, " selected" if v == chosen else "", label) for v, label in choices)
    )


# A page's choice menu, once for each mode: thousands of listed choices render without a template loop each.
MODE_OPTIONS = {mode: _options(mode) for mode in ("", *MODES)}


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
        return cls.build(
            spaces=[s["key"] for s in scope.spaces], pages=chosen.values(), excluded_labels=scope.excluded_labels
        )

    @classmethod
    def build(cls, *, spaces, pages, excluded_labels) -> Picks:
        """Sorted and without duplicates, so equal choices give equal JSON and equal stored scopes."""
        return cls(
            spaces=tuple(sorted(set(spaces))),
            pages=tuple(sorted(pages, key=lambda p: (p.space_key, page_order(p.id)))),
            excluded_labels=tuple(sorted(set(excluded_labels))),
        )

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


# The form --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListedPage:
    """A page the preview names (added, removed, restricted)."""

    id: str
    title: str
    space_key: str


@dataclass(frozen=True)
class PageList:
    """Pages the preview names, the first MAX_DIFF_LISTED of them listed and the rest counted."""

    pages: tuple[ListedPage, ...] = ()
    count: int = 0  # may exceed len(pages): restriction data can be a count alone

    @classmethod
    def of(cls, pages) -> PageList:
        pages = sorted(pages, key=lambda p: (p.space_key, p.title.casefold(), page_order(p.id)))
        return cls(pages=tuple(pages), count=len(pages))

    @property
    def listed(self) -> tuple[ListedPage, ...]:
        return self.pages[:MAX_DIFF_LISTED]

    @property
    def more(self) -> int:
        return self.count - len(self.listed)


@dataclass(frozen=True)
class ScopeDiff:
    """What Save changes: the pages the new scope selects that the saved one does not, and the reverse. Both
    scopes are resolved against the same listings, so the difference is the choices', not Confluence's."""

    first: bool  # nothing saved yet: every selected page is added
    saved_count: int
    added: PageList
    removed: PageList

    @property
    def unchanged(self) -> bool:
        return not self.added.count and not self.removed.count


@dataclass(frozen=True)
class SpaceCount:
    key: str
    selected: int
    total: int  # current pages of the space


@dataclass
class Preview:
    spec: ScopeSpec
    selection: Selection
    titles: dict[str, tuple[str, str]]  # page id → (title, space key), for every page of the listed spaces
    space_count: int
    listing: dict[str, list[Page]] = field(default_factory=dict)  # space key → its current pages
    labelled: dict[str, list[str]] = field(default_factory=dict)  # page id → labels, for the excluded labels
    restricted_ids: set[str] = field(default_factory=set)  # pages of the listed spaces with a view restriction
    client: ConfluenceClient | None = field(default=None, repr=False)  # reads the saved scope's labels
    diff: ScopeDiff | None = None  # set by ScopeForm.check_preview
    diff_error: str = ""

    @property
    def page_count(self) -> int:
        return len(self.selection.selected)

    @property
    def summary(self) -> str:
        pages = f"{self.page_count} page{'s' if self.page_count != 1 else ''}"
        spaces = f"{self.space_count} space{'s' if self.space_count != 1 else ''}"
        return f"{pages} in {spaces} will be synced; {self.selection.excluded} excluded"

    @property
    def restricted(self) -> PageList:
        """Selected pages left out because of a view restriction (their own or an ancestor's)."""
        return PageList.of(self._listed(page_id) for page_id in self.selection.restricted)

    @property
    def space_counts(self) -> list[SpaceCount]:
        """Per listed space, how many of its pages the selection keeps: spaces with none are left out unless the
        saved scope had some there (its line then reads 0 of N)."""
        selected: dict[str, int] = {}
        for page_id in self.selection.selected:
            key = self.titles[page_id][1]
            selected[key] = selected.get(key, 0) + 1
        touched = set(selected) | {p.space_key for p in self.diff.removed.pages} if self.diff else set(selected)
        return [
            SpaceCount(key, selected.get(key, 0), len(pages))
            for key, pages in sorted(self.listing.items())
            if key in touched
        ]

    def compare_with(self, saved: ScopeSpec | None) -> None:
        """Resolve the saved scope against this preview's listings and keep the difference."""
        if saved is None or saved.is_empty:
            added = PageList.of(self._listed(pid) for pid in self.selection.selected)
            self.diff = ScopeDiff(first=True, saved_count=0, added=added, removed=PageList())
            return
        labelled = dict(self.labelled)
        missing = sorted(set(saved.excluded_labels) - set(self.spec.excluded_labels))
        if missing and self.client is not None:
            labelled.update(fetch_labelled(self.client, list(self.listing), missing))
        before = select_pages(
            saved, pages_by_space=self.listing, labels=labelled, restricted=self.restricted_ids
        ).selected
        after = self.selection.selected
        self.diff = ScopeDiff(
            first=False,
            saved_count=len(before),
            added=PageList.of(self._listed(pid) for pid in after.keys() - before.keys()),
            removed=PageList.of(self._listed(pid) for pid in before.keys() - after.keys()),
        )

    def _listed(self, page_id: str) -> ListedPage:
        title, key = self.titles.get(page_id, ("", ""))
        return ListedPage(id=page_id, title=title or f"Page {page_id}", space_key=key)


@dataclass(frozen=True)
class PickRow:
    """One page choice as the page lists it."""

    id: str
    space_key: str
    mode: str
    title: str  # from Confluence or the saved scope; "Page <id>" when neither knows it

    @property
    def options(self) -> SafeString:
        return MODE_OPTIONS[self.mode]


@dataclass(frozen=True)
class SpaceRow:
    key: str
    name: str
    id: str | None  # None: chosen before, no longer in the site (listed so the person can clear it)
    whole: bool
    page_choices: int


class ScopeForm(forms.Form):
    selection = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *, spaces: list[Space], scope=None):
        super().__init__(data)
        self.spaces = {space.key: space for space in spaces}
        self.scope = scope
        self.saved = Picks.from_scope(scope) if scope else Picks()
        # What the page shows: the saved scope until a POST parses, then the person's picks.
        self.picks = self.saved
        self.picks_read = False

    def clean(self):
        cleaned = super().clean()
        try:
            self.picks = parse_selection(cleaned.get("selection", ""))
        except InvalidSelection as error:
            raise forms.ValidationError(str(error)) from None
        self.picks_read = True
        unknown = sorted(self.picks.space_keys() - set(self.spaces))
        if unknown:
            names = ", ".join(key or "(none)" for key in unknown)
            self.add_error(None, f"Unknown space: {names}. It may have been deleted; clear the choices made in it.")
        if self.picks.spec().is_empty:
            self.add_error(None, "Choose at least one space or page: an empty scope would sync nothing.")
        return cleaned

    def spec(self) -> ScopeSpec:
        # Whether restricted pages are synced is chosen on a page of its own; the editor keeps the saved choice.
        return replace(self.picks.spec(), include_restricted=bool(self.scope and self.scope.include_restricted))

    def involved_spaces(self) -> list[Space]:
        """The site's spaces the picks touch (unknown keys are already form errors), and those the saved scope
        touches, so the preview can say what Save removes there."""
        keys = self.picks.space_keys() | self.saved.space_keys()
        return [self.spaces[key] for key in sorted(keys) if key in self.spaces]

    def check_preview(self, preview: Preview) -> None:
        """Pages that are not in the site's listing (another site, deleted, wrong space) are form errors. The
        preview is then compared with the saved scope (read through the same listings: `involved_spaces`)."""
        try:
            preview.compare_with(ScopeSpec.from_scope(self.scope) if self.scope else None)
        except ConfluenceError as error:
            preview.diff_error = f"The saved scope could not be compared: {error}"
        missing = [
            f"{p.space_key}:{p.id}"
            for p in self.picks.pages
            if preview.titles.get(p.id, (None, None))[1] != p.space_key
        ]
        if missing:
            more = f" and {len(missing) - MAX_LISTED:,} more" if len(missing) > MAX_LISTED else ""
            self.add_error(
                None,
                f"These pages are not in this Confluence site (deleted, moved or never there): "
                f"{', '.join(missing[:MAX_LISTED])}{more}. Clear them from your page choices.",
            )

    def scope_fields(self, preview: Preview) -> dict:
        def page(pick: PagePick) -> dict:
            title, key = preview.titles[pick.id]
            return {"id": pick.id, "title": title, "space_key": key, "descendants": pick.descendants}

        return {
            "spaces": [{"id": self.spaces[k].id, "key": k, "name": self.spaces[k].name} for k in self.picks.spaces],
            "pages": [page(p) for p in self.picks.pages if not p.excluded],
            "excluded_pages": [page(p) for p in self.picks.pages if p.excluded],
            "excluded_labels": list(self.picks.excluded_labels),
        }

    def pick_rows(self, preview: Preview | None) -> list[PickRow]:
        """Every page choice, titled from the preview's listings or the saved scope, so picks made deep in a tree
        stay visible (and changeable) whatever is expanded."""
        titles = {str(p.get("id")): p.get("title", "") for p in self._saved_entries()}
        if preview:
            titles.update({pid: title for pid, (title, _) in preview.titles.items()})
        rows = [
            PickRow(id=p.id, space_key=p.space_key, mode=p.mode, title=titles.get(p.id) or f"Page {p.id}")
            for p in self.picks.pages
        ]
        return sorted(rows, key=lambda r: (r.space_key, r.title.casefold(), page_order(r.id)))

    def space_rows(self, spaces: list[Space]) -> list[SpaceRow]:
        """The listed spaces, then any the picks name that the site no longer has."""
        counts = self.picks.page_counts()
        rows = [
            SpaceRow(s.key, s.name, s.id, whole=s.key in self.picks.spaces, page_choices=counts.get(s.key, 0))
            for s in spaces
        ]
        gone = sorted(self.picks.space_keys() - set(self.spaces))
        return rows + [
            SpaceRow(key, key, None, whole=key in self.picks.spaces, page_choices=counts.get(key, 0)) for key in gone
        ]

    def _saved_entries(self) -> list[dict]:
        return list(self.scope.pages) + list(self.scope.excluded_pages) if self.scope else []


def preview_scope(client: ConfluenceClient, spec: ScopeSpec, *, involved: list[Space]) -> Preview:
    """Resolve the scope against live listings of the spaces it touches, as the sync engine will."""
    listing = fetch_listing(client, involved)
    labelled = fetch_labelled(client, list(listing), list(spec.excluded_labels))
    # Restricted pages are left out unless the connection opted in (issue 16): the preview says how many.
    restricted = set() if spec.include_restricted else fetch_restricted(client, list(listing))
    selection = select_pages(spec, pages_by_space=listing, labels=labelled, restricted=restricted)
    titles = {p.id: (p.title, key) for key, pages in listing.items() for p in pages}
    space_count = len({p.space_id for p in selection.selected.values()})
    return Preview(
        spec=spec,
        selection=selection,
        titles=titles,
        space_count=space_count,
        listing=listing,
        labelled=labelled,
        restricted_ids=restricted,
        client=client,
    )


def scope_rows(spaces: list[Space], *, query: str) -> list[Space]:
    query = query.strip().lower()
    rows = [s for s in spaces if not query or query in s.name.lower() or query in s.key.lower()]
    return sorted(rows, key=lambda s: (s.name.lower(), s.key))


@dataclass(frozen=True)
class TreeLevel:
    """What the editor loads when a space (or a page) is opened.

    `pages` is every page listed: a whole space, or a page's children. scope_editor.js asks for `rows` (the
    template's `tree=all` form): compact JSON rows, `[id, parent id or null, title]` in Confluence's order, from
    which it builds the space's whole tree, counts each subtree and searches titles without another request.
    `level` is the next level alone (a space's top pages), as HTML rows with their choice menus."""

    pages: list[Page]
    level: list[Page]

    @property
    def rows(self) -> list[list]:
        ids = {page.id for page in self.pages}
        return [[p.id, p.parent_id if p.parent_id in ids else None, p.title] for p in sorted(self.pages, key=_position)]


def _position(page: Page):
    # Confluence orders siblings by position; pages without one (older content) come last, by title.
    return (page.position is None, page.position or 0, page.title.casefold(), page_order(page.id))


def browse_children(client: ConfluenceClient, *, space_id: str | None, page_id: str | None) -> TreeLevel:
    if page_id:
        children = sorted(client.children(page_id), key=_position)
        return TreeLevel(pages=children, level=children)
    if space_id:
        # The whole space in one body-less listing (250 pages a request): its tree, counts and titles.
        pages = list(client.iter_space_pages(space_id, body=False))
        ids = {page.id for page in pages}
        roots = [page for page in sorted(pages, key=_position) if page.parent_id not in ids]
        return TreeLevel(pages=pages, level=roots)
    return TreeLevel(pages=[], level=[])
