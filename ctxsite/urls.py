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
    path("", include("confluence.forge.urls")),
]

if settings.SANDBOX:
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))

# Error pages that say what happened and lead back (connectors/error_views.py).
handler400 = "connectors.error_views.bad_request"
handler403 = "connectors.error_views.permission_denied"
handler404 = "connectors.error_views.page_not_found"
handler500 = "connectors.error_views.server_error"
