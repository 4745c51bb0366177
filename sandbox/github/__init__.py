"""The simulated GitHub: App installations, OAuth, REST and the Git Data API over real bare git repositories."""

from sandbox.github.simulator import GitHubSimulator

__all__ = ["GitHubSimulator"]
