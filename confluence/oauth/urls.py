from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from confluence.oauth.provider import CtxAtlassianProvider

urlpatterns = default_urlpatterns(CtxAtlassianProvider)
