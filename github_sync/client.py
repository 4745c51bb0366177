"""GitHub REST and Git Data API calls, as the ctx| GitHub App (App JWT, installation tokens) or as a user.

Plain requests through `connectors.http.ApiSession` rather than PyGithub, so every call is counted, retried with
our backoff rules and never throttled by a client-side one-second write delay. Base URL: GITHUB_API_URL
(GitHub Enterprise Server: https://HOST/api/v3).
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, quote, urljoin

import jwt
import requests
import urllib3
from django.conf import settings

from connectors.http import ApiSession

ACCEPT = "application/vnd.github+json"
RAW = "application/vnd.github.raw+json"
API_VERSION = "2022-11-28"
# Renew installation tokens this long before GitHub's one-hour expiry, so a long run never holds a dead token.
TOKEN_MARGIN_SECONDS = 300


class GitHubError(Exception):
    """A GitHub call failed in a way the caller must report (permanent unless a subclass says otherwise)."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


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


@dataclass(frozen=True)
class RepoInfo:
    github_id: int
    full_name: str
    default_branch: str
    private: bool
    html_url: str

    @classmethod
    def from_json(cls, data: dict) -> RepoInfo:
        return cls(
            github_id=int(data["id"]),
            full_name=data["full_name"],
            default_branch=data.get("default_branch") or "main",
            private=bool(data.get("private", True)),
            html_url=data.get("html_url", ""),
        )


@dataclass(frozen=True)
class InstallationInfo:
    installation_id: int
    account_login: str
    account_type: str
    repository_selection: str
    suspended: bool

    @classmethod
    def from_json(cls, data: dict) -> InstallationInfo:
        account = data.get("account") or {}
        return cls(
            installation_id=int(data["id"]),
            account_login=account.get("login", ""),
            account_type=account.get("type", "User"),
            repository_selection=data.get("repository_selection", "selected"),
            suspended=bool(data.get("suspended_at")),
        )


@dataclass(frozen=True)
class TreeEntry:
    path: str
    mode: str
    type: str
    sha: str
    size: int | None = None


# App authentication --------------------------------------------------------------------------------------


def app_private_key() -> str:
    if settings.GITHUB_APP_PRIVATE_KEY:
        return settings.GITHUB_APP_PRIVATE_KEY
    if settings.GITHUB_APP_PRIVATE_KEY_FILE:
        return Path(settings.GITHUB_APP_PRIVATE_KEY_FILE).read_text()
    raise GitHubError("The GitHub App private key is not configured (GITHUB_APP_PRIVATE_KEY or _FILE).")


def app_jwt() -> str:
    """A JWT that authenticates as the App for 9 minutes (GitHub allows 10), backdated against clock drift."""
    # Reference: https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
    now = int(time.time())
    claims = {"iat": now - 60, "exp": now + 540, "iss": str(settings.GITHUB_APP_ID)}
    return jwt.encode(claims, app_private_key(), algorithm="RS256")


