"""Macros that show an attachment: file and office viewers, multimedia, galleries, draw.io and Gliffy diagrams.

Each becomes a link to the attachment (an image, when the file is one), in the repository when the context
holds it, else in Confluence. A diagram shows the PNG its app renders next to it (`<diagram>.png`) when the
context says the repository holds that file; otherwise it links to the diagram in Confluence.

An attachment of another page (`ri:attachment` holding `ri:page`/`ri:content-entity`, a diagram's `pageId`)
is reported with that page as its owner, so a file several pages show is fetched once.
"""

from __future__ import annotations

from bs4 import Tag

from .context import PageRef
from .elements import is_block
from .escaping import escape, href, link_text
from .links import attachment_href, file_href, is_foreign, markdown_link, page_href

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".bmp", ".tif", ".tiff", ".ico")

# Macros whose `name` parameter is the attachment they show.
FILE_MACROS = frozenset({
    "view-file", "viewfile", "viewpdf", "viewdoc", "viewxls", "viewppt", "office-word", "office-excel",
    "office-powerpoint", "pdf", "pdf-macro", "multimedia", "mp4", "flash",
})  # fmt: skip
# Diagram macros: the parameter naming the diagram, and what to call it.
DIAGRAMS = {
    "drawio": ("diagramname", "draw.io diagram"),
    "inc-drawio": ("diagramname", "draw.io diagram"),
    "drawio-sketch": ("diagramname", "draw.io diagram"),
    "gliffy": ("name", "Gliffy diagram"),
}


def is_image(filename: str) -> bool:
    return filename.lower().endswith(IMAGE_SUFFIXES)


def shown(conv, macro, markdown: str, parent_tags) -> str:
    return conv.block(markdown, parent_tags) if is_block(macro.el) else markdown


def attached_file(macro) -> Tag | None:
    """The `ri:attachment` a file macro shows (in its `name` parameter, or any other)."""
    param = macro.params.get("name")
    attachment = param.find("ri:attachment") if param is not None else None
    if attachment is None:
        attachment = next((p.find("ri:attachment") for p in macro.params.values() if p.find("ri:attachment")), None)
    return attachment


def file_macro(conv, macro, parent_tags) -> str | None:
    attachment = attached_file(macro)
    if attachment is not None:
        filename = attachment.get("ri:filename", "")
        url = attachment_href(conv, attachment)
        image = is_image(filename) and not is_foreign(conv, attachment)
    else:
        # Older pages name the file in text, and its page by title in `page` (and `space`).
        filename = macro.param("name")
        if not filename:
            return None
        owner = _titled_page(macro)
        owner_id = conv.context.synced_page_id(owner) if owner is not None else None
        if owner is not None and not owner_id:
            url = page_href(conv, owner)  # an unsynced page's file known by title: link to that page
            image = False
        else:
            url = file_href(conv, page_id=owner_id, filename=filename)
            image = is_image(filename)
    if image and "_noformat" not in parent_tags:
        return shown(conv, macro, f"![{link_text(escape(filename))}]({href(url)})", parent_tags)
    return shown(conv, macro, markdown_link(escape(filename), url, parent_tags), parent_tags)


def gallery(conv, macro, parent_tags) -> str:
    """The images a gallery names (`include`), on this page or the page in `page`; else where to see them."""
    title = macro.param("title")
    names = [name.strip() for name in macro.param("include").split(",") if name.strip()]
    owner = macro.param_ref("page") or _titled_page(macro)
    lines = [f"**{escape(title)}**"] if title else []
    page_id = owner and (owner.page_id or conv.context.synced_page_id(owner))
    if names and (owner is None or page_id):
        images = [f"![{link_text(escape(n))}]({href(file_href(conv, page_id=page_id, filename=n))})" for n in names]
        lines.append("\n".join(images) if "_inline" not in parent_tags else " ".join(images))
    else:
        ref = owner or PageRef(page_id=conv.context.page_id)
        url = page_href(conv, ref) if owner is not None else conv.context.page_url(ref)
        label = escape(ref.title) if ref.title else "this page"
        lines.append(f"*Gallery of the images attached to {markdown_link(label, url, parent_tags)}.*")
    return shown(conv, macro, "\n\n".join(lines), parent_tags)


def diagram(conv, macro, parent_tags) -> str | None:
    name_param, kind = DIAGRAMS[macro.name]
    name = macro.param(name_param)
    if not name:
        return None
    label = macro.param("diagramdisplayname") or macro.param("displayname") or name
    owner = macro.param("pageid") or None
    png = f"{name}.png"
    held = conv.context.resolve_attachment(page_id=owner or conv.context.page_id, filename=png)
    if held and "_noformat" not in parent_tags:
        conv.report.attachments.add((owner or conv.context.page_id or "", png))
        return shown(conv, macro, f"![{link_text(escape(label))}]({href(held)})", parent_tags)
    # No rendering in the repository: the diagram's own file, in Confluence (nothing more to download).
    url = conv.context.attachment_url(owner or conv.context.page_id, name)
    link = f"*{kind}:* {markdown_link(escape(label), url, parent_tags)}"
    return shown(conv, macro, link, parent_tags)


def _titled_page(macro) -> PageRef | None:
    """A page named in text, as older galleries and viewers do (`page`, with `space`)."""
    title = macro.param("page")
    return PageRef(title=title, space_key=macro.param("space") or None) if title else None
