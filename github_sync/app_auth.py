"""Who we are to GitHub: the App (a JWT signed with its private key, PyGithub's `Auth.AppAuth`), its installations
(tokens from PyGithub's `Auth.AppInstallationAuth`, shared by every client of this process until shortly before
they expire), and the installations a user's own token can reach.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from django.conf import settings
from github import Auth, Github, GithubException, GithubIntegration
from github.Installation import Installation
from github.InstallationAuthorization import InstallationAuthorization

from connectors.http import ApiSession
from github_sync.errors import GitHubError, InstallationGone, from_pygithub
from github_sync.transport import new_session, options

# Renew installation tokens this long before GitHub's one-hour expiry, so a long run never holds a dead token.
TOKEN_MARGIN_SECONDS = 300


@dataclass(frozen=True)
class InstallationInfo:
    installation_id: int
    account_login: str
    account_type: str
    repository_selection: Literal["all", "selected"]
    suspended: bool

    @classmethod
    def of(cls, installation: Installation) -> InstallationInfo:
        return cls(
            installation_id=int(installation.id),
            account_login=installation.account.login if installation.account else "",
            account_type=installation.target_type or "User",
            repository_selection=installation.repository_selection or "selected",
            suspended=installation.suspended_at is not None,
        )


def app_private_key() -> str:
    if settings.GITHUB_APP_PRIVATE_KEY:
        return settings.GITHUB_APP_PRIVATE_KEY
    if settings.GITHUB_APP_PRIVATE_KEY_FILE:
        return Path(settings.GITHUB_APP_PRIVATE_KEY_FILE).read_text()
    raise GitHubError("The GitHub App private key is not configured (GITHUB_APP_PRIVATE_KEY or _FILE).")


def app_auth() -> Auth.AppAuth:
    """The App's JWT: valid 5 minutes, backdated a minute against clock drift (PyGithub's defaults); the key is
    read when a JWT is signed."""
    if not settings.GITHUB_APP_ID:
        raise GitHubError("The GitHub App is not configured (GITHUB_APP_ID).")
    return Auth.AppAuth(str(settings.GITHUB_APP_ID), app_private_key)


_tokens: dict[int, tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def installation_token(installation_id: int, *, fetch: Callable[[], InstallationAuthorization]) -> str:
    """The installation's access token, from this process's cache unless it expires within the margin."""
    with _tokens_lock:
        cached = _tokens.get(installation_id)
        if cached and cached[1] - TOKEN_MARGIN_SECONDS > time.time():
            return cached[0]
    try:
        authorization = fetch()
    except GithubException as error:
        raise from_pygithub(error, gone=InstallationGone) from None
    expires = authorization.expires_at.timestamp() if authorization.expires_at else time.time() + 3600
    with _tokens_lock:
        _tokens[installation_id] = (authorization.token, expires)
    return authorization.token


def forget_installation_token(installation_id: int) -> None:
    with _tokens_lock:
        _tokens.pop(installation_id, None)


def forget_all_tokens() -> None:
    """For tests: each simulated world issues its own tokens, and installation ids repeat between worlds."""
    with _tokens_lock:
        _tokens.clear()


class SharedInstallationAuth(Auth.AppInstallationAuth):
    """PyGithub's installation auth (its GithubIntegration asks for the token), with one token per installation
    for the whole process instead of one per client: a run pays no token request while an earlier one's is good."""

    @property
    def token_type(self) -> str:
        return "Bearer"  # as GitHub's documentation writes it; PyGithub sends the older "token"

    @property
    def token(self) -> str:
        return installation_token(self.installation_id, fetch=self._get_installation_authorization)


def installation_github(installation_id: int, session: ApiSession) -> Github:
    return Github(auth=SharedInstallationAuth(app_auth(), installation_id), **options(session))


def get_installation(installation_id: int) -> InstallationInfo:
    """The installation as GitHub sees it now (App JWT)."""
    integration = GithubIntegration(auth=app_auth(), **options(new_session()))
    try:
        return InstallationInfo.of(integration.get_app_installation(installation_id))
    except GithubException as error:
        raise from_pygithub(error, gone=InstallationGone) from None


def user_installations(user_token: str) -> list[InstallationInfo]:
    """Installations of this App that the user can access; how we verify a claimed installation_id."""
    # Reference: https://docs.github.com/en/rest/apps/installations#list-app-installations-accessible-to-the-user-access-token
    github = Github(auth=Auth.Token(user_token), **options(new_session()))
    try:
        return [InstallationInfo.of(installation) for installation in github.get_user().get_installations()]
    except GithubException as error:
        raise from_pygithub(error) from None
