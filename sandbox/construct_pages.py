"""Storage-format bodies for the construct tour: pages that use every construct real Confluence pages are made of
and that the converter must carry into Markdown — mentions, page lists, attachment embeds, links in every form,
unknown macros, emoticons and malformed storage.

Written from Atlassian's storage-format and macro references (macro names and parameter names as the editor saves
them). Every reference points at something `sandbox.seed_constructs` creates (a page, a file, a person), so a sync of
the tour leaves nothing unresolved but what Confluence itself would not resolve.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from sandbox.content import cdata

TOUR = "Construct tour"
PEOPLE = "Tour: people"
LISTS = "Tour: page lists"
LIST_ITEMS = ("Tour: list item one", "Tour: list item two")
LIST_DETAIL = "Tour: list item two, detail"
EMBEDS = "Tour: attachments"
LINKS = "Tour: links"
MACROS = "Tour: unknown macros"
EMOTICONS = "Tour: emoticons"
MALFORMED = "Tour: malformed storage"
FOLDER = "Tour folder: team handbook"  # a Confluence folder: a directory in the repository, no file of its own
IN_FOLDER = "Tour: a page in a folder"
# Content that is no page, listed after the tour page's body ("In Confluence").
BOARDS = (
    ("whiteboard", "Tour whiteboard: retro"),
    ("database", "Tour database: services"),
    ("embed", "Tour smart link"),
)
SHARED = "Shared files"  # in the second space: files the first space's pages show
# The 22 emoticons of the storage-format reference, by the names it gives them.
DOCUMENTED_EMOTICONS = (
    "smile", "sad", "cheeky", "laugh", "wink", "thumbs-up", "thumbs-down", "information", "tick", "cross", "warning",
    "plus", "minus", "question", "light-on", "light-off", "yellow-star", "red-star", "green-star", "blue-star",
    "heart", "broken-heart",
)  # fmt: skip
# Atlassian's own emoji, as the Cloud editor saves emoticons converted from wiki markup.
ATLASSIAN_EMOJI = ("atlassian-check_mark", "atlassian-flag_on", "atlassian-light_bulb_on")


@dataclass(frozen=True)
class Tour:
    """What the bodies refer to: the two spaces, the shared page, the people and the files."""

    space: str
    other_space: str
    shared_id: str
    tour_id: str
    people: tuple[str, ...]  # active accounts, the first ones mentioned most
    closed: str  # an account closed since it was mentioned
    deactivated: str  # an account deactivated since it was mentioned: its name stays


def mention(account_id: str, *, body: str = "", userkey: str = "") -> str:
    key = f' ri:userkey="{escape(userkey)}"' if userkey else ""
    text = f"<ac:plain-text-link-body>{cdata(body)}</ac:plain-text-link-body>" if body else ""
    return f'<ac:link><ri:user{key} ri:account-id="{escape(account_id)}" />{text}</ac:link>'


def macro(name: str, *params: tuple[str, str], body: str = "", plain: str = "", tag: str = "structured-macro") -> str:
    """A macro whose parameter values are storage markup already (escape text yourself)."""
    parameters = "".join(f'<ac:parameter ac:name="{key}">{value}</ac:parameter>' for key, value in params)
    rich = f"<ac:rich-text-body>{body}</ac:rich-text-body>" if body else ""
    text = f"<ac:plain-text-body>{cdata(plain)}</ac:plain-text-body>" if plain else ""
    return f'<ac:{tag} ac:name="{name}">{parameters}{rich}{text}</ac:{tag}>'


def page(title: str, space: str = "", *, tag: str = "ri:page") -> str:
    key = f' ri:space-key="{escape(space)}"' if space else ""
    return f'<{tag}{key} ri:content-title="{escape(title)}" />'


def attachment(filename: str, owner: str = "") -> str:
    if not owner:
        return f'<ri:attachment ri:filename="{escape(filename)}" />'
    return f'<ri:attachment ri:filename="{escape(filename)}">{owner}</ri:attachment>'


def entity(content_id: str) -> str:
    return f'<ri:content-entity ri:content-id="{escape(content_id)}" />'


def tour_body(tour: Tour) -> str:
    return (
        "<p>Every construct real pages are made of, one page each. This page lists them twice.</p>"
        + macro("children", ("depth", "2"), ("sort", "creation"))
        + "<h2>The whole tour</h2>"
        + macro("pagetree", ("root", f"<ac:link>{page('@self')}</ac:link>"), ("startDepth", "1"))
    )


def people_body(tour: Tour) -> str:
    first, second, third, fourth = (tour.people * 4)[:4]
    user = f'<ri:user ri:account-id="{escape(first)}" />'
    return (
        f"<p>Owner: {mention(first)}. Reviewer: {mention(second)}.</p>"
        f'<p>Inline, outside a link: <ri:user ri:account-id="{escape(third)}" />.</p>'
        f"<p>With a link body: {mention(fourth, body='the sandbox account')}.</p>"
        f"<p>Migrated from Server (a user key beside the account id): {mention(first, userkey='ff80808170a1b2c3')}.</p>"
        f"<p>Since left the company: {mention(tour.closed)}.</p>"
        f"<p>On leave, account deactivated: {mention(tour.deactivated)}.</p>"
        "<h2>Mentions in a table</h2>"
        "<table><tbody><tr><th>Role</th><th>Person</th></tr>"
        f"<tr><td>Approver</td><td>{mention(second)}</td></tr>"
        f"<tr><td>Former owner</td><td>{mention(tour.closed)}</td></tr>"
        f"<tr><td>Previous reviewer</td><td>{mention(tour.deactivated)}</td></tr></tbody></table>"
        "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status>"
        f"<ac:task-body>Review the plan {mention(third)}</ac:task-body></ac:task></ac:task-list>"
        f"<p>Profile: {macro('profile', ('user', user))}</p>"
    )


def lists_body(tour: Tour) -> str:
    parent = f"<ac:link>{page('@parent')}</ac:link>"
    return (
        "<h2>Children</h2>"
        + macro("children", ("all", "true"), ("sort", "title"))
        + macro("children", ("page", f"<ac:link>{page(TOUR)}</ac:link>"), ("sort", "creation"), ("reverse", "true"))
        + macro("children", ("page", f"{escape(tour.other_space)}:"), ("style", "h3"))
        + "<h2>Page trees</h2>"
        + macro("pagetree", ("root", f"<ac:link>{page('@self')}</ac:link>"), ("sort", "natural"))
        + macro("pagetree", ("root", parent), ("startDepth", "2"), ("reverse", "true"))
        + macro("pagetree", ("root", f"<ac:link>{page('@home')}</ac:link>"), ("spaceKey", escape(tour.other_space)))
        + "<h2>Index</h2>"
        + macro("page-index")
        + "<h2>By label</h2>"
        + macro(
            "contentbylabel",
            ("labels", "tour"),
            ("spaces", f"{escape(tour.space)},{escape(tour.other_space)}"),
            ("sort", "title"),
            ("max", "10"),
        )
        + macro("contentbylabel", ("cql", escape('label = "tour" and space = currentSpace()')))
        + "<h2>Recent changes</h2>"
        + macro("recently-updated", ("spaces", "@self"), ("labels", "tour"), ("max", "5"))
        + macro("blog-posts", ("spaces", "@self"), ("max", "5"))
    )


EMBEDDED = (
    ("view-file", "handbook.pdf"),
    ("viewpdf", "audit 2024.pdf"),
    ("viewdoc", "minutes.docx"),
    ("viewxls", "budget.xlsx"),
    ("viewppt", "kickoff.pptx"),
    ("office-word", "proposal.docx"),
    ("office-excel", "forecast.xlsx"),
    ("office-powerpoint", "roadmap.pptx"),
    ("pdf", "policy.pdf"),
    ("multimedia", "demo.mp4"),
    ("view-file", "screen.png"),
)
GALLERY = ("front.png", "back.png")
DRAWIO, GLIFFY = "architecture", "Org chart"
SHARED_FILES = ("handbook.pdf", "network.png")


def embeds_body(tour: Tour) -> str:
    viewers = "".join(macro(name, ("name", attachment(filename))) for name, filename in EMBEDDED)
    shared = attachment(SHARED_FILES[0], entity(tour.shared_id))
    return (
        "<h2>Viewers</h2>"
        + viewers
        + f"<p>Inline: {macro('view-file', ('name', attachment('budget.xlsx')))} is attached.</p>"
        + "<h2>Another page's file</h2>"
        + macro("viewpdf", ("name", shared))
        + f'<p><ac:image ac:alt="network"><ri:attachment ri:filename="{SHARED_FILES[1]}">{entity(tour.shared_id)}'
        + "</ri:attachment></ac:image></p>"
        + "<h2>Gallery and diagrams</h2>"
        + macro("gallery", ("title", "Site photos"), ("include", ", ".join(GALLERY)), ("columns", "2"))
        + macro("drawio", ("diagramName", DRAWIO), ("revision", "3"), ("width", "800"))
        + macro("gliffy", ("name", escape(GLIFFY)), ("pagePin", "2"))
    )


def links_body(tour: Tour) -> str:
    anchored = f'<ac:link ac:anchor="Mentions in a table">{page(PEOPLE)}'
    day = "2026/01/05"
    return (
        "<h2>Pages and posts</h2>"
        f"<p>By title: <ac:link>{page(PEOPLE)}</ac:link>, at a heading: {anchored}"
        f"<ac:plain-text-link-body>{cdata('the people table')}</ac:plain-text-link-body></ac:link>, "
        f"in another space: <ac:link>{page(SHARED, tour.other_space)}</ac:link>.</p>"
        f'<p>By id: <ac:link><ri:page ri:content-id="{tour.tour_id}" />'
        f"<ac:plain-text-link-body>{cdata('the tour')}</ac:plain-text-link-body></ac:link> and "
        f"<ac:link>{entity(tour.shared_id)}<ac:link-body>the <strong>shared</strong> files</ac:link-body>"
        "</ac:link>.</p>"
        f'<p>A blog post: <ac:link><ri:blog-post ri:content-title="Quarterly update" ri:posting-day="{day}" />'
        "</ac:link>.</p>"
        "<h2>Spaces, files and the web</h2>"
        f'<p>Spaces: <ac:link><ri:space ri:space-key="{escape(tour.other_space)}" /></ac:link> and '
        f'<ac:link><ri:space ri:space-key="{escape(tour.space)}" />'
        f"<ac:plain-text-link-body>{cdata('this space')}</ac:plain-text-link-body></ac:link>.</p>"
        f"<p>Files: <ac:link>{attachment('release-notes.txt')}</ac:link>, "
        f"<ac:link>{attachment(SHARED_FILES[0], entity(tour.shared_id))}"
        f"<ac:plain-text-link-body>{cdata('the handbook')}</ac:plain-text-link-body></ac:link>, "
        f"<ac:link>{attachment(SHARED_FILES[1], page(SHARED, tour.other_space))}</ac:link>.</p>"
        '<p>Web: <ac:link><ri:url ri:value="https://example.org/a b" /></ac:link>, shortcut '
        '<ac:link><ri:shortcut ri:key="google" ri:parameter="confluence storage format" /></ac:link>.</p>'
        f'<p>On this page: <ac:link ac:anchor="notes"><ac:plain-text-link-body>{cdata("the notes")}'
        "</ac:plain-text-link-body></ac:link>.</p>"
        f'<p><ac:link>{page(EMBEDS)}<ac:link-body><ac:image ac:alt="thumbnail">{attachment("thumb.png")}</ac:image>'
        "</ac:link-body></ac:link></p>" + link_macros()
    )


def link_macros() -> str:
    """The macros that are a link: clickable and link-window (a page and a URL), widget and iframe (embedded sites)."""
    return (
        "<h2>Link macros</h2>"
        + "<p>"
        + macro("clickable", ("page", f"<ac:link>{page(EMOTICONS)}</ac:link>"), body="Open <em>the emoticons</em>")
        + " or "
        + macro("link-window", ("url", "https://status.example.com/"), ("linkText", "the status page"))
        + ".</p>"
        + macro("widget", ("url", '<ri:url ri:value="https://www.youtube.com/watch?v=abc123" />'), ("width", "400"))
        + macro("iframe", ("src", '<ri:url ri:value="https://dashboards.example.com/team" />'))
        + f"<h3>{macro('anchor', ('', 'notes'))}Notes</h3><p>The end of the links.</p>"
    )


def macros_body(tour: Tour) -> str:
    related = f'<ac:link ac:anchor="usage">{page(SHARED, tour.other_space)}</ac:link>'
    spaces = "".join(f'<ri:space ri:space-key="{escape(key)}" />' for key in (tour.space, tour.other_space))
    return (
        macro("roadmap", ("source", page(LINKS)), ("timeline", "true"))
        + macro(
            "spec-viewer",
            ("file", attachment("spec 1.2.pdf")),
            ("home", '<ri:url ri:value="https://specs.example.com/" />'),
            ("owner", f'<ri:user ri:account-id="{escape(tour.people[0])}" />'),
            body="<p>The body's <strong>text</strong> stays.</p>",
        )
        + macro(
            "related-content",
            ("target", related),
            ("spaces", spaces),
            ("page", escape(EMOTICONS)),
            ("feed", "https://example.com/feed.xml"),
        )
        + macro("shell-output", ("host", "build-01"), plain="$ make test\nok")
        + "<p>Inline "
        + macro("highlight", ("colour", "yellow"), body="marked words")
        + " end.</p>"
        + macro("legacy-thing", ("title", "Old style"), body="<p>Older storage.</p>", tag="macro")
    )


def emoticons_body(tour: Tour) -> str:
    documented = " ".join(f'<ac:emoticon ac:name="{name}" />' for name in DOCUMENTED_EMOTICONS)
    atlassian = " ".join(
        f'<ac:emoticon ac:name="blue-star" ac:emoji-shortname=":{emoji[10:]}:" ac:emoji-id="{emoji}" />'
        for emoji in ATLASSIAN_EMOJI
    )
    return (
        f"<p>The documented ones: {documented}</p>"
        f"<p>Atlassian's emoji: {atlassian}</p>"
        '<p>Unicode: <ac:emoticon ac:name="blue-star" ac:emoji-shortname=":rocket:" ac:emoji-id="1f680" '
        'ac:emoji-fallback="🚀" /></p>'
        '<p>A custom emoji: <ac:emoticon ac:name="blue-star" ac:emoji-shortname=":partyparrot:" '
        'ac:emoji-id="7c3d9a0e-55aa-4c1b-9d52-3f0c1e2b4a61" ac:emoji-fallback=":partyparrot:" /></p>'
        '<p>One nobody documented: <ac:emoticon ac:name="rocket-dance" /></p>'
    )


def malformed_body(tour: Tour) -> str:
    """What damaged pages hold: an unterminated CDATA section, tags left open or closed twice, a stray element."""
    return (
        "<p>Before the code.</p>"
        '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">bash</ac:parameter>'
        "<ac:plain-text-body><![CDATA[echo unterminated</ac:plain-text-body></ac:structured-macro>"
        f'<p>After the code, with <ac:link><ri:page ri:content-title="{escape(LINKS)}"><ac:plain-text-link-body>'
        "<![CDATA[a link whose page tag was never closed]]></ac:plain-text-link-body></ac:link>.</p>"
        '<ac:structured-macro ac:name="info"><ac:rich-text-body><p>Panel text <ac:emoticon ac:name="tick"> still '
        "here.</p></ac:rich-text-body></ac:structured-macro>"
        "<table><tbody><tr><th>Key</th><th>Value</th><tr><td>alpha</td><td>one</td></tr>stray cell text</tbody>"
        "</table></table>"
        "<p>A stray <ac:nonsense>Confluence element</ac:nonsense> keeps its words.</p>"
        '<ac:structured-macro ac:name="note"><ac:parameter ac:name="title">Unclosed parameter<ac:rich-text-body>'
        "<p>Note body survives.</p></ac:rich-text-body></ac:structured-macro>"
        "<p>Last words, then the page was cut <ac:link><ri:page ri:content-ti"
    )
