from allauth.socialaccount.providers.atlassian.provider import AtlassianProvider

from confluence.oauth.views import CtxAtlassianOAuth2Adapter


class CtxAtlassianProvider(AtlassianProvider):
    """Same id and behaviour as allauth's; only the adapter (URLs from settings) and URL package differ."""

    oauth2_adapter_class = CtxAtlassianOAuth2Adapter
    package = "confluence.oauth"
