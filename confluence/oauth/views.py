from allauth.socialaccount.providers.atlassian.views import AtlassianOAuth2Adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.conf import settings


class CtxAtlassianOAuth2Adapter(AtlassianOAuth2Adapter):
    """allauth's Atlassian adapter, pointed at the configured authorization server and API gateway."""

    @property
    def authorize_url(self) -> str:
        return f"{settings.ATLASSIAN_AUTH_URL}/authorize"

    @property
    def access_token_url(self) -> str:
        # The documented token endpoint (allauth's default is api.atlassian.com/oauth/token).
        return f"{settings.ATLASSIAN_AUTH_URL}/oauth/token"

    @property
    def profile_url(self) -> str:
        return f"{settings.ATLASSIAN_API_URL}/me"


oauth2_login = OAuth2LoginView.adapter_view(CtxAtlassianOAuth2Adapter)
oauth2_callback = OAuth2CallbackView.adapter_view(CtxAtlassianOAuth2Adapter)
