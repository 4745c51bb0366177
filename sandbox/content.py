"""Storage-format page bodies built from templates, using the constructs real Confluence sites are full of.

Every body is a deterministic function of the random generator it is given, so `sandbox_seed --seed S` makes
the same site every time. The markup follows what the Confluence editor saves (XHTML with `ac:`/`ri:` tags).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from html import escape

LANGUAGES = {
    "python": 'def handler(event):\n    """Route one event."""\n    return {"ok": True, "id": event["id"]}\n',
    "bash": "set -euo pipefail\nkubectl rollout restart deploy/api -n prod\n",
    "java": "public final class Retry {\n    static int backoff(int n) { return 1 << n; }\n}\n",
    "sql": "SELECT id, title FROM page WHERE status = 'current' AND updated_at > now() - interval '1 day';\n",
    "yaml": "service:\n  name: billing\n  replicas: 3\n  env: [prod, staging]\n",
    "js": "export const sum = (xs) => xs.reduce((a, b) => a + b, 0);\n",
    "go": 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("<ok> & done") }\n',
    "json": '{"limit": 250, "cursor": null, "tags": ["a", "b"]}\n',
}
PANELS = ("info", "note", "warning", "tip")
STATUSES = (("Green", "DONE"), ("Yellow", "IN PROGRESS"), ("Red", "BLOCKED"), ("Blue", "IN REVIEW"), ("Grey", "NEW"))
EMOTICONS = ("smile", "sad", "thumbs-up", "warning", "tick", "cross", "information", "light-on", "star_yellow")
EMOJI = (("1f680", ":rocket:", "🚀"), ("1f389", ":tada:", "🎉"), ("2705", ":white_check_mark:", "✅"))
UNKNOWN_MACROS = ("toc", "children", "recently-updated", "drawio", "gliffy", "roadmap", "contributors", "pagetree")
WORDS = (
    "deploy",
    "service",
    "latency",
    "incident",
    "cache",
    "rollback",
    "queue",
    "schema",
    "budget",
    "review",
    "customer",
    "release",
    "metrics",
    "alert",
    "runbook",
    "owner",
    "quota",
    "backup",
    "index",
    "token",
)


@dataclass
class PageContext:
    """What a body may refer to: pages that exist already, people to mention, files attached to this page."""

    title: str
    space_key: str
    same_space_titles: list[str] = field(default_factory=list)
    other_space_pages: list[tuple[str, str]] = field(default_factory=list)  # (space key, title)
    account_ids: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def render_body(rng: random.Random, context: PageContext) -> str:
    """A body of a few sections in random order; sometimes wrapped in a page layout, as the new editor saves."""
    sections = [paragraph(rng, context), heading(2, "Overview"), paragraph(rng, context)]
    builders = [
        code,
        panel,
        expand,
        status_line,
        table,
        task_list,
        links,
        anchor_section,
        emoticons,
        dates,
        jira,
        unknown_macro,
        nested_list,
    ]
    for builder in rng.sample(builders, k=rng.randint(4, len(builders))):
        sections.append(builder(rng, context))
    sections += [image(context, name) for name in context.images]
    sections += [file_link(name) for name in context.files]
    if rng.random() < 0.25:
        return layout(sections)
    return "".join(sections)


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def heading(level: int, text: str) -> str:
    return f"<h{level}>{escape(text)}</h{level}>"


def mention(account_id: str) -> str:
    return f'<ac:link><ri:user ri:account-id="{escape(account_id)}" /></ac:link>'


def paragraph(rng: random.Random, context: PageContext) -> str:
    text = escape(words(rng, rng.randint(8, 20)).capitalize())
    extras = [
        f"<strong>{escape(rng.choice(WORDS))}</strong>",
        f"<em>{escape(rng.choice(WORDS))}</em>",
        f"<code>{escape(rng.choice(WORDS))}()</code>",
        "&amp; more&nbsp;text",
        '<a href="https://example.com/docs?a=1&amp;b=2">external docs</a>',
        "<br />",
    ]
    if context.account_ids:
        extras.append(f"ask {mention(rng.choice(context.account_ids))}")
    return f"<p>{text} {' '.join(rng.sample(extras, k=3))}.</p>"


def code(rng: random.Random, context: PageContext) -> str:
    language = rng.choice(sorted(LANGUAGES))
    source = LANGUAGES[language]
    if rng.random() < 0.2:
        source += "x = a[b[0]]>1\n"
    body = cdata(source)
    title = f'<ac:parameter ac:name="title">example.{language}</ac:parameter>' if rng.random() < 0.5 else ""
    return (
        f'<ac:structured-macro ac:name="code" ac:schema-version="1" ac:macro-id="{_macro_id(rng)}">'
        f'<ac:parameter ac:name="language">{language}</ac:parameter>{title}'
        f'<ac:parameter ac:name="linenumbers">{str(rng.random() < 0.3).lower()}</ac:parameter>'
        f"<ac:plain-text-body>{body}</ac:plain-text-body></ac:structured-macro>"
    )


def panel(rng: random.Random, context: PageContext) -> str:
    kind = rng.choice(PANELS)
    title = f'<ac:parameter ac:name="title">{escape(kind.title())}: {escape(rng.choice(WORDS))}</ac:parameter>'
    return (
        f'<ac:structured-macro ac:name="{kind}" ac:schema-version="1" ac:macro-id="{_macro_id(rng)}">'
        f"{title if rng.random() < 0.6 else ''}<ac:rich-text-body>{paragraph(rng, context)}</ac:rich-text-body>"
        "</ac:structured-macro>"
    )


def expand(rng: random.Random, context: PageContext) -> str:
    return (
        f'<ac:structured-macro ac:name="expand" ac:schema-version="1" ac:macro-id="{_macro_id(rng)}">'
        '<ac:parameter ac:name="title">Show details</ac:parameter>'
        f"<ac:rich-text-body>{paragraph(rng, context)}{code(rng, context)}</ac:rich-text-body>"
        "</ac:structured-macro>"
    )


def status_line(rng: random.Random, context: PageContext) -> str:
    colour, title = rng.choice(STATUSES)
    return (
        '<p>Status: <ac:structured-macro ac:name="status" ac:schema-version="1">'
        f'<ac:parameter ac:name="colour">{colour}</ac:parameter><ac:parameter ac:name="title">{title}</ac:parameter>'
        "</ac:structured-macro></p>"
    )


def table(rng: random.Random, context: PageContext) -> str:
    """A table with a header row, a cell spanning two rows and one spanning two columns."""
    cells = [escape(words(rng, 2)) for _ in range(8)]
    return (
        '<table data-table-width="760" data-layout="default"><colgroup><col style="width: 200.0px;" />'
        '<col style="width: 280.0px;" /><col style="width: 280.0px;" /></colgroup><tbody>'
        "<tr><th><p><strong>Component</strong></p></th><th><p><strong>Owner</strong></p></th>"
        "<th><p><strong>Notes</strong></p></th></tr>"
        f'<tr><td rowspan="2"><p>{cells[0]}</p></td><td><p>{cells[1]}</p></td><td><p>{cells[2]}</p></td></tr>'
        f"<tr><td><p>{cells[3]}</p></td><td><ul><li>{cells[4]}</li><li>{cells[5]}</li></ul></td></tr>"
        f'<tr><td colspan="2"><p>{cells[6]}</p></td><td><p>{cells[7]}</p></td></tr>'
        "</tbody></table>"
    )


def task_list(rng: random.Random, context: PageContext) -> str:
    tasks = []
    for n in range(1, rng.randint(2, 4) + 1):
        who = f" {mention(rng.choice(context.account_ids))}" if context.account_ids else ""
        done = "complete" if rng.random() < 0.4 else "incomplete"
        tasks.append(
            f"<ac:task><ac:task-id>{n}</ac:task-id><ac:task-status>{done}</ac:task-status>"
            f"<ac:task-body>{escape(words(rng, 4))}{who}</ac:task-body></ac:task>"
        )
    return f"<ac:task-list>{''.join(tasks)}</ac:task-list>"


def links(rng: random.Random, context: PageContext) -> str:
    """Links by title in this space, by space key and title elsewhere, and one to a page that does not exist."""
    items = []
    for title in rng.sample(context.same_space_titles, k=min(2, len(context.same_space_titles))):
        items.append(f'<li><ac:link><ri:page ri:content-title="{escape(title)}" /></ac:link></li>')
    for key, title in rng.sample(context.other_space_pages, k=min(2, len(context.other_space_pages))):
        items.append(
            f'<li><ac:link><ri:page ri:space-key="{escape(key)}" ri:content-title="{escape(title)}" />'
            f"<ac:plain-text-link-body>{cdata(f'{title} in {key}')}</ac:plain-text-link-body></ac:link></li>"
        )
    items.append('<li><ac:link><ri:page ri:content-title="A page nobody wrote yet" /></ac:link></li>')
    return f"<h3>Related</h3><ul>{''.join(items)}</ul>"


def anchor_section(rng: random.Random, context: PageContext) -> str:
    name = f"section-{rng.randint(1, 99)}"
    return (
        f'<p><ac:link ac:anchor="{name}"><ac:plain-text-link-body><![CDATA[Jump to details]]>'
        "</ac:plain-text-link-body></ac:link></p>"
        f'<h2><ac:structured-macro ac:name="anchor" ac:schema-version="1"><ac:parameter ac:name="">{name}'
        f"</ac:parameter></ac:structured-macro>Details</h2>{paragraph(rng, context)}"
    )


def emoticons(rng: random.Random, context: PageContext) -> str:
    emoji_id, shortname, fallback = rng.choice(EMOJI)
    return (
        f'<p>Team mood <ac:emoticon ac:name="{rng.choice(EMOTICONS)}" /> and '
        f'<ac:emoticon ac:name="blue-star" ac:emoji-shortname="{shortname}" ac:emoji-id="{emoji_id}" '
        f'ac:emoji-fallback="{fallback}" /></p>'
    )


def dates(rng: random.Random, context: PageContext) -> str:
    return f'<p>Due <time datetime="2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" /> at the latest.</p>'


def jira(rng: random.Random, context: PageContext) -> str:
    return (
        f'<p><ac:structured-macro ac:name="jira" ac:schema-version="1" ac:macro-id="{_macro_id(rng)}">'
        '<ac:parameter ac:name="server">System JIRA</ac:parameter>'
        '<ac:parameter ac:name="serverId">a1b2c3d4-0000-4000-8000-00000000beef</ac:parameter>'
        f'<ac:parameter ac:name="key">{context.space_key}-{rng.randint(1, 999)}</ac:parameter>'
        "</ac:structured-macro></p>"
    )


def unknown_macro(rng: random.Random, context: PageContext) -> str:
    name = rng.choice(UNKNOWN_MACROS)
    return (
        f'<ac:structured-macro ac:name="{name}" ac:schema-version="1" ac:macro-id="{_macro_id(rng)}">'
        '<ac:parameter ac:name="maxLevel">3</ac:parameter></ac:structured-macro>'
    )


def nested_list(rng: random.Random, context: PageContext) -> str:
    inner = "".join(f"<li>{escape(words(rng, 3))}</li>" for _ in range(2))
    return f"<ol><li>{escape(words(rng, 3))}<ul>{inner}</ul></li><li>{escape(words(rng, 2))}</li></ol>"


def image(context: PageContext, filename: str) -> str:
    return (
        f'<p><ac:image ac:align="center" ac:layout="center" ac:width="480">'
        f'<ri:attachment ri:filename="{escape(filename)}" /></ac:image></p>'
    )


def file_link(filename: str) -> str:
    return (
        f'<p><ac:link><ri:attachment ri:filename="{escape(filename)}" />'
        f"<ac:plain-text-link-body>{cdata(f'Download {filename}')}</ac:plain-text-link-body></ac:link></p>"
    )


def layout(sections: list[str]) -> str:
    middle = len(sections) // 2
    return (
        '<ac:layout><ac:layout-section ac:type="fixed-width" ac:breakout-mode="default">'
        f"<ac:layout-cell>{sections[0]}</ac:layout-cell></ac:layout-section>"
        '<ac:layout-section ac:type="two_equal" ac:breakout-mode="default">'
        f"<ac:layout-cell>{''.join(sections[1:middle])}</ac:layout-cell>"
        f"<ac:layout-cell>{''.join(sections[middle:])}</ac:layout-cell></ac:layout-section></ac:layout>"
    )


def cdata(text: str) -> str:
    """A CDATA section; a literal "]]>" is split across two sections, as Confluence saves it."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _macro_id(rng: random.Random) -> str:
    return "%08x-%04x-4%03x-8%03x-%012x" % (  # noqa: UP031 - a fixed-width hex layout reads best this way
        rng.getrandbits(32),
        rng.getrandbits(16),
        rng.getrandbits(12),
        rng.getrandbits(12),
        rng.getrandbits(48),
    )
