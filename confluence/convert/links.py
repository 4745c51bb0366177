"""Links, mentions and images: `ac:link`, `ac:image`, `ri:*` resource identifiers, and plain `<a>`/`<img>`.

A page or attachment the context cannot resolve links back to Confluence, so no link is ever dropped.
"""

from __future__ import annotations

import html

from bs4 import Tag
from markdownify import chomp

from .context import PageRef
from .elements import is_standalone
from .escaping import escape, href, link_text, link_title, runs_script

RESOURCE_TAGS = (
    "ri:page", "ri:blog-post", "ri:attachment", "ri:user", "ri:url", "ri:space", "ri:content-entity", "ri:shortcut",
)  # fmt: skip
PAGE_TAGS = ("ri:page", "ri:blog-post", "ri:content-entity")
UNKNOWN_USER = "@unknown user"
FORMER_USER = "Former user"


def page_ref(el: Tag, anchor: str | None = None) -> PageRef:
    """A PageRef from `ri:page`, `ri:blog-post` or `ri:content-entity`."""
    return PageRef(
        page_id=el.get("ri:content-id") or None,
        title=el.get("ri:content-title") or None,
        space_key=el.get("ri:space-key") or None,
        anchor=anchor or None,
        posting_day=(el.get("ri:posting-day") or None) if el.name == "ri:blog-post" else None,
    )


def page_href(conv, ref: PageRef) -> str:
    conv.report.linked_pages.add(ref)
    return conv.context.resolve_page(ref) or conv.context.page_url(ref)


def attachment_owner(el: Tag) -> Tag | None:
    return el.find(PAGE_TAGS)


def owner_id(conv, owner: Tag | None) -> str | None:
    """The id of the page holding an attachment: the current page, the page named by id, or the synced page named
    by title (None: a page the sync does not hold, known by title only)."""
    if owner is None:
        return conv.context.page_id
    return owner.get("ri:content-id") or conv.context.synced_page_id(page_ref(owner))


def attachment_href(conv, el: Tag) -> str:
    """Where an `ri:attachment` points: the current page's attachment, or one on a page it names."""
    filename = el.get("ri:filename", "")
    owner = attachment_owner(el)
    page_id = owner_id(conv, owner)
    if owner is not None and not page_id:
        # Another page's attachment, known by title only and not synced: link to that page.
        return page_href(conv, page_ref(owner))
    return file_href(conv, page_id=page_id, filename=filename)


def file_href(conv, *, page_id: str | None, filename: str) -> str:
    """An attachment of page `page_id` (None: the current page): reported, and linked in the repository if held."""
    page_id = page_id or conv.context.page_id
    conv.report.attachments.add((page_id or "", filename))
    resolved = conv.context.resolve_attachment(page_id=page_id, filename=filename)
    return resolved or conv.context.attachment_url(page_id, filename)


def is_foreign(conv, attachment: Tag) -> bool:
    """Whether an attachment is on a page known by title only that the sync does not hold: no file URL to show."""
    owner = attachment_owner(attachment)
    return owner is not None and not owner_id(conv, owner)


def link_body(conv, el: Tag, parent_tags) -> str:
    rich = el.find("ac:link-body", recursive=False)
    if rich is not None:
        return conv.render_children(rich, parent_tags).strip()
    plain = el.find("ac:plain-text-link-body", recursive=False)
    return escape(" ".join(plain.get_text().split())) if plain is not None else ""


def convert_link(conv, el: Tag, parent_tags) -> str:
    anchor = el.get("ac:anchor") or None
    body = link_body(conv, el, parent_tags)
    target = el.find(RESOURCE_TAGS, recursive=False)
    if target is not None:
        return resource_link(conv, target, parent_tags, body=body, anchor=anchor)
    if anchor:
        return markdown_link(body or escape(anchor), conv.anchors.href(anchor), parent_tags)
    return body


def resource_link(conv, target: Tag, parent_tags, *, body: str = "", anchor: str | None = None) -> str:
    """A Markdown link to what a resource identifier (`ri:*`) names, with `body` as its text when given."""
    name = target.name
    if name == "ri:user":
        return mention(conv, target, body, parent_tags)
    if name in PAGE_TAGS:
        ref = page_ref(target, anchor)
        url = page_href(conv, ref)
        text = body or escape(ref.title or anchor or ref.page_id or url)
    elif name == "ri:attachment":
        url = attachment_href(conv, target)
        text = body or escape(target.get("ri:filename", ""))
    elif name == "ri:url":
        url = target.get("ri:value", "")
        text = body or escape(url)
    elif name == "ri:space":
        key = target.get("ri:space-key", "")
        url = space_href(conv, key) if key else ""
        text = body or escape(key)
    elif name == "ri:shortcut":
        key, parameter = target.get("ri:key", ""), target.get("ri:parameter", "")
        url = conv.context.shortcut_url(key, parameter) or conv.context.page_url(PageRef())
        text = body or escape(f"{parameter}@{key}" if parameter else key)
    else:
        return body
    return markdown_link(text, url, parent_tags)


