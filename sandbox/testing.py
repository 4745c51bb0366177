"""Serve simulators to `requests` through `responses`, so tests and benchmarks need no server.

Every request to a simulator's base URL is answered by the simulator in-process; any other URL raises
ConnectionError (responses' default), so nothing ever leaves the machine.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import requests
import responses

from sandbox.core import ConnectionDropped, RequestTimedOut, SimRequest, Simulator

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


def serve_with_responses(rsps: responses.RequestsMock, simulator: Simulator, base_url: str) -> None:
    """Route every request under `base_url` to `simulator`."""
    base_url = base_url.rstrip("/")
    base_path = urlsplit(base_url).path
    pattern = re.compile(re.escape(base_url) + r"(?:[/?].*)?$")

    def callback(prepared: requests.PreparedRequest):
        url = urlsplit(prepared.url)
        body = prepared.body or b""
        request = SimRequest.from_url_parts(
            method=prepared.method,
            path=url.path[len(base_path) :] or "/",
            query_string=url.query,
            headers=prepared.headers,
            body=body.encode() if isinstance(body, str) else body,
            base_url=base_url,
        )
        try:
            response = simulator.handle(request)
        except ConnectionDropped as error:
            raise requests.ConnectionError(f"simulated dropped connection: {error}") from None
        except RequestTimedOut as error:
            raise requests.ReadTimeout(f"simulated timeout: {error}") from None
        return response.status, response.headers, response.body

    for method in METHODS:
        rsps.add_callback(method, pattern, callback=callback)
