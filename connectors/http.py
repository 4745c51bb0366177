"""One way to call external HTTP APIs: timeouts, a User-Agent, retries with backoff that honour the service's
rate-limit headers, and counters that runs record. Each client module (Confluence, GitHub) builds its session here.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests

logger = logging.getLogger(__name__)

USER_AGENT = "ctx-confluence-connector/0.1 (+https://github.com/)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Atlassian has been seen sending Retry-After: 9223372036854775807; never sleep longer than this per attempt.
MAX_WAIT_SECONDS = 120.0
# Nor hand work back for longer than this on one answer's word (GitHub's rate limit resets within the hour).
MAX_DEFER_SECONDS = 3600.0


def sleep(seconds: float) -> None:
    """Indirection so tests and benchmarks can replace waiting with counting."""
    time.sleep(seconds)


@dataclass
class CallStats:
    """What a sequence of calls cost; a sync or ingest run copies these onto its row."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    # The longest wait a service asked for that was over the session's inline budget, so not slept: the caller
    # hands its work back to the queue for at least this long (0 when every wait was slept).
    declined_wait_seconds: float = 0.0
    by_method: dict[str, int] = field(default_factory=dict)

    @property
    def write_requests(self) -> int:
        return sum(n for method, n in self.by_method.items() if method != "GET" and method != "HEAD")


class ApiError(Exception):
    """A call to an external API failed; `status` is the HTTP status it answered (None when no answer came).
    Each client module names its errors as subclasses, for what its callers do about them."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class ApiSession:
    """A requests.Session for one service, with retries and request counting.

    Transient failures (connection errors, timeouts, 429, 5xx, GitHub's 403 with an exhausted rate limit) are
    retried up to `max_retries` times with exponential backoff and jitter, waiting at least what Retry-After or
    X-RateLimit-Reset asks. After the last attempt the final response is returned (or the exception raised);
    the client module turns it into its own named error.

    `max_inline_wait`: the most one request may sleep in all. A wait that would go past it is not slept: the
    request ends there as if out of attempts, and `stats.declined_wait_seconds` says how long the service wants,
    so a worker hands its run back to the queue for that long instead of sleeping a minute or more.
    """

    def __init__(
        self,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_retries: int = 5,
        base_delay: float = 0.5,
        max_inline_wait: float | None = None,
    ):
        self.session = requests.Session()
        # With no auth of its own, requests would apply ~/.netrc's credentials for the host over our Authorization
        # header (and add them to a signed download, which must carry none). PyGithub guards the same way.
        self.session.auth = _unchanged
        self.session.headers["User-Agent"] = USER_AGENT
        self.timeout = timeout
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_inline_wait = max_inline_wait
        self.stats = CallStats()
        # Called with the seconds about to be waited before every retry wait: a long job waiting on a rate limit
        # can show it is still alive.
        self.on_wait: Callable[[float], None] | None = None

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        attempt, slept = 0, 0.0
        while True:
            self.stats.requests += 1
            self.stats.by_method[method] = self.stats.by_method.get(method, 0) + 1
            try:
                response = self.session.request(method, url, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as error:
                seconds = self._delay(attempt, None)
                if attempt >= self.max_retries or self._declines(slept, seconds):
                    raise
                self._wait(seconds, None, reason=f"{type(error).__name__} on {method} {url}")
            else:
                if not self._is_transient(response) or attempt >= self.max_retries:
                    return response
                seconds = self._delay(attempt, response)
                if self._declines(slept, seconds):
                    return response
                self._wait(seconds, response, reason=f"{response.status_code} on {method} {url}")
            slept += min(seconds, MAX_WAIT_SECONDS)
            attempt += 1

    def _is_transient(self, response: requests.Response) -> bool:
        if response.status_code in RETRY_STATUSES:
            return True
        # GitHub's primary rate limit answers 403 with remaining 0.
        return response.status_code == 403 and response.headers.get("x-ratelimit-remaining") == "0"

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        """What the service asked for when it said; otherwise exponential backoff with jitter."""
        asked = requested_wait(response) if response is not None else None
        backoff = self.base_delay * (2**attempt) * (1 + random.random())
        return min(asked if asked is not None else backoff, MAX_DEFER_SECONDS)

    def _declines(self, slept: float, seconds: float) -> bool:
        """Whether this wait would take the request past its inline budget (then it is recorded, not slept)."""
        if self.max_inline_wait is None or slept + seconds <= self.max_inline_wait:
            return False
        self.stats.declined_wait_seconds = max(self.stats.declined_wait_seconds, seconds)
        logger.info(
            "not waiting %.1fs inline (budget %.0fs): the work goes back to the queue", seconds, self.max_inline_wait
        )
        return True

    def _wait(self, seconds: float, response: requests.Response | None, *, reason: str) -> None:
        seconds = min(seconds, MAX_WAIT_SECONDS)
        self.stats.retries += 1
        if response is not None and response.status_code in (403, 429):
            self.stats.rate_limited += 1
        self.stats.waited_seconds += seconds
        logger.info("retrying after %.1fs: %s", seconds, reason)
        if self.on_wait is not None:
            self.on_wait(seconds)
        sleep(seconds)


def requested_wait(response: requests.Response) -> float | None:
    """Seconds the service asked us to wait: Retry-After (seconds or HTTP date), else X-RateLimit-Reset."""
    retry_after = response.headers.get("Retry-After")
    if retry_after:
        if retry_after.strip().isdigit():
            return float(retry_after.strip())
        try:
            when = email.utils.parsedate_to_datetime(retry_after)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    reset = response.headers.get("X-RateLimit-Reset")
    # GitHub sends its rate limit's reset time on every answer: it says when to retry only once the limit is spent
    # (a 500 with requests left is no reason to wait for the next hour).
    if not reset or (response.status_code != 429 and response.headers.get("x-ratelimit-remaining") != "0"):
        return None
    if reset.isdigit():  # GitHub: epoch seconds
        return max(0.0, float(reset) - time.time())
    try:  # Atlassian: ISO 8601, e.g. 2026-03-26T16:00Z
        when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _unchanged(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request
