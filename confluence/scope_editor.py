"""The scope step's form: spaces and page trees picked in the browser, checked against the site, previewed."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms

from confluence.client import ConfluenceClient, Page, Space
from confluence.scope import ScopeSpec, Selection, fetch_labelled, fetch_listing, select_pages


@dataclass
class Preview:
    spec: ScopeSpec
    selection: Selection
    titles: dict[str, tuple[str, str]]  # page id → (title, space key), for every page of the listed spaces
    space_count: int

    @property
    def page_count(self) -> int:
        return len(self.selection.selected)

    @property
    def summary(self) -> str:
        pages = f"{self.page_count} page{'s' if self.page_count != 1 else ''}"
        spaces = f"{self.space_count} space{'s' if self.space_count != 1 else ''}"
        return f"{pages} in {spaces} will be synced; {self.selection.excluded} excluded"


def _pairs(values: list[str]) -> list[tuple[str, str]]:
    """ "ENG:123" → ("ENG", "123"); malformed values are form errors, not crashes."""
    pairs = []
    for value in values:
        key, _, page_id = value.partition(":")
        if not key or not page_id.isdigit():
            raise forms.ValidationError(f"Unrecognised page selection {value!r}.")
        pairs.append((key, page_id))
    return pairs


class ScopeForm(forms.Form):
    excluded_labels = forms.CharField(required=False, help_text="Comma-separated, e.g. draft, obsolete")

    def __init__(self, data=None, *, spaces: list[Space], scope=None):
        super().__init__(data, initial=self._initial(scope))
        self.spaces = {space.key: space for space in spaces}
        self.scope = scope
        names = ("space", "page", "page_only", "exclude", "exclude_only")
        self.data_lists = {name: data.getlist(name) for name in names} if data else {}

    @staticmethod
    def _initial(scope) -> dict:
        return {"excluded_labels": ", ".join(scope.excluded_labels)} if scope else {}

    def selected(self) -> dict[str, set[str]]:
        """What is ticked, for re-rendering the form: from the POST, else from the saved scope."""
        if self.data_lists:
            return {name: set(values) for name, values in self.data_lists.items()}
        if not self.scope:
            return {}
        return {
            "space": {s["key"] for s in self.scope.spaces},
            "page": {f"{p['space_key']}:{p['id']}" for p in self.scope.pages if p.get("descendants", True)},
            "page_only": {f"{p['space_key']}:{p['id']}" for p in self.scope.pages if not p.get("descendants", True)},
            "exclude": {f"{p['space_key']}:{p['id']}" for p in self.scope.excluded_pages if p.get("descendants", True)},
            "exclude_only": {
                f"{p['space_key']}:{p['id']}" for p in self.scope.excluded_pages if not p.get("descendants", True)
            },
        }

    def saved_pages(self) -> list[dict]:
        """Pages of the saved scope, listed so that selections made in collapsed trees stay visible."""
        if not self.scope:
            return []
        included = [dict(p, kind="page") for p in self.scope.pages]
        return included + [dict(p, kind="exclude") for p in self.scope.excluded_pages]

    def clean(self):
        cleaned = super().clean()
        lists = self.data_lists
        unknown = sorted(set(lists.get("space", [])) - set(self.spaces))
        names = ("page", "page_only", "exclude", "exclude_only")
        self.page_pairs = {name: _pairs(lists.get(name, [])) for name in names}
        unknown += sorted({key for pairs in self.page_pairs.values() for key, _ in pairs} - set(self.spaces))
        if unknown:
            raise forms.ValidationError(f"Unknown space: {', '.join(sorted(set(unknown)))}. It may have been deleted.")
        if not lists.get("space") and not self.page_pairs["page"] and not self.page_pairs["page_only"]:
            raise forms.ValidationError("Choose at least one space or page: an empty scope would sync nothing.")
        labels = cleaned.get("excluded_labels", "").split(",")
        cleaned["labels"] = sorted({label.strip() for label in labels if label.strip()})
        return cleaned

    def spec(self) -> ScopeSpec:
        pairs = self.page_pairs
        return ScopeSpec(
            spaces=tuple(sorted(set(self.data_lists.get("space", [])))),
            pages=tuple((pid, True) for _, pid in pairs["page"]) + tuple((pid, False) for _, pid in pairs["page_only"]),
            excluded_pages=tuple((pid, True) for _, pid in pairs["exclude"])
            + tuple((pid, False) for _, pid in pairs["exclude_only"]),
            excluded_labels=tuple(self.cleaned_data["labels"]),
        )

    def involved_spaces(self) -> list[Space]:
        keys = set(self.data_lists.get("space", [])) | {key for pairs in self.page_pairs.values() for key, _ in pairs}
        return [self.spaces[key] for key in sorted(keys)]

    def check_preview(self, preview: Preview) -> None:
        """Pages that are not in the site's listing (another site, deleted, wrong space) are form errors."""
        missing = [
            f"{key}:{pid}"
            for name in ("page", "page_only", "exclude", "exclude_only")
            for key, pid in self.page_pairs[name]
            if preview.titles.get(pid, (None, None))[1] != key
        ]
        if missing:
            self.add_error(None, f"These pages are not in this Confluence site: {', '.join(missing)}.")

    def scope_fields(self, preview: Preview) -> dict:
        def page(pid: str, descendants: bool) -> dict:
            title, key = preview.titles[pid]
            return {"id": pid, "title": title, "space_key": key, "descendants": descendants}

        spec = preview.spec
        return {
            "spaces": [{"id": self.spaces[k].id, "key": k, "name": self.spaces[k].name} for k in spec.spaces],
            "pages": [page(pid, d) for pid, d in spec.pages],
            "excluded_pages": [page(pid, d) for pid, d in spec.excluded_pages],
            "excluded_labels": list(spec.excluded_labels),
        }


def preview_scope(client: ConfluenceClient, spec: ScopeSpec, *, involved: list[Space]) -> Preview:
    """Resolve the scope against live listings of the spaces it touches, as the sync engine will."""
    listing = fetch_listing(client, involved)
    labelled = fetch_labelled(client, list(listing), list(spec.excluded_labels))
    selection = select_pages(spec, pages_by_space=listing, labels=labelled)
    titles = {p.id: (p.title, key) for key, pages in listing.items() for p in pages}
    space_count = len({p.space_id for p in selection.selected.values()})
    return Preview(spec=spec, selection=selection, titles=titles, space_count=space_count)


def scope_rows(spaces: list[Space], *, query: str) -> list[Space]:
    query = query.strip().lower()
    rows = [s for s in spaces if not query or query in s.name.lower() or query in s.key.lower()]
    return sorted(rows, key=lambda s: (s.name.lower(), s.key))


def browse_children(client: ConfluenceClient, *, space_id: str | None, page_id: str | None) -> list[Page]:
    if page_id:
        return client.children(page_id)
    if space_id:
        return list(client.iter_space_pages(space_id, body=False, depth="root"))
    return []
