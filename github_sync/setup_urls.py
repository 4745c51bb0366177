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
]
