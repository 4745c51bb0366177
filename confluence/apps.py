from django.apps import AppConfig


class ConfluenceConfig(AppConfig):
    name = "confluence"
    verbose_name = "Confluence"

    def ready(self) -> None:
        from confluence.kind import CONFLUENCE
        from confluence.setup import receivers  # noqa: F401  (connects to github_sync's installation_changed)
        from connectors import kinds

        kinds.register(CONFLUENCE)
