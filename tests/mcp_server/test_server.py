"""The MCP server through the official client over Streamable HTTP: tools, resources, keys, limits and mistakes."""

from __future__ import annotations

import json
from types import SimpleNamespace

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, PaginatedRequestParams

from github_sync.models import ApiKey

GUIDE = (
    "---\n"
    "title: Deploy guide\n"
    "page_id: '42'\n"
    "space_key: ENG\n"
    "version: 7\n"
    "last_modified: '2026-05-01T10:00:00+00:00'\n"
    "source_url: https://acme.atlassian.net/wiki/spaces/ENG/pages/42\n"
    "labels:\n- runbook\n- deploy\n"
    "---\n"
    "# Deploying\n\nRun the blue-green switchover script.\n\n## Rollback\n\nUndo the switchover & wait.\n"
)
ONCALL = (
    "---\ntitle: On-call\npage_id: '43'\nspace_key: OPS\nsource_url: https://acme.atlassian.net/wiki/spaces/OPS/"
    "pages/43\n---\n# On-call\n\nThe switchover pager rotates weekly.\n"
)
GUIDE_ID = "ctx://acme-gh/docs/confluence/ENG/deploy-guide.md"


@pytest.fixture
def docs(github_connection, push, ingest_now, repository):
    ingest_now(
        push(
            {
                "confluence/ENG/deploy-guide.md": GUIDE,
                "confluence/OPS/on-call.md": ONCALL,
                "README.md": "# Docs\n\nThe index of this repository.\n",
            }
        )
    )
    repository.refresh_from_db()
    return repository


@pytest.fixture
def key(acme, alice):
    return ApiKey.issue(org=acme, name="agent", by=alice)[1]


def payload(result) -> dict:
    assert not result.is_error, result.content
    [item] = result.content
    return json.loads(item.text)


def error_text(result) -> str:
    assert result.is_error
    return result.content[0].text


def test_initialize_lists_the_three_tools_with_their_arguments(mcp_call, key):
    async def work(session):
        return await session.list_tools()

    tools = {tool.name: tool for tool in mcp_call(key, work).tools}

    assert sorted(tools) == ["fetch", "list_sources", "search"]
    assert tools["search"].input_schema["required"] == ["query"]
    assert set(tools["search"].input_schema["properties"]) == {"query", "repository", "space", "path_prefix", "limit"}
    assert tools["fetch"].input_schema["required"] == ["id"]
    assert all(tool.annotations.read_only_hint for tool in tools.values())


def test_search_finds_sections_with_their_provenance(mcp_call, key, docs):
    async def work(session):
        return await session.call_tool("search", {"query": "switchover script"})

    [result] = payload(mcp_call(key, work))["results"]

    assert result["id"] == GUIDE_ID
    assert result["title"] == "Deploy guide"
    assert result["path"] == "confluence/ENG/deploy-guide.md"
    assert result["heading_path"] == ["Deploying"]
    assert result["source_url"] == result["url"] == "https://acme.atlassian.net/wiki/spaces/ENG/pages/42"
    assert result["github_url"] == (
        f"{docs.html_url}/blob/{docs.ingested_sha}/confluence/ENG/deploy-guide.md#deploying"
    )
    assert result["commit"] == docs.ingested_sha
    assert "**switchover**" in result["snippet"] and "<mark>" not in result["snippet"]


def test_search_filters_by_space_path_and_repository(mcp_call, key, docs):
    async def work(session):
        return [
            payload(await session.call_tool("search", arguments))["results"]
            for arguments in (
                {"query": "switchover"},
                {"query": "switchover", "space": "ops"},
                {"query": "switchover", "path_prefix": "confluence/ENG/"},
                {"query": "switchover", "repository": "acme-gh/docs", "limit": 1},
            )
        ]

    everything, ops, eng, one = mcp_call(key, work)

    assert {r["path"] for r in everything} == {"confluence/ENG/deploy-guide.md", "confluence/OPS/on-call.md"}
    assert [r["path"] for r in ops] == ["confluence/OPS/on-call.md"]
    assert {r["path"] for r in eng} == {"confluence/ENG/deploy-guide.md"}
    assert len(one) == 1


