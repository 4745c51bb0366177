"""The MCP server at /mcp: an organization's ingested documents for agents, over Streamable HTTP.

`documents` reads the database (plain functions, Django ORM); `server` declares the tools and resources with the
official MCP SDK; `endpoint` is the ASGI application that checks the API key and the rate, then hands the request
to the SDK's transport. `ctxsite/asgi.py` mounts it beside Django.
"""
