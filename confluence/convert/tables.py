"""Tables: a pipe table when every cell is inline, else an HTML table GitHub renders with Markdown inside.

A pipe table needs a header row: the first row becomes it (Confluence tables without a header row almost
always use the first row as one). Header cells further down (a header column) are bold. Merged cells, or a
cell holding a list, code, a panel or another table, make the whole table HTML: `<td>` keeps plain text
inline and puts Markdown between blank lines, which is what GitHub needs to render it. A table inside a cell
is always HTML, at any depth: a pipe table's rows are lines of their own, which no cell can hold.

Inside a quote or an alert (lines prefixed `> `) a table is HTML too. GitHub renders both alike there, but a
pipe table is only recognised by its delimiter row at the start of a line, so a tool that reads the Markdown
line by line (an agent, a grep) misses it behind `> `; `<table>` is found wherever it stands.
"""

from __future__ import annotations

import html
import re

from bs4 import Tag

# A rendered line that only makes sense as a block of its own.
BLOCK_LINE = re.compile(
    r"\s*(?:[-+*]\s|\d{1,9}[.)]\s|#{1,6}\s|>|```|~~~| {4}|<(?:table|details|div|pre|p|ul|ol|dl|h\d|!--)\b)"
)
ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
MARKUP = re.compile(r"[*`\[\]~\n]|<[A-Za-z/!?]")
ALL_BOLD = re.compile(r"\*\*[^*]+\*\*")
# A pipe-table cell is one line of inline content: block markers there need no escape.
LINE_START_ESCAPE = re.compile(r"(^|<br>)\\([#>+=-])")
SECTIONS = ("thead", "tbody", "tfoot")


def rows_of(table: Tag) -> list[Tag]:
    rows = []
    for child in table.find_all(["tr", *SECTIONS], recursive=False):
        if child.name == "tr":
            rows.append(child)
        else:
            rows.extend(child.find_all("tr", recursive=False))
    return rows


def span(cell: Tag, name: str) -> int:
    value = str(cell.get(name, "1")).strip()
    return int(value) if value.isdigit() and 0 < int(value) < 1000 else 1


def render_cell(conv, cell: Tag, parent_tags) -> str:
    markdown = conv.render_children(cell, parent_tags | {"_cell"}).strip()
    if cell.name == "th" and ALL_BOLD.fullmatch(markdown):
        return markdown[2:-2]  # a header cell is bold already
    return markdown


def is_inline(markdown: str) -> bool:
    return not any(BLOCK_LINE.match(line) for line in markdown.split("\n") if line.strip())


def convert_table(conv, el: Tag, parent_tags) -> str:
    rows = [(row, row.find_all(["td", "th"], recursive=False)) for row in rows_of(el)]
    rows = [(row, cells) for row, cells in rows if cells]
    if not rows:
        return ""
    cell_tags = parent_tags | {"table"}
    rendered = [[render_cell(conv, cell, cell_tags) for cell in cells] for _, cells in rows]
    merged = any(span(cell, "rowspan") > 1 or span(cell, "colspan") > 1 for _, cells in rows for cell in cells)
    caption = el.find("caption", recursive=False)
    title = f"**{conv.render_children(caption, parent_tags).strip()}**\n\n" if caption is not None else ""
    if merged or needs_html(rendered, parent_tags):
        return conv.block(title + html_table(rows, rendered), parent_tags)
    return conv.block(title + pipe_table(rows, rendered), parent_tags)


def needs_html(rendered, parent_tags) -> bool:
    """Whether the table is written as HTML: in a heading, in a quote, in another table's cell, or with block
    content in a cell. A table in a cell is HTML, so the cell holding it starts a `<table` line: its own table
    is HTML too, at any depth (a pipe table cannot hold one)."""
    if "_inline" in parent_tags or "_quoted" in parent_tags or "table" in parent_tags:
        return True
    return not all(is_inline(md) for row in rendered for md in row)


def pipe_table(rows, rendered) -> str:
    width = max(len(cells) for cells in rendered)
    lines = []
    for index, ((_, cells), texts) in enumerate(zip(rows, rendered, strict=True)):
        texts = [pipe_cell(cell, text, header=index == 0) for cell, text in zip(cells, texts, strict=True)]
        texts += [""] * (width - len(texts))
        lines.append("| " + " | ".join(texts) + " |")
        if index == 0:
            lines.append("|" + " --- |" * width)
    return "\n".join(lines)


def pipe_cell(cell: Tag, markdown: str, header: bool) -> str:
    text = re.sub(r"\n{2,}", "<br><br>", markdown).replace("\n", "<br>").replace("|", "\\|")
    text = LINE_START_ESCAPE.sub(r"\1\2", text)
    if cell.name == "th" and not header and text and not text.startswith("**"):
        text = f"**{text}**"
    return text


def html_table(rows, rendered) -> str:
    lines = ["<table>"]
    for (_, cells), texts in zip(rows, rendered, strict=True):
        lines.append("<tr>")
        lines.extend(html_cell(cell, text) for cell, text in zip(cells, texts, strict=True))
        lines.append("</tr>")
    lines.append("</table>")
    return "\n".join(lines)


def html_cell(cell: Tag, markdown: str) -> str:
    attrs = "".join(f' {name}="{span(cell, name)}"' for name in ("rowspan", "colspan") if span(cell, name) > 1)
    return html_element(cell.name, markdown, attrs)


def html_element(tag: str, markdown: str, attrs: str = "") -> str:
    """`<tag>` holding `markdown`: as inline HTML when it is only text, else as Markdown between blank lines."""
    plain = plain_html(markdown)
    if plain is not None:
        return f"<{tag}{attrs}>{plain}</{tag}>"
    # GitHub renders Markdown inside an HTML block only between blank lines.
    return f"<{tag}{attrs}>\n\n{markdown}\n\n</{tag}>"


def plain_html(markdown: str) -> str | None:
    """The cell as inline HTML when its Markdown is only text (escapes and `<br>` allowed), else None."""
    parts = []
    for part in markdown.split("<br>"):
        if not is_inline(part) or MARKUP.search(ESCAPED.sub("", part)):
            return None
        parts.append(html.escape(ESCAPED.sub(r"\1", part), quote=False))
    return "<br>".join(parts)


HANDLERS = {"table": convert_table}