def test_fetch_returns_the_markdown_and_front_matter(mcp_call, key, docs):
    async def work(session):
        return await session.call_tool("fetch", {"id": GUIDE_ID})

    document = payload(mcp_call(key, work))

    assert document["id"] == GUIDE_ID
    assert document["title"] == "Deploy guide"
    assert document["url"] == "https://acme.atlassian.net/wiki/spaces/ENG/pages/42"
    assert document["text"].startswith("# Deploying\n") and "Undo the switchover & wait." in document["text"]
    assert "page_id" not in document["text"]  # the front matter is metadata, not text
    assert document["metadata"] == {
        "title": "Deploy guide",
        "space": "ENG",
        "labels": ["runbook", "deploy"],
        "version": 7,
        "last_modified": "2026-05-01T10:00:00+00:00",
        "source_url": "https://acme.atlassian.net/wiki/spaces/ENG/pages/42",
        "page_id": "42",
        "ancestors": [],
        "repository": "acme-gh/docs",
        "path": "confluence/ENG/deploy-guide.md",
        "commit": docs.ingested_sha,
        "github_url": f"{docs.html_url}/blob/{docs.ingested_sha}/confluence/ENG/deploy-guide.md",
    }


def test_list_sources_names_connections_repositories_and_commits(mcp_call, key, docs):
    async def work(session):
        return await session.call_tool("list_sources", {})

    [source] = payload(mcp_call(key, work))["sources"]

    assert source["kind"] == "github"
    assert source["scope"] == "1 repository"
    assert source["last_sync"] is None
    assert source["repositories"] == [
        {
            "repository": "acme-gh/docs",
            "url": docs.html_url,
            "searchable": True,
            "last_ingested_commit": docs.ingested_sha,
            "ingested_at": docs.ingested_at.isoformat(),
            "documents": 3,
        }
    ]


def test_documents_are_resources_listed_by_page_and_readable(mcp_call, key, docs, monkeypatch):
    from mcp_server import documents

    monkeypatch.setattr(documents, "RESOURCES_PER_PAGE", 2)

    async def work(session):
        first = await session.list_resources()
        second = await session.list_resources(params=PaginatedRequestParams(cursor=first.next_cursor))
        read = await session.read_resource(GUIDE_ID)
        templates = await session.list_resource_templates()
        return first, second, read, templates

    first, second, read, templates = mcp_call(key, work)

    assert len(first.resources) == 2 and first.next_cursor
    assert len(second.resources) == 1 and second.next_cursor is None
    uris = {str(r.uri) for r in first.resources + second.resources}
    assert uris == {GUIDE_ID, "ctx://acme-gh/docs/confluence/OPS/on-call.md", "ctx://acme-gh/docs/README.md"}
    guide = next(r for r in first.resources + second.resources if str(r.uri) == GUIDE_ID)
    assert (guide.title, guide.mime_type, guide.size) == ("Deploy guide", "text/markdown", len(GUIDE.encode()))
    [contents] = read.contents
    assert contents.text == GUIDE and contents.mime_type == "text/markdown"
    assert [t.uri_template for t in templates.resource_templates] == ["ctx://{owner}/{repo}/{+path}"]


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"query": "   "}, "The query is empty"),
        ({}, "query: Field required"),
        ({"query": "deploy", "limit": 51}, "limit: Input should be less than or equal to 50"),
        ({"query": "deploy", "limit": "many"}, "limit: Input should be a valid integer"),
        ({"query": "x" * 600}, "The search is too long"),
        ({"query": " ".join(f"w{i}" for i in range(40))}, "too many different words"),
        ({"query": "deploy", "repository": "acme-gh/elsewhere"}, "No repository 'acme-gh/elsewhere'"),
    ],
)
def test_bad_search_arguments_are_tool_errors(mcp_call, key, docs, arguments, words):
    async def work(session):
        return await session.call_tool("search", arguments)

    assert words in error_text(mcp_call(key, work))


@pytest.mark.parametrize(
    ("identifier", "words"),
    [
        ("ctx://acme-gh/docs/nowhere.md", "No document ctx://acme-gh/docs/nowhere.md"),
        ("guide.md", "is not a document id"),
        ("ctx://acme-gh", "is not a document id"),
    ],
)
def test_fetching_an_unknown_id_is_a_tool_error(mcp_call, key, docs, identifier, words):
    async def work(session):
        return await session.call_tool("fetch", {"id": identifier})

    assert words in error_text(mcp_call(key, work))


