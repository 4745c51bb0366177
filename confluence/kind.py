"""The Confluence connector kind and its five setup steps, registered with `connectors` at startup."""

# Imported from ConfluenceConfig.ready(), once models are loaded.
from confluence.setup.card import card_contexts, sync_now
from confluence.setup.linking import capture_grant
from connectors.kinds import ConnectorKind, Step

CONFLUENCE = ConnectorKind(
    key="confluence",
    label="Atlassian Confluence",
    description="Selected Confluence Cloud spaces and pages, as Markdown in a GitHub repository you own.",
    steps=(
        Step(
            "link_atlassian",
            "Link your Atlassian account",
            "Let ctx| read Confluence on your behalf (OAuth).",
            "confluence-step-atlassian",
        ),
        Step(
            "install_forge",
            "Install the ctx| Forge app",
            "A Confluence site admin installs the app that tells ctx| when pages change.",
            "confluence-step-forge",
        ),
        Step(
            "link_github",
            "Link GitHub",
            "Install the ctx| GitHub App on the account that owns the repository.",
            "github-link",
        ),
        Step(
            "select_repository",
            "Select the sync repository",
            "Choose the repository the pages are written to.",
            "confluence-step-repository",
        ),
        Step(
            "configure_scope",
            "Configure the Confluence scope",
            "Choose the spaces and pages agents may rely on.",
            "confluence-step-scope",
        ),
    ),
    card_template="confluence/_card.html",
    card_contexts=card_contexts,
    sync_now=sync_now,
    account_provider="atlassian",
    capture_account=capture_grant,
)
