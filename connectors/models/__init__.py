"""Organizations, their members, their connections and each connection's setup tasks, and the states every app's
background work shares; every model (and the invitation token defaults migrations name as `connectors.models.…`)
is importable from `connectors.models`."""

from connectors.models.connections import Connection, SetupTask
from connectors.models.organizations import (
    Invitation,
    Membership,
    Organization,
    hash_invitation_token,
    hash_of_a_token_no_one_holds,
)
from connectors.models.states import DeliveryStatus, QueuedRun, RunStatus

__all__ = [
    "Connection",
    "DeliveryStatus",
    "Invitation",
    "Membership",
    "Organization",
    "QueuedRun",
    "RunStatus",
    "SetupTask",
    "hash_invitation_token",
    "hash_of_a_token_no_one_holds",
]
