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
    parts = urlsplit(base_url)
    base_path = parts.path
    # PyGithub writes the default port into its URLs (http://testserver:80/…): accept it too.
    default_port = {"http": 80, "https": 443}[parts.scheme]
    pattern = re.compile(
        re.escape(f"{parts.scheme}://{parts.hostname}")
        + rf"(?::{parts.port or default_port})?"
        + re.escape(base_path)
        + r"(?:[/?].*)?$"
    )

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
