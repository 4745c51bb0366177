from allauth.socialaccount.providers.atlassian.views import AtlassianOAuth2Adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView

from connectors.socialaccount import SettingUrl


class CtxAtlassianOAuth2Adapter(AtlassianOAuth2Adapter):
    """allauth's Atlassian adapter, pointed at the configured authorization server and API gateway."""

    authorize_url = SettingUrl("ATLASSIAN_AUTH_URL", "/authorize")
    # The documented token endpoint (allauth's default is api.atlassian.com/oauth/token).
    access_token_url = SettingUrl("ATLASSIAN_AUTH_URL", "/oauth/token")
    profile_url = SettingUrl("ATLASSIAN_API_URL", "/me")


oauth2_login = OAuth2LoginView.adapter_view(CtxAtlassianOAuth2Adapter)
oauth2_callback = OAuth2CallbackView.adapter_view(CtxAtlassianOAuth2Adapter)
