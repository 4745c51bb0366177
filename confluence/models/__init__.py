"""The confluence app's models, one module per subject; every model is importable from `confluence.models`."""

from confluence.models.events import ForgeTokenUse, WebhookEvent
from confluence.models.people import KnownPerson, PersonalDataReport, ReportedAccount
from confluence.models.runs import RunSuperseded, SyncRun, SyncState, warning_message
from confluence.models.scope import SyncScope, SyncTarget
from confluence.models.site import AtlassianSite, ForgeInstallation, PendingAtlassianLink

__all__ = [
    "AtlassianSite",
    "ForgeInstallation",
    "ForgeTokenUse",
    "KnownPerson",
    "PendingAtlassianLink",
    "PersonalDataReport",
    "ReportedAccount",
    "RunSuperseded",
    "SyncRun",
    "SyncScope",
    "SyncState",
    "SyncTarget",
    "WebhookEvent",
    "warning_message",
]
