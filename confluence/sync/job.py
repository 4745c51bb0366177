"""One run's working set, handed from stage to stage of the sync engine (read, plan, render, commit, record)."""

from __future__ import annotations

from dataclasses import dataclass, field

from confluence.client import ConfluenceClient
from confluence.models import AtlassianSite, SyncRun, SyncScope, SyncTarget
from connectors.models import Connection
from github_sync.client import InstallationClient
from github_sync.models import Repository


@dataclass
class Job:
    run: SyncRun
    connection: Connection
    site: AtlassianSite
    target: SyncTarget
    scope: SyncScope
    confluence: ConfluenceClient
    github: InstallationClient
    counts: dict = field(default_factory=dict)
    # What the run leaves out of the repository and why (SyncRun.warnings): a run still succeeds without them.
    warnings: list[dict] = field(default_factory=list)
    # Selected pages left out as restricted (id → title), among the pages the run judged (None: the whole scope).
    restricted: dict[str, str] = field(default_factory=dict)
    judged: set[str] | None = None
    # Whether this run read the repository from GitHub already (confluence.sync.state.ensure_same_repository).
    repository_read: bool = False

    @property
    def repository(self) -> Repository:
        return self.target.repository
