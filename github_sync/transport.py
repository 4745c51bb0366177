"""PyGithub's HTTP, sent through `connectors.http.ApiSession`: one policy for every GitHub call (retries with
Retry-After, 5xx retried without waiting for the rate-limit reset, long waits declined and handed back to the
queue, request counts, heartbeats while waiting), and none of PyGithub's own (its urllib3 retries, its pause of
a second between writes). `GitHubSession` adds what is GitHub's own: its secondary rate limits are waited on like
the primary one.

PyGithub opens its connections itself and passes them one value of ours, its `retry` argument, which survives the
copies it makes of its Requester (per auth, per laziness). So the session rides on a Retry of zero attempts
(`SessionRetry`), and the connection classes given to PyGithub send through it. A PyGithub client made without
one (the sandbox's tests use PyGithub directly) keeps PyGithub's own connection behaviour.
"""

from __future__ import annotations

from django.conf import settings
from github import Consts, GithubException
from github.Requester import HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass, Requester, RequestsResponse
from requests import Response
from urllib3.util import Retry

from connectors.http import MAX_DEFER_SECONDS, USER_AGENT, ApiSession
from github_sync.errors import is_rate_limit, message_of

# GitHub's guidance for a secondary rate limit that says neither Retry-After nor x-ratelimit-reset: wait at least a
# minute, and exponentially longer while it persists.
SECONDARY_LIMIT_WAIT_SECONDS = 60.0


def new_session() -> GitHubSession:
    return GitHubSession(timeout=(5.0, 60.0), max_inline_wait=settings.HTTP_MAX_INLINE_WAIT_SECONDS)


class GitHubSession(ApiSession):
    """An ApiSession that knows GitHub's rate limits, primary and secondary (`errors.is_rate_limit`): each is a
    wait, slept when short and handed back to the queue when long, as the primary limit always was."""

    def _is_transient(self, response: Response) -> bool:
        return super()._is_transient(response) or _rate_limited(response)

    def _delay(self, attempt: int, response: Response | None) -> float:
        if response is None or not _rate_limited(response) or _says_when(response):
            return super()._delay(attempt, response)
        return min(SECONDARY_LIMIT_WAIT_SECONDS * 2**attempt, MAX_DEFER_SECONDS)


def _rate_limited(response: Response) -> bool:
    # The body is read only for a 403 or 429: a streamed download's is never touched.
    return response.status_code in (403, 429) and is_rate_limit(
        response.status_code, message_of(response), response.headers
    )


def _says_when(response: Response) -> bool:
    """Whether the answer says when to try again: Retry-After, or the primary limit's spent x-ratelimit-reset."""
    headers = response.headers
    return headers.get("retry-after") is not None or headers.get("x-ratelimit-remaining") == "0"


class SessionRetry(Retry):
    """Carries the session to PyGithub's connections. PyGithub hands it on to no urllib3 code of ours: ApiSession
    retries, so it allows zero attempts should anything use it as a Retry."""

    def __init__(self, *args, session: ApiSession | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.session = session

    def new(self, **kwargs) -> SessionRetry:
        retry = super().new(**kwargs)
        retry.session = self.session
        return retry


def options(session: ApiSession) -> dict:
    """Keyword arguments for `Github` and `GithubIntegration` whose calls go through `session`."""
    return {
        # github.com (https://api.github.com) or GitHub Enterprise Server (https://HOST/api/v3).
        "base_url": settings.GITHUB_API_URL,
        "retry": SessionRetry(total=0, session=session),
        "seconds_between_requests": None,
        "seconds_between_writes": None,
        # Objects made from a URL cost no request until an attribute they lack is read.
        "lazy": True,
        "per_page": 100,
        "user_agent": USER_AGENT,
        "api_version": Consts.API_VERSION_2022_11_28,
    }


class _ThroughSession:
    """`getresponse` for PyGithub's connection classes: through the session the Requester's `retry` carries."""

    def getresponse(self) -> RequestsResponse:
        session = getattr(self.retry, "session", None)
        if session is None:
            return super().getresponse()
        # The URL as configured: PyGithub would write the default port into it (https://api.github.com:443/…).
        port = "" if self.port == {"http": 80, "https": 443}[self.protocol] else f":{self.port}"
        url = f"{self.protocol}://{self.host}{port}{self.url}"
        # PyGithub follows redirects itself (and drops the Authorization header when one leaves the API's host).
        response = session.request(
            self.verb, url, headers=self.headers, data=self.input, stream=self.stream, allow_redirects=False
        )
        if response.status_code in (307, 308):
            # A write to a renamed or transferred repository: PyGithub counts any status below 400 as success and
            # would read the redirect's body as the answer (a blob without a sha deletes a path in a tree).
            raise GithubException(response.status_code, {"message": "The repository moved."}, dict(response.headers))
        return RequestsResponse(response)

    def close(self) -> None:
        # PyGithub closes a connection after each request once classes are injected; the session is the client's.
        if getattr(self.retry, "session", None) is None:
            super().close()


class _HttpConnection(_ThroughSession, HTTPRequestsConnectionClass):
    pass


class _HttpsConnection(_ThroughSession, HTTPSRequestsConnectionClass):
    pass


# PyGithub's documented hook for its connection classes. It cannot be scoped to our clients (PyGithub 2.10): it
# sets class attributes of Requester, and PyGithub makes further Requesters from `Requester.kwargs` alone
# (`withAuth`, `withLazy`, the GithubIntegration behind installation tokens), which carry our `retry` but nothing
# per instance. So every Requester of the process gets these classes: one without our SessionRetry sends as
# PyGithub does, except that the hook also turns off PyGithub's reuse of its connection (a new requests.Session
# for each request). Ours reuse the connections of the client's ApiSession.
Requester.injectConnectionClasses(_HttpConnection, _HttpsConnection)
