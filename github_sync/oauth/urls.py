from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from github_sync.oauth.provider import CtxGitHubProvider

urlpatterns = default_urlpatterns(CtxGitHubProvider)
