"""Block constructs shared by several handlers: fenced code, GitHub alerts, task lists, ADF extensions, anchors.

ADF panel types map to GitHub alerts by colour and meaning: info → NOTE (blue), note → IMPORTANT (purple),
success → TIP (green), warning → WARNING (yellow), error → CAUTION (red), anything else → NOTE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bs4 import Tag

BACKTICK_RUN = re.compile(r"`{3,}")
LEADING_BLANK_LINES = re.compile(r"^(?:[ \t]*\n)+")
LANGUAGE_CLASS = re.compile(r"(?:language|lang)-([\w+#.-]+)")
SLUG_DROP = re.compile(r"[^\w\- ]")
TIGHT_SUBTASKS = re.compile(r"\n\n(?=- \[[ x]\] )")
ADF_PANELS = {"info": "NOTE", "note": "IMPORTANT", "success": "TIP", "warning": "WARNING", "error": "CAUTION"}


def fence(code: str, language: str = "") -> str:
    """A fenced code block that no run of backticks inside `code` can close early."""
    code = LEADING_BLANK_LINES.sub("", code).rstrip()
    longest = max((len(run) for run in BACKTICK_RUN.findall(code)), default=0)
    marker = "`" * max(3, longest + 1)
    return f"{marker}{language}\n{code}\n{marker}" if code else f"{marker}{language}\n{marker}"


def code_language_of(el: Tag) -> str:
    match = LANGUAGE_CLASS.search(" ".join(el.get_attribute_list("class")))
    return match.group(1).lower() if match else ""


def quote_lines(markdown: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in markdown.split("\n"))


def alert(kind: str, title: str, body: str) -> str:
    """A GitHub alert (`> [!NOTE]`), the title in bold on its first line."""
    parts = [f"[!{kind}]"]
    if title:
        parts.append(f"**{title}**")
    if body:
        if title:
            parts.append("")
        parts.append(body)
    return quote_lines("\n".join(parts))


def indent(text: str, width: int) -> str:
    pad = " " * width
    return "\n".join(pad + line if line else "" for line in text.split("\n"))


def indent_continuation(text: str, width: int) -> str:
    pad = " " * width
    first, *rest = text.split("\n")
    return "\n".join([first, *(pad + line if line else "" for line in rest)])


# -- task lists -------------------------------------------------------------------------------------------


def task_list(conv, el: Tag, parent_tags) -> str:
    items: list[str] = []
    for child in el.find_all(["ac:task", "ac:task-list"], recursive=False):
        if child.name == "ac:task":
            items.append(task_item(conv, child, parent_tags))
        elif items:  # a nested list follows the item it belongs to
            items[-1] += "\n" + indent(task_list(conv, child, parent_tags).strip("\n"), 2)
        else:
            items.append(task_list(conv, child, parent_tags).strip("\n"))
    return conv.block("\n".join(items), parent_tags)


def task_item(conv, task: Tag, parent_tags) -> str:
    status = task.find("ac:task-status", recursive=False)
    done = status is not None and status.get_text().strip().lower() == "complete"
    body = task.find("ac:task-body", recursive=False)
    text = conv.render_children(body, parent_tags).strip() if body is not None else ""
    text = TIGHT_SUBTASKS.sub("\n", text)
    return indent_continuation(f"- [{'x' if done else ' '}] {text}".rstrip(), 2)


# -- ADF extensions (Cloud panels and decision lists stored with a fallback) --------------------------------


def adf_extension(conv, el: Tag, parent_tags) -> str:
    node = el.find("ac:adf-node", recursive=False)
    kind = node.get("type", "") if node is not None else ""
    render = ADF_NODES.get(kind)
    if render is not None:
        # A node we know that shows nothing (a decision list without items) gives way to the fallback, which
        # Confluence shows where it cannot render the node.
        return render(conv, node, parent_tags) or conv.block(adf_fallback(conv, el, parent_tags), parent_tags)
    conv.report.unknown_macros.add(f"adf:{kind or 'extension'}")
    comment = f"<!-- confluence: adf {comment_safe(kind) or 'extension'} -->"
    return conv.block(f"{comment}\n\n{adf_fallback(conv, el, parent_tags)}", parent_tags)


def adf_fallback(conv, el: Tag, parent_tags) -> str:
    fallback = el.find("ac:adf-fallback", recursive=False)
    return conv.render_children(fallback, parent_tags).strip() if fallback is not None else ""


def adf_attributes(node: Tag) -> dict[str, str]:
    return {a.get("key", ""): a.get_text().strip() for a in node.find_all("ac:adf-attribute", recursive=False)}


def adf_content(conv, node: Tag, parent_tags) -> str:
    content = node.find("ac:adf-content", recursive=False)
    return conv.render_children(content, parent_tags).strip() if content is not None else ""


def adf_panel(conv, node: Tag, parent_tags) -> str:
    kind = ADF_PANELS.get(adf_attributes(node).get("panel-type", ""), "NOTE")
    body = adf_content(conv, node, parent_tags | {"_quoted"})  # an alert is a quote: see tables.py
    return conv.block(alert(kind, "", body), parent_tags) if body else ""


def decision_list(conv, node: Tag, parent_tags) -> str:
    items = []
    for item in node.find_all("ac:adf-node", recursive=False):
        if item.get("type") != "decision-item":
            continue
        decided = adf_attributes(item).get("state", "").upper() == "DECIDED"
        label = "Decision" if decided else "Open decision"
        items.append(indent_continuation(f"- **{label}:** {adf_content(conv, item, parent_tags)}".rstrip(), 2))
    return conv.block("\n".join(items), parent_tags)


ADF_NODES = {"panel": adf_panel, "decision-list": decision_list}


def comment_safe(text: str) -> str:
    return re.sub(r"[^\w.:/+-]+", "-", text).replace("--", "-").strip("-")


# -- anchors and heading slugs ----------------------------------------------------------------------------


HIDDEN = frozenset({"ac:parameter", "ac:placeholder", "ac:task-id", "ac:task-status", "ac:adf-attribute", "style"})


def visible_text(el: Tag) -> str:
    """The text a reader sees in `el`: no macro parameters, no placeholders."""
    parts: list[str] = []
    stack = [el]
    while stack:
        node = stack.pop()
        if isinstance(node, Tag):
            if node.name not in HIDDEN:
                stack.extend(reversed(node.contents))
        elif isinstance(node, str):
            parts.append(node)
    return "".join(parts)


def github_slug(text: str) -> str:
    return SLUG_DROP.sub("", text.strip().lower()).replace(" ", "-")


@dataclass
class Anchors:
    """Anchor names and GitHub heading slugs on the page, so in-page links land where GitHub puts the ids."""

    names: set[str] = field(default_factory=set)
    headings: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, soup) -> Anchors:
        anchors = cls()
        seen: dict[str, int] = {}
        for el in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "ac:structured-macro"]):
            if el.name == "ac:structured-macro":
                if el.get("ac:name") == "anchor":
                    param = el.find("ac:parameter")
                    anchors.names.add(param.get_text().strip() if param is not None else "")
                continue
            text = " ".join(visible_text(el).split())
            slug = github_slug(text)
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            unique = f"{slug}-{count}" if count else slug
            anchors.headings.setdefault(text, unique)
            anchors.headings.setdefault(text.replace(" ", ""), unique)
        return anchors

    def href(self, anchor: str) -> str:
        if anchor not in self.names and anchor in self.headings:
            return "#" + self.headings[anchor]
        return "#" + anchor.replace(" ", "%20")


HANDLERS = {
    "ac:task-list": task_list,
    "ac:adf-extension": adf_extension,
}