def test_unknown_tools_resources_and_cursors_are_protocol_errors(mcp_call, key, docs):
    async def work(session):
        errors = []
        for attempt in (
            lambda: session.call_tool("delete_everything", {}),
            lambda: session.read_resource("ctx://acme-gh/docs/nowhere.md"),
            lambda: session.list_resources(params=PaginatedRequestParams(cursor="not-a-cursor")),
        ):
            with pytest.raises(MCPError) as raised:
                await attempt()
            errors.append(raised.value.error)
        return errors

    unknown_tool, unknown_resource, bad_cursor = mcp_call(key, work)

    assert unknown_tool.code == unknown_resource.code == bad_cursor.code == INVALID_PARAMS
    assert "Unknown tool 'delete_everything'" in unknown_tool.message
    assert "No document" in unknown_resource.message
    assert "Invalid cursor" in bad_cursor.message


@pytest.mark.parametrize("authorization", [None, "Bearer ctx_not-a-key", "Basic abc", "Bearer"])
def test_without_a_valid_key_the_answer_is_401(live_site, docs, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx2.post(live_site, json=INITIALIZE, headers={**headers, **MCP_HEADERS}, timeout=30)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="ctx"'
    assert response.json()["error"]["message"]


def test_the_official_client_reports_a_refused_key(mcp_call, docs):
    async def work(session):
        raise AssertionError("initialize should have failed")

    with pytest.raises(MCPError, match="unknown or revoked"):
        mcp_call("ctx_not-a-key", work)


def test_a_revoked_key_is_refused(live_site, acme, alice):
    row, key = ApiKey.issue(org=acme, name="agent", by=alice)
    row.revoke()
    response = httpx2.post(live_site, json=INITIALIZE, headers={"Authorization": f"Bearer {key}", **MCP_HEADERS})

    assert response.status_code == 401


def test_another_organizations_key_sees_nothing(mcp_call, docs, globex, charlie):
    other = ApiKey.issue(org=globex, name="agent", by=charlie)[1]

    async def work(session):
        found = payload(await session.call_tool("search", {"query": "switchover"}))
        fetched = await session.call_tool("fetch", {"id": GUIDE_ID})
        sources = payload(await session.call_tool("list_sources", {}))
        resources = await session.list_resources()
        with pytest.raises(MCPError):
            await session.read_resource(GUIDE_ID)
        return found, fetched, sources, resources

    found, fetched, sources, resources = mcp_call(other, work)

    assert found == {"results": []}
    assert "No document" in error_text(fetched)
    assert sources == {"sources": []}
    assert resources.resources == [] and resources.next_cursor is None


def test_a_key_over_its_rate_gets_429_with_retry_after(live_site, key, settings, mcp_call, monkeypatch):
    from mcp_server import access

    # 20 s into a minute, for every request: the count never starts over in the middle of the test.
    monkeypatch.setattr(access, "time", SimpleNamespace(time=lambda: 60 * 29_000_000 + 20.0))
    settings.MCP_RATE_LIMIT_PER_MINUTE = 3
    headers = {"Authorization": f"Bearer {key}", **MCP_HEADERS}
    statuses = [httpx2.post(live_site, json=PING, headers=headers, timeout=30).status_code for _ in range(4)]
    refused = httpx2.post(live_site, json=PING, headers=headers, timeout=30)

    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == refused.status_code == 429
    assert refused.headers["Retry-After"] == "41"
    assert "at most 3 a minute" in refused.json()["error"]["message"]
    with pytest.raises(MCPError, match="Too many requests"):
        mcp_call(key, lambda session: session.list_tools())


def test_a_host_outside_allowed_hosts_is_refused(live_site, key):
    response = httpx2.post(
        live_site, json=INITIALIZE, headers={"Authorization": f"Bearer {key}", "Host": "evil.example", **MCP_HEADERS}
    )

    assert response.status_code == 400


def test_the_2026_07_28_revision_is_served_without_a_handshake(live_site, key, docs):
    async def main():
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http,
            Client(streamable_http_client(live_site, http_client=http), mode="2026-07-28") as client,
        ):
            return await client.call_tool("search", {"query": "switchover script"})

    [result] = payload(anyio.run(main))["results"]

    assert result["id"] == GUIDE_ID


def test_the_rest_of_the_site_is_still_django(live_site):
    response = httpx2.get(live_site.removesuffix("/mcp") + "/healthz", timeout=30)

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


MCP_HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}},
}
PING = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
