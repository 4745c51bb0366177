from django.apps import AppConfig


class GithubSyncConfig(AppConfig):
    name = "github_sync"
    verbose_name = "GitHub"

    def ready(self) -> None:
        from connectors import kinds
        from github_sync.kind import GITHUB

        kinds.register(GITHUB)
