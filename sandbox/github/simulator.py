"""The simulated GitHub: a GitHub App's installations, OAuth, REST and Git Data API over real bare repositories.

Mounted at `base_url`; `/api/...` plays api.github.com and `/web/...` plays github.com.

Composed like the Atlassian simulator: the Python API that tests, benchmarks and `make run`'s pages use to change
the world "from GitHub's side" comes from one mixin per area (accounts, repositories, repository settings,
installations); each HTTP area is a module of handler functions `handler(sim, request, ...)` that its
`register(sim)` routes. This class keeps serving, webhook delivery, the clock and persistence.
"""

from __future__ import annotations

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
    keys,
    oauth,
    pages,
    repos,
    shapes,
    webhooks,
)
from sandbox.github.accounts import AccountsMixin
from sandbox.github.installations import InstallationsMixin
from sandbox.github.models import Delivery, State, dump_state, load_state
from sandbox.github.repositories import RepositoriesMixin
from sandbox.github.repository_settings import RepositorySettingsMixin

DEFAULT_LOGIN = "octo-sandbox"


class GitHubSimulator(AccountsMixin, RepositoriesMixin, RepositorySettingsMixin, InstallationsMixin, Simulator):
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
                    # Counting the request against the caller's hour changes the state, even on a read.
                    auth.stamp_rate_headers(self, self._caller_or_anonymous(request), response)
                    self.mark_changed()
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
