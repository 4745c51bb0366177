"""Inclusion macros in the seeded site: an excerpt on a page of the second space, a page of the first space that
includes it and shows its excerpt (with and without a panel) and includes a restricted page, page properties on
the first space's decision pages, and the page-properties report over them on its home page.

Chosen without the seed's random numbers and after every page exists, so the rest of the site stays the same.
"""

from __future__ import annotations

STATUSES = ("DECIDED", "PROPOSED", "SUPERSEDED")


def seed_inclusions(atlassian, cloud_id: str, keys: list[str], *, restricted: list[str]) -> None:
    if len(keys) < 2:
        return
    first, second = (atlassian.space_by_key(cloud_id, key) for key in keys[:2])
    source = next(_plain_pages(atlassian, second, restricted), None)
    includer = next(_plain_pages(atlassian, first, restricted), None)
    if source is None or includer is None:
        return
    excerpt = _macro("excerpt", "", body=f"<p>{source.title}, in one sentence: what {second.name} runs and how.</p>")
    atlassian.update_page(source.id, body=excerpt + source.body, message="excerpt", emit=False)
    shown = [
        "<h2>Shared content</h2>",
        _macro("excerpt-include", _page_link(source.title, second.key)),
        _macro("excerpt-include", _page_link(source.title, second.key), nopanel="true"),
        _macro("include", _page_link(source.title, second.key)),
    ]
    shown += [_macro("include", _page_link(atlassian.pages[pid].title, first.key)) for pid in restricted[:1]]
    atlassian.update_page(includer.id, body=includer.body + "".join(shown), message="inclusions", emit=False)
    decisions = [p for p in _plain_pages(atlassian, first, restricted) if "decision" in p.labels]
    for n, page in enumerate(decisions[:5]):
        table = f"<tr><th>Status</th><td>{STATUSES[n % 3]}</td></tr><tr><th>Owner</th><td>Team {n + 1}</td></tr>"
        details = _macro("details", "", body=f"<table><tbody>{table}</tbody></table>")
        atlassian.update_page(page.id, body=details + page.body, message="page properties", emit=False)
    report = _macro("detailssummary", "", cql='label = "decision" and space = currentSpace()', headings="Status,Owner")
    home = atlassian.pages[first.homepage_id] if first.homepage_id else includer
    atlassian.update_page(home.id, body=home.body + "<h2>Decisions</h2>" + report, message="report", emit=False)


def _plain_pages(atlassian, space, restricted: list[str]):
    """The space's pages in creation order, but its home page and the restricted ones."""
    for pid in atlassian.space_page_ids[space.id]:
        page = atlassian.pages[str(pid)]
        if page.id != space.homepage_id and page.id not in restricted:
            yield page


def _page_link(title: str, space_key: str) -> str:
    escaped = title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return f'<ac:link><ri:page ri:content-title="{escaped}" ri:space-key="{space_key}" /></ac:link>'


def _macro(name: str, page: str, *, body: str = "", **params: str) -> str:
    parameters = "".join(f'<ac:parameter ac:name="{key}">{value}</ac:parameter>' for key, value in params.items())
    if page:
        parameters += f'<ac:parameter ac:name="">{page}</ac:parameter>'
    rich = f"<ac:rich-text-body>{body}</ac:rich-text-body>" if body else ""
    return f'<ac:structured-macro ac:name="{name}">{parameters}{rich}</ac:structured-macro>'
