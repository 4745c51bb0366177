from django.urls import path

from github_sync import setup_views

urlpatterns = [
    path("integrations/github/setup", setup_views.setup_callback, name="github-setup-callback"),
    path("orgs/<slug:slug>/connections/<int:connection_id>/github/", setup_views.link_step, name="github-link"),
    path(
        "orgs/<slug:slug>/connections/<int:connection_id>/github/install/",
        setup_views.install_start,
        name="github-install",
    ),
    path(
        "orgs/<slug:slug>/connections/<int:connection_id>/github/status/",
        setup_views.link_step_status,
        name="github-link-status",
    ),
    path(
        "orgs/<slug:slug>/connections/<int:connection_id>/github/request-account/",
        setup_views.request_account,
        name="github-request-account",
    ),
    path(
        "orgs/<slug:slug>/connections/<int:connection_id>/github/installations/<int:installation_id>/remove/",
        setup_views.installation_remove,
        name="github-installation-remove",
    ),
]
