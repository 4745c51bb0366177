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

    def snapshot(self) -> dict:
        return {name: sim.snapshot() for name, sim in self.simulators().items()}

    def restore(self, data: dict) -> None:
        for name, sim in self.simulators().items():
            if name in data:
                sim.restore(data[name])
