"""The shared shape of every simulator: plain state, request handlers, fault injection and a request log.

A simulator is written once, as a `Simulator` subclass whose handlers take a `SimRequest` and return a
`SimResponse`. Thin adapters serve it to its users:
- `sandbox.testing.serve_with_responses` for the test suite and the benchmarks (in-process, no server),
- `sandbox.serving.views` for `make run` (Django views under `/sandbox/`),
- `sandbox.serving.server` for the benchmarks (a process of its own).

Nothing here imports Django, so the simulators stay fast and usable from any process.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import parse_qs, urlencode

Handler = Callable[..., "SimResponse"]
# The methods that change nothing on the real services, nor on the simulators unless a handler says so.
READ_METHODS = ("GET", "HEAD")


@dataclass
class SimRequest:
    """One HTTP request as a simulator sees it: the path is relative to the simulator's mount point."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # Absolute URL of the simulator's mount point, e.g. "http://testserver/sandbox/atlassian/api";
    # handlers use it to build links the way the real service builds absolute URLs.
    base_url: str = ""

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self.headers = {k.lower(): v for k, v in self.headers.items()}

    @classmethod
    def from_url_parts(cls, *, method: str, path: str, query_string: str, headers, body: bytes, base_url: str):
        return cls(
            method=method,
            path=path,
            query=parse_qs(query_string, keep_blank_values=True),
            headers=dict(headers),
            body=body or b"",
            base_url=base_url.rstrip("/"),
        )

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        """All values of a repeated parameter; also splits comma-separated values (`id=1,2` or `id=1&id=2`)."""
        return [part for value in self.query.get(name, []) for part in value.split(",") if part]

    def json(self):
        """The body parsed as JSON; raises ValueError on anything else (handlers turn it into a 400)."""
        return json.loads(self.body.decode() or "null")

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def bearer_token(self) -> str:
        value = self.header("authorization")
        return value[7:].strip() if value.lower().startswith("bearer ") else ""


