"""The GitHub connector kind: repositories an organization connects directly, ingested on every push."""

from connectors.kinds import ConnectorKind, Step
from github_sync.linking import capture_identity

GITHUB = ConnectorKind(
    key="github",
    label="GitHub",
    description="Code and docs from GitHub repositories, ingested on every push.",
    steps=(
        Step(
            "link_github",
            "Link GitHub",
            "Install the ctx| GitHub App on the account that owns the repositories.",
            "github-link",
        ),
        Step(
            "select_repositories",
            "Choose repositories",
            "Choose the repositories to ingest.",
            "github-repositories",
        ),
    ),
    account_provider="github",
    capture_account=capture_identity,
)
