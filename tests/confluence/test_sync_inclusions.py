"""Inclusion macros through a sync: the included content comes from the synced source page, the index records the
dependency, and an edit of the source renders the including page again in the same commit. A source out of scope
or restricted is a link, never its content; a cycle ends."""

import json

import pytest

from confluence.convert import CONVERTER_VERSION
from confluence.sync.index import INDEX_PATH, Index, PageEntry
from confluence.sync.plan import Placed, make_plan
from tests.confluence.sync_world import sync_now, tree

pytestmark = pytest.mark.django_db

SAMPLE_ENTRY = {
    "title": "Home", "space_key": "ENG", "parent_id": None, "version": 3, "modified_at": "", "blob": "b",
    "path": "confluence/ENG/home.md", "converter_version": 5,
}  # fmt: skip
HANDBOOK, GLOSSARY, DECISIONS = (
    "confluence/ENG/handbook.md",
    "confluence/OPS/glossary.md",
    "confluence/ENG/decisions.md",
)


def macro(name: str, title: str, space: str = "", **params) -> str:
    space_attr = f' ri:space-key="{space}"' if space else ""
    parameters = "".join(f'<ac:parameter ac:name="{key}">{value}</ac:parameter>' for key, value in params.items())
    return (
        f'<ac:structured-macro ac:name="{name}">{parameters}<ac:parameter ac:name=""><ac:link>'
        f'<ri:page ri:content-title="{title}"{space_attr} /></ac:link></ac:parameter></ac:structured-macro>'
    )


def excerpt(text: str) -> str:
    body = f"<ac:rich-text-body><p>{text}</p></ac:rich-text-body>"
    return f'<ac:structured-macro ac:name="excerpt">{body}</ac:structured-macro>'


def details(status: str) -> str:
    return (
        '<ac:structured-macro ac:name="details"><ac:rich-text-body><table><tbody>'
        f"<tr><th>Status</th><td>{status}</td></tr></tbody></table></ac:rich-text-body></ac:structured-macro>"
    )


@pytest.fixture(autouse=True)
def including(world):
    """Handbook (ENG) includes Glossary (OPS), shows its excerpt, and includes Secret (HR, not synced); Loop A and
    Loop B include each other; Decisions reports the page properties of the ENG pages labelled decision."""
    a, cloud_id = world.atlassian, world.site.cloud_id
    a.create_space(cloud_id, key="HR", name="People", emit=False, homepage=False)
    world.pages["secret"] = a.create_page(
        cloud_id, space_key="HR", title="Secret", body="<p>Salaries of everyone.</p>", emit=False
    )
    world.pages["glossary"] = a.create_page(
        cloud_id,
        space_key="OPS",
        title="Glossary",
        body=excerpt("Terms we use.") + "<p>SLO: an objective.</p>",
        emit=False,
    )
    body = "<p>Start.</p>" + macro("include", "Glossary", "OPS") + macro("excerpt-include", "Glossary", "OPS")
    body += macro("include", "Secret", "HR")
    world.pages["handbook"] = a.create_page(cloud_id, space_key="ENG", title="Handbook", body=body, emit=False)
    a.create_page(cloud_id, space_key="ENG", title="Loop A", body="<p>A.</p>" + macro("include", "Loop B"), emit=False)
    a.create_page(cloud_id, space_key="ENG", title="Loop B", body="<p>B.</p>" + macro("include", "Loop A"), emit=False)
    world.pages["adr"] = a.create_page(
        cloud_id, space_key="ENG", title="Use Postgres", labels=["decision"], body=details("DECIDED"), emit=False
    )
    summary = '<ac:structured-macro ac:name="detailssummary"><ac:parameter ac:name="cql">label = "decision" and '
    summary += "space = currentSpace()</ac:parameter></ac:structured-macro>"
    world.pages["decisions"] = a.create_page(cloud_id, space_key="ENG", title="Decisions", body=summary, emit=False)


def index_entry(world, key: str) -> dict:
    return json.loads(tree(world)[INDEX_PATH])["pages"][world.pages[key].id]


def test_it_shows_the_synced_sources_content_and_records_the_dependency(world, connection):
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    handbook = tree(world)[HANDBOOK].decode()
    assert "SLO: an objective." in handbook
    assert "> **[Glossary](../OPS/glossary.md)**\n>\n> Terms we use." in handbook
    assert index_entry(world, "handbook")["includes"] == [world.pages["glossary"].id]
    decisions = tree(world)[DECISIONS].decode()
    assert "| [Use Postgres](use-postgres.md) | DECIDED |" in decisions
    assert index_entry(world, "decisions")["includes"] == [world.pages["adr"].id]


