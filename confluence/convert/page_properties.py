"""Page properties: the details macro (a key/value table on its page) and the detailssummary report over pages.

details: its body in place; `hidden` (not shown on its own page in Confluence) folds it away, text kept.

detailssummary: one row per synced page that has a details macro (with the report's `id`, when it names one)
and matches the report's labels and spaces, one column per key. Parameters honoured: `label`/`labels` (all of
them), `spaces` (default the current space; `@all`, `+KEY`, `-KEY`), `cql` (its `label`, `space` and `type =
page` terms joined by `and`, with `currentSpace()`), `headings` (the keys to show, in order; default every key,
in order of first use), `firstcolumn` (the title column's heading), `sortBy` (a key, or the title), `reverseSort`,
`max`. `pageSize` only pages the report in Confluence: every row is shown. Any other CQL (or, not, ancestor,
creator, title…) cannot be evaluated from the synced tree: the report becomes one link to it in Confluence.

Each listed page is reported (`listed`, `listed_spaces`: the sync renders the report again when a page comes,
goes or changes labels) and so is each page whose properties it shows (`included`: again when one is edited).
"""

from __future__ import annotations

import re

from .escaping import escape
from .inclusions import nested_converter, source_soup
from .links import markdown_link
from .pagelist_output import natural_key, outside, page_link, search_url
from .pagelist_scope import space_scope
from .pagelists import CQL_TERM, values, whole_number, words
from .tables import render_cell, rows_of

# What is left of a CQL query once its label and space terms are taken out: only these may remain.
CQL_GLUE = re.compile(r"\s*(?:\band\b|\btype\s*=\s*\"?page\"?|[()])\s*", re.I)


def details(conv, macro, parent_tags) -> str:
    body = macro.render_body(conv, parent_tags)
    if macro.param("hidden").lower() != "true" or "_inline" in parent_tags or not body.strip():
        return conv.block(body, parent_tags)
    summary = "Page properties (hidden on this page)"
    return conv.block(f"<details>\n<summary>{summary}</summary>\n\n{body}\n\n</details>", parent_tags)


def details_summary(conv, macro, parent_tags) -> str:
    terms = summary_terms(macro)
    if terms is None:
        query = macro.param("cql")
        return outside(conv, "Page properties report", search_url(conv, query, []), parent_tags, verb="is")
    labels = terms[0]
    pages, outer = candidates(conv, terms)
    # Every candidate, with page properties or not: one that gains a details macro must show up in the report.
    conv.report.included.update(page.id for page in pages if page.id != conv.context.page_id)
    rows = [(page, props) for page in pages if (props := properties(conv, page, macro.param("id"))) is not None]
    rows = sort_rows(rows, macro.param("sortBy"), macro.param("reverseSort").lower() == "true")
    rows = rows[: whole_number(macro.param("max"), len(rows) or 1)]
    lines = table(conv, rows, macro, parent_tags) if rows else []
    if outer:
        cql = " and ".join(f'label = "{label}"' for label in labels) if labels else "type = page"
        url = search_url(conv, cql, outer)
        link = outside_link_text(conv, labels, url, parent_tags)
        lines += ["", f"*{link} in spaces not synced here are listed in Confluence.*"]
    if not lines:
        return conv.block("*No synced page has these page properties.*", parent_tags)
    return conv.block("\n".join(lines), parent_tags)


def candidates(conv, terms: tuple[list[str], list[str]]) -> tuple[list, list[str]]:
    """(the synced pages with every label in the spaces the report covers, the covered spaces not synced)."""
    labels, spaces = terms
    synced, outer = space_scope(conv, spaces or ["@self"])
    wanted = {label.lower() for label in labels}
    pages = [
        page
        for space in synced
        for page in conv.context.site_tree.in_space(space)
        if wanted <= {label.lower() for label in page.labels}
    ]
    return pages, outer


def summary_terms(macro) -> tuple[list[str], list[str]] | None:
    """(labels, spaces) the report selects by, or None for CQL this module cannot evaluate."""
    labels = words(macro.param("label") or macro.param("labels"))
    spaces = words(macro.param("spaces") or macro.param("space"))
    cql = macro.param("cql")
    if not cql:
        return labels, spaces
    terms = CQL_TERM.findall(cql)
    if CQL_GLUE.sub("", CQL_TERM.sub("", cql)).strip() or " or " in f" {cql.lower()} ":
        return None
    labels += [label for field, value in terms if field.lower() == "label" for label in values(value)]
    spaces += [space for field, value in terms if field.lower() == "space" for space in values(value)]
    return labels, spaces


def properties(conv, page, wanted_id: str) -> dict[str, str] | None:
    """Key → Markdown of the page's details macros (those with `wanted_id`, when given), or None without any."""
    if page.id not in conv.context.sources:
        return None
    chain = (*conv.context.including, conv.context.page_id)
    if page.id in chain[:-1]:
        return None  # a report shown inside a page it lists: that page's rows are not rendered again
    soup = source_soup(conv, page)
    found = None
    for el in soup.find_all("ac:structured-macro", attrs={"ac:name": "details"}):
        named = el.find("ac:parameter", attrs={"ac:name": "id"}, recursive=False)
        body = el.find("ac:rich-text-body", recursive=False)
        if body is None or (wanted_id and (named is None or named.get_text().strip() != wanted_id)):
            continue
        found = {} if found is None else found
        nested = nested_converter(conv, page, soup)
        for table in body.find_all("table"):
            found.update(key_values(nested, table))
    return found


def key_values(nested, table) -> dict[str, str]:
    """A vertical table (key in the first cell of each row) or a horizontal one (keys in a header row)."""
    rows = [row.find_all(["td", "th"], recursive=False) for row in rows_of(table)]
    rows = [cells for cells in rows if cells]
    tags = frozenset({"table"})
    if len(rows) == 2 and len(rows[0]) > 2 and all(cell.name == "th" for cell in rows[0]):
        pairs = zip(rows[0], rows[1], strict=False)
    else:
        pairs = ((cells[0], cells[1]) for cells in rows if len(cells) >= 2)
    found = {}
    for key_cell, value_cell in pairs:
        key = " ".join(key_cell.get_text(" ").split())
        if key and key not in found:
            found[key] = cell_text(render_cell(nested, value_cell, tags))
    return found


def cell_text(markdown: str) -> str:
    return re.sub(r"\n{2,}", "<br><br>", markdown.strip()).replace("\n", "<br>").replace("|", "\\|")


def sort_rows(rows: list, key: str, reverse: bool) -> list:
    def order(row):
        page, props = row
        value = props.get(key, "") if key and key.lower() != "title" else page.title
        return natural_key(value), natural_key(page.title)

    return sorted(rows, key=order, reverse=reverse)


def table(conv, rows: list, macro, parent_tags) -> list[str]:
    keys = [key.strip() for key in macro.param("headings").split(",") if key.strip()]
    if not keys:
        keys = list(dict.fromkeys(key for _, props in rows for key in props))
    first = escape(macro.param("firstcolumn") or "Title")
    lines = ["| " + " | ".join([first, *(escape(key).replace("|", "\\|") for key in keys)]) + " |"]
    lines.append("|" + " --- |" * (len(keys) + 1))
    for page, props in rows:
        cells = [page_link(conv, page, parent_tags | {"_cell"}).replace("|", "\\|")]
        cells += [props.get(key, "") for key in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def outside_link_text(conv, labels: list[str], url: str, parent_tags) -> str:
    label = f"Pages labelled {', '.join(labels)}" if labels else "Pages"
    return markdown_link(escape(label), url, parent_tags)
