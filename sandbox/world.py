"""A simulated world: one Atlassian (OAuth, Confluence Cloud, Forge) and one GitHub, sharing a directory on disk."""

from __future__ import annotations

from pathlib import Path

from sandbox.atlassian import AtlassianSimulator
from sandbox.core import Simulator
from sandbox.github import GitHubSimulator


class World:
    """The simulators `make run`, the tests and the benchmarks talk to.

    `site_url` is the ctx| site the simulators deliver webhooks to and redirect back to; `root` holds what must
    live on disk (bare git repositories, signing keys).
    """

    def __init__(self, *, root: Path, sandbox_url: str, site_url: str, seed: int = 0):
        self.root = Path(root)
        self.sandbox_url = sandbox_url.rstrip("/")
        self.site_url = site_url.rstrip("/")
        self.atlassian = AtlassianSimulator(
            base_url=f"{self.sandbox_url}/atlassian", root=self.root / "atlassian", site_url=self.site_url, seed=seed
        )
        self.github = GitHubSimulator(
            base_url=f"{self.sandbox_url}/github", root=self.root / "github", site_url=self.site_url, seed=seed
        )
        # The site signs App JWTs with this key (settings.GITHUB_APP_PRIVATE_KEY_FILE): make sure it exists.
        self.github.app_private_key_path  # noqa: B018

    def simulators(self) -> dict[str, Simulator]:
        return {"atlassian": self.atlassian, "github": self.github}

    def grant_connection(
        self, *, cloud_id: str, space_keys: list[str], repository: str, account_id: str | None = None
    ) -> dict:
        """What a user's consents in this world yield for one connection, as plain JSON (the simulator server sends
        it to another process): an Atlassian grant for the site, the Forge app installed there, the GitHub App
        installed on the repository's owner, and the spaces to select."""
        atlassian, github = self.atlassian, self.github
        account_id = account_id or atlassian.default_user().account_id
        person, site = atlassian.users[account_id], atlassian.sites[cloud_id]
        owner, name = repository.split("/")
        existing = github.installation_for_repo(github.find_repository(owner, name))
        spaces = [atlassian.space_by_key(cloud_id, key) for key in space_keys]
        return {
            "account": {"id": account_id, "name": person.name, "email": person.email},
            "tokens": atlassian.connect(account_id=account_id, sites=[cloud_id]),
            "site": {"id": site.cloud_id, "name": site.name, "url": site.url, "scopes": []},
            "forge_installation_id": atlassian.install_forge_app(cloud_id),
            "github_installation_id": existing.id if existing else github.install_app(owner, repositories="all"),
            "repository": repository,
            "spaces": [{"id": s.id, "key": s.key, "name": s.name} for s in spaces],
        }

    def snapshot(self) -> dict:
        return {name: sim.snapshot() for name, sim in self.simulators().items()}

    def restore(self, data: dict) -> None:
        for name, sim in self.simulators().items():
            if name in data:
                sim.restore(data[name])
