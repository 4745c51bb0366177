"""The simulated GitHub: a GitHub App's installations, OAuth, REST and Git Data API over real bare repositories.

Mounted at `base_url`; `/api/...` plays api.github.com and `/web/...` plays github.com. The methods below are the
Python API that tests, benchmarks and `make run`'s manage pages use to change the world "from GitHub's side".
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

from sandbox import credentials
from sandbox.core import Fault, SimError, SimRequest, SimResponse, Simulator
from sandbox.github import (
    apps,
    archives,
    auth,
    browse,
    git_api,
    gitstore,
    installations,
    keys,
    oauth,
    pages,
    repos,
    shapes,
    trees,
    webhooks,
)
from sandbox.github.models import Delivery, Installation, Org, Repo, State, User, dump_state, load_state

DEFAULT_LOGIN = "octo-sandbox"
# Account logins and repository names become directories (`root/<owner>/<name>.git`), so only names GitHub accepts
# get that far. Repositories: "ASCII letters, digits, and the characters `.`, `-`, and `_`", at most 100 characters
# (https://docs.github.com/en/repositories/creating-and-managing-repositories/repository-limits), and never "." or
# "..". Logins: letters, digits and hyphens, not starting with a hyphen, at most 39 characters (GitHub's sign-up
# form), plus "_" for Enterprise Managed Users' `name_shortcode` handles.
_REPOSITORY_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,38}")


class GitHubSimulator(Simulator):
    name = "github"

    def __init__(self, *, base_url: str, root: Path, site_url: str, seed: int = 0):
        super().__init__(seed=seed)
        self.base_url = base_url.rstrip("/")
        self.api_url = f"{self.base_url}/api"
        self.web_url = f"{self.base_url}/web"
        self.root = Path(root)
        self.site_url = site_url.rstrip("/")
        self.webhook_url = f"{self.site_url}/integrations/github/webhook"
        self.setup_url = f"{self.site_url}/integrations/github/setup"
        # The App's registered callback URLs (GitHub allows ten; the first is the default). Not in the snapshot:
        # like the URLs above, they follow the site's URL.
        self.callback_urls = [f"{self.site_url}{credentials.GITHUB_CALLBACK_PATH}"]
        self.app_id = credentials.GITHUB_APP_ID
        self.app_slug = credentials.GITHUB_APP_SLUG
        self.client_id = credentials.GITHUB_APP_CLIENT_ID
        self.client_secret = credentials.GITHUB_APP_CLIENT_SECRET
        self.webhook_secret = credentials.GITHUB_WEBHOOK_SECRET
        # Knobs for tests and benchmarks.
        self.deliver: Callable[[str, bytes, dict[str, str]], int] | None = None
        self.emit_push_on_api_update = True
        # The live sandbox sets this: it must not post to the site while holding the world's lock (the site's
        # webhook view may call back), so deliveries wait in `outbox` for `take_outbox()` / `flush_outbox()`.
        self.defer_deliveries = False
        self.tree_entry_limit = 100_000
        self.rate_limit = 5000
        self.rate_limit_fault_status = 429
        self.clock: Callable[[], float] = time.time
        self.clock_offset = 0.0
        self.deliveries: list[Delivery] = []
        self.outbox: list[Delivery] = []
        self._local = threading.local()
        self.state = State()
        self.create_user(DEFAULT_LOGIN, name="Octo Sandbox", email="octo-sandbox@example.com")
        for module in (apps, repos, git_api, archives, oauth, pages, browse):
            module.register(self)

    # Serving ----------------------------------------------------------------------------------------------

    def handle(self, request: SimRequest) -> SimResponse:
        # allauth's `GITHUB_URL` setting derives the API as `{web}/api/v3`, like GitHub Enterprise Server does.
        if request.path.startswith("/web/api/v3/"):
            request.path = "/api/" + request.path.removeprefix("/web/api/v3/")
        request.path = unquote(request.path)
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        try:
            response = super().handle(request)
            if request.path.startswith("/api/"):
                with self.lock:
                    auth.stamp_rate_headers(self, self._caller_or_anonymous(request), response)
            return response
        finally:
            self._local.depth = depth
            if depth == 0:
                self._flush_unless_serving()

    def _dispatch(self, request: SimRequest) -> SimResponse:
        if request.path.startswith("/api/"):
            exhausted = auth.rate_exhausted(self, self._caller_or_anonymous(request))
            if exhausted is not None:
                return exhausted
        return super()._dispatch(request)

    def _caller_or_anonymous(self, request: SimRequest) -> auth.Caller:
        try:
            return auth.identify(self, request)
        except SimError:
            return auth.Caller("anonymous")

    def not_found(self, request: SimRequest) -> SimResponse:
        return SimResponse.json({"message": "Not Found", "documentation_url": shapes.DOCS, "status": "404"}, 404)

    def fault_response(self, fault: Fault) -> SimResponse:
        return shapes.fault(fault, status=self.rate_limit_fault_status, limit=self.rate_limit, now=self.now())

    def take_outbox(self) -> list[Delivery]:
        with self.lock:
            taken, self.outbox = self.outbox, []
            return taken

    def flush_outbox(self, deliveries: list[Delivery] | None = None) -> list[int]:
        """Send queued deliveries (or the given ones); returns their statuses."""
        deliveries = self.take_outbox() if deliveries is None else deliveries
        for delivery in deliveries:
            webhooks.send(self, delivery)
        return [d.status for d in deliveries]

    def deliver_webhook(self, event: str, payload: dict) -> Delivery:
        """Send any event to the site, signed like GitHub would."""
        delivery = webhooks.emit(self, event, payload)
        self._flush_unless_serving()
        return delivery

    def _flush_unless_serving(self) -> None:
        # Events raised while answering a request go out once the answer is complete.
        if getattr(self._local, "depth", 0) == 0 and not self.defer_deliveries:
            self.flush_outbox()

    # Clock, keys, persistence ----------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock() + self.clock_offset

    def advance_clock(self, seconds: float) -> None:
        self.clock_offset += seconds

    @property
    def app_private_key_path(self) -> Path:
        return keys.ensure_private_key(self.root / "app-private-key.pem")

    def app_public_key(self):
        return keys.public_key(self.root / "app-private-key.pem")

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "state": dump_state(self.state),
                "clock_offset": self.clock_offset,
                "deliveries": [vars(d).copy() for d in self.deliveries[-50:]],
            }

    def restore(self, data: dict) -> None:
        with self.lock:
            self.state = load_state(data.get("state", {}))
            self.clock_offset = data.get("clock_offset", 0.0)
            self.deliveries = [Delivery(**d) for d in data.get("deliveries", [])]

    # Accounts ---------------------------------------------------------------------------------------------

    def create_user(self, login: str, *, name: str | None = None, email: str | None = None) -> User:
        _check_login(login)
        with self.lock:
            user = self.state.users.get(login.lower())
            if user is None:
                user = self.state.users[login.lower()] = User(login=login, id=self.state.new_id())
            user.name, user.email = name or user.name, email or user.email
            return user

    def create_org(self, login: str, *, owners=(), members=()) -> Org:
        _check_login(login)
        with self.lock:
            org = Org(login=login, id=self.state.new_id(), owners=list(owners), members=list(members))
            self.state.orgs[login.lower()] = org
            return org

    def account(self, login: str) -> User | Org:
        acct = self.state.users.get(login.lower()) or self.state.orgs.get(login.lower())
        if acct is None:
            raise KeyError(f"no GitHub account {login!r}")
        return acct

    def accounts_of(self, login: str) -> list[User | Org]:
        """The user's own account, then the organizations they own or belong to."""
        orgs = [o for o in self.state.orgs.values() if login.lower() in {m.lower() for m in o.owners + o.members}]
        return [self.account(login), *orgs]

    def is_owner(self, login: str, account_login: str) -> bool:
        acct = self.account(account_login)
        if isinstance(acct, User):
            return acct.login.lower() == login.lower()
        return login.lower() in {o.lower() for o in acct.owners}

    # Repositories -----------------------------------------------------------------------------------------

    def create_repository(
        self, owner: str, name: str, *, private: bool = True, default_branch: str = "main", description: str = ""
    ) -> Repo:
        _check_repository_name(name)
        with self.lock:
            owner = self.account(owner).login
            if self.find_repository(owner, name):
                raise ValueError(f"repository {owner}/{name} exists")
            repo = Repo(
                id=self.state.new_id(),
                owner=owner,
                name=name,
                private=private,
                default_branch=default_branch,
                description=description,
                created_at=self.now(),
            )
            gitstore.init_repository(self.repository_path(owner, name), default_branch=default_branch)
            self.state.repos[repo.id] = repo
            return repo

    def find_repository(self, owner: str, name: str) -> Repo | None:
        full_name = f"{owner}/{name}".lower()
        return next((r for r in self.state.repos.values() if r.full_name.lower() == full_name), None)

    def get_repository(self, owner: str, name: str) -> Repo:
        repo = self.find_repository(owner, name)
        if repo is None:
            raise KeyError(f"no repository {owner}/{name}")
        return repo

    def delete_repository(self, owner: str, name: str) -> None:
        with self.lock:
            repo = self.get_repository(owner, name)
            del self.state.repos[repo.id]
            shutil.rmtree(self.repository_path(repo.owner, repo.name), ignore_errors=True)

    def rename_repository(self, owner: str, name: str, new_name: str) -> Repo:
        """Rename; the old URLs answer 301 with the new location, as GitHub's do."""
        _check_repository_name(new_name)
        with self.lock:
            repo = self.get_repository(owner, name)
            old_path = self.repository_path(repo.owner, repo.name)
            self.state.redirects[repo.full_name.lower()] = repo.id
            repo.name = new_name
            self.state.redirects.pop(repo.full_name.lower(), None)
            old_path.rename(self.repository_path(repo.owner, new_name))
            return repo

    def repository_path(self, owner: str, repo: str) -> Path:
        found = self.find_repository(owner, repo)
        if found:
            owner, repo = found.owner, found.name
        return self.root / owner / f"{repo}.git"

    def head_sha(self, owner: str, repo: str, branch: str | None = None) -> str | None:
        found = self.get_repository(owner, repo)
        return gitstore.read_ref(self.repository_path(owner, repo), f"refs/heads/{branch or found.default_branch}")

    def read_tree(self, owner: str, repo: str, ref: str) -> dict[str, bytes]:
        """Every file at `ref` (a branch name or a commit sha) and its content; for tests."""
        path = self.repository_path(owner, repo)
        sha = gitstore.read_ref(path, f"refs/heads/{ref}") or ref
        commit = gitstore.read_commit(path, sha)
        if commit is None:
            raise KeyError(f"no commit {ref!r} in {owner}/{repo}")
        entries = trees.blobs(path, commit.tree)
        objects = gitstore.read_objects(path, [e.sha for e in entries.values()])
        return {p: objects[e.sha][1] for p, e in entries.items() if e.sha in objects}

    def push_outside_commit(
        self,
        owner: str,
        repo: str,
        *,
        files: dict[str, str | bytes | None],
        message: str,
        branch: str | None = None,
        author: str = "someone",
    ) -> str:
        """Commit `files` (None deletes) on top of the branch as someone else would push it; sends `push`."""
        with self.lock:
            found = self.get_repository(owner, repo)
            sha = repos.commit_files(
                self, found, files=files, message=message, branch=branch or found.default_branch, author=author
            )
        self._flush_unless_serving()
        return sha

    # Installations and tokens (see installations.py) ------------------------------------------------------

    def install_app(
        self, account_login: str, *, repositories: str | list[str] = "all", installed_by: str | None = None
    ) -> int:
        """An owner installs the App (`installed_by`, else the account's first owner); pending requests for the
        account are fulfilled, and the first requester is the webhook's `requester`."""
        return self._then_flush(installations.install, account_login, repositories, installed_by)

    def request_installation(self, account_login: str, *, requested_by: str) -> None:
        self._then_flush(installations.request, account_login, requested_by)

    def uninstall_app(self, installation_id: int) -> None:
        self._then_flush(installations.uninstall, installation_id)

    def suspend_installation(self, installation_id: int) -> None:
        self._then_flush(installations.suspend, installation_id, True)

    def unsuspend_installation(self, installation_id: int) -> None:
        self._then_flush(installations.suspend, installation_id, False)

    def add_installation_repositories(self, installation_id: int, names: list[str]) -> None:
        self._then_flush(installations.change_repositories, installation_id, names, True)

    def remove_installation_repositories(self, installation_id: int, names: list[str]) -> None:
        self._then_flush(installations.change_repositories, installation_id, names, False)

    def installation_for_repo(self, repo: Repo) -> Installation | None:
        return installations.for_repo(self, repo)

    def issue_user_token(self, login: str) -> str:
        with self.lock:
            return installations.issue_user_token(self, login)

    def issue_installation_token(self, installation_id: int) -> str:
        with self.lock:
            return installations.issue_installation_token(self, installation_id).token

    def _then_flush(self, function, *args):
        with self.lock:
            result = function(self, *args)
        self._flush_unless_serving()
        return result


def _check_login(login: str) -> None:
    if not _LOGIN.fullmatch(login):
        raise ValueError(f"{login!r} is not a GitHub login: letters, digits and hyphens, up to 39 characters")


def _check_repository_name(name: str) -> None:
    if not _REPOSITORY_NAME.fullmatch(name) or name in (".", ".."):
        raise ValueError(f"{name!r} is not a GitHub repository name: letters, digits, '.', '-' and '_', up to 100")
