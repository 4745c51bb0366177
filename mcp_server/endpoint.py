"""/mcp as an ASGI application, and the site: /mcp beside Django's ASGI application (`ctxsite/asgi.py`).

Every request is checked before the SDK sees it: the Host against ALLOWED_HOSTS (as Django checks its own), the
API key (401 with `WWW-Authenticate`), then the key's rate (429 with `Retry-After`). Refusals carry a JSON-RPC
error body, which MCP clients show as the error. Admitted requests go to the SDK's Streamable HTTP transport.

The transport runs stateless and answers JSON: each POST carries everything it needs (the key included), so any
web process of any machine can answer any request, and no session outlives a request. Each request runs in its
own asgiref thread-sensitive context, so its database work has a thread and a connection of its own, closed when
the request ends.
"""

from __future__ import annotations

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.db import connections
from django.http.request import split_domain_port, validate_host
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import INVALID_REQUEST, ErrorData, JSONRPCError
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_server import server
from mcp_server.access import Refusal, admit, current_key

PATHS = ("/mcp", "/mcp/")


class McpEndpoint:
    """One per process: the SDK's session manager can run once, for the life of the ASGI application."""

    def __init__(self):
        self.sessions = StreamableHTTPSessionManager(
            app=server.build(),
            stateless=True,
            json_response=True,
            # The Host is checked against ALLOWED_HOSTS below, as for the rest of the site.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        if not allowed_host(headers.get("host", "")):
            await refuse(Refusal(400, "This host name is not served here (ALLOWED_HOSTS)."), scope, receive, send)
            return
        async with ThreadSensitiveContext():
            try:
                admitted = await sync_to_async(admit)(headers.get("authorization", ""))
                if isinstance(admitted, Refusal):
                    await refuse(admitted, scope, receive, send)
                    return
                token = current_key.set(admitted)
                try:
                    await self.sessions.handle_request(scope, receive, send)
                finally:
                    current_key.reset(token)
            finally:
                # The request's thread ends with it, so its connections go too, whatever CONN_MAX_AGE says.
                await sync_to_async(connections.close_all)()

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI lifespan protocol: the SDK's session manager runs from startup to shutdown."""
        await receive()  # lifespan.startup
        started = False
        try:
            async with self.sessions.run():
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()  # lifespan.shutdown
        except Exception as failed:
            if started:
                raise
            await send({"type": "lifespan.startup.failed", "message": str(failed)})
            return
        await send({"type": "lifespan.shutdown.complete"})


def allowed_host(host: str) -> bool:
    domain, _ = split_domain_port(host)
    # Django's own default in DEBUG when ALLOWED_HOSTS is empty.
    allowed = settings.ALLOWED_HOSTS or ([".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    return bool(domain) and validate_host(domain, allowed)


async def refuse(refusal: Refusal, scope: Scope, receive: Receive, send: Send) -> None:
    body = JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=INVALID_REQUEST, message=refusal.message))
    response = Response(
        body.model_dump_json(by_alias=True, exclude_unset=True),
        status_code=refusal.status,
        media_type="application/json",
    )
    if refusal.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ctx"'
    if refusal.retry_after is not None:
        response.headers["Retry-After"] = str(refusal.retry_after)
    await response(scope, receive, send)


def site(django_application: ASGIApp) -> ASGIApp:
    """The whole site over ASGI: /mcp to a new McpEndpoint, everything else to Django."""
    endpoint = McpEndpoint()

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await endpoint.lifespan(scope, receive, send)
        elif scope["type"] == "http" and scope["path"] in PATHS:
            await endpoint(scope, receive, send)
        else:
            await django_application(scope, receive, send)

    return application