@dataclass
class SimResponse:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data, status: int = 200, headers: dict[str, str] | None = None) -> SimResponse:
        return cls(status, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def html(cls, text: str, status: int = 200) -> SimResponse:
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"})

    @classmethod
    def text(cls, text: str, status: int = 200) -> SimResponse:
        return cls(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8"})

    @classmethod
    def binary(cls, data: bytes, content_type: str, status: int = 200) -> SimResponse:
        return cls(status, data, {"Content-Type": content_type})

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> SimResponse:
        return cls(status, b"", {"Location": location})

    def json_body(self):
        return json.loads(self.body.decode())


class SimError(Exception):
    """Raised by a handler to answer with an error status and a JSON body shaped like the real service's."""

    def __init__(self, status: int, body: dict, headers: dict[str, str] | None = None):
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


# Faults ---------------------------------------------------------------------------------------------------

FAULT_KINDS = ("429", "429-no-retry-after", "500", "502", "503", "timeout", "drop", "slow")


@dataclass(frozen=True)
class Fault:
    kind: str
    retry_after: int = 1
    delay: float = 0.0


class ConnectionDropped(Exception):
    """The simulated server closed the connection without answering."""


class RequestTimedOut(Exception):
    """The simulated server did not answer within the client's timeout."""


@dataclass
class FaultPlan:
    """Which requests fail and how, deterministic under a seed.

    `rate` fails that share of matching requests, choosing among `kinds`; `on_nth` fails exactly the Nth matching
    request (1-based) with the given kind. `path_pattern` limits faults to paths matching a regex.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = ("429", "429-no-retry-after", "500", "502", "503", "timeout")
    on_nth: dict[int, str] = field(default_factory=dict)
    path_pattern: str = ""
    seed: int = 0
    retry_after: int = 1
    slow_seconds: float = 0.5
    _rng: random.Random = field(init=False, repr=False)
    _count: int = field(init=False, default=0, repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) | set(self.on_nth.values())
        unknown -= set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self._rng = random.Random(self.seed)

    def decide(self, request: SimRequest) -> Fault | None:
        if self.path_pattern and not re.search(self.path_pattern, request.path):
            return None
        self._count += 1
        kind = self.on_nth.get(self._count)
        # Draw for every request, so the sequence of faults depends only on the seed and the request order.
        draw, choice = self._rng.random(), self._rng.randrange(len(self.kinds))
        if kind is None and draw < self.rate:
            kind = self.kinds[choice]
        if kind is None:
            return None
        return Fault(kind=kind, retry_after=self.retry_after, delay=self.slow_seconds)


# The simulator --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    status: int
    fault: str = ""


@dataclass
class _Route:
    method: str
    pattern: re.Pattern
    handler: Handler


class Simulator:
    """Base of the Atlassian and GitHub simulators: routing, faults and the request log.

    Subclasses register routes in `__init__` with `self.route("GET", r"/path/(?P<id>\\d+)", self.get_thing)`;
    named groups become keyword arguments of the handler.
    """

    name = "simulator"

    def __init__(self, *, seed: int = 0):
        self.seed = seed
        self.routes: list[_Route] = []
        self.faults: FaultPlan | None = None
        self.requests: list[RecordedRequest] = []
        # Handlers mutate plain state; one lock keeps concurrent adapters (threaded runserver) consistent.
        self.lock = threading.RLock()
        # Counts changes to the state, so the live sandbox saves only after one (`mark_changed`).
        self.changes = 0

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append(_Route(method.upper(), re.compile(f"^{pattern}$"), handler))

    def route_handlers(self, routes: list[tuple[str, str, Handler]]) -> None:
        """Route (method, pattern, handler) rows whose handlers are module functions `handler(sim, request, ...)`."""
        for method, pattern, handler in routes:
            self.route(method, pattern, partial(handler, self))

    def inject_faults(self, plan: FaultPlan | None) -> None:
        self.faults = plan

    def mark_changed(self) -> None:
        """Count a change to the state. `handle` counts every answered request that is not a GET or a HEAD; what
        changes the state on a read (a key made on demand, a rate counter) counts itself here."""
        self.changes += 1

    def handle(self, request: SimRequest) -> SimResponse:
        """Answer one request. Raises ConnectionDropped / RequestTimedOut for faults that have no response."""
        with self.lock:
            fault = self.faults.decide(request) if self.faults else None
            if fault and fault.kind in ("drop", "timeout"):
                self._record(request, 0, fault.kind)
                raise ConnectionDropped(request.path) if fault.kind == "drop" else RequestTimedOut(request.path)
            failing = fault is not None and fault.kind != "slow"
            response = self.fault_response(fault) if failing else self._dispatch(request)
            if not failing and request.method not in READ_METHODS:
                self.mark_changed()
            self._record(request, response.status, fault.kind if fault else "")
        if fault and fault.kind == "slow":
            threading.Event().wait(fault.delay)
        return response

    def fault_response(self, fault: Fault) -> SimResponse:
        """The error a real service sends for this fault; subclasses may shape the body like their service."""
        if fault.kind == "429":
            return SimResponse.json({"message": "Rate limit exceeded"}, 429, {"Retry-After": str(fault.retry_after)})
        if fault.kind == "429-no-retry-after":
            return SimResponse.json({"message": "Rate limit exceeded"}, 429)
        return SimResponse.json({"message": "Simulated server error"}, int(fault.kind))

    def _dispatch(self, request: SimRequest) -> SimResponse:
        allowed = False
        for route in self.routes:
            match = route.pattern.match(request.path)
            if not match:
                continue
            if route.method != request.method:
                allowed = True
                continue
            try:
                return route.handler(request, **match.groupdict())
            except SimError as error:
                return SimResponse.json(error.body, error.status, error.headers)
            except (ValueError, KeyError) as error:
                return SimResponse.json({"message": f"Bad request: {error}"}, 400)
        if allowed:
            return SimResponse.json({"message": "Method not allowed"}, 405)
        return self.not_found(request)

    def not_found(self, request: SimRequest) -> SimResponse:
        return SimResponse.json({"message": "Not Found"}, 404)

    def _record(self, request: SimRequest, status: int, fault: str) -> None:
        query = urlencode(sorted((k, v) for k, values in request.query.items() for v in values))
        self.requests.append(RecordedRequest(request.method, request.path, query, status, fault))

    # Request log helpers used by tests and benchmarks.

    def count(self, method: str | None = None, path_pattern: str = "") -> int:
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method.upper()) and (not path_pattern or re.search(path_pattern, r.path))
        )

    def reset_log(self) -> None:
        with self.lock:
            self.requests.clear()
