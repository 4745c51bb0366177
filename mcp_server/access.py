"""Who is calling /mcp: the organization API key (the REST API's lookup) and its per-minute request budget."""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from github_sync.api import Unauthenticated, authenticate, note_use
from github_sync.models import ApiKey

# The key of the request being served. The endpoint sets it before handing the request to the SDK, whose handlers
# run in tasks started from that request and so inherit it.
current_key: ContextVar[ApiKey | None] = ContextVar("ctx_mcp_api_key", default=None)

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Refusal:
    """Why a request is not served: an HTTP status, words for the caller, and how long to wait (429)."""

    status: int
    message: str
    retry_after: int | None = None


def admit(authorization: str) -> ApiKey | Refusal:
    """The request's API key if it may be served now, else why not (401 without a usable key, 429 over the rate)."""
    try:
        api_key = authenticate(authorization)
    except Unauthenticated as refused:
        return Refusal(401, refused.message)
    retry_after = over_rate(api_key)
    if retry_after is not None:
        return Refusal(
            429,
            f"Too many requests with this API key: at most {settings.MCP_RATE_LIMIT_PER_MINUTE} a minute. "
            f"Try again in {retry_after} s.",
            retry_after,
        )
    note_use(api_key)
    return api_key


def over_rate(api_key: ApiKey) -> int | None:
    """Count this request in the key's current minute; the seconds until the next one if the budget is spent."""
    limit = settings.MCP_RATE_LIMIT_PER_MINUTE
    if limit <= 0:
        return None
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    counter = f"mcp-rate:{api_key.id}:{window}"
    # add() then incr(): atomic on every cache backend that counts across processes (Redis, Memcached).
    cache.add(counter, 0, timeout=WINDOW_SECONDS * 2)
    try:
        used = cache.incr(counter)
    except ValueError:  # the entry expired between add() and incr()
        cache.add(counter, 1, timeout=WINDOW_SECONDS * 2)
        used = 1
    if used <= limit:
        return None
    return max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
