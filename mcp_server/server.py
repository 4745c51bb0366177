"""The MCP server itself, on the official SDK's low-level `Server`: three tools and the documents as resources.

`search` and `fetch` follow ChatGPT's connector convention: `search` takes a query and answers one text item
holding JSON `{"results": [{"id", "title", "url", …}]}`; `fetch` takes an `id` from those results and answers one
text item holding JSON `{"id", "title", "text", "url", "metadata"}`. Both accept more than the convention asks
(filters and a limit for search; heading path, snippet, commit and URLs in each result), which other clients use.

A mistake the caller can fix (empty query, unknown id, a limit out of range, a query over the search limits) is a
tool result with `isError` and words saying what to change, as the protocol asks for tool errors, so the model
can correct itself; an unknown tool, resource or cursor is a JSON-RPC error. Nothing a caller sends becomes a 500.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    CallToolRequestParams,
    CallToolResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListToolsResult,
    PaginatedRequestParams,
    ReadResourceRequestParams,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    TextContent,
    TextResourceContents,
    Tool,
    ToolAnnotations,
)
from pydantic import BaseModel, Field, ValidationError

from github_sync import search as engine
from mcp_server import documents
from mcp_server.access import current_key

INSTRUCTIONS = (
    "ctx| serves the Confluence pages and repository files this organization chose for agents, kept in sync "
    "with Confluence. Use search with a few specific words to find what they say, then fetch an id from the "
    "results to read the whole page, and cite its url. list_sources tells which Confluence spaces and "
    "repositories there are and how fresh they are."
)


class SearchArguments(BaseModel):
    query: str = Field(
        description="The words to look for. Every word must appear in a result, so a few specific words find "
        "more than a sentence does."
    )
    repository: str | None = Field(
        default=None, description="Only documents of this repository, as owner/name (list_sources names them)."
    )
    space: str | None = Field(default=None, description="Only Confluence pages of this space key, such as ENG.")
    path_prefix: str | None = Field(
        default=None, description="Only documents whose path starts with this, such as confluence/ENG/runbooks/."
    )
    limit: int = Field(default=10, ge=1, le=engine.MAX_LIMIT, description="How many results at most.")


class FetchArguments(BaseModel):
    id: str = Field(description="A document id as search returned it: ctx://owner/repo/path.")


class NoArguments(BaseModel):
    pass


def run_search(org, arguments: SearchArguments) -> dict:
    results = documents.search_documents(
        org,
        arguments.query,
        repository=arguments.repository or "",
        space=arguments.space or "",
        path_prefix=arguments.path_prefix or "",
        limit=arguments.limit,
    )
    return {"results": results}


def run_fetch(org, arguments: FetchArguments) -> dict:
    return documents.fetch_document(org, arguments.id.strip())


def run_list_sources(org, arguments: NoArguments) -> dict:
    return documents.list_sources(org)


@dataclass(frozen=True)
class ToolSpec:
    tool: Tool
    arguments: type[BaseModel]
    run: Callable[..., dict]


def _tool(name: str, title: str, description: str, arguments: type[BaseModel], run: Callable[..., dict]) -> ToolSpec:
    schema = arguments.model_json_schema()
    schema.pop("title", None)
    tool = Tool(
        name=name,
        title=title,
        description=description,
        input_schema=schema,
        annotations=ToolAnnotations(title=title, read_only_hint=True, open_world_hint=False),
    )
    return ToolSpec(tool=tool, arguments=arguments, run=run)


TOOLS = {
    spec.tool.name: spec
    for spec in [
        _tool(
            "search",
            "Search the organization's documentation",
            "Full-text search over the Confluence pages and repository files this organization keeps in sync for "
            "agents. Use it first for any question about the organization's documentation, processes, runbooks or "
            'designs. Returns JSON {"results": [...]}; each result is a matching section: id (pass it to fetch), '
            "title, url (cite this: the Confluence page, or the file on GitHub), repository, path, heading_path "
            "(the headings above the match), snippet (matched words in **bold**), source_url (Confluence), "
            "github_url (the file at the ingested commit) and commit. Optional filters: repository, space, "
            "path_prefix; limit (default 10).",
            SearchArguments,
            run_search,
        ),
        _tool(
            "fetch",
            "Read a document",
            "The full Markdown of one document, by an id that search returned (ctx://owner/repo/path). Returns "
            "JSON {id, title, text, url, metadata}: text is the whole page as Markdown; metadata holds its front "
            "matter (title, space, labels, version, last_modified, source_url, page_id, ancestors) and where it "
            "lives (repository, path, commit, github_url). Use it when a snippet is not enough to answer.",
            FetchArguments,
            run_fetch,
        ),
        _tool(
            "list_sources",
            "List the connected sources",
            "What this organization has connected: each Confluence or GitHub connection with its status, its "
            "scope (which Confluence spaces and page trees it syncs), its last sync, and the repositories ingested "
            "from it (last ingested commit, number of documents). Use it to pick a repository or space to filter "
            'search by, or to tell how fresh the content is. Returns JSON {"sources": [...]}.',
            NoArguments,
            run_list_sources,
        ),
    ]
}


def _org():
    api_key = current_key.get()
    if api_key is None:  # the endpoint admits no request without a key; this guards a misconfigured mount
        raise MCPError(code=INVALID_REQUEST, message="No API key: send Authorization: Bearer ctx_…")
    return api_key.org


def _text(payload: dict) -> list[TextContent]:
    return [TextContent(type="text", text=json.dumps(payload, ensure_ascii=False))]


def _tool_error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def _invalid(name: str, invalid: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'arguments'}: {error['msg']}" for error in invalid.errors()
    )
    return f"Invalid arguments for {name}: {problems}."


# Handlers -------------------------------------------------------------------------------------------------------


async def list_tools(ctx: ServerRequestContext, params: PaginatedRequestParams | None) -> ListToolsResult:
    return ListToolsResult(tools=[spec.tool for spec in TOOLS.values()])


async def call_tool(ctx: ServerRequestContext, params: CallToolRequestParams) -> CallToolResult:
    spec = TOOLS.get(params.name)
    if spec is None:
        raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool {params.name!r}: the tools are {', '.join(TOOLS)}.")
    org = _org()
    try:
        arguments = spec.arguments.model_validate(params.arguments or {})
    except ValidationError as invalid:
        return _tool_error(_invalid(params.name, invalid))
    try:
        payload = await sync_to_async(spec.run)(org, arguments)
    except documents.Refused as refused:
        return _tool_error(str(refused))
    except engine.SearchError as failed:  # over the search limits, or PostgreSQL's statement timeout
        return _tool_error(failed.message)
    return CallToolResult(content=_text(payload))


async def list_resources(ctx: ServerRequestContext, params: PaginatedRequestParams | None) -> ListResourcesResult:
    org = _org()
    try:
        page, next_cursor = await sync_to_async(documents.list_resources)(org, params.cursor if params else None)
    except documents.Refused as refused:
        raise MCPError(code=INVALID_PARAMS, message=str(refused)) from None
    return ListResourcesResult(
        resources=[
            Resource(
                uri=documents.document_uri(document.repository.full_name, document.path),
                name=document.path,
                title=document.title,
                description=f"{document.repository.full_name}: {document.source_url or document.path}",
                mime_type=documents.mime_type(document.path),
                size=document.size,
            )
            for document in page
        ],
        next_cursor=next_cursor,
    )


async def read_resource(ctx: ServerRequestContext, params: ReadResourceRequestParams) -> ReadResourceResult:
    org = _org()
    try:
        document = await sync_to_async(documents.find_document)(org, str(params.uri))
    except documents.Refused as refused:
        raise MCPError(code=INVALID_PARAMS, message=str(refused), data={"uri": str(params.uri)}) from None
    return ReadResourceResult(
        contents=[
            TextResourceContents(uri=params.uri, text=document.text, mime_type=documents.mime_type(document.path))
        ]
    )


async def list_resource_templates(
    ctx: ServerRequestContext, params: PaginatedRequestParams | None
) -> ListResourceTemplatesResult:
    return ListResourceTemplatesResult(
        resource_templates=[
            ResourceTemplate(
                name="document",
                title="A document of a connected repository",
                uri_template="ctx://{owner}/{repo}/{+path}",
                description="A synced Confluence page or repository file, as ingested (front matter included).",
                mime_type="text/markdown",
            )
        ]
    )


def build() -> Server:
    return Server(
        "ctx",
        title="ctx| — the organization's chosen Confluence pages and repositories",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
        on_list_resource_templates=list_resource_templates,
    )
