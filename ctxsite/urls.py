from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("connectors.urls")),
    path("", include("github_sync.setup_urls")),
    path("", include("github_sync.urls")),
    path("", include("confluence.urls")),
    path("", include("confluence.forge_urls")),
]

if settings.SANDBOX:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
