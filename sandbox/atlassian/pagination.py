"""Cursor and offset pagination the way Confluence does it: `_links.next`, `_links.base` and a `Link` header.

Reference: https://developer.atlassian.com/cloud/confluence/rest/v2/intro/#using (pagination)
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from urllib.parse import urlencode

from sandbox.core import SimError, SimRequest, SimResponse

V2_MAX_LIMIT = 250
# v1 caps `limit` silently too; its documented caps vary by endpoint, 100 is the common one for /content.
V1_MAX_LIMIT = 100


def v2_error(status: int, code: str, title: str, detail: str | None = None) -> SimError:
    """v2 answers errors as {"errors": [{status, code, title, detail}]}."""
    return SimError(status, {"errors": [{"status": status, "code": code, "title": title, "detail": detail}]})


def v1_error(status: int, message: str, reason: str) -> SimError:
    """v1 answers errors as {statusCode, data, message, reason}."""
    data = {"authorized": status != 403, "valid": status != 400, "errors": [], "successful": False}
    return SimError(status, {"statusCode": status, "data": data, "message": message, "reason": reason})


def parse_limit(request: SimRequest, *, default: int = 25, maximum: int = V2_MAX_LIMIT) -> int:
    """The page size. Above the maximum the real API quietly returns the maximum, and so do we."""
    raw = request.arg("limit")
    if raw in (None, ""):
        return default
    if not raw.lstrip("-").isdigit() or int(raw) < 1:
        raise v2_error(400, "INVALID_REQUEST_PARAMETER", f"Invalid limit: {raw}")
    return min(int(raw), maximum)


def encode_cursor(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(raw: str | None) -> dict:
    if not raw:
        return {}
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except ValueError:
        raise v2_error(400, "INVALID_REQUEST_PARAMETER", "Invalid cursor") from None
    if not isinstance(data, dict):
        raise v2_error(400, "INVALID_REQUEST_PARAMETER", "Invalid cursor")
    return data


def take_after(
    ordered_ids: list[str],
    index: dict[str, int],
    *,
    cursor: dict,
    limit: int,
    accept: Callable[[str], bool],
) -> tuple[list[str], bool]:
    """Up to `limit` accepted ids following the cursor's in `ordered_ids`, and whether more accepted ids follow.

    The cursor holds the last id and its position; the position only serves when that id has since gone away.
    """
    after = cursor.get("after")
    start = index[after] + 1 if after in index else int(cursor.get("pos", -1)) + 1
    taken: list[str] = []
    for position in range(start, len(ordered_ids)):
        item_id = ordered_ids[position]
        if not accept(item_id):
            continue
        if len(taken) == limit:
            return taken, True
        taken.append(item_id)
    return taken, False


def next_cursor(index: dict[str, int], taken: list[str]) -> str:
    return encode_cursor({"after": taken[-1], "pos": index[taken[-1]]})


def relative_link(request: SimRequest, *, strip_prefix: str, changes: dict[str, str | int]) -> str:
    """The request's own path and query relative to `strip_prefix`, with some parameters replaced."""
    query = {k: v for k, v in request.query.items() if k not in changes}
    query.update({k: [str(v)] for k, v in changes.items()})
    path = request.path[request.path.index(strip_prefix) + len(strip_prefix) :]
    return f"{path}?{urlencode(query, doseq=True)}"


def listing(
    results: Iterable[dict], *, base: str, next_link: str | None, extra: dict | None = None, status: int = 200
) -> SimResponse:
    """A paginated JSON answer with `_links` and the `Link` header the real API sends."""
    links: dict[str, str] = {"base": base}
    headers: dict[str, str] = {}
    if next_link:
        links["next"] = next_link
        headers["Link"] = f'<{next_link}>; rel="next", <{base}>; rel="base"'
    body = {"results": list(results), **(extra or {}), "_links": links}
    return SimResponse.json(body, status, headers)