_tokens: dict[int, tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def installation_token(installation_id: int, *, session: ApiSession | None = None) -> str:
    """An installation access token, cached in this process until shortly before it expires."""
    with _tokens_lock:
        cached = _tokens.get(installation_id)
        if cached and cached[1] - TOKEN_MARGIN_SECONDS > time.time():
            return cached[0]
    session = session or new_session()
    url = f"{settings.GITHUB_API_URL}/app/installations/{installation_id}/access_tokens"
    data = _json(session.request("POST", url, headers=_headers(app_jwt())), gone=InstallationGone)
    expires = _parse_time(data.get("expires_at")) or time.time() + 3600
    with _tokens_lock:
        _tokens[installation_id] = (data["token"], expires)
    return data["token"]


def forget_installation_token(installation_id: int) -> None:
    with _tokens_lock:
        _tokens.pop(installation_id, None)


def get_installation(installation_id: int) -> InstallationInfo:
    """The installation as GitHub sees it now (App JWT)."""
    session = new_session()
    url = f"{settings.GITHUB_API_URL}/app/installations/{installation_id}"
    response = session.request("GET", url, headers=_headers(app_jwt()))
    return InstallationInfo.from_json(_json(response, gone=InstallationGone))


# As a user -------------------------------------------------------------------------------------------------


def user_installations(user_token: str) -> list[InstallationInfo]:
    """Installations of this App that the user can access; how we verify a claimed installation_id."""
    # Reference: https://docs.github.com/en/rest/apps/installations#list-app-installations-accessible-to-the-user-access-token
    session = new_session()
    url = f"{settings.GITHUB_API_URL}/user/installations?per_page=100"
    found: list[InstallationInfo] = []
    while url:
        response = session.request("GET", url, headers=_headers(user_token))
        found += [InstallationInfo.from_json(item) for item in _json(response)["installations"]]
        url = response.links.get("next", {}).get("url")
    return found


# As an installation ----------------------------------------------------------------------------------------


class InstallationClient:
    """Calls made with one installation's token; `stats` counts them for the run that owns this client."""

    def __init__(self, installation_id: int, *, session: ApiSession | None = None):
        self.installation_id = installation_id
        self.session = session or new_session()

    @property
    def stats(self):
        return self.session.stats

    def call(self, method: str, path: str, *, gone=RepositoryGone, headers_extra=None, raw=False, **kwargs):
        response = self._send(method, path, headers_extra=headers_extra, **kwargs)
        if raw and response.status_code < 300 and "application/json" not in response.headers.get("Content-Type", ""):
            return response.content
        return _json(response, gone=gone)

    def _send(self, method: str, path: str, *, headers_extra=None, **kwargs) -> requests.Response:
        url = f"{settings.GITHUB_API_URL}{path}"
        token = installation_token(self.installation_id, session=self.session)
        response = self.session.request(method, url, headers=_headers(token) | (headers_extra or {}), **kwargs)
        if response.status_code == 401:
            # The cached token may have been revoked early (the installation was suspended, say): renew once.
            forget_installation_token(self.installation_id)
            token = installation_token(self.installation_id, session=self.session)
            response = self.session.request(method, url, headers=_headers(token) | (headers_extra or {}), **kwargs)
        return response

    def list_repositories(self) -> list[RepoInfo]:
        repos, page = [], 1
        while True:
            data = self.call("GET", f"/installation/repositories?per_page=100&page={page}", gone=InstallationGone)
            repos += [RepoInfo.from_json(item) for item in data["repositories"]]
            if len(repos) >= data.get("total_count", 0) or not data["repositories"]:
                return repos
            page += 1

    def get_repository(self, full_name: str) -> RepoInfo:
        return RepoInfo.from_json(self.call("GET", f"/repos/{full_name}"))

    def branch_head(self, full_name: str, branch: str) -> tuple[str, str] | None:
        """(commit sha, tree sha) at the tip of `branch`, or None for an empty repository or a missing branch."""
        try:
            data = self.call("GET", f"/repos/{full_name}/branches/{branch}", gone=_BranchMissing)
        except (_BranchMissing, EmptyRepository):
            return None
        return data["commit"]["sha"], data["commit"]["commit"]["tree"]["sha"]

    def get_tree(self, full_name: str, tree_sha: str, *, recursive: bool = True) -> tuple[list[TreeEntry], bool]:
        """Entries of a tree and whether GitHub truncated the listing (over 100,000 entries or 7 MB)."""
        suffix = "?recursive=1" if recursive else ""
        data = self.call("GET", f"/repos/{full_name}/git/trees/{tree_sha}{suffix}")
        entries = [
            TreeEntry(path=e["path"], mode=e["mode"], type=e["type"], sha=e["sha"], size=e.get("size"))
            for e in data["tree"]
        ]
        return entries, bool(data.get("truncated"))

    def list_files(
        self, full_name: str, tree_sha: str, *, descend: Callable[[str], bool] = lambda directory: True
    ) -> list[TreeEntry]:
        """Every file under the tree (a commit sha works too), with its path from the top: one request, unless
        GitHub truncates the recursive listing (over 100,000 entries or 7 MB). Then the top level is listed and
        each subtree `descend` accepts (given its path) is listed the same way, so only a subtree still too large
        is split further, and directories the caller has no use for are never read."""
        entries, truncated = self.get_tree(full_name, tree_sha, recursive=True)
        if not truncated:
            return [e for e in entries if e.type == "blob"]
        level, _ = self.get_tree(full_name, tree_sha, recursive=False)
        files = [e for e in level if e.type == "blob"]
        for tree in (e for e in level if e.type == "tree" and descend(e.path)):
            below = self.list_files(full_name, tree.sha, descend=lambda path, top=tree.path: descend(f"{top}/{path}"))
            files += [replace(e, path=f"{tree.path}/{e.path}") for e in below]
        return files

    def get_file(self, full_name: str, path: str, *, ref: str) -> bytes | None:
        """A file's bytes at `ref`, or None when it does not exist (one request, any size up to 100 MB)."""
        try:
            data = self.call(
                "GET", f"/repos/{full_name}/contents/{path}?ref={ref}", headers_extra={"Accept": RAW}, raw=True
            )
        except RepositoryGone:
            return None
        if isinstance(data, bytes):
            return data
        # A server that ignores the raw media type answers JSON; files over 1 MB then come without content.
        if data.get("content"):
            return base64.b64decode(data["content"])
        return self.get_blob(full_name, data["sha"])

    @contextmanager
    def open_tarball(self, full_name: str, ref: str) -> Iterator[_Download]:
        """The gzip'd tar GitHub makes of the repository at `ref` (top folder `<owner>-<repo>-<short sha>/`), as a
        stream read while it arrives. Two requests: the API answers 302 with a short-lived download URL (on
        codeload, carrying its own token when the repository is private), which is fetched without our
        Authorization header: it needs none and must not see the installation's token."""
        # Reference: https://docs.github.com/en/rest/repos/contents#download-a-repository-archive-tar
        response = self._send("GET", f"/repos/{full_name}/tarball/{quote(ref, safe='')}", allow_redirects=False)
        location = response.headers.get("Location") if response.status_code == 302 else None
        if not location:
            _json(response)  # raises the error the status means
            raise GitHubError(f"GitHub answered {response.status_code} without a download link", status=302)
        # The query carries the download's token: passed apart, so that no log line or error message shows it.
        url, _, query = urljoin(response.url, location).partition("?")
        try:
            download = self.session.request("GET", url, params=parse_qsl(query), stream=True, allow_redirects=False)
        except requests.RequestException as error:
            raise GitHubUnavailable(f"The archive download failed: {type(error).__name__}") from None
        with download:
            if download.status_code >= 300:
                _json(download)
            yield _Download(download.raw)

    def get_blob(self, full_name: str, sha: str) -> bytes:
        data = self.call("GET", f"/repos/{full_name}/git/blobs/{sha}")
        return base64.b64decode(data["content"]) if data.get("encoding") == "base64" else data["content"].encode()

    def create_blob(self, full_name: str, content: bytes) -> str:
        body = {"content": base64.b64encode(content).decode(), "encoding": "base64"}
        return self.call("POST", f"/repos/{full_name}/git/blobs", json=body)["sha"]

    def create_tree(self, full_name: str, entries: list[dict], *, base_tree: str | None) -> str:
        body: dict = {"tree": entries}
        if base_tree:
            body["base_tree"] = base_tree
        return self.call("POST", f"/repos/{full_name}/git/trees", json=body)["sha"]

    def create_commit(self, full_name: str, *, message: str, tree: str, parents: list[str], author: dict | None) -> str:
        body = {"message": message, "tree": tree, "parents": parents}
        if author:
            body["author"] = author
        return self.call("POST", f"/repos/{full_name}/git/commits", json=body)["sha"]

    def update_branch(self, full_name: str, branch: str, sha: str) -> None:
        """Move the branch to `sha` only if that is a fast forward; NotFastForward if someone pushed meanwhile."""
        self.call("PATCH", f"/repos/{full_name}/git/refs/heads/{branch}", json={"sha": sha, "force": False})

    def put_file(self, full_name: str, *, path: str, content: bytes, message: str, branch: str) -> str:
        """Create a file with the Contents API: the only way to make the first commit of an empty repository."""
        body = {"message": message, "content": base64.b64encode(content).decode(), "branch": branch}
        return self.call("PUT", f"/repos/{full_name}/contents/{path}", json=body)["commit"]["sha"]


# Plumbing --------------------------------------------------------------------------------------------------


class _BranchMissing(GitHubError):
    pass


class _Download:
    """A download's body as a stream (`read(n)`), its connection failures turned into GitHubUnavailable."""

    def __init__(self, raw: urllib3.BaseHTTPResponse):
        self.raw = raw

    def read(self, size: int = -1) -> bytes:
        try:
            return self.raw.read(None if size < 0 else size, decode_content=True)
        except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as error:
            raise GitHubUnavailable(f"The download from GitHub broke off: {error}") from error


def new_session() -> ApiSession:
    return ApiSession(timeout=(5.0, 60.0), max_inline_wait=settings.HTTP_MAX_INLINE_WAIT_SECONDS)


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": ACCEPT, "X-GitHub-Api-Version": API_VERSION}


def _json(response: requests.Response, *, gone: type[GitHubError] = GitHubError) -> dict | list:
    """The response body, or the named error its status means."""
    status = response.status_code
    if status < 300:
        return response.json() if response.content else {}
    message = _message(response)
    if status in (429, 500, 502, 503, 504) or (status == 403 and response.headers.get("x-ratelimit-remaining") == "0"):
        raise GitHubUnavailable(f"GitHub is unavailable or rate limiting ({status}): {message}", status=status)
    if status == 401:
        raise BadCredentials(f"GitHub refused the credentials: {message}", status=status)
    if status == 409 and "empty" in message.lower():
        raise EmptyRepository(message, status=status)
    if status == 422 and "fast forward" in message.lower():
        raise NotFastForward(message, status=status)
    if status == 413 or (status == 422 and ("too large" in message.lower() or "size limit" in message.lower())):
        raise InputTooLarge(f"GitHub refused the request as too large ({status}): {message}", status=status)
    if status in (404, 410) or (status == 403 and gone is InstallationGone):
        raise gone(f"GitHub answered {status}: {message}", status=status)
    if status == 301:
        raise RepositoryGone(f"The repository moved: {message}", status=status)
    raise GitHubError(f"GitHub answered {status}: {message}", status=status)


def _message(response: requests.Response) -> str:
    try:
        return str(response.json().get("message", ""))[:300]
    except ValueError:
        return response.text[:300]


def _parse_time(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
