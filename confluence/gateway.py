"""Sending requests through the Atlassian API gateway with a 3LO grant: the session, the authorized request
(refreshing the access token once), and how an answer becomes JSON or one of the errors callers handle."""

from __future__ import annotations

from collections.abc import Callable

import requests
from django.conf import settings

from connectors.http import ApiError, ApiSession


class ConfluenceError(ApiError):
    """A call failed in a way to report to the user (permanent)."""


class ConfluenceUnavailable(ConfluenceError):
    """Rate limited, 5xx or unreachable after retries: try again later."""


class AuthRevoked(ConfluenceError):
    """The grant is gone (invalid_grant, or 401 after a refresh): the user must reconnect."""


class NotFound(ConfluenceError):
    pass


def new_session() -> ApiSession:
    return ApiSession(timeout=(5.0, 60.0), max_inline_wait=settings.HTTP_MAX_INLINE_WAIT_SECONDS)


def authorized(session: ApiSession, method: str, url: str, *, token: Callable[..., str], **kwargs) -> requests.Response:
    """The request with the grant's access token. Access tokens live an hour and one may expire mid-run: on a 401
    the token is refreshed once (`token(force=True)`); a second 401 means the grant is gone."""
    response = session.request(method, url, headers=bearer_headers(token()), **kwargs)
    if response.status_code == 401:
        response = session.request(method, url, headers=bearer_headers(token(force=True)), **kwargs)
        if response.status_code == 401:
            raise AuthRevoked("Confluence refused a freshly refreshed token", status=401)
    return response


def bearer_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def read_answer(response: requests.Response):
    status = response.status_code
    if status < 300:
        return response.json()
    message = error_message(response)
    if status in (429, 500, 502, 503, 504):
        raise ConfluenceUnavailable(f"Confluence is unavailable or rate limiting ({status}): {message}", status=status)
    if status == 401:
        raise AuthRevoked(f"Confluence refused the token: {message}", status=status)
    if status == 404:
        raise NotFound(message or "Not found", status=status)
    raise ConfluenceError(f"Confluence answered {status}: {message}", status=status)


def error_message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(data, dict):
        errors = data.get("errors") or []
        if errors and isinstance(errors[0], dict):
            return str(errors[0].get("title") or errors[0].get("detail") or "")[:300]
        return str(data.get("message") or data.get("error_description") or data.get("error") or "")[:300]
    return str(data)[:300]
