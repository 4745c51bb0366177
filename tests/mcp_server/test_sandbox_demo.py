"""The newcomer's path: `sandbox_demo --api-key` prints a key, and an MCP client with only that key finds a synced
Confluence page by its words and reads its Markdown."""

from __future__ import annotations

import json
import re

from django.core.management import call_command

from github_sync.models import ApiKey, Document


def test_the_demo_key_finds_and_fetches_a_synced_page(tmp_path, settings, monkeypatch, capsys, mcp_call):
    from sandbox import store

    settings.SANDBOX_DIR = tmp_path / "sandbox"
    settings.GITHUB_APP_PRIVATE_KEY_FILE = str(tmp_path / "sandbox/github/app-private-key.pem")
    monkeypatch.setattr(store, "_cache", {})

    call_command("sandbox_demo", "--pages", "12", "--api-key")

    out = capsys.readouterr().out
    [key] = re.findall(r"^API key: (ctx_\S+)$", out, flags=re.MULTILINE)
    assert re.search(r"^MCP server: http://\S+/mcp$", out, flags=re.MULTILINE)
    assert ApiKey.find(key).org.name == "Demo"
    page = Document.objects.filter(path__startswith="confluence/", path__endswith=".md").order_by("path").first()
    assert page is not None and page.source_url  # the demo's sync was ingested

    async def work(session):
        tools = await session.list_tools()
        found = await session.call_tool("search", {"query": page.title, "limit": 50})
        results = json.loads(found.content[0].text)["results"]
        [hit] = [r for r in results if r["path"] == page.path][:1]
        fetched = await session.call_tool("fetch", {"id": hit["id"]})
        return tools, hit, json.loads(fetched.content[0].text)

    tools, hit, document = mcp_call(key, work)

    assert {tool.name for tool in tools.tools} == {"search", "fetch", "list_sources"}
    assert hit["source_url"] == page.source_url
    assert document["title"] == page.title
    assert document["text"] and document["text"] in page.text
    assert document["metadata"]["source_url"] == page.source_url
