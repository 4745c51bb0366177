from allauth.socialaccount.providers.github.provider import GitHubProvider

from github_sync.oauth.views import CtxGitHubOAuth2Adapter


class CtxGitHubProvider(GitHubProvider):
    oauth2_adapter_class = CtxGitHubOAuth2Adapter
    package = "github_sync.oauth"