def test_a_source_that_is_not_synced_is_a_link_and_its_content_never_appears(world, connection):
    sync_now(connection)
    files = tree(world)
    assert not any(b"Salaries" in content for content in files.values())
    assert (
        "*Content included from [Secret](https://acme.atlassian.net/wiki/display/HR/Secret), "
        "which is not in this repository.*" in files[HANDBOOK].decode()
    )


def test_a_restricted_source_is_a_link_and_its_content_never_appears(world, connection):
    world.atlassian.restrict_page(
        world.pages["glossary"].id, users=[world.atlassian.default_user().account_id], emit=False
    )
    sync_now(connection)
    files = tree(world)
    assert GLOSSARY not in files
    assert not any(b"SLO: an objective" in content or b"Terms we use" in content for content in files.values())
    assert "*Content included from [Glossary](https://acme.atlassian.net/wiki/display/OPS/Glossary)" in (
        files[HANDBOOK].decode()
    )


def test_editing_the_source_renders_the_including_page_again_in_the_same_commit(world, connection):
    sync_now(connection)
    before = tree(world)
    world.atlassian.update_page(world.pages["glossary"].id, body=excerpt("Words, defined.") + "<p>SLA.</p>", emit=False)
    world.atlassian.update_page(world.pages["adr"].id, body=details("SUPERSEDED"), emit=False)
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    after = tree(world)
    changed = {path for path in after if after[path] != before.get(path)}
    assert changed == {HANDBOOK, GLOSSARY, DECISIONS, "confluence/ENG/use-postgres.md", INDEX_PATH}
    assert world.github.head_sha("acme-inc", "wiki") == run.commit_sha
    assert "SLA." in after[HANDBOOK].decode() and "> Words, defined." in after[HANDBOOK].decode()
    assert "| SUPERSEDED |" in after[DECISIONS].decode()


def test_a_source_moved_out_of_scope_becomes_a_link(world, connection):
    sync_now(connection)
    scope = connection.sync_scope
    scope.spaces = [s for s in scope.spaces if s["key"] == "ENG"]
    scope.save()
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    handbook = tree(world)[HANDBOOK].decode()
    assert "SLO: an objective." not in handbook
    assert "*Content included from [Glossary](https://acme.atlassian.net/wiki/display/OPS/Glossary)" in handbook
    assert "includes" not in index_entry(world, "handbook")


def test_a_cycle_of_includes_ends(world, connection):
    run = sync_now(connection)
    assert run.status == "succeeded", run.error
    loop_a = tree(world)["confluence/ENG/loop-a.md"].decode()
    assert loop_a.count("A.") == 1 and loop_a.count("B.") == 1
    assert "*Content included from [Loop A](loop-a.md), already shown around this point (an inclusion loop).*" in loop_a


def test_a_labelled_page_that_gains_page_properties_joins_the_report(world, connection):
    sync_now(connection)
    retro = world.atlassian.create_page(
        world.site.cloud_id, space_key="ENG", title="Retro", labels=["decision"], body="<p>Notes.</p>", emit=False
    )
    sync_now(connection)
    assert "Retro" not in tree(world)[DECISIONS].decode()
    world.atlassian.update_page(retro.id, body=details("PROPOSED"), emit=False)
    sync_now(connection)
    assert "| [Retro](retro.md) | PROPOSED |" in tree(world)[DECISIONS].decode()


def test_the_plan_renders_again_the_pages_that_show_a_changed_or_gone_source():
    def entry(version: int, includes=()) -> PageEntry:
        return PageEntry(
            title=f"P{version}", space_key="ENG", parent_id=None, version=version, modified_at="", path=f"{version}.md",
            blob="b", converter_version=CONVERTER_VERSION, includes=list(includes),
        )  # fmt: skip

    index = Index(pages={"1": entry(1, ["2"]), "2": entry(2), "3": entry(3, ["4"]), "4": entry(4), "5": entry(5)})
    placed = {
        pid: Placed(
            id=pid,
            title=e.title,
            space_key="ENG",
            parent_id=None,
            version=e.version + (pid == "2"),
            modified_at="",
            labels=(),
            webui="",
            path=e.path,
        )
        for pid, e in index.pages.items()
        if pid != "4"
    }
    plan = make_plan(index, placed, converter_version=CONVERTER_VERSION, full=False)
    assert plan.updates == ["1", "2", "3"] and plan.removes == ["4"] and plan.unchanged == ["5"]


def test_an_index_without_inclusions_reads_as_none_and_writes_none():
    index = Index.from_json({"pages": {"1": {**SAMPLE_ENTRY}}})
    assert index.pages["1"].includes == []
    assert b"includes" not in index.render()
