"""Connector kinds and their ordered setup steps.

`connectors` knows no connector: each app that provides one registers its kind from its AppConfig.ready()
(`confluence`, `github_sync`), so imports keep pointing one way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    description: str
    # URL name of the step's own screen (reversed with org slug and connection id); "" → the setup page.
    url_name: str = ""


@dataclass(frozen=True)
class ConnectorKind:
    key: str
    label: str
    description: str
    steps: tuple[Step, ...]
    # What the Connectors page shows and does beyond the generic card, supplied by the kind's own app:
    # a template included in the card, the contexts of many connections at once (connection id → dict), and
    # "sync now" (also used on resume).
    card_template: str = ""
    card_contexts: Callable | None = None
    sync_now: Callable | None = None
    # The allauth provider whose grants a setup step links ("atlassian", "github"), and what the kind keeps of a
    # grant: capture(user=, token=, profile=) (connectors.socialaccount calls it; allauth stores nothing).
    account_provider: str = ""
    capture_account: Callable | None = None

    def step(self, key: str) -> Step:
        for step in self.steps:
            if step.key == key:
                return step
        # A task whose step was removed from the kind still displays.
        return Step(key=key, title=key.replace("_", " ").capitalize(), description="")

    def queue_sync(self, connection, **options):
        """The kind's "sync now" for `connection`: the queued run, or None when the kind has no sync or refused
        (the connection is not ready, or paused)."""
        return self.sync_now(connection, **options) if self.sync_now else None

    @property
    def first_step_hint(self) -> str:
        return f"Next step: {self.steps[0].title}" if self.steps else ""


_registry: dict[str, ConnectorKind] = {}


def register(kind: ConnectorKind) -> None:
    _registry[kind.key] = kind


def get(key: str) -> ConnectorKind:
    try:
        return _registry[key]
    except KeyError:
        raise LookupError(f"Unknown connector kind {key!r}; is its app installed?") from None


def all_kinds() -> list[ConnectorKind]:
    return list(_registry.values())


def account_capture(provider: str) -> Callable | None:
    """What keeps a grant of allauth `provider`, from the kind that links it (None: no kind links it)."""
    return next((k.capture_account for k in _registry.values() if k.account_provider == provider), None)
