from django.apps import AppConfig


class GithubSyncConfig(AppConfig):
    name = "github_sync"
    verbose_name = "GitHub"

    def ready(self) -> None:
        from connectors import kinds, socialaccount
        from github_sync.kind import GITHUB
        from github_sync.linking import capture_identity

        kinds.register(GITHUB)
        socialaccount.register_linker("github", capture_identity)
