"""The simulated Atlassian: OAuth 2.0 (3LO), Confluence Cloud REST v1/v2 and Forge events."""

from sandbox.atlassian.simulator import AtlassianSimulator

__all__ = ["AtlassianSimulator"]
