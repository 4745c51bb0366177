"""The errors a GitHub call ends in, named for what the caller does about them, and which answer means which.

PyGithub raises `GithubException` (status, body, headers); the client turns it into one of these, so no caller
depends on PyGithub. The archive download, which goes around PyGithub, maps its answer the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

import requests
from github import GithubException

from connectors.http import ApiError


class GitHubError(ApiError):
    """A GitHub call failed in a way the caller must report (permanent unless a subclass says otherwise)."""


class GitHubUnavailable(GitHubError):
    """Rate limited, 5xx or unreachable after retries: try again later."""


class BadCredentials(GitHubError):
    """The App key, an installation token or a user token was refused."""


class InstallationGone(GitHubError):
    """The App was uninstalled (404) or the installation is suspended (403)."""


class RepositoryGone(GitHubError):
    """The repository was deleted, renamed away, or is no longer reachable by the installation."""


class EmptyRepository(GitHubError):
    """GitHub answers 409 "Git Repository is empty" until the first commit exists."""


class NotFastForward(GitHubError):
    """The branch moved since we read it (422 "Update is not a fast forward")."""


class InputTooLarge(GitHubError):
    """GitHub refused a request as too large: 413, or 422 "your input was too large to process" (a tree request
    that timed out) or a file over its size limit. About what was sent, not about the connection."""


def from_pygithub(error: GithubException, *, gone: type[GitHubError] = GitHubError) -> GitHubError:
    """The named error for what PyGithub raised; `gone` is what a 404 means to the caller."""
    data = error.data if isinstance(error.data, dict) else {}
    return for_status(error.status, str(data.get("message", ""))[:300], error.headers or {}, gone=gone)


def from_response(response: requests.Response, *, gone: type[GitHubError] = GitHubError) -> GitHubError:
    return for_status(response.status_code, message_of(response), response.headers, gone=gone)


def message_of(response: requests.Response) -> str:
    """The `message` of GitHub's JSON error body (or the start of the body when it is not JSON)."""
    try:
        return str(response.json().get("message", ""))[:300]
    except (ValueError, AttributeError):
        return response.text[:300]


def is_rate_limit(status: int, message: str, headers: Mapping[str, str]) -> bool:
    """Whether GitHub refused the request for a rate limit, primary or secondary: both answer 403 or 429. The
    primary limit says x-ratelimit-remaining: 0; a secondary one says so in its message, or with Retry-After.
    A 403 without these is a refusal (no permission, a suspended installation) and must not be waited on."""
    # Reference: https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit
    if status not in (403, 429):
        return False
    return (
        status == 429
        or headers.get("x-ratelimit-remaining") == "0"
        or headers.get("retry-after") is not None
        or "secondary rate limit" in message.lower()
    )


def for_status(status: int, message: str, headers: Mapping[str, str], *, gone: type[GitHubError]) -> GitHubError:
    if status in (500, 502, 503, 504) or is_rate_limit(status, message, headers):
        return GitHubUnavailable(f"GitHub is unavailable or rate limiting ({status}): {message}", status=status)
    if status == 401:
        return BadCredentials(f"GitHub refused the credentials: {message}", status=status)
    if status == 409 and "empty" in message.lower():
        return EmptyRepository(message, status=status)
    if status == 422 and "fast forward" in message.lower():
        return NotFastForward(message, status=status)
    if status == 413 or (status == 422 and ("too large" in message.lower() or "size limit" in message.lower())):
        return InputTooLarge(f"GitHub refused the request as too large ({status}): {message}", status=status)
    if status in (404, 410) or (status == 403 and gone is InstallationGone):
        return gone(f"GitHub answered {status}: {message}", status=status)
    if status in (301, 307, 308):
        return RepositoryGone(f"The repository moved: {message}", status=status)
    return GitHubError(f"GitHub answered {status}: {message}", status=status)
