"""github_sync's models, one module per responsibility; imported from here (`from github_sync.models import …`).

installations  Installation, Repository, InstallationRequest, GitHubIdentity
ingestion      Source, IngestRun, Document, Section
deliveries     WebhookDelivery
api_keys       ApiKey
"""

from github_sync.models.api_keys import ApiKey
from github_sync.models.deliveries import WebhookDelivery
from github_sync.models.ingestion import Document, IngestRun, Section, Source
from github_sync.models.installations import GitHubIdentity, Installation, InstallationRequest, Repository

__all__ = [
    "ApiKey",
    "Document",
    "GitHubIdentity",
    "IngestRun",
    "Installation",
    "InstallationRequest",
    "Repository",
    "Section",
    "Source",
    "WebhookDelivery",
]
