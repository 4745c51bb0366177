"""URLs of linking GitHub to a connection: the App's setup callback and the link step's screens and actions;
included at the site root by ctxsite/urls.py."""

from django.urls import include, path

from github_sync import setup_views

# Under orgs/<slug>/connections/<connection_id>/github/.
link_step = [
    path("", setup_views.link_step, name="github-link"),
    path("install/", setup_views.install_start, name="github-install"),
    path("status/", setup_views.link_step_status, name="github-link-status"),
    path("request-account/", setup_views.request_account, name="github-request-account"),
    path(
        "installations/<int:installation_id>/remove/",
        setup_views.installation_remove,
        name="github-installation-remove",
    ),
]

urlpatterns = [
    path("integrations/github/setup", setup_views.setup_callback, name="github-setup-callback"),
    path("orgs/<slug:slug>/connections/<int:connection_id>/github/", include(link_step)),
]
