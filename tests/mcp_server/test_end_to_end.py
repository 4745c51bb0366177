"""End to end without a browser: a page edited in Confluence → its Forge event → a targeted sync → ingestion →
`search` over MCP finds the new words, and `fetch` returns them.

Everything real but the network: the simulated Atlassian signs and posts the Forge event to the site, the sync
writes a commit to a real bare git repository in the simulated GitHub, the ingestion reads it back through the
GitHub API, and the official MCP client calls the live site over HTTP.
"""

from __future__ import annotations

import json

from confluence.models import SyncRun, WebhookEvent
from github_sync.models import ApiKey, IngestRun
from sandbox import demo
from tests.confluence.sync_world import build_site, sync_now


def search(query: str):
    async def work(session):
        result = await session.call_tool("search", {"query": query})
        assert not result.is_error, result.content
        return json.loads(result.content[0].text)["results"]

    return work


def test_an_edited_page_is_found_over_mcp(sandbox, acme, alice, mcp_call):
    site, pages = build_site(sandbox)
    connection = demo.connect(
        sandbox, org=acme, user=alice, cloud_id=site.cloud_id, space_keys=["ENG", "OPS"], repository="acme-inc/wiki"
    )
    assert sync_now(connection).status == SyncRun.Status.SUCCEEDED
    key = ApiKey.issue(org=acme, name="agent", by=alice)[1]
    assert mcp_call(key, search("Deploy Guide"))  # the first sync was ingested
    assert mcp_call(key, search("canary lighthouse")) == []

    guide = pages["guide"]
    sandbox.atlassian.update_page(guide.id, body="<h2>Rollout</h2><p>Ship behind the canary lighthouse first.</p>")

    event = WebhookEvent.objects.get(event_type="avi:confluence:updated:page")
    assert event.status == WebhookEvent.Status.PROCESSED, event.detail
    [run] = event.runs.all()
    assert (run.trigger, run.status) == (SyncRun.Trigger.FORGE, SyncRun.Status.SUCCEEDED), run.error
    # The sync's own ingestion, and the one GitHub's push webhook asks for (which finds the commit ingested).
    ingestions = IngestRun.objects.filter(commit_sha=run.commit_sha)
    assert ingestions and {i.status for i in ingestions} == {IngestRun.Status.SUCCEEDED}

    [hit] = mcp_call(key, search("canary lighthouse"))
    assert hit["title"] == "Deploy Guide"
    assert hit["heading_path"] == ["Rollout"]
    assert hit["commit"] == run.commit_sha
    assert hit["source_url"] == hit["url"] and f"/pages/{guide.id}" in hit["source_url"]
    assert "**canary** **lighthouse**" in hit["snippet"]

    async def fetch(session):
        result = await session.call_tool("fetch", {"id": hit["id"]})
        return json.loads(result.content[0].text)

    document = mcp_call(key, fetch)
    assert "Ship behind the canary lighthouse first." in document["text"]
    assert document["metadata"]["page_id"] == guide.id
    assert document["metadata"]["space"] == "ENG"