def space_href(conv, key: str) -> str:
    """A link to a space: its home page's file when the sync holds it (reported like a page link, so the link
    follows the page when it moves), else the space in Confluence."""
    home = conv.context.space_home(key)
    path = conv.context.resolve_page(home) if home is not None else None
    if path:
        conv.report.linked_pages.add(home)
        return path
    return conv.context.resolve_space(key) or conv.context.space_url(key)


def markdown_link(text: str, url: str, parent_tags, title: str = "") -> str:
    if "_noformat" in parent_tags:
        return text
    if not url or runs_script(url):
        return text
    return f"[{link_text(text)}]({href(url)}{link_title(title)})"


def mention(conv, user: Tag, body: str, parent_tags=frozenset()) -> str:
    """`@Name` linking to the profile (by account id, or a Server username). A person the context cannot name is
    "@unknown user", never a raw id. A closed account is "Former user": its name (even the link's own text) and its
    id are erased, as Atlassian requires of apps once the personal data reporting API says so."""
    account_id = user.get("ri:account-id", "").strip()
    if account_id and account_id in conv.context.closed_accounts:
        return FORMER_USER
    key = account_id or user.get("ri:userkey", "").strip()
    username = user.get("ri:username", "").strip()
    if account_id:
        conv.report.mentions.add(account_id)
    name = next((n for n in (conv.context.user_name(k) for k in (key, username) if k) if n), None)
    if name:
        text = escape(f"@{name}")
    elif body:
        text = body
    else:
        text = escape(f"@{username}") if username else UNKNOWN_USER
    if account_id:
        return markdown_link(text, conv.context.user_url(account_id), parent_tags)
    if username:
        return markdown_link(text, conv.context.username_url(username), parent_tags)
    # A bare Server user key: the people lookup knows account ids only, and no documented URL takes a key.
    return text


def convert_resource(conv, el: Tag, parent_tags) -> str:
    """A resource identifier outside any link or macro parameter (a stray `<ri:page/>`): still a link."""
    return resource_link(conv, el, parent_tags)


def convert_image(conv, el: Tag, parent_tags) -> str:
    source = el.find(["ri:attachment", "ri:url"], recursive=False)
    if source is None:
        source = el.find(["ri:attachment", "ri:url"])
    if source is None:
        conv.report.warnings.add("an image without a source was dropped")
        return ""
    if source.name == "ri:attachment" and is_foreign(conv, source):
        # Another page's image known by title only: there is no file URL to show, so link to that page.
        text = escape(el.get("ac:alt") or source.get("ri:filename", ""))
        return markdown_link(text, attachment_href(conv, source), parent_tags)
    if source.name == "ri:attachment":
        src, name = attachment_href(conv, source), source.get("ri:filename", "")
    else:
        src = source.get("ri:value", "")
        name = src.rsplit("/", 1)[-1]
    alt = el.get("ac:alt") or name
    image = image_markup(src, alt, el.get("ac:title", ""), el.get("ac:width", ""), el.get("ac:height", ""))
    caption = el.find("ac:caption", recursive=False)
    caption_text = conv.render_children(caption, parent_tags).strip() if caption is not None else ""
    if caption_text and "_inline" not in parent_tags:
        caption_text = caption_text if "*" in caption_text else f"*{caption_text}*"
        return conv.block(f"{image}\n\n{caption_text}", parent_tags)
    return conv.block(image, parent_tags) if is_standalone(el) else image


def image_markup(src: str, alt: str, title: str, width: str, height: str) -> str:
    """`![alt](src)`, or an `<img>` tag when a size must survive (Markdown has no syntax for it); only the alt
    text for a source that would run or embed something."""
    alt = " ".join(alt.split())
    if runs_script(src):
        return escape(alt)
    if width or height:
        attrs = [("src", src), ("alt", alt), ("title", title), ("width", width), ("height", height)]
        return "<img " + " ".join(f'{k}="{html.escape(v)}"' for k, v in attrs if v) + ">"
    return f"![{link_text(escape(alt))}]({href(src)}{link_title(title)})"


def html_link(conv, el: Tag, text: str, parent_tags) -> str:
    if "_noformat" in parent_tags:
        return text
    prefix, suffix, text = chomp(text)
    url = absolute(conv, el.get("href", ""))
    if not url:
        return prefix + text + suffix
    # Always `[text](url)`, never `<url>`: one form for every link is easier to read and to process.
    text = text or escape(url)
    return prefix + markdown_link(text, url, parent_tags, el.get("title", "")) + suffix


def html_image(conv, el: Tag) -> str:
    src = absolute(conv, el.get("src", ""))
    if not src:
        return ""
    alt = el.get("alt") or src.rsplit("/", 1)[-1]
    return image_markup(src, alt, el.get("title", ""), el.get("width", ""), el.get("height", ""))


def absolute(conv, url: str) -> str:
    """Site-relative Confluence URLs (`/wiki/...`) made absolute when the site is known."""
    url = url.strip()
    if url.startswith("/") and not url.startswith("//") and conv.context.site_url:
        return conv.context.base_url + url
    return url


HANDLERS = {
    "ac:link": convert_link,
    "ac:image": convert_image,
    **dict.fromkeys(RESOURCE_TAGS, convert_resource),
}
