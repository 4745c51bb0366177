from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView

from connectors.socialaccount import SettingUrl


class CtxGitHubOAuth2Adapter(GitHubOAuth2Adapter):
    """allauth's GitHub adapter computes its URLs once at import; these follow the settings instead."""

    access_token_url = SettingUrl("GITHUB_WEB_URL", "/login/oauth/access_token")
    authorize_url = SettingUrl("GITHUB_WEB_URL", "/login/oauth/authorize")
    profile_url = SettingUrl("GITHUB_API_URL", "/user")
    emails_url = SettingUrl("GITHUB_API_URL", "/user/emails")


oauth2_login = OAuth2LoginView.adapter_view(CtxGitHubOAuth2Adapter)
oauth2_callback = OAuth2CallbackView.adapter_view(CtxGitHubOAuth2Adapter)
