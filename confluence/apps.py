from django.apps import AppConfig


class ConfluenceConfig(AppConfig):
    name = "confluence"
    verbose_name = "Confluence"

    def ready(self) -> None:
        from confluence.kind import CONFLUENCE
        from confluence.setup import receivers  # noqa: F401  (connects to github_sync's installation_changed)
        from confluence.setup.linking import capture_grant
        from connectors import kinds, socialaccount

        kinds.register(CONFLUENCE)
        socialaccount.register_linker("atlassian", capture_grant)
