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

This module holds the form and the tree the page browses; the picks and their parsing are in
`confluence.setup.scope_picks`, the preview in `confluence.setup.scope_preview`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django import forms
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from confluence.client import ConfluenceClient
from confluence.content import Page, Space
from confluence.gateway import ConfluenceError
from confluence.setup.scope_picks import MODE_LABELS, MODES, InvalidSelection, PagePick, Picks, parse_selection
from confluence.setup.scope_preview import Preview, preview_scope
from confluence.sync.index import page_order
from confluence.sync.scope import ScopeSpec

MAX_LISTED = 10  # ids named in one error message


def _options(chosen: str) -> SafeString:
    choices = (("", "Not chosen"), *MODE_LABELS)
    return format_html_join(
        "", '<option value="{}"{}>{}</option>', ((v, " selected" if v == chosen else "", label) for v, label in choices)
    )


# A page's choice menu, once for each mode: thousands of listed choices render without a template loop each.
MODE_OPTIONS = {mode: _options(mode) for mode in ("", *MODES)}


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
    blog: bool = False  # its blog posts are synced too


class ScopeForm(forms.Form):
    selection = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)
    # One "Include blog posts" box per space (plain form fields beside the JSON selection): the keys ticked.
    blog = forms.MultipleChoiceField(required=False)

    def __init__(self, data=None, *, spaces: list[Space], scope=None):
        super().__init__(data)
        self.spaces = {space.key: space for space in spaces}
        self.fields["blog"].choices = [(key, key) for key in self.spaces]
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
        blogs = set(cleaned.get("blog") or ())
        partial = sorted(blogs - set(self.picks.spaces))
        if partial:
            self.add_error(
                None,
                f"Blog posts are synced with a whole space only: tick {', '.join(partial)} too, "
                "or clear its “Include blog posts”.",
            )
        self.picks = self.picks.with_blogs(blogs)
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
            "spaces": [self._space_entry(key) for key in self.picks.spaces],
            "pages": [page(p) for p in self.picks.pages if not p.excluded],
            "excluded_pages": [page(p) for p in self.picks.pages if p.excluded],
            "excluded_labels": list(self.picks.excluded_labels),
        }

    def _space_entry(self, key: str) -> dict:
        """A whole space as the scope stores it; `"blog": true` when its blog posts are synced too."""
        space = self.spaces[key]
        return {"id": space.id, "key": key, "name": space.name, **({"blog": True} if key in self.picks.blogs else {})}

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
        picks = self.picks
        rows = [
            SpaceRow(s.key, s.name, s.id, s.key in picks.spaces, counts.get(s.key, 0), blog=s.key in picks.blogs)
            for s in spaces
        ]
        gone = sorted(picks.space_keys() - set(self.spaces))
        return rows + [SpaceRow(key, key, None, key in picks.spaces, counts.get(key, 0)) for key in gone]

    def _saved_entries(self) -> list[dict]:
        return list(self.scope.pages) + list(self.scope.excluded_pages) if self.scope else []


def resolve_picks(form: ScopeForm, client: ConfluenceClient) -> Preview | None:
    """The posted picks resolved against the site and checked, even when they have errors, so the redrawn page
    names the pages the person chose; None when they touch no space or Confluence could not be read."""
    if not (form.is_valid() or form.picks_read) or not form.involved_spaces():
        return None
    try:
        preview = preview_scope(client, form.spec(), involved=form.involved_spaces())
    except ConfluenceError as error:
        form.add_error(None, f"Confluence could not be read: {error}")
        return None
    form.check_preview(preview)
    return preview


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
