"""What came of a Forge delivery (in the request) or of applying its event (in a worker): one `Outcome` for both.

The status is the WebhookEvent status the row gets (`received` when a delivery is stored), or, for a delivery that
stores nothing, DUPLICATE or REFUSED; the view turns it into an HTTP answer, the worker into the row's columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluence.models import SyncRun, WebhookEvent

# A delivery seen already (the same change, or the same request resent): acknowledged, nothing stored.
DUPLICATE = "duplicate"
# A token already used for another body: refused like any bad token.
REFUSED = "refused"


@dataclass(frozen=True)
class Outcome:
    status: str  # a WebhookEvent.Status, DUPLICATE or REFUSED
    detail: str  # for people: the HTTP answer's text, or the row's detail
    runs: tuple[SyncRun, ...] = ()  # the sync runs the event queued


class RetryLater(Exception):
    """Confluence could not confirm what the event claims right now: process the event again later."""


def ignored(detail: str) -> Outcome:
    return Outcome(WebhookEvent.Status.IGNORED, detail)


def summarise(runs: list[SyncRun], skipped: list[str], *, none: str) -> Outcome:
    """The outcome of an event that concerned some connections: the runs it queued, and why others took none
    (`none` says why no connection was concerned at all)."""
    if runs:
        queued = ", ".join(f"#{run.id}" for run in runs)
        detail = f"Queued sync run {queued}." + (f" Skipped: {'; '.join(skipped)}." if skipped else "")
        return Outcome(WebhookEvent.Status.PROCESSED, detail, tuple(runs))
    if skipped:
        return ignored(f"Ignored: {'; '.join(skipped)}.")
    return ignored(none)
